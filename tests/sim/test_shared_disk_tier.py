"""A shared disk's performance tier changes only while no running VM holds it (azsim/docs/unmanaged-disks.md)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from tests.sim.test_vm_helpers import LOCATION, create_vm, vm_body, vm_network

RG = "rg-shared"


@pytest.fixture
def shared_vm(compute, network, resources):
    nic = vm_network(compute, network, resources, RG)
    disk = compute.disks.begin_create_or_update(RG, "shared0", {
        "location": LOCATION, "sku": {"name": "Premium_LRS"},
        "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 256, "maxShares": 2}}).result()
    body = vm_body(nic)
    body["properties"]["storageProfile"]["dataDisks"] = [{"lun": 0, "createOption": "Attach", "caching": "None",
                                                          "managedDisk": {"id": disk.id}}]
    create_vm(compute, RG, "vm1", body)
    return disk


def test_tier_of_a_shared_disk_on_a_running_vm_is_refused(compute, fresh_sim, shared_vm):
    with pytest.raises(HttpResponseError) as raised:
        compute.disks.begin_update(RG, "shared0", {"properties": {"tier": "P30"}}).result()
    assert raised.value.status_code == 409 and raised.value.error.code == "OperationNotAllowed"
    assert compute.disks.get(RG, "shared0").tier == "P15"


def test_tier_of_a_shared_disk_changes_once_the_vm_is_deallocated(compute, fresh_sim, shared_vm):
    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    compute.disks.begin_update(RG, "shared0", {"properties": {"tier": "P30"}}).result()
    assert compute.disks.get(RG, "shared0").tier == "P30"
