"""A VM's disks through the real SDK: sizes and the temp disk, unmanaged VHDs, data disks, delete options."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from tests.sim.test_vm_helpers import LOCATION, create_vm, make_group, make_nic, require_marketplace, stored, vm_body

RG = "rg-vm"
VHD = "https://goldenstore01.blob.core.windows.net/vhds/legacy-os.vhd"


@pytest.fixture
def nic(network, resources):
    make_group(resources, RG)
    return make_nic(network, RG)


@pytest.fixture
def marketplace(compute):
    require_marketplace(compute)


def empty_disk(compute, name, size=32, sku="Premium_LRS"):
    return compute.disks.begin_create_or_update(RG, name, {"location": LOCATION, "sku": {"name": sku}, "properties": {
        "diskSizeGB": size, "creationData": {"createOption": "Empty"}}}).result()


def body_attaching(nic, disk_id, lun=0):
    """A VM body whose only data disk attaches the existing managed disk ``disk_id``."""
    body = vm_body(nic)
    body["properties"]["storageProfile"]["dataDisks"] = [{"lun": lun, "createOption": "Attach",
                                                          "managedDisk": {"id": disk_id}}]
    return body


# -- sizes and the temporary disk -----------------------------------------------------------------
@pytest.mark.parametrize("size, temp_mb", [("Standard_D2s_v3", 16384), ("Standard_D2s_v5", 0),
                                           ("Standard_D2ds_v5", 76800), ("Standard_B2s", 8192)])
def test_location_sizes_report_the_temp_disk(compute, fresh_sim, size, temp_mb):
    sizes = {item.name: item for item in compute.virtual_machine_sizes.list(LOCATION)}
    assert sizes[size].resource_disk_size_in_mb == temp_mb


def test_resource_skus_describe_temp_disk_premium_and_architecture(compute, fresh_sim):
    skus = [sku for sku in compute.resource_skus.list(filter=f"location eq '{LOCATION}'")
            if sku.resource_type == "virtualMachines"]
    capabilities = {sku.name: {cap.name: cap.value for cap in sku.capabilities} for sku in skus}
    assert capabilities["Standard_D2ds_v5"]["MaxResourceVolumeMB"] == "76800"
    assert capabilities["Standard_D2s_v5"]["MaxResourceVolumeMB"] == "0"
    assert capabilities["Standard_D2_v5"]["PremiumIO"] == "False"
    assert capabilities["Standard_D2ps_v5"]["CpuArchitectureType"] == "Arm64"
    assert capabilities["Standard_D2ps_v5"]["HyperVGenerations"] == "V2"
    assert {sku.locations[0] for sku in skus} == {LOCATION}


def test_vm_sizes_for_resize_keep_the_architecture(compute, nic, marketplace):
    create_vm(compute, RG, "vm1", vm_body(nic))
    names = {item.name for item in compute.virtual_machines.list_available_sizes(RG, "vm1")}
    assert "Standard_D4s_v5" in names and "Standard_D2ps_v5" not in names


# -- unmanaged (VHD) OS disk ----------------------------------------------------------------------
def test_specialized_vhd_vm_has_no_disk_resource(compute, nic, fresh_sim):
    fresh_sim.admin.settings(rules={"unmanaged_disks_retired": False})  # before the retirement (test_convert_to_managed.py)
    body = vm_body(nic, image=False, os_profile=None)
    body["properties"]["storageProfile"]["osDisk"] = {"name": "legacy-os", "createOption": "Attach", "osType": "Linux",
                                                      "vhd": {"uri": VHD}}
    vm = create_vm(compute, RG, "vm1", body)
    assert vm.storage_profile.os_disk.vhd.uri == VHD and vm.storage_profile.os_disk.managed_disk is None
    assert fresh_sim.admin.resources("Microsoft.Compute/disks") == []


def test_marketplace_image_refuses_unmanaged_disks_when_it_disallows_them(compute, nic, marketplace, fresh_sim):
    body = vm_body(nic)
    body["properties"]["storageProfile"]["osDisk"] = {"name": "os", "createOption": "FromImage", "vhd": {"uri": VHD}}
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, RG, "vm1", body)
    assert raised.value.error.code == "InvalidParameter"


# -- data disks -----------------------------------------------------------------------------------
def test_empty_data_disk_is_created_and_attached(compute, nic, marketplace, fresh_sim):
    body = vm_body(nic)
    body["properties"]["storageProfile"]["dataDisks"] = [
        {"lun": 0, "createOption": "Empty", "diskSizeGB": 64, "managedDisk": {"storageAccountType": "Premium_LRS"}}]
    vm = create_vm(compute, RG, "vm1", body)
    disk = stored(fresh_sim, vm.storage_profile.data_disks[0].managed_disk.id)
    assert (disk["properties"]["diskState"], disk["properties"]["diskSizeGB"], disk["properties"]["tier"]) == \
        ("Attached", 64, "P6")
    assert "osType" not in disk["properties"]


def test_existing_disk_is_attached(compute, nic, marketplace, fresh_sim):
    disk = empty_disk(compute, "data1")
    body = body_attaching(nic, disk.id, lun=1)
    vm = create_vm(compute, RG, "vm1", body)
    assert stored(fresh_sim, disk.id)["managedBy"].lower() == vm.id.lower()
    assert vm.storage_profile.data_disks[0].name == "data1"


def test_disk_owned_by_another_vm_cannot_be_attached(compute, network, nic, marketplace):
    disk = empty_disk(compute, "data1")
    body = body_attaching(nic, disk.id)
    create_vm(compute, RG, "vm1", body)
    other = vm_body(make_nic(network, RG, "nic2"))
    other["properties"]["storageProfile"]["dataDisks"] = body["properties"]["storageProfile"]["dataDisks"]
    with pytest.raises(ResourceExistsError) as raised:
        create_vm(compute, RG, "vm2", other)
    assert raised.value.error.code == "ConflictingUserInput"


def test_too_many_data_disks_for_the_size(compute, nic, marketplace):
    body = vm_body(nic, size="Standard_B2s")
    body["properties"]["storageProfile"]["dataDisks"] = [
        {"lun": lun, "createOption": "Empty", "diskSizeGB": 4} for lun in range(5)]
    with pytest.raises(ResourceExistsError) as raised:
        create_vm(compute, RG, "vm1", body)
    assert raised.value.error.message == (
        "The maximum number of data disks allowed to be attached to a VM of this size is 4.")


def test_patch_detaches_a_removed_data_disk(compute, nic, marketplace, fresh_sim):
    disk = empty_disk(compute, "data1")
    body = body_attaching(nic, disk.id)
    create_vm(compute, RG, "vm1", body)
    compute.virtual_machines.begin_update(RG, "vm1", {"properties": {"storageProfile": {"dataDisks": []}}}).result()
    assert stored(fresh_sim, disk.id)["properties"]["diskState"] == "Unattached"
    assert "managedBy" not in stored(fresh_sim, disk.id)


# -- delete ---------------------------------------------------------------------------------------
def test_delete_detaches_the_os_disk_by_default(compute, nic, marketplace, fresh_sim):
    vm = create_vm(compute, RG, "vm1", vm_body(nic))
    assert vm.storage_profile.os_disk.delete_option == "Detach"
    compute.virtual_machines.begin_delete(RG, "vm1").result()
    disk = stored(fresh_sim, vm.storage_profile.os_disk.managed_disk.id)
    assert disk["properties"]["diskState"] == "Unattached" and "managedBy" not in disk
    assert fresh_sim.admin.resources("Microsoft.Compute/virtualMachines") == []


def test_delete_removes_disks_and_nic_marked_delete(compute, nic, marketplace, fresh_sim):
    body = vm_body(nic)
    body["properties"]["storageProfile"]["osDisk"]["deleteOption"] = "Delete"
    body["properties"]["storageProfile"]["dataDisks"] = [
        {"lun": 0, "createOption": "Empty", "diskSizeGB": 8, "deleteOption": "Delete"}]
    body["properties"]["networkProfile"]["networkInterfaces"][0]["properties"]["deleteOption"] = "Delete"
    create_vm(compute, RG, "vm1", body)
    compute.virtual_machines.begin_delete(RG, "vm1").result()
    assert fresh_sim.admin.resources("Microsoft.Compute/disks") == []
    assert stored(fresh_sim, nic) is None


def test_delete_answers_202_then_the_vm_is_gone(compute, nic, marketplace, fresh_sim):
    create_vm(compute, RG, "vm1", vm_body(nic))
    seq = fresh_sim.admin.last_seq()
    compute.virtual_machines.begin_delete(RG, "vm1").result()
    deletes = [item["status"] for item in fresh_sim.admin.requests(since=seq) if item["method"] == "DELETE"]
    assert deletes == [202]
    with pytest.raises(HttpResponseError) as raised:
        compute.virtual_machines.get(RG, "vm1")
    assert raised.value.status_code == 404
