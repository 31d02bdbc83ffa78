"""The deprovision role and the Azure temporary (resource) disk, over real SSH against real guests (issue 14 item 4).

The guest is seeded with what waagent and cloud-init leave on a build VM whose size has a resource disk: a
waagent.conf that formats it and puts a swap file on it, the swap file and its fstab entry, and cloud-init's
``ephemeral0`` fstab line. Every assertion reads the guest's files from the host (or the role's task results)."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest
import yaml

from tests.harness import run_playbook

pytestmark = pytest.mark.guest

PLAYBOOK = """
- name: Seal the guest
  hosts: guests
  gather_facts: false
  tasks:
    - name: Deprovision
      ansible.builtin.include_role:
        name: goldenimage.azure.deprovision
"""

DROPIN = "etc/cloud/cloud.cfg.d/91-goldenimage-temp-disk.cfg"
ROOT_LINE = "UUID=0d3c5e0e-0000-4000-8000-000000000001\t/\text4\tdefaults,discard\t0\t1"
DATA_LINE = "UUID=0d3c5e0e-0000-4000-8000-000000000002\t/data\text4\tdefaults,nofail\t0\t2"
# cloud-init before 0.7.9 (upstart's nobootwait, no nofail): a hard mount on systemd
OLD_EPHEMERAL = "/dev/disk/cloud/azure_resource-part1\t/mnt\tauto\tdefaults,nobootwait,comment=cloudconfig\t0\t2"
# cloud-init 22.4 on systemd (cc_mounts' default options)
EPHEMERAL = ("/dev/disk/cloud/azure_resource-part1\t/mnt\tauto\t"
             "defaults,nofail,x-systemd.requires=cloud-init.service,_netdev,comment=cloudconfig\t0\t2")
SWAP_LINE = "/mnt/resource/swapfile\tnone\tswap\tsw\t0\t0"


def task(run, name):
    found = [item for item in run.results if item["task"] == name or item["task"].endswith(f" : {name}")]
    assert found, f"no result for {name!r}"
    return found[-1]


def verdict(run):
    return task(run, "Read the verdict")["result"]["ansible_facts"]["deprovision_result"]


def seed(guest, ephemeral_line):
    """What a build VM on a size with a resource disk carries after waagent and cloud-init ran."""
    root = guest.root
    conf = root / "etc/waagent.conf"
    text = conf.read_text()
    for key, value in (("ResourceDisk.Format", "y"), ("ResourceDisk.EnableSwap", "y"),
                       ("ResourceDisk.SwapSizeMB", "2048")):
        text = "\n".join(f"{key}={value}" if line.startswith(key + "=") else line for line in text.splitlines()) + "\n"
    conf.write_text(text)
    (root / "mnt/resource").mkdir(parents=True, exist_ok=True)
    (root / "mnt/resource/swapfile").write_bytes(b"\0" * 4096)
    (root / "mnt/resource/swapfile").chmod(0o600)
    (root / "mnt/swapfile").write_bytes(b"\0" * 4096)
    (root / "etc/fstab").write_text("\n".join(["# /etc/fstab: static file system information.", ROOT_LINE,
                                               ephemeral_line, SWAP_LINE, DATA_LINE]) + "\n")


def settings(root):
    """{key: value} of the uncommented ResourceDisk.* lines of the guest's waagent.conf."""
    found = {}
    for line in (root / "etc/waagent.conf").read_text().splitlines():
        if line.startswith("ResourceDisk."):
            key, _sep, value = line.partition("=")
            found[key] = value
    return found


def fstab(root):
    return [line for line in (root / "etc/fstab").read_text().splitlines() if line and not line.startswith("#")]


def assert_waagent_sealed(root):
    values = settings(root)
    assert values["ResourceDisk.Format"] == "n"
    assert values["ResourceDisk.EnableSwap"] == "n"
    assert values["ResourceDisk.SwapSizeMB"] == "0"
    assert values["ResourceDisk.MountPoint"] == "/mnt/resource"  # the rest stays as it was
    assert values["ResourceDisk.Filesystem"] == "ext4"
    assert not os.path.lexists(root / "mnt/resource/swapfile")
    assert not os.path.lexists(root / "mnt/swapfile")


def run_role(guest, guest_inventory, tmp_path, extra_vars=None, args=()):
    return run_playbook(PLAYBOOK, inventory=guest_inventory(guest), extra_vars=extra_vars, args=args,
                        env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")})


def test_nofail_default_keeps_the_ephemeral_mount_bounded(make_guest, guest_inventory, tmp_path):
    guest = make_guest()
    seed(guest, OLD_EPHEMERAL)

    run = run_role(guest, guest_inventory, tmp_path)

    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    root = guest.root
    assert_waagent_sealed(root)
    assert fstab(root) == [
        ROOT_LINE,
        "/dev/disk/cloud/azure_resource-part1\t/mnt\tauto\t"
        "defaults,nofail,x-systemd.device-timeout=10s,comment=cloudconfig\t0\t2",
        DATA_LINE,
    ]
    dropin = yaml.safe_load((root / DROPIN).read_text())
    assert set(dropin) == {"mount_default_fields"}
    options = dropin["mount_default_fields"][3].split(",")
    assert "nofail" in options and "x-systemd.device-timeout=10s" in options
    assert dropin["mount_default_fields"][:3] == [None, None, "auto"]
    # cloud-init itself accepts the drop-in (its schema for the mounts module).
    checked = guest.nsenter("cloud-init", "schema", "--config-file", "/" + DROPIN, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = verdict(run)
    for name in ("temp_disk_waagent_conf", "temp_disk_swap_file_absent", "temp_disk_fstab",
                 "temp_disk_cloud_init_dropin"):
        assert result["checks"][name]["ok"], name
    assert result["temp_disk"]["mode"] == "nofail"


def test_remove_drops_the_entry_and_tells_cloud_init(make_guest, guest_inventory, tmp_path):
    guest = make_guest()
    seed(guest, EPHEMERAL)

    run = run_role(guest, guest_inventory, tmp_path,
                   extra_vars={"deprovision_temp_disk_mount": "remove", "deprovision_temp_disk_device_timeout": 5})

    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    root = guest.root
    assert_waagent_sealed(root)
    assert fstab(root) == [ROOT_LINE, DATA_LINE]
    assert yaml.safe_load((root / DROPIN).read_text()) == {"mounts": [["ephemeral0"]]}
    checked = guest.nsenter("cloud-init", "schema", "--config-file", "/" + DROPIN, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert verdict(run)["checks"]["temp_disk_fstab"]["ok"]


def test_nofail_with_a_modern_line_only_adds_the_timeout(make_guest, guest_inventory, tmp_path):
    guest = make_guest()
    seed(guest, EPHEMERAL)

    run = run_role(guest, guest_inventory, tmp_path, extra_vars={"deprovision_temp_disk_device_timeout": 5})

    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert fstab(guest.root)[1] == (
        "/dev/disk/cloud/azure_resource-part1\t/mnt\tauto\tdefaults,nofail,x-systemd.requires=cloud-init.service,"
        "_netdev,x-systemd.device-timeout=5s,comment=cloudconfig\t0\t2")
    dropin = yaml.safe_load((guest.root / DROPIN).read_text())
    assert "x-systemd.device-timeout=5s" in dropin["mount_default_fields"][3].split(",")


def snapshot(guest):
    """Every entry the guest changed against the base image (the overlay's upper layer)."""
    upper = guest.dir / "upper"
    found = {}
    for path in sorted(upper.rglob("*")):
        info = path.lstat()
        entry = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
        if stat.S_ISREG(info.st_mode):
            entry += (hashlib.sha256(path.read_bytes()).hexdigest(),)
        elif stat.S_ISLNK(info.st_mode):
            entry += (os.readlink(path),)
        found[str(path.relative_to(upper))] = entry
    return found


def test_check_mode_reports_the_temp_disk_changes_and_changes_nothing(make_guest, guest_inventory, tmp_path):
    guest = make_guest()
    seed(guest, OLD_EPHEMERAL)
    guest.nsenter("su", "-s", "/bin/sh", "-c", "sudo -n true", "azureuser")  # sudo's first-use marker, as a build
    before = snapshot(guest)

    run = run_role(guest, guest_inventory, tmp_path, args=("--check",))

    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    after = snapshot(guest)
    assert {name: after.get(name) for name in set(before) | set(after) if before.get(name) != after.get(name)} == {}
    planned = verdict(run)["plan"]["temp_disk"]
    assert planned["mode"] == "nofail"
    assert sorted(planned["swap_files"]) == ["/mnt/resource/swapfile", "/mnt/swapfile"]
    assert len(planned["waagent_conf"]) == 3  # Format, EnableSwap, SwapSizeMB
    assert len(planned["fstab"]) == 2  # the swap entry and the ephemeral0 line
    assert planned["cloud_init_dropin"] == "/" + DROPIN
    assert task(run, "Report what check mode would do")["status"] == "ok"


@pytest.mark.parametrize("bad, allowed", [
    ({"deprovision_temp_disk_mount": "skip"}, "nofail, remove"),
    ({"deprovision_temp_disk_device_timeout": "soon"}, "int"),
], ids=["mount-choice", "timeout-int"])
def test_bad_temp_disk_arguments_fail_from_the_spec_before_any_change(make_guest, guest_inventory, tmp_path, bad,
                                                                       allowed):
    guest = make_guest()
    seed(guest, OLD_EPHEMERAL)
    before = snapshot(guest)

    run = run_role(guest, guest_inventory, tmp_path, extra_vars=bad)

    assert run.rc != 0
    failed = [item for item in run.results if item["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["action"] == "ansible.builtin.validate_argument_spec", run.stdout[-2000:]
    assert next(iter(bad)) in failed[0]["result"]["msg"] and allowed in failed[0]["result"]["msg"]
    assert snapshot(guest) == before


def test_a_timeout_below_one_second_is_refused_before_any_change(make_guest, guest_inventory, tmp_path):
    guest = make_guest()
    seed(guest, OLD_EPHEMERAL)
    guest.nsenter("su", "-s", "/bin/sh", "-c", "sudo -n true", "azureuser")
    before = snapshot(guest)

    run = run_role(guest, guest_inventory, tmp_path, extra_vars={"deprovision_temp_disk_device_timeout": 0})

    assert run.rc != 0
    refused = verdict(run)
    assert "deprovision_temp_disk_device_timeout" in refused["refused"] and "at least 1" in refused["refused"]
    assert task(run, "Refuse a guest that cannot be deprovisioned (nothing was changed)")["status"] == "failed"
    assert snapshot(guest) == before
