"""Ansible inventories for running guests (INI or YAML)."""

from __future__ import annotations

import json
import shlex


def inventory(guests, key=None, group="guests", fmt="ini", python="/usr/bin/python3") -> str:
    hosts = {g.name: g.inventory_vars(key=key, python=python) for g in guests}
    if fmt == "yaml":
        # JSON is valid YAML and needs no third-party module
        return json.dumps({group: {"hosts": hosts}}, indent=2) + "\n"
    lines = [f"[{group}]"]
    for name, variables in hosts.items():
        lines.append(" ".join([name] + [f"{k}={shlex.quote(str(v))}" for k, v in variables.items()]))
    return "\n".join(lines) + "\n"
