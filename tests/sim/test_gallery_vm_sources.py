"""Image versions captured from VMs: OS state, generation and security type against the definition."""

import pytest
from azure.core.exceptions import HttpResponseError

from tests.sim.gallery_helpers import GALLERY, LOCATION, RG, make_definition, make_gallery, make_group

SSH_KEY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7golden0image0test0key0only0for0the0simulator0"
    "0000000000000000000000000000000000000000000000000000000000000000000000 azsim@test"
)


def make_vm(compute, network, name, security_type=None, sku="server"):
    vnet = network.virtual_networks.begin_create_or_update(
        RG,
        "vnet",
        {
            "location": LOCATION,
            "properties": {
                "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}],
            },
        },
    ).result()
    nic = network.network_interfaces.begin_create_or_update(
        RG,
        f"{name}-nic",
        {
            "location": LOCATION,
            "properties": {
                "ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": vnet.subnets[0].id}}}]
            },
        },
    ).result()
    props = {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {
            "imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": sku, "version": "latest"},
            "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}},
        },
        "osProfile": {
            "computerName": name,
            "adminUsername": "azureuser",
            "linuxConfiguration": {
                "disablePasswordAuthentication": True,
                "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]},
            },
        },
        "networkProfile": {"networkInterfaces": [{"id": nic.id, "properties": {"primary": True}}]},
    }
    if security_type:
        props["securityProfile"] = {
            "securityType": security_type,
            "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
        }
    return compute.virtual_machines.begin_create_or_update(
        RG, name, {"location": LOCATION, "properties": props}
    ).result()


def generalize(compute, name):
    compute.virtual_machines.begin_deallocate(RG, name).result()
    compute.virtual_machines.generalize(RG, name)


def vm_version(vm_id):
    return {"location": LOCATION, "properties": {"storageProfile": {"source": {"virtualMachineId": vm_id}}}}


@pytest.fixture
def gallery(compute, resources, fresh_sim):
    make_group(resources)
    make_gallery(compute)


def test_generalized_vm_becomes_a_version(compute, network, gallery, fresh_sim):
    vm = make_vm(compute, network, "vm-build")
    generalize(compute, "vm-build")
    make_definition(compute, "ubuntu")
    version = compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, "ubuntu", "1.0.0", vm_version(vm.id)
    ).result()
    assert version.provisioning_state == "Succeeded"
    assert version.storage_profile.source.virtual_machine_id == vm.id
    assert version.storage_profile.os_disk_image.size_in_gb == 30  # the marketplace image's OS disk


def test_specialized_vm_into_generalized_definition(compute, network, gallery, fresh_sim):
    vm = make_vm(compute, network, "vm-running")
    make_definition(compute, "ubuntu")
    with pytest.raises(HttpResponseError) as info:
        compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, "ubuntu", "1.0.0", vm_version(vm.id))
    assert info.value.status_code == 400 and info.value.error.code == "BadRequest"
    assert info.value.error.message == (
        f"The resource with id '{vm.id}' has a different OS state ['Specialized'] than "
        "the parent gallery image OS state ['Generalized']."
    )


def test_gen2_vm_into_gen1_definition(compute, network, gallery, fresh_sim):
    vm = make_vm(compute, network, "vm-gen2")
    generalize(compute, "vm-gen2")
    make_definition(compute, "ubuntu-gen1", generation="V1")
    with pytest.raises(HttpResponseError) as info:
        compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, "ubuntu-gen1", "1.0.0", vm_version(vm.id))
    assert "different Hypervisor generation ['V2'] than the parent gallery image ['V1']" in info.value.error.message


def test_trusted_launch_vm_needs_trusted_launch_definition(compute, network, gallery, fresh_sim):
    vm = make_vm(compute, network, "vm-tl", security_type="TrustedLaunch")
    generalize(compute, "vm-tl")
    make_definition(compute, "ubuntu-standard")
    with pytest.raises(HttpResponseError) as info:
        compute.gallery_image_versions.begin_create_or_update(
            RG, GALLERY, "ubuntu-standard", "1.0.0", vm_version(vm.id)
        )
    assert info.value.status_code == 400 and "TrustedLaunch" in info.value.error.message
    make_definition(compute, "ubuntu-tl", security="TrustedLaunch")
    version = compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, "ubuntu-tl", "1.0.0", vm_version(vm.id)
    ).result()
    assert version.provisioning_state == "Succeeded"


def test_trusted_launch_supported_refuses_vm_sources(compute, network, gallery, fresh_sim):
    vm = make_vm(compute, network, "vm-std")
    generalize(compute, "vm-std")
    make_definition(compute, "ubuntu-tls", security="TrustedLaunchSupported")
    with pytest.raises(HttpResponseError) as info:
        compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, "ubuntu-tls", "1.0.0", vm_version(vm.id))
    assert info.value.status_code == 400
    assert fresh_sim.admin.resources("Microsoft.Compute/galleries/images/versions") == []
