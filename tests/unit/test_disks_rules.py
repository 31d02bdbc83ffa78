"""disk_tier's validation and planning (plugins/module_utils/_disks.py): pure functions, no Azure."""

from __future__ import annotations

import sys

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import _disks
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
)


def disk(sku="Premium_LRS", size=128, tier="P10", iops=500, mbps=100, state="Attached"):
    return {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d1", "name": "d1",
            "sku": {"name": sku}, "properties": {"diskSizeGB": size, "tier": tier, "diskIOPSReadWrite": iops,
                                                 "diskMBpsReadWrite": mbps, "diskState": state}}


@pytest.mark.parametrize("size, tier", [(1, "P1"), (4, "P1"), (5, "P2"), (30, "P4"), (128, "P10"), (129, "P15"),
                                        (1024, "P30"), (4096, "P50"), (4097, "P60"), (32767, "P80")])
def test_baseline_tier(size, tier):
    assert _disks.baseline_tier(size) == tier


def test_no_change_is_empty_plan():
    assert _disks.plan_disk(disk(), "os", sku="Premium_LRS", tier="P10", size_gb=128) == {}


def test_plan_collects_every_change():
    body = _disks.plan_disk(disk(sku="Standard_LRS", tier=None), "os", sku="Premium_LRS", tier="P30", size_gb=256)
    assert body == {"sku": {"name": "Premium_LRS"}, "properties": {"diskSizeGB": 256, "tier": "P30"}}


@pytest.mark.parametrize("kwargs, parameter", [
    ({"size_gb": 64}, "size_gb"),                       # shrink
    ({"tier": "P6"}, "tier"),                           # below baseline of 128 GiB
    ({"tier": "P60"}, "tier"),                          # P60 on a 128 GiB disk
    ({"sku": "StandardSSD_LRS", "tier": "P30"}, "tier"),  # tier on a non-premium SKU
    ({"iops": 5000}, "iops"),                           # IOPS on Premium SSD
])
def test_rule_violations_name_the_parameter(kwargs, parameter):
    with pytest.raises(AzureError) as caught:
        _disks.validate_request(**kwargs)
        _disks.plan_disk(disk(), "data", **kwargs)
    assert str(caught.value).startswith(parameter)


def test_premium_v2_never_an_os_disk():
    with pytest.raises(AzureError, match=r"^sku: PremiumV2_LRS cannot be an OS disk"):
        _disks.plan_disk(disk(), "os", sku="PremiumV2_LRS")


def test_p60_allowed_above_4tib():
    assert _disks.plan_disk(disk(size=5000, tier="P60"), "data", tier="P70") == {"properties": {"tier": "P70"}}


def test_tier_checked_against_the_new_size():
    body = _disks.plan_disk(disk(size=4096, tier="P50"), "data", size_gb=8192, tier="P60")
    assert body == {"properties": {"diskSizeGB": 8192, "tier": "P60"}}


def test_iops_on_premium_v2():
    body = _disks.plan_disk(disk(sku="PremiumV2_LRS", tier=None, iops=3000, mbps=125), "data", iops=6000, mbps=250)
    assert body == {"properties": {"diskIOPSReadWrite": 6000, "diskMBpsReadWrite": 250}}


def test_deallocation_needed_for_sku_and_os_growth_only():
    assert _disks.needs_deallocation({"sku": {"name": "Premium_LRS"}}, "data")
    assert _disks.needs_deallocation({"properties": {"diskSizeGB": 64}}, "os")
    assert not _disks.needs_deallocation({"properties": {"diskSizeGB": 64}}, "data")
    assert not _disks.needs_deallocation({"properties": {"tier": "P30"}}, "os")


def test_predict_premium_conversion_uses_baseline_and_documented_performance():
    after = _disks.predict(disk(sku="Standard_LRS", size=30, tier=None, iops=500, mbps=60),
                           {"sku": {"name": "Premium_LRS"}})
    assert (after["sku"], after["tier"], after["iops"], after["mbps"]) == ("Premium_LRS", "P4", 120, 25)
    after = _disks.predict(disk(), {"properties": {"tier": "P30"}})
    assert (after["tier"], after["iops"], after["mbps"]) == ("P30", 5000, 200)


def test_vm_disks_reports_managed_and_unmanaged():
    vm = {"properties": {"storageProfile": {
        "osDisk": {"name": "os", "vhd": {"uri": "https://sa.blob.core.windows.net/vhds/os.vhd"}},
        "dataDisks": [{"lun": 2, "name": "d2", "managedDisk": {"id": "/x/disks/d2"}}]}}}
    assert _disks.vm_disks(vm) == [("os", None, "os", None, "https://sa.blob.core.windows.net/vhds/os.vhd"),
                                   ("data", 2, "d2", "/x/disks/d2", None)]
