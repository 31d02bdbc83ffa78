"""The azure_images inventory reports each VM's disk encryption at rest and groups the VMs with a disk that is not
encrypted with a customer-managed key (``disks_not_customer_key``)."""

from __future__ import annotations

from tests.integration import lifecycle_setup as setup
from tests.integration.test_azure_images_inventory import inventory_list, plain, write
from tests.integration.test_build_vm_encryption import make_des

DOUBLE = "EncryptionAtRestWithPlatformAndCustomerKeys"


def encrypt_every_disk(compute, vm, des_id):
    """What disk_tier does: deallocate, point every disk at the set, start again (SDK calls, not the module)."""
    compute.virtual_machines.begin_deallocate("rg-build", vm["name"]).result()
    storage = vm["properties"]["storageProfile"]
    for entry in [storage["osDisk"]] + storage["dataDisks"]:
        name = entry["managedDisk"]["id"].rsplit("/", 1)[-1]
        compute.disks.begin_update("rg-build", name, {"properties": {"encryption": {"diskEncryptionSetId": des_id}}}).result()
    compute.virtual_machines.begin_start("rg-build", vm["name"]).result()


def test_disk_encryption_hostvars_and_group(fresh_sim, compute, network, resources, tmp_path):
    des_id = make_des(resources, compute, "des-eus", location="eastus", kind=DOUBLE)
    cmk = setup.make_vm(compute, network, resources, name="cmk-vm", data_disks=[(0, 32, "Standard_LRS")])
    partly = setup.make_vm(compute, network, resources, name="partly-vm", data_disks=[(0, 32, "Standard_LRS")])
    setup.make_vm(compute, network, resources, name="plain-vm")
    encrypt_every_disk(compute, cmk, des_id)
    os_only = dict(partly, properties=dict(partly["properties"], storageProfile=dict(
        partly["properties"]["storageProfile"], dataDisks=[])))
    encrypt_every_disk(compute, os_only, des_id)  # the data disk keeps platform keys

    data = inventory_list(fresh_sim, write(tmp_path, "plugin: goldenimage.azure.azure_images\ndisk_details: true\n"))
    assert sorted(data["disks_not_customer_key"]["hosts"]) == ["partly-vm", "plain-vm"]
    hosts = plain(data["_meta"]["hostvars"])
    facts = hosts["cmk-vm"]["azure_disk_encryption"]
    assert facts["customer_key"] is True and facts["encryption_at_host"] is False
    assert [(d["role"], d["type"], d["disk_encryption_set"].lower()) for d in facts["disks"]] == [
        ("os", DOUBLE, des_id.lower()), ("data", DOUBLE, des_id.lower())]
    partly_facts = hosts["partly-vm"]["azure_disk_encryption"]
    assert [d["disk_encryption_set"] is not None for d in partly_facts["disks"]] == [True, False]
    assert hosts["plain-vm"]["azure_disk_encryption"]["disks"][0]["type"] == "EncryptionAtRestWithPlatformKey"
