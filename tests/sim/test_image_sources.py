"""Managed images from an explicit OS disk (managed disk, snapshot, VHD blob), and the image lifecycle."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from tests.sim.test_network_helpers import LOCATION

GROUP = "rg-images"
BLOB = "https://buildvhds.blob.core.windows.net/vhds/golden-os.vhd"


def _group(resources):
    resources.resource_groups.create_or_update(GROUP, {"location": LOCATION})


def _disk(compute, name="osdisk", generation="V2", size=64):
    return compute.disks.begin_create_or_update(GROUP, name, {
        "location": LOCATION, "sku": {"name": "Premium_LRS"},
        "properties": {"osType": "Linux", "hyperVGeneration": generation, "diskSizeGB": size,
                       "creationData": {"createOption": "Empty"}}}).result()


def _image(compute, os_disk, name="img", **props):
    body = {"location": LOCATION, "properties": {"storageProfile": {"osDisk": os_disk}, **props}}
    return compute.images.begin_create_or_update(GROUP, name, body).result()


def test_image_from_a_managed_disk(compute, resources, fresh_sim):
    _group(resources)
    disk = _disk(compute)
    image = _image(compute, {"osType": "Linux", "osState": "Generalized", "managedDisk": {"id": disk.id}},
                   hyperVGeneration="V2")
    os_disk = image.properties.storage_profile.os_disk
    assert (os_disk.managed_disk.id, os_disk.disk_size_gb, os_disk.storage_account_type) == (disk.id, 64, "Premium_LRS")
    assert image.properties.hyper_v_generation == "V2"
    assert fresh_sim.admin.resource(image.id)["properties"]["provisioningState"] == "Succeeded"


def test_image_from_a_snapshot_with_a_data_disk(compute, resources, fresh_sim):
    _group(resources)
    disk = _disk(compute)
    data = _disk(compute, "data", size=128)
    copy = {"createOption": "Copy", "sourceResourceId": disk.id}
    snapshot = compute.snapshots.begin_create_or_update(GROUP, "snap", {
        "location": LOCATION, "properties": {"creationData": copy}}).result()
    image = compute.images.begin_create_or_update(GROUP, "img2", {"location": LOCATION, "properties": {
        "storageProfile": {"osDisk": {"osType": "Linux", "osState": "Generalized", "snapshot": {"id": snapshot.id}},
                           "dataDisks": [{"lun": 0, "managedDisk": {"id": data.id}}]}}}).result()
    stored = fresh_sim.admin.resource(image.id)["properties"]["storageProfile"]
    assert stored["osDisk"]["snapshot"]["id"] == snapshot.id
    assert stored["dataDisks"] == [{"lun": 0, "caching": "None", "managedDisk": {"id": data.id}, "diskSizeGB": 128,
                                    "storageAccountType": "Premium_LRS"}]


def test_image_from_a_vhd_blob(compute, resources, fresh_sim):
    _group(resources)
    image = _image(compute, {"osType": "Windows", "osState": "Generalized", "blobUri": BLOB, "diskSizeGB": 127})
    os_disk = image.properties.storage_profile.os_disk
    assert (os_disk.blob_uri, os_disk.os_type, os_disk.disk_size_gb) == (BLOB, "Windows", 127)
    assert image.properties.hyper_v_generation == "V1"


@pytest.mark.parametrize("os_disk, target", [
    ({"osState": "Generalized", "blobUri": BLOB}, "storageProfile.osDisk.osType"),
    ({"osType": "Linux", "blobUri": BLOB}, "storageProfile.osDisk.osState"),
    ({"osType": "Linux", "osState": "Generalized"}, "storageProfile.osDisk"),
    ({"osType": "Linux", "osState": "Generalized", "blobUri": BLOB[:-4] + ".img"}, "storageProfile.osDisk.blobUri"),
    ({"osType": "Linux", "osState": "Generalized", "blobUri": BLOB}, None),  # control: accepted
])
def test_invalid_os_disks(compute, resources, fresh_sim, os_disk, target):
    _group(resources)
    if target is None:
        _image(compute, os_disk)
        return
    with pytest.raises(HttpResponseError) as info:
        _image(compute, os_disk)
    assert (info.value.status_code, info.value.error.code, info.value.error.target) == (400, "InvalidParameter", target)
    assert fresh_sim.admin.resources("Microsoft.Compute/images") == []


def test_missing_source_disk_is_not_found(compute, resources, fresh_sim):
    _group(resources)
    disk_id = (f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/{GROUP}/providers/Microsoft.Compute/"
               "disks/ghost")
    with pytest.raises(ResourceNotFoundError) as info:
        _image(compute, {"osType": "Linux", "osState": "Generalized", "managedDisk": {"id": disk_id}})
    assert "Microsoft.Compute/disks/ghost" in info.value.error.message


def test_lifecycle_tags_update_list_delete(compute, resources, fresh_sim):
    _group(resources)
    os_disk = {"osType": "Linux", "osState": "Generalized", "blobUri": BLOB}
    image = _image(compute, os_disk)
    assert compute.images.begin_update(GROUP, "img", {"tags": {"goldenimage-build-id": "b1"}}).result().tags == \
        {"goldenimage-build-id": "b1"}
    again = compute.images.begin_create_or_update(GROUP, "img", {"location": LOCATION, "tags": {"a": "b"},
                                                                 "properties": {"storageProfile": {"osDisk": os_disk}}})
    assert again.result().tags == {"a": "b"}
    assert [item.name for item in compute.images.list()] == ["img"]
    other = dict(os_disk, blobUri=BLOB.replace("golden-os", "other"))
    with pytest.raises(ResourceExistsError) as info:
        _image(compute, other)
    assert info.value.error.code == "PropertyChangeNotAllowed"

    compute.images.begin_delete(GROUP, "img").result()
    assert fresh_sim.admin.resource(image.id) is None
    compute.images.begin_delete(GROUP, "img").result()  # 204: already gone
    with pytest.raises(ResourceNotFoundError):
        compute.images.get(GROUP, "img")


def test_failed_operation_leaves_failed(compute, resources, fresh_sim):
    _group(resources)
    fresh_sim.admin.faults([{"method": "PUT", "path": "/images/img$", "action": "fail_operation",
                             "code": "InternalOperationError", "message": "Capture failed part-way through."}])
    with pytest.raises(HttpResponseError) as info:
        _image(compute, {"osType": "Linux", "osState": "Generalized", "blobUri": BLOB})
    assert info.value.error.code == "InternalOperationError"
    assert compute.images.get(GROUP, "img").properties.provisioning_state == "Failed"


def test_image_name_rule(compute, resources, fresh_sim):
    _group(resources)
    with pytest.raises(HttpResponseError) as info:
        _image(compute, {"osType": "Linux", "osState": "Generalized", "blobUri": BLOB}, name="bad.")
    assert info.value.error.code == "InvalidParameter"
    assert info.value.error.target == "imageName"


def test_wire_statuses(compute, resources, fresh_sim):
    _group(resources)
    since = fresh_sim.admin.last_seq()
    _image(compute, {"osType": "Linux", "osState": "Generalized", "blobUri": BLOB})
    compute.images.begin_delete(GROUP, "img").result()
    compute.images.begin_delete(GROUP, "img").result()
    answered = [(entry["method"], entry["status"]) for entry in fresh_sim.admin.requests(since)
                if entry["path"].lower().endswith("/images/img")]
    # create 201 (202 would be refused by the SDK), final GET 200, delete 202, absent delete 204
    assert answered == [("PUT", 201), ("GET", 200), ("DELETE", 202), ("DELETE", 204)]
