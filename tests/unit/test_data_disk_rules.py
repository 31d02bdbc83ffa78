"""build_vm's data disk rules (_build_vm.check_data_disks), and the image_facts readers of data disk images."""

from __future__ import annotations

import sys

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import _build_vm, _custom_images  # noqa: E402
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError  # noqa: E402


def test_defaults_and_normalised_values():
    disks = _build_vm.check_data_disks([{"lun": "3", "size_gb": "128"}, {"lun": 0, "size_gb": 64, "sku": "Standard_LRS",
                                                                       "caching": "ReadOnly"}], "StandardSSD_LRS")
    assert disks == [{"lun": 3, "size_gb": 128, "sku": "StandardSSD_LRS", "caching": "None"},
                     {"lun": 0, "size_gb": 64, "sku": "Standard_LRS", "caching": "ReadOnly"}]


@pytest.mark.parametrize("disk, fragments", [
    ({"lun": 64, "size_gb": 8}, ["data_disks[0].lun", "0-63"]),
    ({"lun": -1, "size_gb": 8}, ["data_disks[0].lun", "0-63"]),
    ({"lun": "x", "size_gb": 8}, ["data_disks[0].lun", "integer"]),
    ({"lun": True, "size_gb": 8}, ["data_disks[0].lun"]),
    ({"lun": 0, "size_gb": 0}, ["data_disks[0].size_gb", "1-32767"]),
    ({"lun": 0, "size_gb": 40000}, ["data_disks[0].size_gb", "1-32767"]),
    ({"lun": 0, "size_gb": 8, "sku": "UltraSSD_LRS"}, ["data_disks[0].sku", "Premium_LRS", "zonal"]),
    ({"lun": 0, "size_gb": 8, "caching": "WriteBack"}, ["data_disks[0].caching", "ReadOnly"]),
    ("lun0", ["data_disks[0]", "dict"]),
])
def test_bad_disk_names_the_parameter_and_what_is_allowed(disk, fragments):
    with pytest.raises(AzureError) as raised:
        _build_vm.check_data_disks([disk])
    for fragment in fragments:
        assert fragment in raised.value.message


def test_lun_clash_names_both_entries():
    with pytest.raises(AzureError) as raised:
        _build_vm.check_data_disks([{"lun": 1, "size_gb": 8}, {"lun": 2, "size_gb": 8}, {"lun": 1, "size_gb": 8}])
    assert "data_disks[2].lun" in raised.value.message and "data_disks[0]" in raised.value.message


def test_vm_body_carries_blank_disks_deleted_with_the_vm():
    spec = {"vm_name": "gi-b1", "data_disks": _build_vm.check_data_disks([{"lun": 3, "size_gb": 16}])}
    assert _build_vm.data_disks_body(spec) == [{
        "lun": 3, "name": "gi-b1-datadisk-3", "createOption": "Empty", "diskSizeGB": 16, "caching": "None",
        "deleteOption": "Delete", "managedDisk": {"storageAccountType": "Premium_LRS"}}]


def test_gallery_data_disks_take_the_regions_storage_type_sorted_by_lun():
    version = {"location": "westeurope", "properties": {
        "publishingProfile": {"storageAccountType": "Standard_LRS",
                              "targetRegions": [{"name": "West Europe", "storageAccountType": "Premium_LRS"}]},
        "storageProfile": {"dataDiskImages": [{"lun": 3, "sizeInGB": 128, "hostCaching": "None"},
                                              {"lun": 0, "sizeInGB": 64, "hostCaching": "ReadOnly"}]}}}
    assert _custom_images.gallery_data_disks(version) == [
        {"lun": 0, "size_gb": 64, "caching": "ReadOnly", "storage_account_type": "Premium_LRS", "source": None},
        {"lun": 3, "size_gb": 128, "caching": "None", "storage_account_type": "Premium_LRS", "source": None}]
