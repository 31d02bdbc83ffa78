"""The deprovision role (Linux) over real SSH against real guests; every assertion reads the guest's files
from the host (the guest's root as the host sees it), or task results - never log text."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat

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
    refusal = task(run, "Refuse a guest that cannot be deprovisioned (nothing was changed)")
    assert refusal["status"] == "failed"
    assert task(run, "Read the verdict")["result"]["ansible_facts"]["deprovision_result"]["checks"] == {}
    assert (root / "home/azureuser/.ssh/authorized_keys").is_file()
    assert (root / "var/lib/waagent/ovf-env.xml").is_file()
    assert list((root / "etc/ssh").glob("ssh_host_*_key"))
    assert (root / "etc/machine-id").stat().st_size > 0
    assert not ran(run, "Check that the guest is deprovisioned")


# -- what the role leaves in the image (issue 10 item 5) and its check mode and bad input (issue 11) --------------
ACCOUNT_FILES = ("passwd", "shadow", "group", "gshadow", "subuid", "subgid")
DISABLE_ROOT = ('no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command="echo \'Please login as the user '
                '\\"azureuser\\" rather than the user \\"root\\".\';echo;sleep 10;exit 142" ')
AUTHOR_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIImageAuthorKeyThatStaysInTheImage000000000000 ops@example"


def build_key(guest_key):
    return guest_key.with_name(guest_key.name + ".pub").read_text().strip()


def key_blob(line):
    return line.split("ssh-ed25519 ", 1)[1].split()[0] if "ssh-ed25519 " in line else None


def fill_root_keys_as_cloud_init(guest, guest_key):
    """cloud-init's disable_root (the default on Azure images) copies the VM's keys into root's authorized_keys,
    behind a command that tells root to log in as the admin user; the image author's own key is kept."""
    guest.nsenter("sh", "-ec", 'mkdir -p -m 700 /root/.ssh && cat > /root/.ssh/authorized_keys && '
                  'chmod 600 /root/.ssh/authorized_keys',
                  input=f"{AUTHOR_KEY}\n{DISABLE_ROOT}{build_key(guest_key)}\n")


def users_in(root, name, user="azureuser"):
    """Lines of an account database (or its backup) that name the user, as its entry or a member."""
    path = root / "etc" / name
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines()
            if line.split(":")[0] == user or user in line.split(":")[-1].split(",")]


def assert_no_build_account_traces(root, guest_key):
    for name in ACCOUNT_FILES:
        assert not users_in(root, name), name
        assert not users_in(root, name + "-"), name + "-"  # shadow-utils' backups (userdel writes them)
    backup = root / "etc/shadow-"
    if backup.exists():  # the root password hash from before the lock must not survive in the backup
        root_line = [line for line in backup.read_text().splitlines() if line.startswith("root:")][0]
        assert root_line.startswith("root:*LOCK*:")
    blob = key_blob(build_key(guest_key))
    for keys in [root / "root/.ssh/authorized_keys", *(root / "home").glob("*/.ssh/authorized_keys")]:
        if keys.exists():
            assert blob not in keys.read_text(), keys
            assert "Please login as the user" not in keys.read_text(), keys


def test_role_removes_account_backups_and_build_keys(make_guest, guest_inventory, guest_key, tmp_path):
    guest = make_guest()
    root = guest.root
    fill_root_keys_as_cloud_init(guest, guest_key)
    assert users_in(root, "passwd")
    assert key_blob(build_key(guest_key)) in (root / "root/.ssh/authorized_keys").read_text()

    run = run_playbook(PLAYBOOK, inventory=guest_inventory(guest),
                       env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")})

    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert_sealed(root, other_homes=())
    assert_no_build_account_traces(root, guest_key)
    # The image author's own key in root's authorized_keys is not a build-time key: it stays.
    assert (root / "root/.ssh/authorized_keys").read_text().splitlines() == [AUTHOR_KEY]
    verdict = task(run, "Read the verdict")["result"]["ansible_facts"]["deprovision_result"]
    for name in ("account_backups_clean", "build_keys_absent"):
        assert verdict["checks"][name]["ok"], name


def test_keeping_the_user_removes_the_build_key(make_guest, guest_inventory, guest_key, tmp_path):
    """deprovision_delete_user=false keeps the account, not the key the build logged in with: every VM made from
    the image would otherwise let whoever holds the build's private key in."""
    guest = make_guest()
    root = guest.root
    fill_root_keys_as_cloud_init(guest, guest_key)
    own_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUsersOwnKeyAddedByTheCustomisation0000000000 azureuser@laptop"
    with open(root / "home/azureuser/.ssh/authorized_keys", "a", encoding="utf-8") as handle:
        handle.write(own_key + "\n")

    run = run_playbook(PLAYBOOK, inventory=guest_inventory(guest), extra_vars={"deprovision_delete_user": False},
                       env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")})

    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert users_in(root, "passwd")  # the user stays
    blob = key_blob(build_key(guest_key))
    assert (root / "home/azureuser/.ssh/authorized_keys").read_text().splitlines() == [own_key]
    assert blob not in (root / "root/.ssh/authorized_keys").read_text()
    verdict = task(run, "Read the verdict")["result"]["ansible_facts"]["deprovision_result"]
    assert verdict["checks"]["build_keys_absent"]["ok"]


def snapshot(guest):
    """Everything the guest has changed against the base image, as the host sees it: the overlay's upper layer
    (type, mode, owner, content or link target of every entry; whiteouts show deleted base files)."""
    upper = guest.dir / "upper"
    found = {}
    for path in sorted(upper.rglob("*")):
        info = path.lstat()
        entry = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
        if stat.S_ISREG(info.st_mode):
            entry += (hashlib.sha256(path.read_bytes()).hexdigest(),)
        elif stat.S_ISLNK(info.st_mode):
            entry += (os.readlink(path),)
        elif stat.S_ISCHR(info.st_mode):
            entry += (info.st_rdev,)
        found[str(path.relative_to(upper))] = entry
    return found


def test_check_mode_changes_nothing_in_the_guest(make_guest, guest_inventory, guest_key, tmp_path):
    guest = make_guest()
    fill_root_keys_as_cloud_init(guest, guest_key)
    leave_build_residue(guest)
    # sudo itself writes ~/.sudo_as_admin_successful on an admin's first sudo (any become does): let the build's
    # customisation have done that already, as it would have, so that only the role's own writes would show.
    guest.nsenter("su", "-s", "/bin/sh", "-c", "sudo -n true", "azureuser")
    before = snapshot(guest)

    run = run_playbook(PLAYBOOK, inventory=guest_inventory(guest), args=("--check",),
                       env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")})

    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    after = snapshot(guest)
    assert {name: after.get(name) for name in set(before) | set(after) if before.get(name) != after.get(name)} == {}
    assert task(run, "Report what check mode would do")["status"] == "ok"
    assert not [item["task"] for item in run.results if item["result"].get("changed")]
    # And the guest can still be reached afterwards, as the build user: nothing was sealed.
    assert guest.nsenter("getent", "passwd", "azureuser").returncode == 0


@pytest.mark.parametrize("bad", [
    {"deprovision_os_type": "solaris"},
    {"deprovision_delete_user": "maybe"},
    {"deprovision_windows_agent_timeout": "soon"},
    {"deprovision_azure_vm": "my-vm"},
], ids=["os-type-choice", "delete-user-bool", "timeout-int", "azure-vm-dict"])
def test_bad_role_arguments_fail_from_the_spec_before_any_change(make_guest, guest_inventory, tmp_path, bad):
    guest = make_guest()
    before = snapshot(guest)

    run = run_playbook(PLAYBOOK, inventory=guest_inventory(guest), extra_vars=bad,
                       env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")})

    assert run.rc != 0
    failed = [item for item in run.results if item["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["action"] == "ansible.builtin.validate_argument_spec", run.stdout[-2000:]
    assert next(iter(bad)) in failed[0]["result"]["msg"]
    assert [item["action"] for item in run.results] == ["ansible.builtin.include_role",
                                                       "ansible.builtin.validate_argument_spec"]
    assert snapshot(guest) == before


def test_keeping_the_user_without_a_known_build_key_fails_instead_of_leaving_it(make_guest, guest_inventory,
                                                                                 guest_key, tmp_path):
    """No ovf-env.xml (a second run, an image Azure did not provision): the build key cannot be told apart from the
    kept user's own keys, so the role fails naming the check, unless deprovision_build_keys names it."""
    guest = make_guest()
    (guest.root / "var/lib/waagent/ovf-env.xml").unlink()
    run = run_playbook(PLAYBOOK, inventory=guest_inventory(guest), extra_vars={"deprovision_delete_user": False},
                       env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")})
    assert run.rc != 0
    verdict = task(run, "Read the verdict")["result"]["ansible_facts"]["deprovision_result"]
    assert verdict["failed"] == ["build_keys_known"]
    assert task(run, "Check that the guest is deprovisioned")["status"] == "failed"

    named = make_guest()
    (named.root / "var/lib/waagent/ovf-env.xml").unlink()
    run = run_playbook(PLAYBOOK, inventory=guest_inventory(named),
                       env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp2")},
                       extra_vars={"deprovision_delete_user": False, "deprovision_build_keys": [build_key(guest_key)]})
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert not (named.root / "home/azureuser/.ssh/authorized_keys").exists()  # it held only the build key
