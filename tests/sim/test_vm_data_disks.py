"""Blank data disks through the real SDK: created with the VM, shown by its body and instance view, refused for a
LUN out of range or used twice, and carried with their LUNs into managed images and gallery versions."""

import pytest
from azure.core.exceptions import HttpResponseError

from tests.sim.gallery_helpers import GALLERY, make_definition, make_gallery
from tests.sim.test_vm_helpers import LOCATION, create_vm, make_group, make_nic, require_marketplace, stored, vm_body

RG = "rg-gallery"  # gallery_helpers' group: the VM, its disks and the gallery in one place
DISKS = [
    {"lun": 0, "name": "vm1-datadisk-0", "createOption": "Empty", "diskSizeGB": 64, "caching": "ReadOnly",
     "deleteOption": "Delete", "managedDisk": {"storageAccountType": "Premium_LRS"}},
    {"lun": 3, "name": "vm1-datadisk-3", "createOption": "Empty", "diskSizeGB": 128, "caching": "None",
     "deleteOption": "Delete", "managedDisk": {"storageAccountType": "StandardSSD_LRS"}},
]


@pytest.fixture
def nic(compute, network, resources, fresh_sim):
    require_marketplace(compute)
    make_group(resources, RG)
    return make_nic(network, RG)


def body_with(nic, disks):
    body = vm_body(nic)
    body["properties"]["storageProfile"]["dataDisks"] = disks
    return body


def data_disk_resources(fresh_sim):
    return sorted(disk["name"] for disk in fresh_sim.admin.resources("Microsoft.Compute/disks")
                  if "datadisk" in disk["name"])


def generalized_vm(compute, nic):
    vm = create_vm(compute, RG, "vm1", body_with(nic, DISKS))
    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    compute.virtual_machines.generalize(RG, "vm1")
    return vm


def test_empty_data_disks_become_attached_disk_resources(compute, nic, fresh_sim):
    vm = create_vm(compute, RG, "vm1", body_with(nic, DISKS))
    entries = {disk.lun: disk for disk in vm.storage_profile.data_disks}
    assert sorted(entries) == [0, 3]
    for lun, size, sku, caching in ((0, 64, "Premium_LRS", "ReadOnly"), (3, 128, "StandardSSD_LRS", "None")):
        disk = stored(fresh_sim, entries[lun].managed_disk.id)
        assert disk["name"] == f"vm1-datadisk-{lun}"
        assert disk["managedBy"].lower() == vm.id.lower()
        assert (disk["properties"]["diskState"], disk["properties"]["diskSizeGB"], disk["sku"]["name"]) == \
            ("Attached", size, sku)
        assert disk["properties"]["creationData"]["createOption"] == "Empty"
        assert (entries[lun].caching, entries[lun].disk_size_gb) == (caching, size)
    view = compute.virtual_machines.instance_view(RG, "vm1")
    assert {"vm1-datadisk-0", "vm1-datadisk-3"} <= {disk.name for disk in view.disks}


def test_data_disks_are_deleted_with_the_vm_when_asked(compute, nic, fresh_sim):
    create_vm(compute, RG, "vm1", body_with(nic, DISKS))
    compute.virtual_machines.begin_delete(RG, "vm1").result()
    assert data_disk_resources(fresh_sim) == []


@pytest.mark.parametrize("lun", [64, -1])
def test_lun_out_of_range_is_refused_before_any_disk(compute, nic, fresh_sim, lun):
    disks = [dict(DISKS[0], lun=lun)]
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, RG, "vm1", body_with(nic, disks))
    assert raised.value.status_code == 400
    assert (raised.value.error.code, raised.value.error.target) == ("InvalidParameter", "dataDisk.lun")
    assert fresh_sim.admin.resources("Microsoft.Compute/disks") == []
    assert fresh_sim.admin.resources("Microsoft.Compute/virtualMachines") == []


def test_lun_used_twice_is_refused_before_any_disk(compute, nic, fresh_sim):
    disks = [DISKS[0], dict(DISKS[1], lun=0)]
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, RG, "vm1", body_with(nic, disks))
    assert raised.value.error.code == "InvalidParameter"
    assert fresh_sim.admin.resources("Microsoft.Compute/disks") == []


def test_managed_image_from_the_vm_keeps_data_disks_and_luns(compute, nic, fresh_sim):
    vm = generalized_vm(compute, nic)
    image = compute.images.begin_create_or_update(RG, "img", {"location": LOCATION, "properties": {
        "sourceVirtualMachine": {"id": vm.id}, "hyperVGeneration": "V2"}}).result()
    stored_image = fresh_sim.admin.resource(image.id)
    data = {item["lun"]: item for item in stored_image["properties"]["storageProfile"]["dataDisks"]}
    assert sorted(data) == [0, 3]
    by_lun = {disk.lun: disk for disk in vm.storage_profile.data_disks}
    for lun, size, sku, caching in ((0, 64, "Premium_LRS", "ReadOnly"), (3, 128, "StandardSSD_LRS", "None")):
        assert data[lun]["managedDisk"]["id"].lower() == by_lun[lun].managed_disk.id.lower()
        assert (data[lun]["diskSizeGB"], data[lun]["storageAccountType"], data[lun]["caching"]) == (size, sku, caching)


def test_gallery_versions_from_the_vm_and_its_image_keep_the_luns(compute, nic, fresh_sim):
    vm = generalized_vm(compute, nic)
    make_gallery(compute)
    make_definition(compute, "ubuntu", generation="V2")
    from_vm = compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, "ubuntu", "1.0.0", {
        "location": LOCATION, "properties": {"storageProfile": {"source": {"virtualMachineId": vm.id}}}}).result()
    image = compute.images.begin_create_or_update(RG, "img", {"location": LOCATION, "properties": {
        "sourceVirtualMachine": {"id": vm.id}, "hyperVGeneration": "V2"}}).result()
    from_image = compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, "ubuntu", "1.0.1", {
        "location": LOCATION, "properties": {"storageProfile": {"source": {"id": image.id}}}}).result()
    for version in (from_vm, from_image):
        images = fresh_sim.admin.resource(version.id)["properties"]["storageProfile"]["dataDiskImages"]
        assert sorted((item["lun"], item["sizeInGB"], item["hostCaching"]) for item in images) == \
            [(0, 64, "ReadOnly"), (3, 128, "None")]
