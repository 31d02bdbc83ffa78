"""VM create through the real azure-mgmt-compute SDK: image sources, the OS disk resource, CRP's validation."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute.models import DataDisk

from tests.sim import gallery_helpers as gallery
from tests.sim.test_vm_helpers import (LOCATION, UBUNTU_GEN1, create_vm, make_group, make_nic, require_marketplace,
                                       stored, vm_body)


@pytest.fixture
def nic(network, resources):
    make_group(resources)
    return make_nic(network, "rg-vm")


@pytest.fixture
def marketplace(compute):
    require_marketplace(compute)


def accept_terms(sim, home, plan):
    """The plan's Marketplace terms accepted, as the collection's plan accepts them."""
    import sys

    from tests.harness import ensure_collection_path

    sys.path.insert(0, ensure_collection_path())
    from ansible_collections.goldenimage.azure.plugins.module_utils import _marketplace_terms
    from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureSession

    _marketplace_terms.ensure_terms(AzureSession({}, environ=dict(sim.env, HOME=str(home))), plan, accept=True)


def error_of(raised):
    return raised.value.error


def test_marketplace_vm_records_the_concrete_image_version(compute, nic, marketplace, fresh_sim):
    vm = create_vm(compute, "rg-vm", "vm1", vm_body(nic))
    reference = stored(fresh_sim, vm.id)["properties"]["storageProfile"]["imageReference"]
    assert reference["version"] == "latest"
    assert reference["exactVersion"] == vm.storage_profile.image_reference.exact_version
    assert reference["exactVersion"].startswith("22.04.")


def test_create_answers_201_and_ends_succeeded(compute, nic, marketplace, fresh_sim):
    vm = create_vm(compute, "rg-vm", "vm1", vm_body(nic))
    puts = [item for item in fresh_sim.admin.requests()
            if item["method"] == "PUT" and "virtualMachines" in item["path"]]
    assert [item["status"] for item in puts] == [201]
    assert vm.provisioning_state == "Succeeded"
    assert vm.vm_id and vm.time_created and vm.storage_profile.os_disk.os_type == "Linux"


def test_os_disk_is_an_attached_managed_disk(compute, nic, marketplace, fresh_sim):
    vm = create_vm(compute, "rg-vm", "vm1", vm_body(nic, storage_type="StandardSSD_LRS"))
    disk = stored(fresh_sim, vm.storage_profile.os_disk.managed_disk.id)
    assert disk["managedBy"].lower() == vm.id.lower()
    assert disk["properties"]["diskState"] == "Attached"
    assert disk["sku"] == {"name": "StandardSSD_LRS", "tier": "Standard"}
    assert disk["properties"]["diskSizeGB"] == 30
    assert disk["properties"]["hyperVGeneration"] == "V2"
    assert disk["properties"]["creationData"]["createOption"] == "FromImage"
    assert "/Versions/22.04." in disk["properties"]["creationData"]["imageReference"]["id"]


def test_secrets_are_never_echoed(compute, nic, marketplace, fresh_sim):
    profile = {"computerName": "build", "adminUsername": "azureuser", "adminPassword": "S3cret-Passw0rd!",
               "customData": "I2Nsb3VkLWNvbmZpZw=="}
    vm = create_vm(compute, "rg-vm", "vm1", vm_body(nic, os_profile=profile))
    assert vm.os_profile.admin_password is None and vm.os_profile.custom_data is None
    body = stored(fresh_sim, vm.id)
    assert "adminPassword" not in body["properties"]["osProfile"] and "_sim" not in body


def test_unknown_size_is_invalid_parameter(compute, nic, marketplace):
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, "rg-vm", "vm1", vm_body(nic, size="Standard_Imaginary_v9"))
    assert raised.value.status_code == 400
    assert (error_of(raised).code, error_of(raised).target) == ("InvalidParameter", "vmSize")


def test_missing_resource_group(compute, nic, marketplace):
    with pytest.raises(ResourceNotFoundError) as raised:
        create_vm(compute, "rg-absent", "vm1", vm_body(nic))
    assert error_of(raised).code == "ResourceGroupNotFound"


def test_windows_computer_name_longer_than_15_characters(compute, nic, marketplace):
    image = {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-g2",
             "version": "latest"}
    profile = {"computerName": "golden-image-builder", "adminUsername": "builder", "adminPassword": "S3cret-Passw0rd!"}
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, "rg-vm", "vm1", vm_body(nic, image=image, os_profile=profile))
    assert (error_of(raised).code, error_of(raised).target) == ("InvalidParameter", "computerName")


def test_missing_nic_is_not_found(compute, resources, marketplace, fresh_sim):
    make_group(resources)
    absent = (f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/rg-vm/providers/Microsoft.Network"
              "/networkInterfaces/nope")
    with pytest.raises(ResourceNotFoundError):
        create_vm(compute, "rg-vm", "vm1", vm_body(absent))
    assert fresh_sim.admin.resources("Microsoft.Compute/virtualMachines") == []


def test_generalized_image_requires_os_profile(compute, nic, marketplace, fresh_sim):
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, "rg-vm", "vm1", vm_body(nic, os_profile=None))
    assert (error_of(raised).code, error_of(raised).target) == ("InvalidParameter", "osProfile")
    assert error_of(raised).message == "Required parameter 'osProfile' is missing (null)."
    assert fresh_sim.admin.resources("Microsoft.Compute/disks") == []


def test_trusted_launch_needs_a_gen2_image(compute, nic, marketplace):
    body = vm_body(nic, image=UBUNTU_GEN1, securityProfile={"securityType": "TrustedLaunch"})
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, "rg-vm", "vm1", body)
    assert raised.value.status_code == 400
    assert "TrustedLaunch" in error_of(raised).message


def test_premium_disk_needs_a_premium_size(compute, nic, marketplace, fresh_sim):
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, "rg-vm", "vm1", vm_body(nic, size="Standard_D2_v5", storage_type="Premium_LRS"))
    assert raised.value.status_code == 400
    assert "does not support the storage account type Premium_LRS" in error_of(raised).message
    assert fresh_sim.admin.resources("Microsoft.Compute/disks") == []


def test_os_disk_smaller_than_the_image_is_refused(compute, nic, marketplace):
    body = vm_body(nic)
    body["properties"]["storageProfile"]["osDisk"]["diskSizeGB"] = 8
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, "rg-vm", "vm1", body)
    assert error_of(raised).target == "osDisk.diskSizeGB"


def test_arm64_image_needs_an_arm64_size(compute, nic, marketplace):
    image = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-arm64",
             "version": "latest"}
    with pytest.raises(HttpResponseError):
        create_vm(compute, "rg-vm", "vm1", vm_body(nic, image=image, size="Standard_D2s_v5"))
    vm = create_vm(compute, "rg-vm", "vm1", vm_body(nic, image=image, size="Standard_D2ps_v5"))
    assert vm.provisioning_state == "Succeeded"


def test_specialized_os_disk_refuses_os_profile(compute, nic, marketplace, fresh_sim):
    disk = compute.disks.begin_create_or_update("rg-vm", "osdisk", {
        "location": LOCATION, "sku": {"name": "Premium_LRS"},
        "properties": {"osType": "Linux", "diskSizeGB": 30, "creationData": {"createOption": "Empty"}}}).result()
    body = vm_body(nic, image=False)
    body["properties"]["storageProfile"]["osDisk"] = {"createOption": "Attach", "osType": "Linux",
                                                      "managedDisk": {"id": disk.id}}
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, "rg-vm", "vm1", body)
    assert error_of(raised).message == "Parameter 'osProfile' is not allowed."
    del body["properties"]["osProfile"]
    vm = create_vm(compute, "rg-vm", "vm1", body)
    assert stored(fresh_sim, disk.id)["managedBy"].lower() == vm.id.lower()


# -- managed image and gallery sources -------------------------------------------------------------
@pytest.fixture
def image_group(network, resources):
    gallery.make_group(resources)
    return make_nic(network, gallery.RG)


def test_vm_from_a_managed_image(compute, image_group, fresh_sim):
    image_id = gallery.make_managed_image(compute, fresh_sim)
    vm = create_vm(compute, gallery.RG, "vm1", vm_body(image_group, image={"id": image_id}))
    disk = stored(fresh_sim, vm.storage_profile.os_disk.managed_disk.id)
    assert disk["properties"]["creationData"]["imageReference"]["id"].lower() == image_id.lower()
    assert disk["properties"]["diskSizeGB"] == 64
    assert disk["properties"]["hyperVGeneration"] == "V2"


def test_vm_from_the_latest_gallery_image_version(compute, image_group, fresh_sim):
    image_id = gallery.make_managed_image(compute, fresh_sim)
    gallery.make_gallery(compute)
    definition = gallery.make_definition(compute)
    for version in ("1.0.0", "1.2.0"):
        compute.gallery_image_versions.begin_create_or_update(gallery.RG, gallery.GALLERY, definition.name, version,
                                                              gallery.version_body(image_id)).result()
    vm = create_vm(compute, gallery.RG, "vm1", vm_body(image_group, image={"id": definition.id}))
    assert vm.storage_profile.image_reference.exact_version == "1.2.0"
    disk = stored(fresh_sim, vm.storage_profile.os_disk.managed_disk.id)
    assert disk["properties"]["creationData"]["galleryImageReference"]["id"].endswith("/versions/1.2.0")


def test_user_data_only_with_expand(compute, nic, marketplace):
    create_vm(compute, "rg-vm", "vm1", vm_body(nic, userData="IyEvYmluL3NoCmVjaG8gaGk="))
    assert compute.virtual_machines.get("rg-vm", "vm1").user_data is None
    assert compute.virtual_machines.get("rg-vm", "vm1", expand="userData").user_data == "IyEvYmluL3NoCmVjaG8gaGk="


def test_paid_image_needs_a_plan(compute, nic, marketplace, fresh_sim, tmp_path):
    image = {"publisher": "center-for-internet-security-inc", "offer": "cis-ubuntu-linux-2204-l1",
             "sku": "cis-ubuntu2204-l1-gen2", "version": "latest"}
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, "rg-vm", "vm1", vm_body(nic, image=image))
    assert raised.value.error.code == "VMMarketplaceInvalidInput"
    body = vm_body(nic, image=image)
    body["plan"] = {"name": image["sku"], "publisher": image["publisher"], "product": image["offer"]}
    accept_terms(fresh_sim, tmp_path, body["plan"])  # a plan VM needs its terms accepted too (test_marketplace_terms)
    assert create_vm(compute, "rg-vm", "vm1", body).plan.name == image["sku"]


def test_put_on_an_existing_vm_adds_a_data_disk(compute, nic, marketplace, fresh_sim):
    vm = create_vm(compute, "rg-vm", "vm1", vm_body(nic))
    vm.storage_profile.data_disks = [DataDisk(lun=0, create_option="Empty", disk_size_gb=16)]
    seq = fresh_sim.admin.last_seq()
    updated = compute.virtual_machines.begin_create_or_update("rg-vm", "vm1", vm).result()
    assert [item["status"] for item in fresh_sim.admin.requests(since=seq) if item["method"] == "PUT"] == [200]
    disk = stored(fresh_sim, updated.storage_profile.data_disks[0].managed_disk.id)
    assert (disk["properties"]["diskState"], disk["properties"]["diskSizeGB"]) == ("Attached", 16)


def test_gallery_image_requiring_trusted_launch(compute, image_group, fresh_sim):
    image_id = gallery.make_managed_image(compute, fresh_sim)
    gallery.make_gallery(compute)
    definition = gallery.make_definition(compute, security="TrustedLaunch")
    compute.gallery_image_versions.begin_create_or_update(gallery.RG, gallery.GALLERY, definition.name, "1.0.0",
                                                          gallery.version_body(image_id)).result()
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, gallery.RG, "vm1", vm_body(image_group, image={"id": definition.id}))
    assert "'TrustedLaunch' security type" in raised.value.error.message
    trusted = vm_body(image_group, image={"id": definition.id}, securityProfile={
        "securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}})
    vm = create_vm(compute, gallery.RG, "vm1", trusted)
    disk = stored(fresh_sim, vm.storage_profile.os_disk.managed_disk.id)
    assert disk["properties"]["securityProfile"] == {"securityType": "TrustedLaunch"}


def test_windows_needs_an_admin_password(compute, nic, marketplace):
    image = {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-g2",
             "version": "latest"}
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, "rg-vm", "vm1", vm_body(nic, image=image, os_profile={
            "computerName": "winbuild", "adminUsername": "builder"}))
    assert raised.value.error.target == "adminPassword"


def test_reserved_admin_username_is_refused(compute, nic, marketplace):
    profile = dict(vm_body(nic)["properties"]["osProfile"], adminUsername="root")
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, "rg-vm", "vm1", vm_body(nic, os_profile=profile))
    assert raised.value.error.message == "The Admin Username specified is not allowed."
