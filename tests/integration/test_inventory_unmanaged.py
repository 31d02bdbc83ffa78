"""The azure_images inventory puts VMs on retired unmanaged (VHD) disks in the group ``unmanaged_disks``."""

from __future__ import annotations

from tests.integration import lifecycle_setup as setup
from tests.integration.test_azure_images_inventory import inventory_list, plain, write
from tests.integration.test_vm_managed_disks import DATA_VHD, OS_VHD, RG, seed_legacy_vm


def test_unmanaged_vms_are_grouped(fresh_sim, compute, network, resources, tmp_path):
    seed_legacy_vm(fresh_sim, network, resources)
    setup.make_vm(compute, network, resources, rg=RG, name="modern-vm")
    data = inventory_list(fresh_sim, write(tmp_path, "plugin: goldenimage.azure.azure_images\n"))
    hosts = plain(data["_meta"]["hostvars"])
    assert data["unmanaged_disks"]["hosts"] == ["legacy-vm"]
    assert hosts["legacy-vm"]["azure_unmanaged_disks"] == [OS_VHD, DATA_VHD]
    assert hosts["legacy-vm"]["azure_managed_disks"] is False
    assert (hosts["modern-vm"]["azure_unmanaged_disks"], hosts["modern-vm"]["azure_managed_disks"]) == ([], True)
    assert hosts["legacy-vm"]["azure_power_state"] == "deallocated"


def test_converted_vm_leaves_the_group(fresh_sim, compute, network, resources, tmp_path):
    seed_legacy_vm(fresh_sim, network, resources)
    compute.virtual_machines.begin_convert_to_managed_disks(RG, "legacy-vm").result()
    data = inventory_list(fresh_sim, write(tmp_path, "plugin: goldenimage.azure.azure_images\n"))
    assert "unmanaged_disks" not in data
    assert plain(data["_meta"]["hostvars"])["legacy-vm"]["azure_managed_disks"] is True
