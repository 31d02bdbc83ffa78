"""Snapshots (DiskRP): copies of a disk or snapshot, VHD imports, incremental families, lifecycle."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from tests.sim.test_network_helpers import LOCATION

GROUP = "rg-snap"
VHD = "https://buildvhds.blob.core.windows.net/vhds/golden-os.vhd"


def _group(resources):
    resources.resource_groups.create_or_update(GROUP, {"location": LOCATION})


def _disk(compute, name="osdisk"):
    return compute.disks.begin_create_or_update(GROUP, name, {
        "location": LOCATION, "sku": {"name": "Premium_LRS"},
        "properties": {"osType": "Linux", "hyperVGeneration": "V2", "diskSizeGB": 64,
                       "creationData": {"createOption": "Empty"}}}).result()


def _snapshot(compute, name, creation, **props):
    body = {"location": LOCATION, "properties": {"creationData": creation, **props}}
    return compute.snapshots.begin_create_or_update(GROUP, name, body).result()


def test_copy_of_a_disk_records_the_source(compute, resources, fresh_sim):
    _group(resources)
    disk = _disk(compute)
    snap = _snapshot(compute, "snap", {"createOption": "Copy", "sourceResourceId": disk.id})
    assert snap.properties.provisioning_state == "Succeeded"
    assert (snap.properties.os_type, snap.properties.hyper_v_generation, snap.properties.disk_size_gb) == \
        ("Linux", "V2", 64)
    assert snap.properties.creation_data.source_unique_id == disk.properties.unique_id
    assert snap.sku.name == "Standard_LRS"  # the snapshot default, whatever the disk's SKU
    assert snap.properties.incremental is False
    stored = fresh_sim.admin.resource(snap.id)
    assert stored["properties"]["diskSizeBytes"] == 64 * 1024 ** 3


def test_incremental_snapshots_share_the_disk_family(compute, resources, fresh_sim):
    _group(resources)
    disk = _disk(compute)
    first = _snapshot(compute, "s1", {"createOption": "Copy", "sourceResourceId": disk.id}, incremental=True)
    second = _snapshot(compute, "s2", {"createOption": "Copy", "sourceResourceId": disk.id}, incremental=True)
    assert first.properties.incremental is True
    assert first.properties.incremental_snapshot_family_id == disk.properties.unique_id
    assert second.properties.incremental_snapshot_family_id == disk.properties.unique_id


def test_copy_of_a_snapshot_and_a_disk_from_it(compute, resources, fresh_sim):
    _group(resources)
    first = _snapshot(compute, "s1", {"createOption": "Copy", "sourceResourceId": _disk(compute).id})
    second = _snapshot(compute, "s2", {"createOption": "Copy", "sourceResourceId": first.id})
    assert second.properties.hyper_v_generation == "V2"
    restored = compute.disks.begin_create_or_update(GROUP, "restored", {"location": LOCATION, "properties": {
        "creationData": {"createOption": "Copy", "sourceResourceId": second.id}}}).result()
    assert restored.properties.disk_size_gb == 64


def test_import_from_a_vhd(compute, resources, fresh_sim):
    _group(resources)
    account = (f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/{GROUP}/providers/Microsoft.Storage/"
               "storageAccounts/buildvhds")
    snap = _snapshot(compute, "imported", {"createOption": "Import", "sourceUri": VHD, "storageAccountId": account},
                     osType="Linux", diskSizeGB=30)
    assert snap.properties.creation_data.source_uri == VHD
    assert (snap.properties.os_type, snap.properties.disk_size_gb) == ("Linux", 30)
    with pytest.raises(HttpResponseError) as info:
        _snapshot(compute, "no-account", {"createOption": "Import", "sourceUri": VHD})
    assert info.value.error.target == "creationData.storageAccountId"


@pytest.mark.parametrize("creation, status, code", [
    ({"createOption": "Copy"}, 400, "InvalidParameter"),
    ({"createOption": "Empty"}, 400, "InvalidParameter"),
    ({"createOption": "Copy", "sourceResourceId": "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/"
      f"{GROUP}/providers/Microsoft.Compute/disks/ghost"}, 404, "NotFound"),
])
def test_invalid_sources(compute, resources, fresh_sim, creation, status, code):
    _group(resources)
    with pytest.raises(HttpResponseError) as info:
        _snapshot(compute, "snap", creation)
    assert (info.value.status_code, info.value.error.code) == (status, code)
    assert fresh_sim.admin.resources("Microsoft.Compute/snapshots") == []


def test_lifecycle(compute, resources, fresh_sim):
    _group(resources)
    disk = _disk(compute)
    snap = _snapshot(compute, "snap", {"createOption": "Copy", "sourceResourceId": disk.id})
    updated = compute.snapshots.begin_update(GROUP, "snap", {"tags": {"purpose": "capture"}}).result()
    assert updated.tags == {"purpose": "capture"}
    assert [item.name for item in compute.snapshots.list_by_resource_group(GROUP)] == ["snap"]
    assert [item.name for item in compute.snapshots.list()] == ["snap"]
    with pytest.raises(ResourceExistsError) as info:
        _snapshot(compute, "snap", {"createOption": "Import", "sourceUri": VHD, "storageAccountId": "x"})
    assert info.value.error.code == "PropertyChangeNotAllowed"
    compute.snapshots.begin_delete(GROUP, "snap").result()
    assert fresh_sim.admin.resource(snap.id) is None
    with pytest.raises(ResourceNotFoundError):
        compute.snapshots.get(GROUP, "snap")
    compute.snapshots.begin_delete(GROUP, "snap").result()  # 204: already gone


def test_failed_operation_leaves_failed(compute, resources, fresh_sim):
    _group(resources)
    disk = _disk(compute)
    fresh_sim.admin.faults([{"method": "PUT", "path": "/snapshots/snap$", "action": "fail_operation",
                             "code": "InternalDiskManagementError", "message": "Snapshot copy failed."}])
    with pytest.raises(HttpResponseError) as info:
        _snapshot(compute, "snap", {"createOption": "Copy", "sourceResourceId": disk.id})
    assert info.value.error.code == "InternalDiskManagementError"
    assert compute.snapshots.get(GROUP, "snap").properties.provisioning_state == "Failed"


def test_wire_statuses(compute, resources, fresh_sim):
    _group(resources)
    disk = _disk(compute)
    since = fresh_sim.admin.last_seq()
    _snapshot(compute, "snap", {"createOption": "Copy", "sourceResourceId": disk.id})
    compute.snapshots.begin_delete(GROUP, "snap").result()
    answered = [(entry["method"], entry["status"]) for entry in fresh_sim.admin.requests(since)
                if entry["path"].lower().endswith("/snapshots/snap")]
    assert answered == [("PUT", 202), ("GET", 200), ("DELETE", 202)]  # the SDK refuses 201 for snapshots
    monitors = [entry["path"] for entry in fresh_sim.admin.requests(since) if "/locations/" in entry["path"]]
    assert monitors and all("/DiskOperations/" in path for path in monitors)
