"""VM power actions and generalize through the real SDK: instance view, disk states, CRP's refusals."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from tests.sim.test_vm_helpers import (create_vm, make_group, make_nic, power_state, require_marketplace, statuses,
                                       stored, vm_body, vm_network)

RG = "rg-vm"


@pytest.fixture
def vm(compute, network, resources):
    return create_vm(compute, RG, "vm1", vm_body(vm_network(compute, network, resources, RG)))


def view(compute):
    return compute.virtual_machines.instance_view(RG, "vm1")


def test_new_vm_is_running_with_an_agent(compute, vm):
    current = compute.virtual_machines.get(RG, "vm1", expand="instanceView").instance_view
    assert statuses(current) == ["provisioningstate/succeeded", "powerstate/running"]
    assert current.vm_agent.statuses[0].display_status == "Ready"
    assert current.os_name == "ubuntu" and current.hyper_v_generation == "V2"


def test_deallocate_reserves_the_disks(compute, vm, fresh_sim):
    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    current = view(compute)
    assert power_state(current) == "powerstate/deallocated"
    assert current.vm_agent is None and current.os_name is None
    assert stored(fresh_sim, vm.storage_profile.os_disk.managed_disk.id)["properties"]["diskState"] == "Reserved"


def test_start_after_deallocate_attaches_the_disks(compute, vm, fresh_sim):
    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    compute.virtual_machines.begin_start(RG, "vm1").result()
    assert power_state(view(compute)) == "powerstate/running"
    assert stored(fresh_sim, vm.storage_profile.os_disk.managed_disk.id)["properties"]["diskState"] == "Attached"


def test_power_off_keeps_the_disks_attached(compute, vm, fresh_sim):
    compute.virtual_machines.begin_power_off(RG, "vm1").result()
    assert power_state(view(compute)) == "powerstate/stopped"
    assert stored(fresh_sim, vm.storage_profile.os_disk.managed_disk.id)["properties"]["diskState"] == "Attached"


def test_actions_answer_202_with_both_monitors(compute, vm, fresh_sim):
    seq = fresh_sim.admin.last_seq()
    compute.virtual_machines.begin_power_off(RG, "vm1").result()
    posts = [item for item in fresh_sim.admin.requests(since=seq) if item["method"] == "POST"]
    assert [item["status"] for item in posts] == [202]
    polls = [item["path"] for item in fresh_sim.admin.requests(since=seq) if "/operations/" in item["path"]]
    assert polls  # the SDK followed Azure-AsyncOperation, then the Location monitor


def test_generalize_a_running_vm_is_refused(compute, vm):
    with pytest.raises(ResourceExistsError) as raised:
        compute.virtual_machines.generalize(RG, "vm1")
    assert raised.value.error.code == "OperationNotAllowed"
    assert raised.value.error.message == "Operation 'generalize' is not allowed on VM 'vm1' since the VM is running."


@pytest.mark.parametrize("stop", ["begin_deallocate", "begin_power_off"])
def test_generalize_a_stopped_vm(compute, vm, stop):
    getattr(compute.virtual_machines, stop)(RG, "vm1").result()
    assert compute.virtual_machines.generalize(RG, "vm1") is None
    assert "osstate/generalized" in statuses(view(compute))


def test_start_of_a_generalized_vm_is_refused(compute, vm):
    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    compute.virtual_machines.generalize(RG, "vm1")
    with pytest.raises(ResourceExistsError) as raised:
        compute.virtual_machines.begin_start(RG, "vm1").result()
    assert raised.value.error.code == "OperationNotAllowed"
    assert raised.value.error.message == "Operation 'Start VM' is not allowed on VM 'vm1' since the VM is generalized."


def test_resize_of_a_generalized_vm_is_refused_but_tags_are_not(compute, vm):
    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    compute.virtual_machines.generalize(RG, "vm1")
    with pytest.raises(ResourceExistsError):
        compute.virtual_machines.begin_update(RG, "vm1", {"properties": {
            "hardwareProfile": {"vmSize": "Standard_D4s_v5"}}}).result()
    updated = compute.virtual_machines.begin_update(RG, "vm1", {"tags": {"goldenimage-deprovisioned": "now"}}).result()
    assert updated.tags == {"goldenimage-deprovisioned": "now"}


def test_restart_keeps_the_vm_running(compute, vm):
    compute.virtual_machines.begin_restart(RG, "vm1").result()
    assert power_state(view(compute)) == "powerstate/running"


def test_transitional_state_while_deallocating(compute, vm, fresh_sim):
    fresh_sim.admin.freeze_clock()  # simulated time moves only when the test says so
    fresh_sim.admin.settings(time_scale=1.0)
    compute.virtual_machines.begin_deallocate(RG, "vm1", polling=False).result()
    current = compute.virtual_machines.get(RG, "vm1", expand="instanceView")
    assert current.provisioning_state == "Updating"
    assert statuses(current.instance_view) == ["provisioningstate/updating", "powerstate/deallocating"]
    fresh_sim.admin.finish_operations()
    assert power_state(view(compute)) == "powerstate/deallocated"


def test_second_operation_while_one_runs_is_refused(compute, vm, fresh_sim):
    fresh_sim.admin.freeze_clock()  # simulated time moves only when the test says so
    fresh_sim.admin.settings(time_scale=1.0)
    compute.virtual_machines.begin_power_off(RG, "vm1", polling=False).result()
    with pytest.raises(ResourceExistsError) as raised:
        compute.virtual_machines.begin_deallocate(RG, "vm1", polling=False).result()
    assert raised.value.error.code == "OperationNotAllowed"
    assert "another operation is in progress" in raised.value.error.message


def test_run_command_returns_the_result_through_location(compute, vm):
    result = compute.virtual_machines.begin_run_command(RG, "vm1", {
        "commandId": "RunShellScript", "script": ["echo hello"]}).result()
    assert result.value[0].code == "ProvisioningState/succeeded"
    assert result.value[0].message.startswith("Enable succeeded:")


def test_run_command_needs_a_running_vm(compute, vm):
    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    with pytest.raises(ResourceExistsError):
        compute.virtual_machines.begin_run_command(RG, "vm1", {"commandId": "RunShellScript",
                                                              "script": ["true"]}).result()


def test_failed_operation_leaves_the_vm_failed(compute, vm, fresh_sim):
    fresh_sim.admin.faults([{"method": "POST", "path": "/deallocate$", "action": "fail_operation",
                             "code": "InternalExecutionError", "message": "Deallocation failed (injected)."}])
    with pytest.raises(HttpResponseError) as raised:
        compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    assert "InternalExecutionError" in str(raised.value)
    current = compute.virtual_machines.get(RG, "vm1", expand="instanceView")
    assert current.provisioning_state == "Failed"
    assert statuses(current.instance_view)[0].startswith("provisioningstate/failed")
    assert stored(fresh_sim, vm.id)["properties"]["provisioningState"] == "Failed"


def test_windows_run_command_reports_stdout_and_stderr(compute, network, resources):
    require_marketplace(compute)
    make_group(resources, RG)
    image = {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-g2",
             "version": "latest"}
    profile = {"computerName": "winbuild", "adminUsername": "builder", "adminPassword": "S3cret-Passw0rd!"}
    create_vm(compute, RG, "vm1", vm_body(make_nic(network, RG), image=image, os_profile=profile))
    result = compute.virtual_machines.begin_run_command(RG, "vm1", {
        "commandId": "RunPowerShellScript", "script": ["Write-Output hi"]}).result()
    assert [item.code for item in result.value] == ["ComponentStatus/StdOut/succeeded",
                                                    "ComponentStatus/StdErr/succeeded"]
