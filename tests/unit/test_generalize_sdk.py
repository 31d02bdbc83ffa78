"""The lifecycle module_utils called directly with an SDK client pointed at the simulator (no Ansible)."""

from __future__ import annotations

import sys

import pytest

from tests.harness import ensure_collection_path
from tests.integration import lifecycle_setup as setup

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import _disks, _gallery, _generalize  # noqa: E402
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError  # noqa: E402

TAG = {"goldenimage-deprovisioned": "2026-11-26T00:00:00Z"}


@pytest.fixture
def vm(compute, network, resources):
    return setup.make_vm(compute, network, resources, tags=TAG, data_disks=[(0, 64, "Standard_LRS")])


def test_generalize_vm_request_budget_and_state(fresh_sim, compute, vm):
    since = fresh_sim.admin.last_seq()
    result = _generalize.generalize_vm(compute, "rg-build", "build-vm", wait_timeout=60)
    assert result["changed"] and result["actions"] == ["deallocate", "generalize"]
    assert len(setup.arm_requests(fresh_sim, since)) <= 6
    since = fresh_sim.admin.last_seq()
    again = _generalize.generalize_vm(compute, "rg-build", "build-vm", wait_timeout=60)
    assert not again["changed"] and len(setup.arm_requests(fresh_sim, since)) == 1


def test_generalize_check_mode_sends_no_write(fresh_sim, compute, vm):
    since = fresh_sim.admin.last_seq()
    result = _generalize.generalize_vm(compute, "rg-build", "build-vm", check_mode=True)
    assert result["changed"] and result["power_state"] == "deallocated"
    assert [r["method"] for r in setup.arm_requests(fresh_sim, since)] == ["GET"]


def test_change_disks_refuses_before_writing(fresh_sim, compute, vm):
    since = fresh_sim.admin.last_seq()
    with pytest.raises(AzureError, match="allow_deallocate"):
        _disks.change_disks(compute, vm=("rg-build", "build-vm"), luns=[0], sku="Premium_LRS")
    assert {r["method"] for r in setup.arm_requests(fresh_sim, since)} == {"GET"}


def test_create_version_failure_deletes_the_version(fresh_sim, compute, vm):
    vm = setup.generalize(compute, vm)
    compute.galleries.begin_create_or_update("rg-build", "g", {"location": "eastus", "properties": {}}).result()
    compute.gallery_images.begin_create_or_update("rg-build", "g", "d", {"location": "eastus", "properties": {
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}}).result()
    fresh_sim.admin.faults([{"method": "PUT", "path": "/versions/", "action": "fail_operation", "code": "Boom"}])
    body = {"location": "eastus", "properties": {"storageProfile": {"source": {"virtualMachineId": vm["id"]}},
                                                 "publishingProfile": {"targetRegions": [{"name": "eastus"}]}}}
    import time

    with pytest.raises(AzureError) as caught:
        _gallery.create_version(compute, "rg-build", "g", "d", "1.0.0", body, time.monotonic() + 60)
    assert caught.value.code == "Boom" and caught.value.cleanup == "deleted"
    assert fresh_sim.admin.resources("Microsoft.Compute/galleries/images/versions") == []
