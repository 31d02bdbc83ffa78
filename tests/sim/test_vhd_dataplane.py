"""The disk data plane through the real SDK and plain HTTPS: upload states, SAS checks, Put Page/Get Blob rules."""

from __future__ import annotations

import os

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from azsim.testing import SimServer
from tests.integration import lifecycle_setup as setup
from tests.test_vhd_files import MIB, fill, footer

RG = "rg-blob"
SIZE = 24 * MIB + 512  # smallest uploads are 20 MiB + footer


@pytest.fixture
def group(resources):
    return setup.make_group(resources, RG)


def upload_disk(compute, name="d1", size=SIZE):
    return compute.disks.begin_create_or_update(RG, name, {"location": "eastus", "properties": {
        "osType": "Linux", "hyperVGeneration": "V2",
        "creationData": {"createOption": "Upload", "uploadSizeBytes": size}}}).result()


def grant(compute, name="d1", access="Write", ops=None):
    ops = ops or compute.disks
    return ops.begin_grant_access(RG, name, {"access": access, "durationInSeconds": 600}).result().access_sas


def put(sim, sas, start, data, mode="update"):
    end = start + len(data) - 1
    return requests.put(sas + "&comp=page", data=data, verify=sim.ca,
                        headers={"x-ms-page-write": mode, "x-ms-range": f"bytes={start}-{end}"})


def get(sim, sas, start, end):
    return requests.get(sas, verify=sim.ca, headers={"x-ms-range": f"bytes={start}-{end}"})


def state(compute, name="d1"):
    return compute.disks.get(RG, name).disk_state


def test_upload_states_and_bytes(fresh_sim, compute, group):
    assert upload_disk(compute).disk_state == "ReadyToUpload"
    sas = grant(compute)
    assert state(compute) == "ActiveUpload"
    assert requests.head(sas, verify=fresh_sim.ca).headers["Content-Length"] == str(SIZE)
    assert put(fresh_sim, sas, MIB, fill(1)).status_code == 201
    tail = footer(SIZE - 512)
    assert put(fresh_sim, sas, SIZE - 512, tail).status_code == 201
    compute.disks.begin_revoke_access(RG, "d1").result()
    assert state(compute) == "Unattached"
    assert put(fresh_sim, sas, 0, b"\1" * 512).status_code == 403  # the write SAS died with the revoke
    read = grant(compute, access="Read")
    assert state(compute) == "ActiveSAS"
    answer = get(fresh_sim, read, MIB - 512, 2 * MIB - 1)
    assert answer.status_code == 206 and answer.headers["Content-Range"] == f"bytes {MIB - 512}-{2 * MIB - 1}/{SIZE}"
    assert answer.content == bytes(512) + fill(1)
    whole = requests.get(read, verify=fresh_sim.ca)
    assert whole.status_code == 200 and len(whole.content) == SIZE and whole.content[-512:] == tail
    compute.disks.begin_revoke_access(RG, "d1").result()
    assert state(compute) == "Unattached"


@pytest.mark.parametrize("size, words", [
    (SIZE + 512, "must be a multiple of MiB"),
    (10 * MIB + 512, "must be between"),
])
def test_upload_size_rules(compute, group, size, words):
    with pytest.raises(HttpResponseError) as info:
        upload_disk(compute, size=size)
    assert info.value.status_code == 400 and info.value.error.code == "BadRequest" and words in info.value.message


def test_page_write_rules(fresh_sim, compute, group):
    upload_disk(compute)
    sas = grant(compute)
    assert put(fresh_sim, sas, 100, b"\1" * 512).headers["x-ms-error-code"] == "InvalidPageRange"  # unaligned start
    assert put(fresh_sim, sas, 0, b"\1" * 700).headers["x-ms-error-code"] == "InvalidPageRange"  # unaligned end
    beyond = put(fresh_sim, sas, SIZE, b"\1" * 512)
    assert beyond.status_code == 416 and beyond.headers["x-ms-error-code"] == "InvalidPageRange"
    too_big = put(fresh_sim, sas, 0, b"\1" * (4 * MIB + 512))
    assert too_big.status_code == 413 and too_big.headers["x-ms-error-code"] == "RequestBodyTooLarge"
    no_mode = requests.put(sas + "&comp=page", data=b"\1" * 512, verify=fresh_sim.ca,
                           headers={"x-ms-range": "bytes=0-511"})
    assert no_mode.status_code == 400 and no_mode.headers["x-ms-error-code"] == "MissingRequiredHeader"
    forged = sas.rsplit("sig=", 1)[0] + "sig=AAAA"
    assert put(fresh_sim, forged, 0, b"\1" * 512).headers["x-ms-error-code"] == "AuthenticationFailed"
    assert put(fresh_sim, sas, 4 * MIB, b"\2" * (4 * MIB)).status_code == 201  # the largest write
    cleared = requests.put(sas + "&comp=page", verify=fresh_sim.ca, headers={
        "x-ms-page-write": "clear", "x-ms-range": f"bytes={4 * MIB}-{8 * MIB - 1}", "Content-Length": "0"})
    assert cleared.status_code == 201
    compute.disks.begin_revoke_access(RG, "d1").result()
    read = grant(compute, access="Read")
    assert get(fresh_sim, read, 4 * MIB, 8 * MIB - 1).content == bytes(4 * MIB)
    assert put(fresh_sim, read, 0, b"\1" * 512).headers["x-ms-error-code"] == "AuthorizationPermissionMismatch"
    assert get(fresh_sim, read, SIZE, SIZE + 511).headers["x-ms-error-code"] == "InvalidRange"


def test_grant_rules(fresh_sim, compute, network, resources, group):
    upload_disk(compute)
    with pytest.raises(ResourceExistsError) as info:
        grant(compute, access="Read")  # nothing to read before the upload
    assert info.value.error.code == "OperationNotAllowed"
    compute.disks.begin_create_or_update(RG, "empty", {"location": "eastus", "properties": {
        "diskSizeGB": 1, "creationData": {"createOption": "Empty"}}}).result()
    with pytest.raises(ResourceExistsError):
        grant(compute, name="empty", access="Write")  # only an upload disk takes writes
    vm = setup.make_vm(compute, network, resources)
    os_disk = vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].rsplit("/", 1)[1]
    with pytest.raises(ResourceExistsError) as info:
        compute.disks.begin_grant_access("rg-build", os_disk, {"access": "Read", "durationInSeconds": 60}).result()
    assert info.value.error.code == "Conflict" and "attached to running VM" in info.value.message
    read = grant(compute, name="empty", access="Read")
    with pytest.raises(ResourceExistsError):
        compute.disks.begin_delete(RG, "empty").result()  # not while a SAS is out
    assert requests.head(read, verify=fresh_sim.ca).headers["Content-Length"] == str(1024 ** 3 + 512)
    tail = requests.get(read, verify=fresh_sim.ca, headers={"x-ms-range": f"bytes={1024 ** 3}-"})
    assert tail.content[:8] == b"conectix"  # a disk that was never uploaded reads as a zeroed fixed VHD
    compute.disks.begin_revoke_access(RG, "empty").result()
    compute.disks.begin_delete(RG, "empty").result()


def test_snapshot_of_an_uploaded_disk_has_its_bytes(fresh_sim, compute, group):
    disk = upload_disk(compute)
    put(fresh_sim, grant(compute), 3 * MIB, fill(3))
    compute.disks.begin_revoke_access(RG, "d1").result()
    compute.snapshots.begin_create_or_update(RG, "s1", {"location": "eastus", "properties": {
        "creationData": {"createOption": "Copy", "sourceResourceId": disk.id}}}).result()
    read = grant(compute, name="s1", access="Read", ops=compute.snapshots)
    assert get(fresh_sim, read, 3 * MIB, 4 * MIB - 1).content == fill(3)
    compute.snapshots.begin_revoke_access(RG, "s1").result()
    image = compute.images.begin_create_or_update(RG, "img1", {"location": "eastus", "properties": {
        "hyperVGeneration": "V2", "storageProfile": {"osDisk": {
            "osType": "Linux", "osState": "Generalized", "managedDisk": {"id": disk.id}}}}}).result()
    assert image.provisioning_state == "Succeeded"


def test_bytes_live_sparse_under_state_and_survive_restart(tmp_path):
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    state_dir = str(tmp_path / "state")
    with SimServer(time_scale=0, state_dir=state_dir) as sim:
        compute = sim.client(ComputeManagementClient)
        setup.make_group(sim.client(ResourceManagementClient), RG)
        disk = upload_disk(compute)
        put(sim, grant(compute), 2 * MIB, fill(2))
        compute.disks.begin_revoke_access(RG, "d1").result()
        read = grant(compute, access="Read")
    path = os.path.join(state_dir, "blobs", disk.unique_id + ".vhd")
    assert os.path.getsize(path) == SIZE
    assert os.stat(path).st_blocks * 512 < 4 * MIB  # sparse: only what was written takes space
    with SimServer(time_scale=0, state_dir=state_dir) as sim:
        assert get(sim, read.replace(read.split("/_disk-blobs/")[0], sim.url), 2 * MIB, 3 * MIB - 1).content == \
            fill(2)
