"""image_capture's encryption at rest (a disk encryption set per gallery target region, and for a managed image)
through ansible-playbook against azsim; state asserted from the simulator's resources."""

from __future__ import annotations

import pytest

from tests.integration import lifecycle_setup as setup
from tests.integration.test_image_capture import IMAGE_TYPE, VERSION_TYPE, gallery, playbook

KEY = "https://kv-golden01.vault.azure.net/keys/disk-key/0123456789abcdef0123456789abcdef"


def make_des(compute, name, location):
    return compute.disk_encryption_sets.begin_create_or_update("rg-build", name, {
        "location": location, "identity": {"type": "SystemAssigned"},
        "properties": {"activeKey": {"keyUrl": KEY}, "encryptionType": "EncryptionAtRestWithCustomerKey"}}).result().id


@pytest.fixture
def cmk_vm(compute, network, resources):
    """A generalized VM whose OS and data disk are encrypted with a customer key (set 'des-east'), and two sets."""
    vm = setup.generalize(compute, setup.make_vm(compute, network, resources, data_disks=[(0, 32, "Standard_LRS")]))
    east, west = make_des(compute, "des-east", "eastus"), make_des(compute, "des-west", "westus2")
    storage = vm["properties"]["storageProfile"]
    for entry in [storage["osDisk"]] + storage["dataDisks"]:  # the VM is deallocated: its disks may change
        compute.disks.begin_update("rg-build", entry["name"], {"properties": {"encryption": {
            "type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": east}}}).result()
    return setup.get_vm(compute, "rg-build", vm["name"]), east, west


def test_cmk_version_in_two_regions_and_an_encrypted_managed_image(fresh_sim, play, cmk_vm):
    vm, east, west = cmk_vm
    options = {"source": vm["id"], "build_id": "b-cmk",
               "managed_image": {"name": "img-cmk", "resource_group": "rg-build", "disk_encryption_set": east},
               "gallery": gallery(target_regions=[{"name": "eastus", "disk_encryption_set": east},
                                                  {"name": "westus2", "disk_encryption_set": west}])}
    run = play(playbook(options))
    assert run.rc == 0, run.stdout
    [version] = fresh_sim.admin.resources(VERSION_TYPE)
    targets = version["properties"]["publishingProfile"]["targetRegions"]
    regions = {region["name"]: region["encryption"] for region in targets}
    assert regions == {
        name: {"osDiskImage": {"diskEncryptionSetId": des}, "dataDiskImages": [{"lun": 0, "diskEncryptionSetId": des}]}
        for name, des in (("East US", east), ("West US 2", west))}
    [image] = fresh_sim.admin.resources(IMAGE_TYPE)
    assert image["properties"]["storageProfile"]["osDisk"]["diskEncryptionSet"] == {"id": east}
    again = play(playbook(options))
    assert again.rc == 0 and again.task("capture")["result"]["changed"] is False


@pytest.mark.parametrize("case", ["region-without-set", "set-in-another-region"])
def test_cmk_source_without_a_set_per_region_fails_before_anything_exists(fresh_sim, play, cmk_vm, case):
    vm, east, west = cmk_vm
    second = {"name": "westus2"} if case == "region-without-set" else {"name": "westus2", "disk_encryption_set": east}
    options = {"source": vm["id"], "gallery": gallery(target_regions=[{"name": "eastus", "disk_encryption_set": east},
                                                                      second])}
    run = play(playbook(options))
    assert run.rc != 0
    message = run.task("capture")["result"]["msg"]
    if case == "region-without-set":
        assert "gallery.target_regions" in message and "westus2" in message and "disk_encryption_set" in message
    else:
        assert "gallery.target_regions[1].disk_encryption_set" in message and "westus2" in message
    assert fresh_sim.admin.resources(VERSION_TYPE) == []
    assert fresh_sim.admin.resources("Microsoft.Compute/galleries") == []


def test_image_facts_reports_the_encryption(fresh_sim, play, cmk_vm):
    vm, east, west = cmk_vm
    options = {"source": vm["id"],
               "managed_image": {"name": "img-cmk", "resource_group": "rg-build", "disk_encryption_set": east},
               "gallery": gallery(target_regions=[{"name": "eastus", "disk_encryption_set": east},
                                                  {"name": "westus2", "disk_encryption_set": west}])}
    assert play(playbook(options)).rc == 0
    run = play("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: facts
      goldenimage.azure.image_facts:
        location: eastus
        managed_image: {resource_group: rg-build, name: img-cmk}
        gallery_image: {resource_group: rg-build, gallery: gal_golden, name: ubuntu-2404}
""")
    assert run.rc == 0, run.stdout
    managed, version = run.task("facts")["result"]["images"]
    assert managed["encryption"]["customer_key"] is True
    assert managed["encryption"]["disk_encryption_set"].lower() == east.lower()
    assert [item["lun"] for item in managed["encryption"]["data_disks"]] == [0]
    regions = version["encryption"]["regions"]
    assert set(regions) == {"eastus", "westus2"} and version["encryption"]["all_regions_customer_key"] is True
    assert regions["westus2"]["os_disk_image"].lower() == west.lower()
    assert regions["eastus"]["data_disk_images"] == [{"lun": 0, "disk_encryption_set": east}]
