"""disk_tier changes a disk's encryption at rest (a disk encryption set, double encryption, back to platform keys),
VM-aware as for SKU changes; through ansible-playbook against azsim, state asserted from the simulator."""

from __future__ import annotations

import pytest

from tests.integration import lifecycle_setup as setup
from tests.integration.test_build_vm_encryption import KEY, make_des
from tests.integration.test_disk_tier import data_disk, os_disk, playbook, posts, writes

DOUBLE = "EncryptionAtRestWithPlatformAndCustomerKeys"
PLATFORM = "EncryptionAtRestWithPlatformKey"


@pytest.fixture
def vm(compute, network, resources):
    return setup.make_vm(compute, network, resources, os_disk_sku="Premium_LRS", data_disks=[(0, 64, "Standard_LRS")])


@pytest.fixture
def des_id(resources, compute):
    return make_des(resources, compute, "des-eus", location="eastus", kind=DOUBLE)


def encryption(disk):
    return disk["properties"].get("encryption") or {}


def test_running_vm_is_deallocated_for_the_change_and_started_again(fresh_sim, play, compute, vm, des_id):
    first = fresh_sim.admin.last_seq()
    refused = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "select": "all",
                             "disk_encryption_set": des_id}))
    assert refused.rc != 0 and "allow_deallocate" in refused.task("tier")["result"]["msg"]
    assert encryption(os_disk(fresh_sim, vm)).get("diskEncryptionSetId") is None
    assert writes(fresh_sim, first) == []  # refused from the plan, before Azure is asked

    since = fresh_sim.admin.last_seq()
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "select": "all",
                         "disk_encryption_set": des_id, "allow_deallocate": True}))
    assert run.rc == 0, run.stdout
    result = run.task("tier")["result"]
    assert [d["changes"] for d in result["disks"]] == [["encryption"], ["encryption"]]
    for disk in (os_disk(fresh_sim, vm), data_disk(fresh_sim, vm)):
        assert encryption(disk)["type"] == DOUBLE  # the set's type: platform and customer keys
        assert encryption(disk)["diskEncryptionSetId"].lower() == des_id.lower()
    assert result["disks"][0]["after"]["encryption_type"] == DOUBLE
    assert posts(fresh_sim, since) == ["deallocate", "start"]
    assert setup.power_state(setup.get_vm(compute, "rg-build", "build-vm")) == "running"

    again = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "select": "all",
                           "disk_encryption_set": des_id, "allow_deallocate": True}))
    assert again.rc == 0 and again.task("tier")["result"]["changed"] is False


def test_detached_disk_goes_back_to_platform_keys_and_check_mode_predicts(fresh_sim, play, compute, resources, des_id):
    setup.make_group(resources)
    compute.disks.begin_create_or_update("rg-build", "loose", {
        "location": "eastus", "sku": {"name": "Standard_LRS"},
        "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 32,
                       "encryption": {"diskEncryptionSetId": des_id}}}).result()
    options = {"name": ["loose"], "resource_group": "rg-build", "encryption_type": PLATFORM}
    since = fresh_sim.admin.last_seq()
    checked = play(playbook(options), args=["--check", "--diff"])
    assert checked.rc == 0, checked.stdout
    assert checked.task("tier")["result"]["diff"]["after"]["loose"]["encryption_type"] == PLATFORM
    assert writes(fresh_sim, since) == []
    run = play(playbook(options))
    assert run.rc == 0, run.stdout
    disk = fresh_sim.admin.resource(run.task("tier")["result"]["disks"][0]["id"])
    assert encryption(disk) == {"type": PLATFORM}


@pytest.mark.parametrize("options, fragment", [
    ({"encryption_type": "EncryptionAtRestWithCustomerKey"}, "encryption_type"),   # a customer key needs a set
    ({"encryption_type": PLATFORM, "disk_encryption_set": "DES"}, "disk_encryption_set"),
    ({"encryption_type": "EncryptionAtRestWithCustomerKey", "disk_encryption_set": "DES"}, "encryption_type"),  # type
    ({"disk_encryption_set": "WEST"}, "disk_encryption_set"),                      # a set in another region
    ({"disk_encryption_set": "/subscriptions/x/resourceGroups/g/providers/Microsoft.Compute/disks/d"},
     "disk_encryption_set"),                                                      # not a set's id
])
def test_bad_encryption_input_fails_before_any_change(fresh_sim, play, resources, compute, vm, des_id, options,
                                                      fragment):
    west = compute.disk_encryption_sets.begin_create_or_update("rg-keys", "des-weu", {
        "location": "westeurope", "identity": {"type": "SystemAssigned"},
        "properties": {"activeKey": {"keyUrl": KEY}}}).result().id
    options = {key: {"DES": des_id, "WEST": west}.get(value, value) for key, value in options.items()}
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(playbook(dict({"vm": "build-vm", "resource_group": "rg-build", "allow_deallocate": True}, **options)))
    assert run.rc != 0
    assert fragment + ":" in run.task("tier")["result"]["msg"], run.task("tier")["result"]["msg"]
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before
