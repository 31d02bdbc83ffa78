"""DiskRP's change rules (wire reference 4.4) through the real SDK, with the simulator's rule switches."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from tests.sim.test_vm_helpers import (LOCATION, changed_settings, create_vm, make_group, make_nic, require_marketplace,
                                       stored, vm_body)

RG = "rg-disk"


@pytest.fixture
def group(resources):
    return make_group(resources, RG)


@pytest.fixture
def vm(compute, network, group):
    require_marketplace(compute)
    return create_vm(compute, RG, "vm1", vm_body(make_nic(network, RG)))


def create(compute, name, size=128, sku="Premium_LRS"):
    return compute.disks.begin_create_or_update(RG, name, {"location": LOCATION, "sku": {"name": sku}, "properties": {
        "diskSizeGB": size, "creationData": {"createOption": "Empty"}}}).result()


def patch(compute, name, body):
    return compute.disks.begin_update(RG, name, body).result()


def os_disk_name(vm):
    return vm.storage_profile.os_disk.name


# -- SKU changes ----------------------------------------------------------------------------------
def test_sku_change_refused_while_the_vm_runs(compute, vm, fresh_sim):
    with pytest.raises(ResourceExistsError) as raised:
        patch(compute, os_disk_name(vm), {"sku": {"name": "StandardSSD_LRS"}})
    assert raised.value.error.code == "OperationNotAllowed"
    assert stored(fresh_sim, vm.storage_profile.os_disk.managed_disk.id)["sku"]["name"] == "Premium_LRS"


def test_sku_change_accepted_after_deallocate(compute, vm, fresh_sim):
    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    disk = patch(compute, os_disk_name(vm), {"sku": {"name": "StandardSSD_LRS"}})
    assert (disk.sku.name, disk.tier, disk.disk_state) == ("StandardSSD_LRS", None, "Reserved")
    shown = compute.virtual_machines.get(RG, "vm1").storage_profile.os_disk.managed_disk.storage_account_type
    assert shown == "StandardSSD_LRS"


def test_sku_changes_per_day_are_limited(compute, group):
    create(compute, "d1")
    patch(compute, "d1", {"sku": {"name": "StandardSSD_LRS"}})
    patch(compute, "d1", {"sku": {"name": "Premium_LRS"}})
    with pytest.raises(ResourceExistsError) as raised:
        patch(compute, "d1", {"sku": {"name": "Standard_LRS"}})
    assert "2 times per day" in raised.value.error.message


def test_conversion_to_premium_v2_follows_the_switch(compute, group, fresh_sim):
    create(compute, "d1")
    with pytest.raises(ResourceExistsError):
        patch(compute, "d1", {"sku": {"name": "PremiumV2_LRS"}})
    with changed_settings(fresh_sim.admin, rules={"allow_premium_v2_conversion": True}):
        disk = patch(compute, "d1", {"sku": {"name": "PremiumV2_LRS"}})
    assert (disk.sku.name, disk.disk_iops_read_write) == ("PremiumV2_LRS", 3000)


def test_premium_v2_cannot_be_an_os_disk(compute, vm, fresh_sim):
    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    with changed_settings(fresh_sim.admin, rules={"allow_premium_v2_conversion": True}):
        with pytest.raises(HttpResponseError) as raised:
            patch(compute, os_disk_name(vm), {"sku": {"name": "PremiumV2_LRS"}})
    assert raised.value.status_code == 400


# -- performance tiers ----------------------------------------------------------------------------
def test_tier_below_the_size_baseline_is_refused(compute, group):
    create(compute, "d1", size=128)
    with pytest.raises(HttpResponseError) as raised:
        patch(compute, "d1", {"properties": {"tier": "P6"}})
    assert (raised.value.status_code, raised.value.error.target) == (400, "tier")


def test_p60_and_above_only_for_disks_over_4_tib(compute, group):
    create(compute, "d1", size=1024)
    with pytest.raises(HttpResponseError):
        patch(compute, "d1", {"properties": {"tier": "P60"}})
    create(compute, "big", size=8192)
    assert patch(compute, "big", {"properties": {"tier": "P70"}}).tier == "P70"


def test_tiers_only_on_premium_ssd(compute, group):
    create(compute, "d1", sku="StandardSSD_LRS")
    with pytest.raises(HttpResponseError) as raised:
        patch(compute, "d1", {"properties": {"tier": "P30"}})
    assert raised.value.error.target == "tier"


def test_tier_downgrade_once_per_cooldown(compute, group, fresh_sim):
    create(compute, "d1", size=128)
    patch(compute, "d1", {"properties": {"tier": "P40"}})
    assert patch(compute, "d1", {"properties": {"tier": "P30"}}).tier == "P30"
    with pytest.raises(ResourceExistsError) as raised:
        patch(compute, "d1", {"properties": {"tier": "P20"}})
    assert raised.value.error.code == "OperationNotAllowed"
    with changed_settings(fresh_sim.admin, rules={"tier_downgrade_cooldown_hours": 0}):
        assert patch(compute, "d1", {"properties": {"tier": "P20"}}).tier == "P20"


def test_tier_change_on_a_running_vm_follows_the_switch(compute, vm, fresh_sim):
    assert patch(compute, os_disk_name(vm), {"properties": {"tier": "P30"}}).tier == "P30"
    with changed_settings(fresh_sim.admin, rules={"tier_change_requires_deallocation": True}):
        with pytest.raises(ResourceExistsError):
            patch(compute, os_disk_name(vm), {"properties": {"tier": "P40"}})


def test_growing_a_disk_lifts_its_tier_to_the_new_baseline(compute, group):
    create(compute, "d1", size=128)
    patch(compute, "d1", {"properties": {"tier": "P15"}})
    disk = patch(compute, "d1", {"properties": {"diskSizeGB": 1024}})
    assert (disk.disk_size_gb, disk.tier) == (1024, "P30")


# -- size, performance, bursting ------------------------------------------------------------------
def test_disks_only_grow(compute, group):
    create(compute, "d1", size=128)
    with pytest.raises(HttpResponseError) as raised:
        patch(compute, "d1", {"properties": {"diskSizeGB": 64}})
    assert raised.value.status_code == 400


def test_os_disk_of_a_running_vm_cannot_grow(compute, vm):
    with pytest.raises(ResourceExistsError) as raised:
        patch(compute, os_disk_name(vm), {"properties": {"diskSizeGB": 64}})
    assert "deallocated" in raised.value.error.message


def test_iops_settable_only_on_premium_v2_and_ultra(compute, group):
    create(compute, "d1", sku="Premium_LRS")
    with pytest.raises(HttpResponseError) as raised:
        patch(compute, "d1", {"properties": {"diskIOPSReadWrite": 5000}})
    assert raised.value.error.target == "diskIOPSReadWrite"
    create(compute, "v2", size=100, sku="PremiumV2_LRS")
    disk = patch(compute, "v2", {"properties": {"diskIOPSReadWrite": 5000, "diskMBpsReadWrite": 200}})
    assert (disk.disk_iops_read_write, disk.disk_m_bps_read_write) == (5000, 200)


def test_bursting_only_above_512_gib(compute, group):
    create(compute, "small", size=256)
    with pytest.raises(HttpResponseError):
        patch(compute, "small", {"properties": {"burstingEnabled": True}})
    create(compute, "large", size=1024)
    assert patch(compute, "large", {"properties": {"burstingEnabled": True}}).bursting_enabled is True


# -- delete ---------------------------------------------------------------------------------------
def test_attached_disk_cannot_be_deleted(compute, vm, fresh_sim):
    with pytest.raises(ResourceExistsError) as raised:
        compute.disks.begin_delete(RG, os_disk_name(vm)).result()
    assert raised.value.error.code == "OperationNotAllowed"
    assert stored(fresh_sim, vm.storage_profile.os_disk.managed_disk.id) is not None
