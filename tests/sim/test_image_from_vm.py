"""Managed images captured from a VM (wire reference 5), with CRP's refusals."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from tests.sim.test_network_helpers import LOCATION, build_vm_network, create_vm

GROUP = "rg-capture"


def _vm(compute, network, resources, generation="gen2", security_type=None, generalize=True, data_disk_gb=None):
    built = build_vm_network(network, resources, GROUP)
    vm = create_vm(compute, GROUP, "vm1", built["nic"].id, generation=generation, security_type=security_type,
                   data_disk_gb=data_disk_gb)
    if generalize:
        compute.virtual_machines.begin_deallocate(GROUP, "vm1").result()
        compute.virtual_machines.generalize(GROUP, "vm1")
    return vm


def _capture(compute, vm_id, name="img", generation=None):
    props = {"sourceVirtualMachine": {"id": vm_id}}
    if generation:
        props["hyperVGeneration"] = generation
    return compute.images.begin_create_or_update(GROUP, name, {"location": LOCATION, "properties": props}).result()


def test_image_from_a_generalized_vm(compute, network, resources, fresh_sim):
    vm = _vm(compute, network, resources)
    image = _capture(compute, vm.id, generation="V2")
    assert image.properties.provisioning_state == "Succeeded"
    assert image.properties.hyper_v_generation == "V2"
    assert image.properties.source_virtual_machine.id == vm.id
    os_disk = image.properties.storage_profile.os_disk
    assert os_disk.os_type == "Linux"
    assert os_disk.os_state == "Generalized"
    assert os_disk.managed_disk.id.lower() == vm.properties.storage_profile.os_disk.managed_disk.id.lower()
    assert os_disk.storage_account_type == "Premium_LRS"
    assert os_disk.disk_size_gb == fresh_sim.admin.resource(os_disk.managed_disk.id)["properties"]["diskSizeGB"]
    assert [item.name for item in compute.images.list_by_resource_group(GROUP)] == ["img"]


def test_image_keeps_the_vm_data_disks(compute, network, resources, fresh_sim):
    vm = _vm(compute, network, resources, data_disk_gb=256)
    image = _capture(compute, vm.id, generation="V2")
    data_disk = vm.properties.storage_profile.data_disks[0]
    stored = fresh_sim.admin.resource(image.id)["properties"]["storageProfile"]["dataDisks"]
    assert [(item["lun"], item["managedDisk"]["id"].lower(), item["diskSizeGB"]) for item in stored] == \
        [(0, data_disk.managed_disk.id.lower(), 256)]


def test_vm_must_be_generalized(compute, network, resources, fresh_sim):
    vm = _vm(compute, network, resources, generalize=False)
    with pytest.raises(ResourceExistsError) as info:  # the SDK maps every 409 to ResourceExistsError
        _capture(compute, vm.id, generation="V2")
    assert info.value.status_code == 409
    assert info.value.error.code == "OperationNotAllowed"
    assert info.value.error.message == "The operation 'Create Image' requires the Virtual Machine 'vm1' to be Generalized."
    assert fresh_sim.admin.resources("Microsoft.Compute/images") == []


def test_trusted_launch_vm_is_refused(compute, network, resources, fresh_sim):
    vm = _vm(compute, network, resources, security_type="TrustedLaunch")
    with pytest.raises(HttpResponseError) as info:
        _capture(compute, vm.id, generation="V2")
    assert info.value.status_code == 400
    assert info.value.error.code == "OperationNotAllowed"
    assert info.value.error.message == ("Creation of managed images are not supported for virtual machine with "
                                        "TrustedLaunch security type.")


def test_generation_must_match_the_vm(compute, network, resources, fresh_sim):
    vm = _vm(compute, network, resources, generation="gen2")
    with pytest.raises(HttpResponseError) as info:
        _capture(compute, vm.id)  # hyperVGeneration defaults to V1
    assert info.value.status_code == 400
    assert info.value.error.code == "InvalidParameter"
    assert "V1 does not match the source VM's generation V2" in info.value.error.message


def test_gen1_vm_captures_with_the_default_generation(compute, network, resources, fresh_sim):
    vm = _vm(compute, network, resources, generation="gen1")
    assert _capture(compute, vm.id).properties.hyper_v_generation == "V1"


def test_missing_vm_is_not_found(compute, resources, fresh_sim):
    resources.resource_groups.create_or_update(GROUP, {"location": LOCATION})
    vm_id = (f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/{GROUP}/providers/Microsoft.Compute/"
             "virtualMachines/ghost")
    with pytest.raises(ResourceNotFoundError):
        _capture(compute, vm_id)
