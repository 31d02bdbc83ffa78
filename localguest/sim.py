"""Register guests with the ARM simulator's guest pool (``/_azsim/guests``, see docs/architecture.md).

The admin API needs the simulator's per-start token: ``AZSIM_ADMIN_TOKEN`` in the environment (``azsim env``
exports it; ``SimServer.env`` has it)."""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

from .errors import GuestError


def _call(guest, method: str, path: str, body=None):
    url = guest.sim_url.rstrip("/") + path
    context = ssl.create_default_context(cafile=guest.sim_ca) if url.startswith("https:") else None
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    token = os.environ.get("AZSIM_ADMIN_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15, context=context) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            raise GuestError(f"the simulator at {guest.sim_url} refused {method} {path}: set AZSIM_ADMIN_TOKEN to "
                             "its admin token (`eval \"$(azsim env)\"` exports it)") from None
        if exc.code in (404, 405) and method == "POST":
            raise GuestError(f"the simulator at {guest.sim_url} has no guests API yet ({method} {path} answered "
                             f"{exc.code}): guest not registered (and stopped)") from None
        raise GuestError(f"{method} {url} failed: HTTP {exc.code} {exc.read()[:500]!r}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise GuestError(f"cannot reach the simulator at {guest.sim_url}: {exc}") from None
    return json.loads(raw) if raw else None


def registration(guest) -> dict:
    """The pool entry: the simulator runs provision_command (osProfile on stdin), snapshot_command + [DEST] and
    reimage_command + ["--from", DEST] (azsim/docs/image-filesystems.md)."""
    from .guest import default_workdir

    def command(verb):
        argv = [sys.executable, "-m", "localguest", verb, guest.name]
        if str(default_workdir()) != guest.workdir:
            argv += ["--workdir", guest.workdir]
        return argv

    return {"name": guest.name, "address": guest.address, "ports": {"ssh": guest.port}, "os": "linux",
            "provision_command": command("provision"), "snapshot_command": command("snapshot"),
            "reimage_command": command("reimage")}


def register(guest):
    return _call(guest, "POST", "/_azsim/guests", registration(guest))


def unregister(guest):
    try:
        return _call(guest, "DELETE", "/_azsim/guests/" + urllib.parse.quote(guest.name))
    except GuestError:
        return None
