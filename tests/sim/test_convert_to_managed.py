"""Unmanaged (VHD) disks after the retirement and ``convertToManagedDisks``, through the real SDK.

Rules and their sources: azsim/docs/unmanaged-disks.md."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from tests.sim.test_vm_helpers import LOCATION, create_vm, power_state, vm_body, vm_network

RG = "rg-legacy"
OS_VHD = "https://legacystore01.blob.core.windows.net/vhds/legacy-os.vhd"
DATA_VHD = "https://legacystore01.blob.core.windows.net/vhds/legacy-data0.vhd"


def unmanaged_body(nic, data=True):
    body = vm_body(nic, image=False, os_profile=None)
    storage = body["properties"]["storageProfile"]
    storage["osDisk"] = {"name": "legacy-os", "createOption": "Attach", "osType": "Linux", "diskSizeGB": 30,
                         "vhd": {"uri": OS_VHD}}
    if data:
        storage["dataDisks"] = [{"lun": 0, "name": "legacy-data0", "createOption": "Attach", "diskSizeGB": 64,
                                 "vhd": {"uri": DATA_VHD}}]
    return body


@pytest.fixture
def nic(compute, network, resources):
    return vm_network(compute, network, resources, RG)


def seed(sim, nic, name="legacy", power=None, **extra):
    spec = {"resource_group": RG, "name": name, "body": unmanaged_body(nic), **extra}
    if power:
        spec["power"] = power
    return sim.admin.post("unmanaged-vms", spec)


def code_of(raised):
    return raised.value.error.code


def test_creating_a_vm_on_unmanaged_disks_is_refused(compute, nic, fresh_sim):
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, RG, "legacy", unmanaged_body(nic))
    assert raised.value.status_code == 409 and code_of(raised) == "OperationNotAllowed"
    assert fresh_sim.admin.resources("Microsoft.Compute/virtualMachines") == []


def test_seeded_vm_is_deallocated_and_cannot_start(compute, nic, fresh_sim):
    seed(fresh_sim, nic)
    vm = compute.virtual_machines.get(RG, "legacy")
    assert vm.storage_profile.os_disk.vhd.uri == OS_VHD and vm.storage_profile.os_disk.managed_disk is None
    assert power_state(compute.virtual_machines.instance_view(RG, "legacy")) == "powerstate/deallocated"
    with pytest.raises(HttpResponseError) as raised:
        compute.virtual_machines.begin_start(RG, "legacy").result()
    assert raised.value.status_code == 409 and code_of(raised) == "OperationNotAllowed"
    assert power_state(compute.virtual_machines.instance_view(RG, "legacy")) == "powerstate/deallocated"


def test_convert_needs_a_deallocated_vm(compute, nic, fresh_sim):
    seed(fresh_sim, nic, power="running")
    with pytest.raises(HttpResponseError) as raised:
        compute.virtual_machines.begin_convert_to_managed_disks(RG, "legacy").result()
    assert raised.value.status_code == 409 and code_of(raised) == "OperationNotAllowed"
    assert fresh_sim.admin.resources("Microsoft.Compute/disks") == []
    assert compute.virtual_machines.get(RG, "legacy").storage_profile.os_disk.vhd.uri == OS_VHD


def test_convert_creates_managed_disks_and_starts_the_vm(compute, nic, fresh_sim):
    seed(fresh_sim, nic, storage_account_type="Premium_LRS")
    poller = compute.virtual_machines.begin_convert_to_managed_disks(RG, "legacy")
    poller.result()
    requests = [r for r in fresh_sim.admin.requests() if r["path"].endswith("/convertToManagedDisks")]
    assert [r["status"] for r in requests] == [202]
    vm = compute.virtual_machines.get(RG, "legacy")
    os_disk, [data] = vm.storage_profile.os_disk, vm.storage_profile.data_disks
    assert os_disk.vhd is None and data.vhd is None
    disks = {d["name"]: d for d in fresh_sim.admin.resources("Microsoft.Compute/disks")}
    assert set(disks) == {"legacy-os", "legacy-data0"}
    assert os_disk.managed_disk.id.lower() == disks["legacy-os"]["id"].lower()
    assert data.managed_disk.id.lower() == disks["legacy-data0"]["id"].lower()
    os_props = disks["legacy-os"]["properties"]
    assert (os_props["osType"], os_props["diskSizeGB"], os_props["diskState"]) == ("Linux", 30, "Attached")
    assert os_props["creationData"] == {"createOption": "Import", "sourceUri": OS_VHD}  # the blob is left in place
    assert disks["legacy-data0"]["sku"]["name"] == "Premium_LRS"
    assert disks["legacy-os"]["managedBy"].lower() == vm.id.lower()
    assert power_state(compute.virtual_machines.instance_view(RG, "legacy")) == "powerstate/running"


def test_convert_of_a_managed_vm_is_refused(compute, nic, fresh_sim):
    create_vm(compute, RG, "modern", vm_body(nic))
    compute.virtual_machines.begin_deallocate(RG, "modern").result()
    with pytest.raises(HttpResponseError) as raised:
        compute.virtual_machines.begin_convert_to_managed_disks(RG, "modern").result()
    assert code_of(raised) == "OperationNotAllowed"


def test_convert_is_long_running(compute, nic, fresh_sim):
    seed(fresh_sim, nic)
    fresh_sim.admin.freeze_clock()
    fresh_sim.admin.settings(time_scale=1.0)
    poller = compute.virtual_machines.begin_convert_to_managed_disks(RG, "legacy", polling=False)
    assert compute.virtual_machines.get(RG, "legacy").provisioning_state == "Updating"
    assert fresh_sim.admin.resources("Microsoft.Compute/disks") == []
    fresh_sim.admin.advance(3600)
    assert compute.virtual_machines.get(RG, "legacy").provisioning_state == "Succeeded"
    assert len(fresh_sim.admin.resources("Microsoft.Compute/disks")) == 2
    assert poller is not None


def test_seed_refuses_a_vm_with_managed_disks(fresh_sim, nic):
    response = fresh_sim.admin.raw("POST", "unmanaged-vms", {"resource_group": RG, "name": "x",
                                                             "body": vm_body(nic)})
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidSeed"
    assert fresh_sim.admin.resources("Microsoft.Compute/virtualMachines") == []


def test_rule_switch_restores_the_world_before_the_retirement(compute, nic, fresh_sim):
    fresh_sim.admin.settings(rules={"unmanaged_disks_retired": False})
    create_vm(compute, RG, "legacy", unmanaged_body(nic, data=False))
    assert power_state(compute.virtual_machines.instance_view(RG, "legacy")) == "powerstate/running"
    assert LOCATION == compute.virtual_machines.get(RG, "legacy").location
