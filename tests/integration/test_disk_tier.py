"""goldenimage.azure.disk_tier through ansible-playbook against the simulator."""

from __future__ import annotations

import json

import pytest

from tests.integration import lifecycle_setup as setup


def playbook(options):
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: tier
      goldenimage.azure.disk_tier: {json.dumps(options)}
"""


@pytest.fixture
def vm(compute, network, resources):
    return setup.make_vm(compute, network, resources, os_disk_sku="Premium_LRS", data_disks=[(0, 64, "Standard_LRS")])


def os_disk(sim, vm):
    return sim.admin.resource(vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"])


def data_disk(sim, vm, lun=0):
    [disk] = [d for d in vm["properties"]["storageProfile"]["dataDisks"] if d["lun"] == lun]
    return sim.admin.resource(disk["managedDisk"]["id"])


def posts(sim, since):
    return [r["path"].rsplit("/", 1)[-1] for r in setup.arm_requests(sim, since) if r["method"] == "POST"]


def writes(sim, since):
    return [r for r in setup.arm_requests(sim, since) if r["method"] in ("PUT", "PATCH", "POST", "DELETE")]


def test_tier_change_on_running_vm_without_downtime(fresh_sim, play, compute, vm):
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "tier": "P30"}))
    assert run.rc == 0, run.stdout
    result = run.task("tier")["result"]
    assert result["changed"] is True
    [disk] = result["disks"]
    assert disk["role"] == "os" and disk["managed"] is True and disk["changes"] == ["tier"]
    assert disk["after"]["tier"] == "P30" and (disk["iops"], disk["mbps"]) == (5000, 200)
    assert os_disk(fresh_sim, vm)["properties"]["tier"] == "P30"
    assert posts(fresh_sim, since) == []  # no deallocation for a tier change
    assert result["vm"]["power_state"] == "running" and result["vm"]["deallocated"] is False
    assert result["vm"]["temporary_disk"] == {"present": True, "size_mb": 16384, "size_gb": 16.0}
    assert [(d["role"], d["lun"], d["managed"]) for d in result["vm"]["disks"]] == [("os", None, True),
                                                                                   ("data", 0, True)]
    again = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "tier": "P30"}))
    assert again.rc == 0 and again.task("tier")["result"]["changed"] is False


def test_sku_change_on_running_vm_refused_without_allow_deallocate(fresh_sim, play, compute, vm):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "luns": [0], "sku": "StandardSSD_LRS"}))
    assert run.rc != 0
    result = run.task("tier")["result"]
    assert "allow_deallocate" in result["msg"] and "Nothing was changed" in result["msg"]
    assert result["changed"] is False
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before


def test_sku_change_with_allow_deallocate_restores_running_vm(fresh_sim, play, compute, vm):
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "luns": [0], "sku": "StandardSSD_LRS",
                         "allow_deallocate": True}))
    assert run.rc == 0, run.stdout
    result = run.task("tier")["result"]
    assert result["disks"][0]["before"]["sku"] == "Standard_LRS"
    assert result["disks"][0]["after"]["sku"] == "StandardSSD_LRS"
    assert result["vm"]["deallocated"] is True and result["vm"]["power_state"] == "running"
    assert data_disk(fresh_sim, vm)["sku"]["name"] == "StandardSSD_LRS"
    assert posts(fresh_sim, since) == ["deallocate", "start"]
    assert setup.power_state(setup.get_vm(compute, "rg-build", "build-vm")) == "running"
    again = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "luns": [0], "sku": "StandardSSD_LRS",
                           "allow_deallocate": True}))
    assert again.task("tier")["result"]["changed"] is False


def test_deallocated_vm_stays_deallocated(fresh_sim, play, compute, vm):
    compute.virtual_machines.begin_deallocate("rg-build", "build-vm").result()
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"vm": vm["id"], "select": "all", "sku": "StandardSSD_LRS"}))
    assert run.rc == 0, run.stdout
    assert posts(fresh_sim, since) == []
    assert os_disk(fresh_sim, vm)["sku"]["name"] == "StandardSSD_LRS"
    assert data_disk(fresh_sim, vm)["sku"]["name"] == "StandardSSD_LRS"
    assert setup.power_state(setup.get_vm(compute, "rg-build", "build-vm")) == "deallocated"


def test_check_mode_and_diff(fresh_sim, play, vm):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "select": "all", "sku": "Premium_LRS",
                         "allow_deallocate": True}), args=["--check", "--diff"])
    assert run.rc == 0, run.stdout
    result = run.task("tier")["result"]
    assert result["changed"] is True
    assert fresh_sim.admin.resources() == before
    assert writes(fresh_sim, since) == []
    data_name = data_disk(fresh_sim, vm)["name"]
    assert result["diff"]["before"][data_name]["sku"] == "Standard_LRS"
    assert result["diff"]["after"][data_name]["sku"] == "Premium_LRS"
    assert result["diff"]["after"][data_name]["tier"] == "P6"


def test_disks_by_name_detached(fresh_sim, play, compute, resources):
    setup.make_group(resources)
    for name in ("loose1", "loose2"):
        compute.disks.begin_create_or_update("rg-build", name, {
            "location": "eastus", "sku": {"name": "Standard_LRS"},
            "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 128}}).result()
    run = play(playbook({"name": ["loose1", "loose2"], "resource_group": "rg-build", "sku": "Premium_LRS",
                         "tier": "P20"}))
    assert run.rc == 0, run.stdout
    result = run.task("tier")["result"]
    assert "vm" not in result
    assert [(d["after"]["sku"], d["after"]["tier"], d["iops"]) for d in result["disks"]] == [
        ("Premium_LRS", "P20", 2300)] * 2
    disk_id = result["disks"][0]["id"]
    assert fresh_sim.admin.resource(disk_id)["properties"]["tier"] == "P20"
    by_id = play(playbook({"id": disk_id, "sku": "Premium_LRS", "tier": "P20"}))
    assert by_id.task("tier")["result"]["changed"] is False


@pytest.mark.parametrize("options, fragment", [
    ({"tier": "P30", "luns": [0]}, "tier"),                       # data disk is Standard_LRS
    ({"tier": "P60"}, "tier"),                                    # P60 only above 4 TiB
    ({"size_gb": 1, "luns": [0]}, "size_gb"),                     # shrink
    ({"iops": 5000}, "iops"),                                     # IOPS only on PremiumV2/Ultra
    ({"sku": "PremiumV2_LRS", "allow_deallocate": True}, "sku"),  # never an OS disk
    ({"luns": [7], "tier": "P30"}, "luns"),                       # no such LUN
    ({}, "nothing to change"),
])
def test_bad_input_fails_before_any_change(fresh_sim, play, vm, options, fragment):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(playbook(dict({"vm": "build-vm", "resource_group": "rg-build"}, **options)))
    assert run.rc != 0
    assert fragment in run.task("tier")["result"]["msg"]
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before


def test_azure_refusal_surfaces_with_its_code(fresh_sim, play, vm):
    assert play(playbook({"vm": "build-vm", "resource_group": "rg-build", "tier": "P30"})).rc == 0
    assert play(playbook({"vm": "build-vm", "resource_group": "rg-build", "tier": "P20"})).rc == 0
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "tier": "P15"}))
    assert run.rc != 0
    result = run.task("tier")["result"]
    assert result["error_code"] == "OperationNotAllowed" and "12" in result["msg"]
    assert os_disk(fresh_sim, vm)["properties"]["tier"] == "P20"


def test_failed_update_still_restores_power_state(fresh_sim, play, compute, vm):
    fresh_sim.admin.faults([{"method": "PATCH", "path": "/disks/[^/]+$", "action": "fail_operation",
                             "code": "InternalDiskManagementError"}])
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "luns": [0], "sku": "StandardSSD_LRS",
                         "allow_deallocate": True}))
    assert run.rc != 0
    result = run.task("tier")["result"]
    assert result["error_code"] == "InternalDiskManagementError"
    assert result["power_state"] == "running"
    assert setup.power_state(setup.get_vm(compute, "rg-build", "build-vm")) == "running"


@pytest.mark.parametrize("status", [429, 503])
def test_transient_errors_on_deallocate_and_update_are_retried(fresh_sim, play, compute, vm, status):
    fresh_sim.admin.faults([{"method": "POST", "path": "/deallocate$", "status": status, "times": 1},
                            {"method": "PATCH", "path": "/disks/[^/]+$", "status": status, "times": 1}])
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "luns": [0], "sku": "StandardSSD_LRS",
                         "allow_deallocate": True}))
    assert run.rc == 0, run.stdout
    # the refused deallocate and disk update were each sent again, once
    sent = writes(fresh_sim, since)
    assert [r["status"] for r in sent if r["method"] == "POST" and r["path"].endswith("/deallocate")] == [status, 202]
    assert [r["status"] for r in sent if r["method"] == "PATCH"] == [status, 202]
    assert data_disk(fresh_sim, vm)["sku"]["name"] == "StandardSSD_LRS"
    assert setup.power_state(setup.get_vm(compute, "rg-build", "build-vm")) == "running"


def test_timeout_names_the_operation(fresh_sim, play, compute, vm):
    fresh_sim.admin.freeze_clock()  # simulated time moves only when the test says so
    fresh_sim.admin.settings(time_scale=1000.0)
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "luns": [0], "size_gb": 128,
                         "wait_timeout": 2}))
    fresh_sim.admin.finish_operations()
    assert run.rc != 0
    result = run.task("tier")["result"]
    assert result["error_code"] == "OperationTimedOut"
    assert "update disk 'build-vm-data0'" in result["msg"]


def test_unmanaged_os_disk_is_reported_and_refused(fresh_sim, play, network, resources):
    # Azure no longer creates VMs on unmanaged disks (nor mixes them with managed ones): the VM is seeded
    from tests.integration.test_vm_managed_disks import OS_VHD, seed_legacy_vm

    seed_legacy_vm(fresh_sim, network, resources)
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    refused = play(playbook({"vm": "legacy-vm", "resource_group": "rg-legacy", "select": "os", "tier": "P30"}))
    assert refused.rc != 0
    msg = refused.task("tier")["result"]["msg"]
    assert "unmanaged" in msg and OS_VHD in msg and "vm_managed_disks" in msg
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before


# -- tier changes that Azure accepts only on a deallocated VM: a shared disk's tier ---------------------------
@pytest.fixture
def shared_vm(compute, network, resources):
    vm = setup.make_vm(compute, network, resources, os_disk_sku="Premium_LRS")
    disk = compute.disks.begin_create_or_update("rg-build", "shared0", {
        "location": "eastus", "sku": {"name": "Premium_LRS"},
        "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 256, "maxShares": 2}}).result()
    compute.virtual_machines.begin_update("rg-build", "build-vm", {"properties": {"storageProfile": {"dataDisks": [
        {"lun": 0, "createOption": "Attach", "caching": "None", "managedDisk": {"id": disk.id}}]}}}).result()
    return vm


def test_shared_disk_tier_change_is_orchestrated_with_allow_deallocate(fresh_sim, play, compute, shared_vm):
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "luns": [0], "tier": "P30",
                         "allow_deallocate": True}))
    assert run.rc == 0, run.stdout
    result = run.task("tier")["result"]
    assert result["vm"]["deallocated"] is True and result["vm"]["power_state"] == "running"
    assert posts(fresh_sim, since) == ["deallocate", "start"]
    assert compute.disks.get("rg-build", "shared0").tier == "P30"
    assert setup.power_state(setup.get_vm(compute, "rg-build", "build-vm")) == "running"


def test_shared_disk_tier_change_without_allow_deallocate_fails_before_any_write(fresh_sim, play, compute, shared_vm):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "luns": [0], "tier": "P30"}))
    assert run.rc != 0
    result = run.task("tier")["result"]
    assert "allow_deallocate" in result["msg"] and "shared0 (tier)" in result["msg"]
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before


# -- a tier change that only Azure says needs deallocation (the older rule, azsim rules switch) -----------------
def test_tier_change_azure_refuses_on_a_running_vm_is_orchestrated(fresh_sim, play, compute, vm):
    fresh_sim.admin.settings(rules={"tier_change_requires_deallocation": True})
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "tier": "P30", "allow_deallocate": True}))
    assert run.rc == 0, run.stdout
    result = run.task("tier")["result"]
    assert result["vm"]["deallocated"] is True and result["vm"]["power_state"] == "running"
    assert posts(fresh_sim, since) == ["deallocate", "start"]
    assert os_disk(fresh_sim, vm)["properties"]["tier"] == "P30"
    assert setup.power_state(setup.get_vm(compute, "rg-build", "build-vm")) == "running"


def test_tier_change_azure_refuses_without_allow_deallocate_changes_nothing(fresh_sim, play, compute, vm):
    fresh_sim.admin.settings(rules={"tier_change_requires_deallocation": True})
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"vm": "build-vm", "resource_group": "rg-build", "tier": "P30"}))
    assert run.rc != 0
    result = run.task("tier")["result"]
    assert result["error_code"] == "OperationNotAllowed" and "allow_deallocate" in result["msg"]
    assert posts(fresh_sim, since) == []  # Azure refused the PATCH itself; no deallocation
    assert fresh_sim.admin.resources() == before
