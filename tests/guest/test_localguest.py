"""The guest harness itself: start, provision as Azure does, reach by SSH at a plain address, stop."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import localguest

pytestmark = pytest.mark.guest


def test_fresh_guest_has_image_leftovers_but_no_admin_user(make_guest):
    guest = make_guest(provision=False)
    root = guest.root
    assert guest.running
    assert "azureuser" not in (root / "etc/passwd").read_text()
    assert not (root / "var/lib/waagent/ovf-env.xml").exists()
    assert (root / "var/lib/waagent/GoalState.1.xml").is_file()
    assert (root / "var/log/waagent.log").stat().st_size > 0
    assert (root / "var/lib/dhcp/dhclient.eth0.leases").is_file()
    assert "168.63.129.16" in (root / "etc/resolv.conf").read_text()
    assert re.fullmatch(r"[0-9a-f]{32}\n", (root / "etc/machine-id").read_text())
    assert sorted(p.name for p in (root / "etc/ssh").glob("ssh_host_*_key"))
    assert ipaddress.ip_address(guest.address) in ipaddress.ip_network("127.77.0.0/16")


def test_provision_is_azure_like_and_idempotent(make_guest, guest_key):
    guest = make_guest(provision=False)
    payload = {"vm_name": "vm-build", "computer_name": "build-01", "admin_username": "builder",
               "ssh_public_keys": [guest_key.with_name(guest_key.name + ".pub").read_text()],
               "custom_data": "I2Nsb3VkLWNvbmZpZwo=", "vm_id": "8A1B7C9E-0000-4000-8000-000000000001",
               "os_type": "Linux"}
    first = guest.provision(payload)
    second = guest.provision(payload)
    assert first["changed"] and not second["changed"]

    root = guest.root
    passwd = {line.split(":")[0]: line.split(":") for line in (root / "etc/passwd").read_text().splitlines()}
    assert passwd["builder"][5] == "/home/builder"
    groups = {line.split(":")[0]: line.split(":")[3].split(",") for line in (root / "etc/group").read_text().splitlines()}
    assert "builder" in groups["sudo"] and "builder" in groups["adm"]
    keys = root / "home/builder/.ssh/authorized_keys"
    assert keys.read_text().strip() == guest_key.with_name(guest_key.name + ".pub").read_text().strip()
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    ovf = root / "var/lib/waagent/ovf-env.xml"
    assert oct(ovf.stat().st_mode & 0o777) == "0o600"
    assert "<UserName>builder</UserName>" in ovf.read_text()
    assert "LinuxProvisioningConfigurationSet" in ovf.read_text()
    assert (root / "etc/sudoers.d/waagent").read_text() == "builder ALL=(ALL) NOPASSWD: ALL\n"
    assert "builder ALL=(ALL) NOPASSWD:ALL" in (root / "etc/sudoers.d/90-cloud-init-users").read_text()
    vm_id = "8a1b7c9e-0000-4000-8000-000000000001"
    assert os.readlink(root / "var/lib/cloud/instance") == f"/var/lib/cloud/instances/{vm_id}"
    assert (root / "var/lib/cloud/data/instance-id").read_text().strip() == vm_id
    assert (root / f"var/lib/cloud/instances/{vm_id}/user-data.txt").read_bytes() == b"#cloud-config\n"
    assert (root / "etc/hostname").read_text() == "build-01\n"
    assert (root / "root/.bash_history").is_file() and (root / "home/builder/.bash_history").is_file()
    assert guest.nsenter("hostname").stdout.strip() == "build-01"


def test_reachable_at_its_address_and_stopped_cleanly(make_guest, guest_key):
    guest = make_guest()
    result = subprocess.run(guest.ssh_args(user="azureuser", key=guest_key) + ["sudo", "-n", "id", "-u"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"
    directory, root = guest.dir, guest.root
    pids = [guest.leader, guest.runner_pid, guest.forwarder_pid]
    localguest.stop_guest(guest)
    assert not directory.exists()
    assert not os.path.ismount(root)
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().split(") ")[1][0] == "Z"  # gone, or a zombie


def test_cli_lists_guests_and_prints_an_inventory(make_guest, guest_workdir):
    guest = make_guest()
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    listed = subprocess.run([sys.executable, "-m", "localguest", "list", "--json", "--workdir", str(guest_workdir)],
                            capture_output=True, text=True, check=True, env=env)
    entry = next(item for item in json.loads(listed.stdout) if item["name"] == guest.name)
    assert entry["running"] and entry["address"] == guest.address and entry["admin_username"] == "azureuser"
    inventory = subprocess.run([sys.executable, "-m", "localguest", "inventory", guest.name, "--format", "yaml",
                                "--workdir", str(guest_workdir)], capture_output=True, text=True, check=True, env=env)
    host = json.loads(inventory.stdout)["guests"]["hosts"][guest.name]
    assert host["ansible_host"] == guest.address and host["ansible_user"] == "azureuser"
