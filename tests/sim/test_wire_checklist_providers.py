"""Section 11 of the wire reference, the lines that need resource providers: status-code whitelists,
LRO headers per method, transitional states during an operation, Marketplace list shapes."""

from __future__ import annotations

import pytest

from tests.sim.test_vm_helpers import create_vm, make_group, make_nic, require_marketplace, vm_body
from tests.sim.wire import Wire

VM_PATH = "/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name}"


@pytest.fixture
def wire(fresh_sim):
    return Wire(fresh_sim)


@pytest.fixture
def vm_group(compute, network, resources):
    require_marketplace(compute)
    group = make_group(resources, "rg-wire")
    return group, make_nic(network, group)


# -- status-code whitelists (201 creates, 200 updates, 200/202 disks, 200 VM PATCH) -----------
def test_vm_create_is_201_with_async_header_and_no_location(wire, vm_group):
    group, nic = vm_group
    response = wire.request("PUT", wire.sub(VM_PATH.format(group=group, name="vm1")), vm_body(nic))
    assert response.status_code == 201
    assert response.json()["properties"]["provisioningState"] == "Creating"
    assert "api-version=" in response.headers["Azure-AsyncOperation"]
    assert "Location" not in response.headers
    assert response.headers["Retry-After"] == "1"
    again = wire.request("PUT", wire.sub(VM_PATH.format(group=group, name="vm1")), vm_body(nic))
    assert again.status_code == 200


def test_vm_patch_is_200(wire, compute, vm_group):
    group, nic = vm_group
    create_vm(compute, group, "vm1", vm_body(nic))
    response = wire.request("PATCH", wire.sub(VM_PATH.format(group=group, name="vm1")), {"tags": {"a": "b"}})
    assert response.status_code == 200


def test_disk_create_is_never_201(wire, resources):
    make_group(resources, "rg-disk")
    path = wire.sub("/resourceGroups/rg-disk/providers/Microsoft.Compute/disks/d1")
    response = wire.request("PUT", path, {"location": "eastus", "sku": {"name": "Premium_LRS"},
                                          "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 64}})
    assert response.status_code in (200, 202)
    patch = wire.request("PATCH", path, {"properties": {"tier": "P10"}})
    assert patch.status_code in (200, 202)


def test_gallery_create_is_201(wire, resources):
    make_group(resources, "rg-gal")
    response = wire.request("PUT", wire.sub("/resourceGroups/rg-gal/providers/Microsoft.Compute/galleries/gal1"),
                            {"location": "eastus", "properties": {}})
    assert response.status_code == 201
    assert "capsOperations" in response.headers["Azure-AsyncOperation"]
    assert "Location" not in response.headers


# -- POST actions: 202 + AAO + Location; generalize 200 synchronous ----------------------------
def test_post_actions_carry_both_polling_headers(wire, compute, vm_group, fresh_sim):
    group, nic = vm_group
    create_vm(compute, group, "vm1", vm_body(nic))
    fresh_sim.admin.freeze_clock()  # simulated time moves only when the test says so
    fresh_sim.admin.settings(time_scale=1.0)
    response = wire.request("POST", wire.sub(VM_PATH.format(group=group, name="vm1") + "/deallocate"))
    assert response.status_code == 202
    assert response.headers["Retry-After"] == "1"
    monitor = wire.request("GET", response.headers["Azure-AsyncOperation"], api_version=None)
    assert monitor.status_code == 200 and monitor.json()["status"] == "InProgress"
    location = wire.request("GET", response.headers["Location"], api_version=None)
    assert location.status_code == 202
    fresh_sim.admin.finish_operations()
    done = wire.request("GET", response.headers["Azure-AsyncOperation"], api_version=None).json()
    assert done["status"] == "Succeeded" and "endTime" in done
    assert wire.request("GET", response.headers["Location"], api_version=None).status_code == 200
    generalize = wire.request("POST", wire.sub(VM_PATH.format(group=group, name="vm1") + "/generalize"))
    assert generalize.status_code == 200
    assert not generalize.content


# -- Resource GET during an async op: non-terminal state and transitional instance view ----------
def test_transitional_state_during_deallocate(wire, compute, vm_group, fresh_sim):
    group, nic = vm_group
    create_vm(compute, group, "vm1", vm_body(nic))
    fresh_sim.admin.freeze_clock()  # simulated time moves only when the test says so
    fresh_sim.admin.settings(time_scale=1.0)
    wire.request("POST", wire.sub(VM_PATH.format(group=group, name="vm1") + "/deallocate"))
    view = wire.request("GET", wire.sub(VM_PATH.format(group=group, name="vm1")),
                        params={"$expand": "instanceView"}).json()
    codes = [status["code"].lower() for status in view["properties"]["instanceView"]["statuses"]]
    assert view["properties"]["provisioningState"] == "Updating"
    assert "provisioningstate/updating" in codes
    assert "powerstate/deallocating" in codes


def test_failed_operation_monitor_carries_error(wire, compute, vm_group, fresh_sim):
    group, nic = vm_group
    create_vm(compute, group, "vm1", vm_body(nic))
    fresh_sim.admin.faults([{"method": "POST", "path": "/deallocate$", "action": "fail_operation",
                             "code": "AllocationFailed", "message": "injected"}])
    response = wire.request("POST", wire.sub(VM_PATH.format(group=group, name="vm1") + "/deallocate"))
    body = wire.request("GET", response.headers["Azure-AsyncOperation"], api_version=None).json()
    assert body["status"] == "Failed"
    assert body["error"]["code"] == "AllocationFailed"


# -- Marketplace lists: arrays, capitalised ids, lexical $orderby, $top ----------------------
def _versions_path(wire, publisher="RedHat", offer="RHEL", sku="8-lvm-gen2"):
    return wire.sub(f"/providers/Microsoft.Compute/locations/eastus/publishers/{publisher}/artifacttypes/vmimage/"
                    f"offers/{offer}/skus/{sku}/versions")


def test_image_lists_are_bare_arrays_with_capitalised_ids(wire):
    body = wire.request("GET", wire.sub("/providers/Microsoft.Compute/locations/eastus/publishers")).json()
    assert isinstance(body, list) and body
    assert body[0]["id"].startswith("/Subscriptions/") and "/Providers/Microsoft.Compute/Locations/" in body[0]["id"]
    versions = wire.request("GET", _versions_path(wire)).json()
    assert isinstance(versions, list)
    assert "/Publishers/RedHat/ArtifactTypes/VMImage/Offers/RHEL/Skus/8-lvm-gen2/Versions/" in versions[0]["id"]


def test_orderby_is_lexical_and_top_is_honoured(wire):
    names = [item["name"] for item in wire.request("GET", _versions_path(wire)).json()]
    top = wire.request("GET", _versions_path(wire), params={"$top": "1", "$orderby": "name desc"}).json()
    assert len(top) == 1
    assert top[0]["name"] == sorted(names)[-1]  # text order, as real ARM: 8.9.x sorts above 8.10.x
    assert top[0]["name"].startswith("8.9.")
