"""A response lost after ARM acted (azsim's ``drop_after`` fault), against the collection's ARM layer.

Each write is answered by nothing once its effect is stored; the ARM layer's retry rule must converge on the
one resource, never create a second one, and a POST action must count as done once the resource reached the
action's target state. Assertions read the simulator's state and its request log.
"""

from __future__ import annotations

import sys

import pytest

from tests.harness import ensure_collection_path
from tests.integration import lifecycle_setup as setup
from tests.sim import gallery_helpers as gh

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import _build_vm, _generalize, _vmstate  # noqa: E402
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (  # noqa: E402
    AzureError,
    AzureSession,
    retries,
    wait_for,
)

VERSION_TYPE = "Microsoft.Compute/galleries/images/versions"
VM_TYPE = "Microsoft.Compute/virtualMachines"


@pytest.fixture
def session(fresh_sim, tmp_path):
    return AzureSession({}, environ=dict(fresh_sim.env, HOME=str(tmp_path)))


def lose(sim, method, path):
    sim.admin.faults([{"method": method, "path": path, "action": "drop_after", "times": 1}])


def sent(sim, method, path_end, since=0):
    return [r for r in sim.admin.requests(since)
            if r["kind"] == "arm" and r["method"] == method and r["path"].lower().endswith(path_end.lower())]


def test_drop_after_applies_the_effect_then_loses_the_answer(fresh_sim, resources):
    lose(fresh_sim, "PUT", "resourcegroups/rg-lost$")
    with pytest.raises(Exception):
        resources.resource_groups.create_or_update("rg-lost", {"location": "eastus"}, retry_total=0)
    assert [r["dropped_after"] for r in sent(fresh_sim, "PUT", "/resourcegroups/rg-lost")] == [True]
    assert resources.resource_groups.get("rg-lost").name == "rg-lost"  # the effect stayed


def test_put_vm_whose_answer_was_lost_converges_on_one_vm(fresh_sim, session, network, resources):
    lose(fresh_sim, "PUT", "virtualMachines/build-vm$")
    vm = setup.make_vm(session.compute(), network, resources)
    assert setup.power_state(vm) == "running"
    vms = fresh_sim.admin.resources(VM_TYPE)
    assert [item["name"] for item in vms] == ["build-vm"]
    assert vms[0]["properties"]["vmId"] == vm["properties"]["vmId"]  # the first create, not a second VM
    assert [r["dropped_after"] for r in sent(fresh_sim, "PUT", "/build-vm")][0] is True
    assert any(item["attempt"] == 2 for item in retries())


def test_put_gallery_version_whose_answer_was_lost_makes_one_version(fresh_sim, session, compute, resources):
    gh.make_gallery_with_definition(compute, resources)
    image = gh.make_managed_image(compute, fresh_sim)
    lose(fresh_sim, "PUT", "/versions/1.0.0$")
    operation = "publish version 1.0.0"
    poller = session.compute().gallery_image_versions.begin_create_or_update(
        gh.RG, gh.GALLERY, gh.DEFINITION, "1.0.0", gh.version_body(image))
    wait_for(poller, operation, 60)
    versions = fresh_sim.admin.resources(VERSION_TYPE)
    assert [item["name"] for item in versions] == ["1.0.0"]
    assert versions[0]["properties"]["provisioningState"] == "Succeeded"


def test_patch_whose_answer_was_lost_is_sent_again_and_tags_once(fresh_sim, session, compute, network, resources):
    setup.make_vm(compute, network, resources)
    lose(fresh_sim, "PATCH", "virtualMachines/build-vm$")
    result = _generalize.mark_deprovisioned(session.compute(), "rg-build", "build-vm", timestamp="2026-12-02T00:00:00Z")
    assert result["changed"] is True
    vm = setup.get_vm(compute, "rg-build", "build-vm")
    assert (vm.get("tags") or {})[_generalize.DEPROVISIONED_TAG] == "2026-12-02T00:00:00Z"
    patches = sent(fresh_sim, "PATCH", "/build-vm")
    assert patches[0]["dropped_after"] is True and len(patches) >= 2
    assert [item["name"] for item in fresh_sim.admin.resources(VM_TYPE)] == ["build-vm"]


def _temporary_group(resources, name, build_id="b1"):
    resources.resource_groups.create_or_update(name, {"location": "eastus", "tags": {
        _build_vm.TAG_TEMPORARY: "true", _build_vm.TAG_BUILD_ID: build_id}})


def _groups(sim, name):
    return [g for g in sim.admin.resources("Microsoft.Resources/resourceGroups") if g["name"] == name]


def test_delete_whose_answer_was_lost_converges(fresh_sim, session, resources):
    _temporary_group(resources, "rg-doomed")
    lose(fresh_sim, "DELETE", "resourcegroups/rg-doomed$")
    changed, facts = _build_vm.delete_group(session.resources(), "rg-doomed", "b1", wait_timeout=60)
    assert changed and facts["deleted"]
    assert not _groups(fresh_sim, "rg-doomed")
    deletes = sent(fresh_sim, "DELETE", "/rg-doomed")
    # the lost DELETE had acted: its retry found the group gone (404) and that counts as deleted
    assert [r["dropped_after"] for r in deletes] == [True, False] and deletes[1]["status"] == 404


def test_cleanup_judges_by_state_when_reads_fail(fresh_sim, session, resources):
    _temporary_group(resources, "rg-reads-fail")
    fresh_sim.admin.faults([{"method": "GET", "path": "resourcegroups/rg-reads-fail$", "status": 500, "after": 1,
                             "times": 3}])
    changed, _facts = _build_vm.delete_group(session.resources(), "rg-reads-fail", "b1", wait_timeout=60)
    assert changed and not _groups(fresh_sim, "rg-reads-fail")


def test_group_that_survives_its_delete_is_named_with_what_is_left(fresh_sim, session, resources):
    _temporary_group(resources, "rg-stuck")
    session.network().network_security_groups.begin_create_or_update("rg-stuck", "nsg-left",
                                                                       {"location": "eastus"}).result()
    fresh_sim.admin.faults([{"method": "DELETE", "path": "resourcegroups/rg-stuck$", "action": "fail_operation",
                             "code": "InternalServerError", "message": "The delete failed."}])
    with pytest.raises(AzureError) as caught:
        _build_vm.delete_group(session.resources(), "rg-stuck", "b1", wait_timeout=30)
    assert _groups(fresh_sim, "rg-stuck")  # it is really there: only then is the user told to delete it by hand
    assert "nsg-left (Microsoft.Network/networkSecurityGroups)" in caught.value.message
    assert caught.value.message.endswith("delete it by hand")


@pytest.mark.parametrize("action, segment, before, check", [
    ("deallocate", "deallocate", None, lambda vm: setup.power_state(vm) == "deallocated"),
    ("power_off", "powerOff", None, lambda vm: setup.power_state(vm) == "stopped"),
    ("start", "start", "deallocate", lambda vm: setup.power_state(vm) == "running"),
    ("generalize", "generalize", "deallocate", setup.is_generalized),
])
def test_post_action_whose_answer_was_lost_counts_as_done_once_the_vm_reached_its_state(
        fresh_sim, session, compute, network, resources, action, segment, before, check):
    setup.make_vm(compute, network, resources)
    client = session.compute()
    if before:
        getattr(_vmstate, before)(client, "rg-build", "build-vm", deadline=_deadline(60))
    since = fresh_sim.admin.last_seq()
    lose(fresh_sim, "POST", f"/{segment}$")
    getattr(_vmstate, action)(client, "rg-build", "build-vm", deadline=_deadline(60))
    assert check(setup.get_vm(compute, "rg-build", "build-vm"))
    posts = sent(fresh_sim, "POST", f"/{segment}", since)
    # the VM was read after the lost answer and had reached the state: the action was not sent twice
    assert [r["dropped_after"] for r in posts] == [True]
    assert [item["name"] for item in fresh_sim.admin.resources(VM_TYPE)] == ["build-vm"]
    assert any(item["attempt"] == 2 and segment.lower()[:5] in item["operation"].lower().replace(" ", "")
               for item in retries())


def _deadline(seconds):
    import time

    return time.monotonic() + seconds
