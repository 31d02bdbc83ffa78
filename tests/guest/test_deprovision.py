"""The deprovision role (Linux) over real SSH against real guests; every assertion reads the guest's files
from the host (the guest's root as the host sees it), or task results - never log text."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.harness import run_playbook

pytestmark = pytest.mark.guest

PLAYBOOK = """
- name: Build and seal the guest
  hosts: guests
  gather_facts: false
  tasks:
    - name: Deprovision
      ansible.builtin.include_role:
        name: goldenimage.azure.deprovision
    - name: Runs on the guest after the role
      ansible.builtin.command: id
      changed_when: false

- name: Later play on the controller
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Runs after the guest was sealed
      ansible.builtin.debug:
        msg: capture would run here
"""


def task(run, name):
    """The last result of a task, with or without its role prefix ("<role> : <name>")."""
    found = [item for item in run.results if item["task"] == name or item["task"].endswith(f" : {name}")]
    assert found, f"no result for {name!r}"
    return found[-1]


def ran(run, name):
    return [item for item in run.results if item["task"] == name or item["task"].endswith(f" : {name}")]


def leave_build_residue(guest):
    """What a customisation run leaves (written inside the guest): another user's history, temp files, logs,
    Ansible droppings."""
    guest.nsenter("useradd", "--create-home", "--shell", "/bin/bash", "appuser")
    guest.nsenter("sh", "-ec", """
        echo 'vi /etc/app.conf' > /home/appuser/.bash_history
        echo 'import os' > /home/appuser/.python_history
        echo '# viminfo' > /root/.viminfo
        echo 'step 1' > /tmp/build-step.log
        mkdir -p /tmp/build-cache /var/log/apt /root/.ansible/tmp /root/.ansible_async /var/lib/dbus
        head -c 100 /dev/zero > /tmp/build-cache/blob
        echo x > /var/tmp/packer-leftover
        printf 'Start-Date: 2026-11-26\nCommandline: apt-get install nginx\n' > /var/log/apt/history.log
        echo 'Nov 26 sshd[1]: Accepted publickey for azureuser' > /var/log/syslog
        echo old | gzip > /var/log/syslog.2.gz
        head -c 384 /dev/zero > /var/log/wtmp
    """)


def assert_sealed(root, user="azureuser", other_homes=("home/appuser",)):
    passwd = (root / "etc/passwd").read_text().splitlines()
    assert not [line for line in passwd if line.split(":")[0] == user]
    for name in ("etc/group", "etc/shadow", "etc/gshadow"):
        assert not [line for line in (root / name).read_text().splitlines()
                    if line.split(":")[0] == user or user in line.split(":")[-1].split(",")], name
    assert not (root / f"home/{user}").exists()
    assert not list((root / "etc/ssh").glob("ssh_host_*"))
    assert (root / "etc/machine-id").stat().st_size == 0
    assert os.readlink(root / "var/lib/dbus/machine-id") == "/etc/machine-id"
    assert list((root / "var/lib/cloud").iterdir()) == []
    assert list((root / "var/lib/dhcp").iterdir()) == []
    assert list((root / "var/lib/waagent").iterdir()) == []
    assert not (root / "var/log/cloud-init.log").exists() or (root / "var/log/cloud-init.log").stat().st_size == 0
    assert (root / "etc/shadow").read_text().startswith("root:*LOCK*:")
    for home in ("root", f"home/{user}", *other_homes):
        assert not list((root / home).glob(".*history")), home
    assert not (root / "root/.viminfo").exists()
    for sudoers in (root / "etc/sudoers.d").iterdir():
        assert not [line for line in sudoers.read_text().splitlines()
                    if line.strip() and not line.startswith("#") and line.split()[0] == user], sudoers.name
    assert list((root / "tmp").iterdir()) == []
    assert list((root / "var/tmp").iterdir()) == []
    for log in (root / "var/log").rglob("*"):
        if log.is_file() and (log.suffix == ".log" or log.name in ("syslog", "wtmp", "btmp", "lastlog")):
            assert log.stat().st_size == 0, log
    assert not list((root / "var/log").rglob("*.gz"))
    assert not (root / "root/.ansible").exists() and not (root / "root/.ansible_async").exists()
    assert not (root / "var/lib/waagent/ovf-env.xml").exists()


@pytest.mark.parametrize("mode", ["chroot", "nspawn"])
def test_role_deprovisions_and_verifies(make_guest, guest_inventory, tmp_path, mode):
    if mode == "nspawn" and shutil.which("systemd-nspawn") is None:
        pytest.skip("nspawn mode needs systemd-nspawn (apt-get install systemd-container)")
    linux_guest = make_guest(mode=mode)
    root = linux_guest.live_root  # the overlay, plus the guest's own mounts (nspawn: tmpfs on /tmp)
    assert (root / "home/azureuser/.ssh/authorized_keys").is_file()
    leave_build_residue(linux_guest)

    run = run_playbook(PLAYBOOK, inventory=guest_inventory(linux_guest),
                       env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")})

    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert_sealed(root)
    verdict = task(run, "Read the verdict")["result"]["ansible_facts"]["deprovision_result"]
    assert verdict["ok"] and verdict["ovf_env_present"] and verdict["users_removed_by_role"] == []
    assert not ran(run, "Runs on the guest after the role")
    assert task(run, "Runs after the guest was sealed")["status"] == "ok"
    assert task(run, "Mark the VM deprovisioned")["status"] == "skipped"
    assert task(run, "Check that the guest is deprovisioned")["status"] == "ok"


def test_role_removes_the_user_when_ovf_env_is_missing(linux_guest, guest_inventory, tmp_path):
    """waagent -deprovision+user silently keeps the user without ovf-env.xml; the role must not."""
    root = linux_guest.root
    (root / "var/lib/waagent/ovf-env.xml").unlink()

    run = run_playbook(PLAYBOOK, inventory=guest_inventory(linux_guest),
                       env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")})

    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert_sealed(root, other_homes=())
    verdict = task(run, "Read the verdict")["result"]["ansible_facts"]["deprovision_result"]
    assert not verdict["ovf_env_present"]
    assert verdict["users_removed_by_role"] == ["azureuser"]


def test_role_stops_before_touching_a_guest_without_the_agent(linux_guest, guest_inventory, tmp_path):
    root = linux_guest.root
    (root / "usr/sbin/waagent").unlink()

    run = run_playbook(PLAYBOOK, inventory=guest_inventory(linux_guest),
                       env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")})

    assert run.rc != 0
    assert task(run, "Fail without the agent")["status"] == "failed"
    assert (root / "home/azureuser/.ssh/authorized_keys").is_file()
    assert (root / "var/lib/waagent/ovf-env.xml").is_file()
    assert list((root / "etc/ssh").glob("ssh_host_*_key"))
    assert not ran(run, "Deprovision with waagent, remove what it leaves, verify (one pipelined command)")
