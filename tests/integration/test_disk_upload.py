"""goldenimage.azure.disk_upload and disk_export through ansible-playbook against the simulator's data plane."""

from __future__ import annotations

import os

import pytest

from tests.integration import lifecycle_setup as setup
from tests.test_vhd_files import (blob_requests, dynamic_vhd, fixed_vhd, nonzero_pieces, sha256, task_play,
                                  unaligned_vhd, vhd_digest)

RG = "rg-vhd"
DISK_TYPE = "Microsoft.Compute/disks"


@pytest.fixture
def group(resources):
    return setup.make_group(resources, RG)


def upload_options(src, **extra):
    options = {"src": src, "name": "up1", "resource_group": RG, "location": "eastus", "os_type": "Linux"}
    options.update(extra)
    return options


def writes(sim, since):
    arm = [r for r in setup.arm_requests(sim, since) if r["method"] in ("PUT", "PATCH", "POST", "DELETE")]
    return arm + blob_requests(sim, since)


def the_disk(sim, name="up1"):
    return sim.admin.resource(f"/subscriptions/{sim.subscription_id}/resourceGroups/{RG}/providers/{DISK_TYPE}/{name}")


def test_upload_then_rerun_is_unchanged(fresh_sim, play, group, tmp_path):
    # MiB 12-15 are written zeros (data blocks, not a hole): skipped for being zero, not for being a hole
    src = fixed_vhd(tmp_path / "disk.vhd", mib=32, data_ranges=(0, 1, 9, 31), zero_ranges=(12, 13, 14, 15))
    since = fresh_sim.admin.last_seq()
    run = play(task_play("disk_upload", upload_options(src, threads=3), name="upload"))
    assert run.rc == 0, run.stdout
    result = run.task("upload")["result"]
    assert result["changed"] is True and result["actions"] == ["create", "grant_write", "upload", "revoke", "tag"]
    disk = the_disk(fresh_sim)
    assert disk["properties"]["diskState"] == "Unattached"
    assert disk["properties"]["creationData"] == {"createOption": "Upload", "uploadSizeBytes": 32 * 1024 * 1024 + 512}
    assert disk["tags"]["goldenimage-vhd-digest"] == vhd_digest(src) == result["vhd"]["digest"]
    # only the non-zero 4 MiB pieces (data and the one holding the footer) were written, each 201
    puts = [r for r in blob_requests(fresh_sim, since) if r["method"] == "PUT"]
    assert len(puts) == nonzero_pieces(src) == 4 and {r["status"] for r in puts} == {201}
    assert result["upload"]["ranges_skipped_zero"] == result["upload"]["ranges_total"] - 4
    assert result["upload"]["progress"][-1]["percent"] == 100

    since = fresh_sim.admin.last_seq()
    again = play(task_play("disk_upload", upload_options(src), name="upload"))
    assert again.rc == 0, again.stdout
    assert again.task("upload")["result"]["changed"] is False
    assert writes(fresh_sim, since) == []


def test_export_returns_the_uploaded_bytes_and_revokes(fresh_sim, play, group, tmp_path):
    src = fixed_vhd(tmp_path / "disk.vhd", mib=40, data_ranges=(0, 3, 17, 39))
    assert play(task_play("disk_upload", upload_options(src), name="upload")).rc == 0
    dest = str(tmp_path / "out.vhd")
    run = play(task_play("disk_export", {"name": "up1", "resource_group": RG, "dest": dest, "threads": 2},
                         name="export"))
    assert run.rc == 0, run.stdout
    result = run.task("export")["result"]
    assert result["changed"] is True and result["actions"] == ["grant_read", "download", "revoke"]
    assert sha256(dest) == sha256(src) and result["vhd"]["digest"] == vhd_digest(src)
    assert os.path.getsize(dest) == os.path.getsize(src)
    assert the_disk(fresh_sim)["properties"]["diskState"] == "Unattached"  # the read SAS was revoked
    since = fresh_sim.admin.last_seq()
    again = play(task_play("disk_export", {"name": "up1", "resource_group": RG, "dest": dest}, name="export"))
    assert again.rc == 0 and again.task("export")["result"]["changed"] is False
    assert writes(fresh_sim, since) == []
    with open(dest, "r+b") as handle:  # a changed file is downloaded again
        handle.write(b"\xff" * 512)
    third = play(task_play("disk_export", {"name": "up1", "resource_group": RG, "dest": dest}, name="export"))
    assert third.rc == 0 and third.task("export")["result"]["changed"] is True
    assert sha256(dest) == sha256(src)


def test_check_mode_and_diff_write_nothing(fresh_sim, play, group, tmp_path):
    src = fixed_vhd(tmp_path / "disk.vhd")
    since = fresh_sim.admin.last_seq()
    run = play(task_play("disk_upload", upload_options(src), name="upload"), args=["--check", "--diff"])
    assert run.rc == 0, run.stdout
    result = run.task("upload")["result"]
    assert result["changed"] is True and result["action"] == "create"
    assert result["diff"]["before"] == {} and result["diff"]["after"]["upload_size_bytes"] == 32 * 1024 * 1024 + 512
    assert writes(fresh_sim, since) == [] and the_disk(fresh_sim) is None


@pytest.mark.parametrize("make, words", [
    (dynamic_vhd, ["src", "dynamic", "subformat=fixed"]),
    (unaligned_vhd, ["src", "multiple of 1 MiB"]),
])
def test_bad_vhd_fails_before_any_request(fresh_sim, play, group, tmp_path, make, words):
    src = make(tmp_path / "bad.vhd")
    since = fresh_sim.admin.last_seq()
    run = play(task_play("disk_upload", upload_options(src), name="upload"))
    assert run.rc != 0
    result = run.task("upload")["result"]
    assert all(word in result["msg"] for word in words), result["msg"]
    assert setup.arm_requests(fresh_sim, since) == [] and blob_requests(fresh_sim, since) == []
    assert the_disk(fresh_sim) is None


def test_other_content_refused_unless_force(fresh_sim, play, group, tmp_path):
    first = fixed_vhd(tmp_path / "a.vhd", data_ranges=(1,))
    second = fixed_vhd(tmp_path / "b.vhd", data_ranges=(2, 3))
    assert play(task_play("disk_upload", upload_options(first), name="upload")).rc == 0
    since = fresh_sim.admin.last_seq()
    refused = play(task_play("disk_upload", upload_options(second), name="upload"))
    assert refused.rc != 0 and "force" in refused.task("upload")["result"]["msg"]
    assert writes(fresh_sim, since) == []
    forced = play(task_play("disk_upload", upload_options(second, force=True), name="upload"))
    assert forced.rc == 0, forced.stdout
    assert forced.task("upload")["result"]["actions"][0] == "delete"
    assert the_disk(fresh_sim)["tags"]["goldenimage-vhd-digest"] == vhd_digest(second)


def test_unfinished_upload_is_resumed(fresh_sim, play, compute, group, tmp_path):
    src = fixed_vhd(tmp_path / "disk.vhd", data_ranges=(0, 12))
    size = os.path.getsize(src)
    compute.disks.begin_create_or_update(RG, "up1", {"location": "eastus", "properties": {
        "creationData": {"createOption": "Upload", "uploadSizeBytes": size}}}).result()
    sas = compute.disks.begin_grant_access(RG, "up1", {"access": "Write", "durationInSeconds": 600}).result().access_sas
    import requests  # an earlier, interrupted run wrote garbage where the file is zero

    requests.put(sas + "&comp=page", data=b"\x07" * 4096, verify=fresh_sim.ca,
                 headers={"x-ms-page-write": "update", "x-ms-range": f"bytes={20 * 1024 * 1024}-{20 * 1024 * 1024 + 4095}"})
    run = play(task_play("disk_upload", upload_options(src), name="upload"))
    assert run.rc == 0, run.stdout
    assert run.task("upload")["result"]["action"] == "resume"
    dest = str(tmp_path / "out.vhd")
    assert play(task_play("disk_export", {"name": "up1", "resource_group": RG, "dest": dest})).rc == 0
    assert sha256(dest) == sha256(src)


def test_export_of_a_snapshot(fresh_sim, play, compute, group, tmp_path):
    src = fixed_vhd(tmp_path / "disk.vhd", data_ranges=(2, 20))
    assert play(task_play("disk_upload", upload_options(src), name="upload")).rc == 0
    disk_id = the_disk(fresh_sim)["id"]
    compute.snapshots.begin_create_or_update(RG, "snap1", {"location": "eastus", "properties": {
        "creationData": {"createOption": "Copy", "sourceResourceId": disk_id}}}).result()
    dest = str(tmp_path / "snap.vhd")
    run = play(task_play("disk_export", {"name": "snap1", "resource_group": RG, "type": "snapshot", "dest": dest},
                         name="export"))
    assert run.rc == 0, run.stdout
    assert sha256(dest) == sha256(src)


def test_failed_export_still_revokes_and_leaves_no_file(fresh_sim, play, compute, group, tmp_path):
    src = fixed_vhd(tmp_path / "disk.vhd", data_ranges=(2,))
    assert play(task_play("disk_upload", upload_options(src), name="upload")).rc == 0
    # the disk claims another content than it holds: the export must notice after the download
    compute.disks.begin_update(RG, "up1", {"tags": {"goldenimage-vhd-digest": "0" * 64}}).result()
    dest = tmp_path / "out.vhd"
    run = play(task_play("disk_export", {"name": "up1", "resource_group": RG, "dest": str(dest)}, name="export"))
    assert run.rc != 0
    result = run.task("export")["result"]
    assert result["error_code"] == "ChecksumMismatch", result
    assert result["actions"] == ["grant_read", "download", "revoke"]
    assert the_disk(fresh_sim)["properties"]["diskState"] == "Unattached"
    assert sorted(os.listdir(tmp_path)) == ["disk.vhd"]
