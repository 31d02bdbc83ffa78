"""Disk encryption sets and the encryption-at-rest rules (azsim/docs/disk-encryption.md) through the real SDK."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from tests.sim import gallery_helpers as gh
from tests.sim.test_vm_helpers import (LOCATION, changed_settings, create_vm, make_group, make_nic, require_marketplace,
                                       vm_body)

RG = gh.RG  # one group for disks, VMs and gallery versions
KEY = "https://kv-golden01.vault.azure.net/keys/disk-key/0123456789abcdef0123456789abcdef"


def make_des(compute, name, location=LOCATION, kind="EncryptionAtRestWithCustomerKey", key=KEY):
    return compute.disk_encryption_sets.begin_create_or_update(RG, name, {
        "location": location, "identity": {"type": "SystemAssigned"},
        "properties": {"activeKey": {"keyUrl": key}, "encryptionType": kind}}).result()


def empty_disk(compute, name, encryption=None, location=LOCATION):
    props = {"diskSizeGB": 64, "creationData": {"createOption": "Empty"}}
    if encryption:
        props["encryption"] = encryption
    return compute.disks.begin_create_or_update(RG, name, {"location": location, "sku": {"name": "Premium_LRS"},
                                                           "properties": props}).result()


@pytest.fixture
def group(resources, fresh_sim):
    return make_group(resources, RG)


def test_des_lifecycle_and_key_rules(compute, group, fresh_sim):
    des = make_des(compute, "des-east", kind="EncryptionAtRestWithPlatformAndCustomerKeys")
    stored = fresh_sim.admin.resource(des.id)
    assert stored["properties"]["activeKey"]["keyUrl"] == KEY
    assert stored["properties"]["encryptionType"] == "EncryptionAtRestWithPlatformAndCustomerKeys"
    assert stored["identity"]["type"] == "SystemAssigned" and stored["identity"]["principalId"]
    assert [item.name for item in compute.disk_encryption_sets.list_by_resource_group(RG)] == ["des-east"]
    assert "des-east" in [item.name for item in compute.disk_encryption_sets.list()]
    unversioned = "https://kv-golden01.vault.azure.net/keys/k"
    for bad in ({"keyUrl": "https://kv.example.com/keys/k/1"}, {"keyUrl": unversioned}):
        with pytest.raises(HttpResponseError) as raised:
            compute.disk_encryption_sets.begin_create_or_update(RG, "des-bad", {
                "location": LOCATION, "identity": {"type": "SystemAssigned"},
                "properties": {"activeKey": bad}}).result()
        assert raised.value.status_code == 400 and "activeKey.keyUrl" in raised.value.error.target
    with pytest.raises(HttpResponseError) as raised:
        make_des(compute, "des-bad", kind="EncryptionAtRestWithPlatformKey")
    assert "encryptionType" in raised.value.error.target
    assert fresh_sim.admin.resource(des.id.rsplit("/", 1)[0] + "/des-bad") is None
    compute.disk_encryption_sets.begin_delete(RG, "des-east").result()
    assert fresh_sim.admin.resource(des.id) is None


def test_disk_takes_the_des_type_and_region(compute, group, fresh_sim):
    des = make_des(compute, "des-east", kind="EncryptionAtRestWithPlatformAndCustomerKeys")
    west = make_des(compute, "des-west", location="westus2")
    disk = empty_disk(compute, "data1", {"diskEncryptionSetId": des.id})
    stored = fresh_sim.admin.resource(disk.id)["properties"]["encryption"]
    assert stored == {"type": "EncryptionAtRestWithPlatformAndCustomerKeys", "diskEncryptionSetId": des.id}
    with pytest.raises(HttpResponseError) as raised:
        empty_disk(compute, "data2", {"diskEncryptionSetId": west.id})
    assert raised.value.status_code == 400 and "diskEncryptionSetId" in raised.value.error.target
    assert fresh_sim.admin.resource(disk.id.rsplit("/", 1)[0] + "/data2") is None
    with pytest.raises(ResourceExistsError):  # in use by data1
        compute.disk_encryption_sets.begin_delete(RG, "des-east").result()
    plain = empty_disk(compute, "plain")
    assert fresh_sim.admin.resource(plain.id)["properties"]["encryption"] == {"type": "EncryptionAtRestWithPlatformKey"}


def test_vm_disks_take_the_des_and_another_region_is_refused(compute, network, group, fresh_sim):
    require_marketplace(compute)
    des = make_des(compute, "des-east")
    west = make_des(compute, "des-west", location="westus2")
    nic = make_nic(network, RG)
    body = vm_body(nic)
    body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["diskEncryptionSet"] = {"id": west.id}
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, RG, "vm-bad", body)
    assert "osDisk.managedDisk.diskEncryptionSet.id" in raised.value.error.target
    assert list(compute.virtual_machines.list(RG)) == [] and list(compute.disks.list_by_resource_group(RG)) == []
    body = vm_body(nic)
    body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["diskEncryptionSet"] = {"id": des.id}
    body["properties"]["storageProfile"]["dataDisks"] = [{"lun": 0, "createOption": "Empty", "diskSizeGB": 32,
                                                          "managedDisk": {"diskEncryptionSet": {"id": des.id}}}]
    vm = create_vm(compute, RG, "vm1", body)
    for disk_id in (vm.storage_profile.os_disk.managed_disk.id, vm.storage_profile.data_disks[0].managed_disk.id):
        encryption = fresh_sim.admin.resource(disk_id)["properties"]["encryption"]
        assert encryption == {"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": des.id}


def test_encryption_at_host_needs_the_feature(compute, network, group, fresh_sim):
    require_marketplace(compute)
    body = vm_body(make_nic(network, RG), securityProfile={"encryptionAtHost": True})
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, RG, "vm-host", body)
    assert raised.value.error.target == "securityProfile.encryptionAtHost"
    assert list(compute.virtual_machines.list(RG)) == []
    with changed_settings(fresh_sim.admin, features={"Microsoft.Compute/EncryptionAtHost": True}):
        vm = create_vm(compute, RG, "vm-host", body)
    assert fresh_sim.admin.resource(vm.id)["properties"]["securityProfile"]["encryptionAtHost"] is True


def test_encryption_change_needs_a_deallocated_vm(compute, network, group, fresh_sim):
    require_marketplace(compute)
    des = make_des(compute, "des-east")
    vm = create_vm(compute, RG, "vm1", vm_body(make_nic(network, RG)))
    disk_name = vm.storage_profile.os_disk.name
    change = {"encryption": {"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": des.id}}
    with pytest.raises(ResourceExistsError) as raised:
        compute.disks.begin_update(RG, disk_name, {"properties": change}).result()
    assert raised.value.error.code == "OperationNotAllowed"
    disk_id = vm.storage_profile.os_disk.managed_disk.id
    assert fresh_sim.admin.resource(disk_id)["properties"]["encryption"] == {"type": "EncryptionAtRestWithPlatformKey"}
    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    compute.disks.begin_update(RG, disk_name, {"properties": change}).result()
    assert fresh_sim.admin.resource(disk_id)["properties"]["encryption"]["diskEncryptionSetId"] == des.id


def _cmk_image(compute, des_id):
    return compute.images.begin_create_or_update(RG, "img-cmk", {"location": LOCATION, "properties": {
        "hyperVGeneration": "V2", "storageProfile": {"osDisk": {
            "osType": "Linux", "osState": "Generalized", "blobUri": gh.VHD, "diskSizeGB": 64,
            "diskEncryptionSet": {"id": des_id}}}}}).result()


def test_gallery_version_from_cmk_source_needs_a_des_per_region(compute, resources, fresh_sim):
    gh.make_gallery_with_definition(compute, resources)
    east = make_des(compute, "des-east")
    west = make_des(compute, "des-west", location="westus2")
    image = _cmk_image(compute, east.id)
    assert fresh_sim.admin.resource(image.id)["properties"]["storageProfile"]["osDisk"]["diskEncryptionSet"] == {
        "id": east.id}
    versions = compute.gallery_image_versions
    body = gh.version_body(image.id, regions=(LOCATION, "westus2"))
    body["properties"]["publishingProfile"]["targetRegions"][0]["encryption"] = {
        "osDiskImage": {"diskEncryptionSetId": east.id}}
    with pytest.raises(HttpResponseError) as raised:  # westus2 has no DES
        versions.begin_create_or_update(RG, gh.GALLERY, gh.DEFINITION, "1.0.0", body).result()
    assert raised.value.status_code == 400 and "westus2" in raised.value.error.message.replace(" ", "").lower()
    version_id = image.id.split("/providers/")[0] + (f"/providers/Microsoft.Compute/galleries/{gh.GALLERY}/images/"
                                                     f"{gh.DEFINITION}/versions/1.0.0")
    assert fresh_sim.admin.resource(version_id) is None
    body["properties"]["publishingProfile"]["targetRegions"][1]["encryption"] = {
        "osDiskImage": {"diskEncryptionSetId": east.id}}  # a DES of another region
    with pytest.raises(HttpResponseError) as raised:
        versions.begin_create_or_update(RG, gh.GALLERY, gh.DEFINITION, "1.0.0", body).result()
    assert "osDiskImage.diskEncryptionSetId" in raised.value.error.target
    body["properties"]["publishingProfile"]["targetRegions"][1]["encryption"] = {
        "osDiskImage": {"diskEncryptionSetId": west.id}}
    versions.begin_create_or_update(RG, gh.GALLERY, gh.DEFINITION, "1.0.0", body).result()
    regions = fresh_sim.admin.resource(version_id)["properties"]["publishingProfile"]["targetRegions"]
    assert [region["encryption"]["osDiskImage"]["diskEncryptionSetId"] for region in regions] == [east.id, west.id]
