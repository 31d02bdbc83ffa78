"""goldenimage.azure.vm_managed_disks through ansible-playbook against the simulator: VMs on retired unmanaged disks
(seeded through /_azsim/unmanaged-vms, as Azure no longer creates them) moved to managed disks."""

from __future__ import annotations

import pytest

from tests.integration import lifecycle_setup as setup

RG = "rg-legacy"
OS_VHD = "https://legacystore01.blob.core.windows.net/vhds/legacy-os.vhd"
DATA_VHD = "https://legacystore01.blob.core.windows.net/vhds/legacy-data0.vhd"


def seed_legacy_vm(sim, network, resources, name="legacy-vm", power="deallocated"):
    setup.make_group(resources, RG)
    nic_id = setup.make_nic(network, RG, name)
    body = {"location": "eastus", "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v3"},
        "storageProfile": {
            "osDisk": {"name": f"{name}-os", "createOption": "Attach", "osType": "Linux", "diskSizeGB": 30,
                       "vhd": {"uri": OS_VHD}},
            "dataDisks": [{"lun": 0, "name": f"{name}-data0", "createOption": "Attach", "diskSizeGB": 64,
                           "vhd": {"uri": DATA_VHD}}]},
        "networkProfile": {"networkInterfaces": [{"id": nic_id, "properties": {"primary": True}}]}}}
    return sim.admin.post("unmanaged-vms", {"resource_group": RG, "name": name, "body": body, "power": power})


def play_task(options, check=False):
    return setup.task_play("vm_managed_disks", options, name="migrate", check=check)


def writes(sim, since):
    return [r for r in setup.arm_requests(sim, since) if r["method"] in ("PUT", "PATCH", "POST", "DELETE")]


def posts(sim, since):
    return [r["path"].rsplit("/", 1)[-1] for r in writes(sim, since) if r["method"] == "POST"]


def storage(sim, vm_id):
    return sim.admin.resource(vm_id)["properties"]["storageProfile"]


def test_deallocated_vm_is_converted_and_its_power_restored(fresh_sim, play, compute, network, resources):
    vm = seed_legacy_vm(fresh_sim, network, resources)
    since = fresh_sim.admin.last_seq()
    run = play(play_task({"name": "legacy-vm", "resource_group": RG}), args=["--diff"])
    assert run.rc == 0, run.stdout
    result = run.task("migrate")["result"]
    assert result["changed"] is True and result["deallocated"] is False
    assert [(d["name"], d["managed"], d["vhd_uri"]) for d in result["disks_before"]] == [
        ("legacy-vm-os", False, OS_VHD), ("legacy-vm-data0", False, DATA_VHD)]
    assert result["blobs_left"] == [OS_VHD, DATA_VHD]
    # state from the simulator: managed disks exist and the VM points at them
    disks = {d["name"]: d for d in fresh_sim.admin.resources("Microsoft.Compute/disks")}
    assert set(disks) == {"legacy-vm-os", "legacy-vm-data0"}
    profile = storage(fresh_sim, vm["id"])
    assert "vhd" not in profile["osDisk"] and profile["osDisk"]["managedDisk"]["id"] == disks["legacy-vm-os"]["id"]
    assert profile["dataDisks"][0]["managedDisk"]["id"] == disks["legacy-vm-data0"]["id"]
    assert [d["id"] for d in result["disks_after"]] == [disks["legacy-vm-os"]["id"], disks["legacy-vm-data0"]["id"]]
    # Azure started the VM when converting; the power state it had (deallocated) is restored
    assert posts(fresh_sim, since) == ["convertToManagedDisks", "deallocate"]
    assert setup.power_state(setup.get_vm(compute, RG, "legacy-vm")) == "deallocated"
    assert (result["power_state_before"], result["power_state_after"]) == ("deallocated", "deallocated")
    assert result["diff"]["before"]["disks"]["legacy-vm-os"] == "vhd: " + OS_VHD
    # second run: nothing to do
    since = fresh_sim.admin.last_seq()
    again = play(play_task({"name": "legacy-vm", "resource_group": RG}))
    assert again.rc == 0 and again.task("migrate")["result"]["changed"] is False
    assert writes(fresh_sim, since) == []


def test_running_vm_is_deallocated_converted_and_running_again(fresh_sim, play, compute, network, resources):
    vm = seed_legacy_vm(fresh_sim, network, resources, power="running")
    since = fresh_sim.admin.last_seq()
    run = play(play_task({"id": vm["id"], "allow_deallocate": True}))
    assert run.rc == 0, run.stdout
    result = run.task("migrate")["result"]
    assert result["deallocated"] is True
    assert posts(fresh_sim, since) == ["deallocate", "convertToManagedDisks"]  # Azure itself starts the VM
    assert setup.power_state(setup.get_vm(compute, RG, "legacy-vm")) == "running"
    assert (result["power_state_before"], result["power_state_after"]) == ("running", "running")
    assert all(d["managed"] for d in result["disks_after"])
    assert all("managedDisk" in d for d in [storage(fresh_sim, vm["id"])["osDisk"]])


def test_power_state_running_starts_a_vm_the_retirement_deallocated(fresh_sim, play, compute, network, resources):
    seed_legacy_vm(fresh_sim, network, resources)
    run = play(play_task({"name": "legacy-vm", "resource_group": RG, "power_state": "running"}))
    assert run.rc == 0, run.stdout
    assert setup.power_state(setup.get_vm(compute, RG, "legacy-vm")) == "running"


def test_running_vm_without_allow_deallocate_fails_before_any_write(fresh_sim, play, network, resources):
    seed_legacy_vm(fresh_sim, network, resources, power="running")
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(play_task({"name": "legacy-vm", "resource_group": RG}))
    assert run.rc != 0
    result = run.task("migrate")["result"]
    assert "allow_deallocate" in result["msg"] and result["changed"] is False
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before


def test_check_mode_changes_nothing(fresh_sim, play, network, resources):
    seed_legacy_vm(fresh_sim, network, resources, power="running")
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(play_task({"name": "legacy-vm", "resource_group": RG, "allow_deallocate": True}, check=True),
               args=["--diff"])
    assert run.rc == 0, run.stdout
    result = run.task("migrate")["result"]
    assert result["changed"] is True and result["deallocated"] is True
    assert [d["managed"] for d in result["disks_after"]] == [True, True]
    assert result["disks_after"][0]["id"].endswith("/providers/Microsoft.Compute/disks/legacy-vm-os")
    assert result["diff"]["after"]["power_state"] == "running"
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before


def test_managed_vm_is_left_alone(fresh_sim, play, compute, network, resources):
    setup.make_vm(compute, network, resources, rg=RG, name="modern-vm")
    since = fresh_sim.admin.last_seq()
    run = play(play_task({"name": "modern-vm", "resource_group": RG, "allow_deallocate": True}))
    assert run.rc == 0, run.stdout
    result = run.task("migrate")["result"]
    assert result["changed"] is False and result["blobs_left"] == []
    assert writes(fresh_sim, since) == []


def test_failed_conversion_reports_the_vm_left_deallocated(fresh_sim, play, compute, network, resources):
    seed_legacy_vm(fresh_sim, network, resources, power="running")
    fresh_sim.admin.faults([{"method": "POST", "path": "/convertToManagedDisks$", "action": "fail_operation",
                             "code": "InternalExecutionError"}])
    run = play(play_task({"name": "legacy-vm", "resource_group": RG, "allow_deallocate": True}))
    assert run.rc != 0
    result = run.task("migrate")["result"]
    assert result["error_code"] == "InternalExecutionError" and result["changed"] is True
    assert result["power_state"] == "deallocated"
    assert setup.power_state(setup.get_vm(compute, RG, "legacy-vm")) == "deallocated"
    assert fresh_sim.admin.resources("Microsoft.Compute/disks") == []


@pytest.mark.parametrize("status", [429, 503])
def test_transient_errors_on_convert_are_retried(fresh_sim, play, network, resources, status):
    vm = seed_legacy_vm(fresh_sim, network, resources)
    fresh_sim.admin.faults([{"method": "POST", "path": "/convertToManagedDisks$", "status": status, "times": 1}])
    since = fresh_sim.admin.last_seq()
    run = play(play_task({"name": "legacy-vm", "resource_group": RG}))
    assert run.rc == 0, run.stdout
    sent = [r["status"] for r in writes(fresh_sim, since) if r["path"].endswith("/convertToManagedDisks")]
    assert sent == [status, 202]
    assert "managedDisk" in storage(fresh_sim, vm["id"])["osDisk"]


def test_timeout_names_the_operation(fresh_sim, play, network, resources):
    seed_legacy_vm(fresh_sim, network, resources)
    fresh_sim.admin.freeze_clock()
    fresh_sim.admin.settings(time_scale=1000.0)
    run = play(play_task({"name": "legacy-vm", "resource_group": RG, "wait_timeout": 2}))
    fresh_sim.admin.finish_operations()
    assert run.rc != 0
    result = run.task("migrate")["result"]
    assert result["error_code"] == "OperationTimedOut"
    assert "convert VM 'legacy-vm' to managed disks" in result["msg"]


@pytest.mark.parametrize("options, fragment", [
    ({"name": "legacy-vm"}, "resource_group"),
    ({"name": "legacy-vm", "resource_group": RG, "power_state": "hibernated"}, "power_state"),
    ({"name": "legacy-vm", "resource_group": RG, "wait_timeout": 0}, "wait_timeout"),
    ({"name": "nope", "resource_group": RG}, "not found"),
])
def test_bad_input_fails_before_any_write(fresh_sim, play, network, resources, options, fragment):
    seed_legacy_vm(fresh_sim, network, resources)
    since = fresh_sim.admin.last_seq()
    run = play(play_task(options))
    assert run.rc != 0
    assert fragment in run.task("migrate")["result"]["msg"]
    assert writes(fresh_sim, since) == []
