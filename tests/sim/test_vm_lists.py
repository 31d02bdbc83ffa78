"""VM lists, PATCH and failures through the real SDK: paging, statusOnly, injected and guest failures."""

import pytest
from azure.core.exceptions import HttpResponseError

from tests.sim import test_network_helpers as net
from tests.sim.test_vm_helpers import (changed_settings, create_vm, make_nic, require_marketplace, statuses,
                                       stored, vm_body, vm_network)

RG = "rg-vm"


@pytest.fixture
def nic(compute, network, resources):
    return vm_network(compute, network, resources, RG)


def make_vms(compute, network, count):
    for index in range(count):
        create_vm(compute, RG, f"vm{index}", vm_body(make_nic(network, RG, f"nic{index}")))


def test_lists_follow_next_link_across_pages(compute, network, nic, fresh_sim):
    make_vms(compute, network, 5)
    with changed_settings(fresh_sim.admin, page_size=2):
        names = sorted(vm.name for vm in compute.virtual_machines.list(RG))
        assert len(list(compute.virtual_machines.list_all())) == 5
    assert names == [f"vm{index}" for index in range(5)]
    list_calls = [item for item in fresh_sim.admin.requests() if item["method"] == "GET"
                  and item["path"].endswith(f"/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines")]
    assert len(list_calls) == 3


def test_status_only_list_carries_instance_views(compute, network, nic, fresh_sim):
    make_vms(compute, network, 2)
    compute.virtual_machines.begin_deallocate(RG, "vm1").result()
    views = {vm.name: statuses(vm.instance_view) for vm in compute.virtual_machines.list_all(status_only="true")}
    assert "powerstate/running" in views["vm0"] and "powerstate/deallocated" in views["vm1"]


def test_patch_tags_answers_200(compute, nic, fresh_sim):
    vm = create_vm(compute, RG, "vm1", vm_body(nic))
    seq = fresh_sim.admin.last_seq()
    updated = compute.virtual_machines.begin_update(RG, "vm1", {"tags": {"goldenimage-build-id": "b42"}}).result()
    assert updated.tags == {"goldenimage-build-id": "b42"}
    assert [item["status"] for item in fresh_sim.admin.requests(since=seq) if item["method"] == "PATCH"] == [200]
    assert stored(fresh_sim, vm.id)["tags"] == {"goldenimage-build-id": "b42"}


def test_resize_on_patch(compute, nic):
    create_vm(compute, RG, "vm1", vm_body(nic))
    updated = compute.virtual_machines.begin_update(RG, "vm1", {"properties": {
        "hardwareProfile": {"vmSize": "Standard_D4s_v5"}}}).result()
    assert updated.hardware_profile.vm_size == "Standard_D4s_v5"


def test_image_reference_cannot_change(compute, nic):
    create_vm(compute, RG, "vm1", vm_body(nic))
    with pytest.raises(HttpResponseError) as raised:
        compute.virtual_machines.begin_update(RG, "vm1", {"properties": {"storageProfile": {"imageReference": {
            "publisher": "Debian", "offer": "debian-12", "sku": "12-gen2", "version": "latest"}}}}).result()
    assert raised.value.error.code == "PropertyChangeNotAllowed"


def test_injected_failure_ends_the_create_failed(compute, nic, fresh_sim):
    fresh_sim.admin.faults([{"method": "PUT", "path": "virtualMachines/vm1$", "action": "fail_operation",
                             "code": "AllocationFailed", "message": "Allocation failed (injected)."}])
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, RG, "vm1", vm_body(nic))
    assert "AllocationFailed" in str(raised.value)
    vm = compute.virtual_machines.get(RG, "vm1", expand="instanceView")
    assert vm.provisioning_state == "Failed"
    assert statuses(vm.instance_view)[0] == "provisioningstate/failed/allocationfailed"


def test_failing_guest_provisioning_ends_os_provisioning_client_error(compute, network, resources, fresh_sim):
    require_marketplace(compute)
    with net.guest_pool(fresh_sim.admin) as register:
        register("g-vm", "127.77.0.41", net.failing_command())
        built = net.build_vm_network(network, resources, RG)
        with pytest.raises(HttpResponseError) as raised:
            create_vm(compute, RG, "vm1", vm_body(built["nic"].id))
    assert "OSProvisioningClientError" in str(raised.value)
    assert compute.virtual_machines.get(RG, "vm1").provisioning_state == "Failed"


def test_list_by_location(compute, nic):
    create_vm(compute, RG, "vm1", vm_body(nic))
    assert [vm.name for vm in compute.virtual_machines.list_by_location("eastus")] == ["vm1"]
    assert list(compute.virtual_machines.list_by_location("westeurope")) == []
