"""Bring your own image with real bytes: a Debian root filesystem (the localguest cache) -> raw ext4 -> qemu-img
fixed VHD -> disk_upload -> managed image and gallery version (image_capture) -> disk_export -> same checksum.

The file system holds part of the rootfs (/etc, /usr/bin, /usr/sbin, /var/lib/dpkg and os-release, about 60 MB)
so that the sparse disk stays at 128 MiB and the test fast. qemu-utils and e2fsprogs are installed with apt-get
when missing, as localguest installs its host tools (.ci/run installs them on a fresh machine).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.integration import lifecycle_setup as setup
from tests.test_vhd_files import blob_requests, sha256, task_play, vhd_digest

RG = "rg-byoi"
DISK_MIB = 128
PARTS = ("etc", "usr/bin", "usr/sbin", "var/lib/dpkg")
TOOLS = {"qemu-img": "qemu-utils", "mke2fs": "e2fsprogs", "debugfs": "e2fsprogs"}


def ensure_tools():
    missing = sorted({package for command, package in TOOLS.items() if shutil.which(command) is None})
    if missing:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env)


def run(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def images(guest_cache, tmp_path_factory):
    """raw ext4 image of part of the rootfs, its fixed VHD, a dynamic VHD and an unaligned fixed VHD."""
    ensure_tools()
    base = localguest_base(guest_cache)
    work = tmp_path_factory.mktemp("byoi")
    staging = work / "rootfs"
    for part in PARTS:
        (staging / part).parent.mkdir(parents=True, exist_ok=True)
        run("cp", "-a", str(base / part), str(staging / part))
    (staging / "usr/lib").mkdir(parents=True, exist_ok=True)
    shutil.copy2(base / "usr/lib/os-release", staging / "usr/lib/os-release")
    raw = work / "rootfs.raw"
    with open(raw, "wb") as handle:
        handle.truncate(DISK_MIB * 1024 * 1024)
    run("mke2fs", "-q", "-F", "-t", "ext4", "-L", "cloudimg-rootfs", "-d", str(staging), str(raw))
    vhd = work / "rootfs.vhd"
    run("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size", str(raw), str(vhd))
    dynamic = work / "rootfs-dynamic.vhd"
    run("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic", str(raw), str(dynamic))
    odd_raw = work / "odd.raw"
    with open(odd_raw, "wb") as handle:
        handle.truncate(DISK_MIB * 1024 * 1024 - 7 * 512)
    unaligned = work / "odd.vhd"
    run("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size", str(odd_raw),
        str(unaligned))
    return {"raw": str(raw), "vhd": str(vhd), "dynamic": str(dynamic), "unaligned": str(unaligned), "work": work}


def localguest_base(cache):
    from pathlib import Path

    cache = Path(cache)
    return cache / "base" if (cache / "base").is_dir() else cache


def upload(src, name="debian-os"):
    return task_play("disk_upload", {"src": src, "name": name, "resource_group": RG, "location": "eastus",
                                     "os_type": "Linux", "hyper_v_generation": "V2"}, name="upload")


def test_debian_rootfs_vhd_round_trip_through_image_and_gallery(fresh_sim, play, resources, images):
    info = json.loads(run("qemu-img", "info", "-f", "vpc", "--output", "json", images["vhd"]))
    assert info["format"] == "vpc" and info["virtual-size"] == DISK_MIB * 1024 * 1024
    setup.make_group(resources, RG)

    uploaded = play(upload(images["vhd"]))
    assert uploaded.rc == 0, uploaded.stdout
    disk = uploaded.task("upload")["result"]["disk"]
    assert disk["disk_state"] == "Unattached" and disk["upload_size_bytes"] == os.path.getsize(images["vhd"])
    assert disk["tags"]["goldenimage-vhd-digest"] == vhd_digest(images["vhd"])

    capture = play(task_play("image_capture", {
        "source": disk["id"], "managed_image": {"name": "debian-byoi", "resource_group": RG},
        "gallery": {"name": "gal_byoi", "resource_group": RG, "image": "debian-12-byoi", "create_definition": True,
                    "publisher": "Contoso", "offer": "debian", "sku": "12-gen2", "version": "1.0.0"}},
        name="capture"))
    assert capture.rc == 0, capture.stdout
    [image] = fresh_sim.admin.resources("Microsoft.Compute/images")
    assert image["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower() == disk["id"].lower()
    assert image["properties"]["hyperVGeneration"] == "V2"
    [version] = fresh_sim.admin.resources("Microsoft.Compute/galleries/images/versions")
    assert version["name"] == "1.0.0" and version["properties"]["provisioningState"] == "Succeeded"

    dest = str(images["work"] / "exported.vhd")
    exported = play(task_play("disk_export", {"name": "debian-os", "resource_group": RG, "dest": dest},
                              name="export"))
    assert exported.rc == 0, exported.stdout
    assert sha256(dest) == sha256(images["vhd"])
    assert exported.task("export")["result"]["vhd"]["digest"] == disk["tags"]["goldenimage-vhd-digest"]
    # the exported disk is the Debian file system: read a file out of it without mounting
    os_release = run("debugfs", "-R", "cat /usr/lib/os-release", dest)
    assert 'ID=debian' in os_release and 'VERSION_ID="12"' in os_release


@pytest.mark.parametrize("which, words", [("dynamic", ["src", "dynamic"]), ("unaligned", ["src", "1 MiB"])])
def test_qemu_made_bad_vhds_fail_before_any_request(fresh_sim, play, resources, images, which, words):
    setup.make_group(resources, RG)
    since = fresh_sim.admin.last_seq()
    result = play(upload(images[which], name="bad"))
    assert result.rc != 0
    message = result.task("upload")["result"]["msg"]
    assert all(word in message for word in words), message
    assert setup.arm_requests(fresh_sim, since) == [] and blob_requests(fresh_sim, since) == []
