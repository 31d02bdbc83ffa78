"""goldenimage.azure.vm_generalize through ansible-playbook against the simulator."""

from __future__ import annotations

import re

import pytest

from tests.integration import lifecycle_setup as setup

TAG = "goldenimage-deprovisioned"


def playbook(**options):
    lines = "\n".join(f"        {key}: {value}" for key, value in options.items())
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: generalize
      goldenimage.azure.vm_generalize:
{lines}
"""


@pytest.fixture
def vm(compute, network, resources):
    return setup.make_vm(compute, network, resources, tags={TAG: "2026-11-26T00:00:00Z"})


def _generalize_posts(sim, since):
    return [r for r in setup.arm_requests(sim, since) if r["method"] == "POST"]


def test_running_vm_deallocated_and_generalized_in_one_run(fresh_sim, play, compute, vm):
    assert setup.power_state(vm) == "running"
    since = fresh_sim.admin.last_seq()
    run = play(playbook(name="build-vm", resource_group="rg-build"))
    assert run.rc == 0, run.stdout
    result = run.task("generalize")["result"]
    assert result["changed"] is True
    assert result["actions"] == ["deallocate", "generalize"]
    assert (result["power_state"], result["os_state"]) == ("deallocated", "generalized")
    assert set(result["seconds"]) == {"deallocate", "generalize"}
    after = setup.get_vm(compute, "rg-build", "build-vm")
    assert setup.power_state(after) == "deallocated" and setup.is_generalized(after)
    requests = setup.arm_requests(fresh_sim, since)
    assert len(requests) <= 6, [(r["method"], r["path"]) for r in requests]
    posts = [r["path"].rsplit("/", 1)[-1] for r in requests if r["method"] == "POST"]
    assert posts == ["deallocate", "generalize"]  # never powerOff

    since = fresh_sim.admin.last_seq()
    again = play(playbook(name="build-vm", resource_group="rg-build"))
    assert again.rc == 0
    result = again.task("generalize")["result"]
    assert result["changed"] is False and result["actions"] == []
    assert (result["power_state"], result["os_state"]) == ("deallocated", "generalized")
    assert len(setup.arm_requests(fresh_sim, since)) <= 2


def test_by_id_and_stopped_vm_is_deallocated_not_left_stopped(fresh_sim, play, compute, vm):
    compute.virtual_machines.begin_power_off("rg-build", "build-vm").result()
    run = play(playbook(id=vm["id"]))
    assert run.rc == 0, run.stdout
    assert run.task("generalize")["result"]["actions"] == ["deallocate", "generalize"]
    assert setup.power_state(setup.get_vm(compute, "rg-build", "build-vm")) == "deallocated"


def test_check_mode_changes_nothing(fresh_sim, play, compute, vm):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(playbook(name="build-vm", resource_group="rg-build"), args=["--check"])
    assert run.rc == 0, run.stdout
    result = run.task("generalize")["result"]
    assert result["changed"] is True and result["actions"] == ["deallocate", "generalize"]
    assert fresh_sim.admin.resources() == before
    assert _generalize_posts(fresh_sim, since) == []
    assert setup.power_state(setup.get_vm(compute, "rg-build", "build-vm")) == "running"


def test_diff_shows_before_and_after(play, vm):
    run = play(playbook(name="build-vm", resource_group="rg-build"), args=["--diff"])
    diff = run.task("generalize")["result"]["diff"]
    assert diff["before"] == {"power_state": "running", "os_state": "specialized"}
    assert diff["after"] == {"power_state": "deallocated", "os_state": "generalized"}


def test_refuses_vm_without_deprovision_tag(fresh_sim, play, compute, network, resources):
    setup.make_vm(compute, network, resources, name="raw-vm")
    since = fresh_sim.admin.last_seq()
    run = play(playbook(name="raw-vm", resource_group="rg-build"))
    assert run.rc != 0
    result = run.task("generalize")["result"]
    assert run.task("generalize")["status"] == "failed" and result["changed"] is False
    assert TAG in result["msg"] and "cannot be undone" in result["msg"] and "force" in result["msg"]
    assert _generalize_posts(fresh_sim, since) == []
    assert setup.power_state(setup.get_vm(compute, "rg-build", "raw-vm")) == "running"

    forced = play(playbook(name="raw-vm", resource_group="rg-build", force="true"))
    assert forced.rc == 0, forced.stdout
    assert setup.is_generalized(setup.get_vm(compute, "rg-build", "raw-vm"))


@pytest.mark.parametrize("options, fragment", [
    ({"name": "build-vm"}, "resource_group"),
    ({"id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/disks/d1"}, "id"),
    ({"name": "missing-vm", "resource_group": "rg-build"}, "not found"),
    ({"name": "build-vm", "resource_group": "rg-build", "wait_timeout": 0}, "wait_timeout"),
])
def test_bad_input_fails_before_any_change(fresh_sim, play, vm, options, fragment):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(playbook(**options))
    assert run.rc != 0
    assert fragment in run.task("generalize")["result"]["msg"]
    assert _generalize_posts(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before


@pytest.mark.parametrize("action, status, times", [("generalize", 429, 5), ("deallocate", 429, 5),
                                                   ("deallocate", 409, 2), ("deallocate", 503, 1)])
def test_throttling_and_conflicts_are_retried(fresh_sim, play, compute, vm, action, status, times):
    fresh_sim.admin.faults([{"method": "POST", "path": f"/{action}$", "status": status, "times": times}])
    run = play(playbook(name="build-vm", resource_group="rg-build"))
    assert run.rc == 0, run.stdout
    after = setup.get_vm(compute, "rg-build", "build-vm")
    assert setup.power_state(after) == "deallocated" and setup.is_generalized(after)
    rejected = [r for r in fresh_sim.admin.requests() if r["path"].endswith("/" + action) and r["status"] == status]
    assert len(rejected) == times


def test_failed_deallocation_is_reported_and_nothing_generalized(fresh_sim, play, compute, vm):
    fresh_sim.admin.faults([{"method": "POST", "path": "/deallocate$", "action": "fail_operation",
                             "code": "InternalExecutionError", "message": "Deallocation failed (injected)."}])
    since = fresh_sim.admin.last_seq()
    before = setup.ids(fresh_sim)
    run = play(playbook(name="build-vm", resource_group="rg-build"))
    assert run.rc != 0
    result = run.task("generalize")["result"]
    assert result["error_code"] == "InternalExecutionError"
    assert "deallocate VM 'build-vm'" in result["msg"]
    assert [r["path"].rsplit("/", 1)[-1] for r in _generalize_posts(fresh_sim, since)] == ["deallocate"]
    assert not setup.is_generalized(setup.get_vm(compute, "rg-build", "build-vm"))
    assert setup.ids(fresh_sim) == before


def test_timeout_names_the_operation(fresh_sim, play, vm):
    fresh_sim.admin.settings(time_scale=1000.0)
    run = play(playbook(name="build-vm", resource_group="rg-build", wait_timeout=2))
    fresh_sim.admin.finish_operations()
    assert run.rc != 0
    result = run.task("generalize")["result"]
    assert result["error_code"] == "OperationTimedOut"
    assert re.search(r"deallocate VM 'build-vm'", result["msg"])
    assert result["operation"] == "deallocate VM 'build-vm'"


def test_state_deprovisioned_records_the_tag_once(fresh_sim, play, compute, network, resources):
    vm = setup.make_vm(compute, network, resources, name="guest-vm", tags={"team": "images"})
    check = play(playbook(name="guest-vm", resource_group="rg-build", state="deprovisioned"), args=["--check", "--diff"])
    assert check.rc == 0 and check.task("generalize")["result"]["changed"] is True
    assert TAG not in (fresh_sim.admin.resource(vm["id"]).get("tags") or {})

    run = play(playbook(name="guest-vm", resource_group="rg-build", state="deprovisioned"))
    assert run.rc == 0, run.stdout
    stamp = run.task("generalize")["result"]["deprovisioned_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    tags = fresh_sim.admin.resource(vm["id"])["tags"]
    assert tags == {"team": "images", TAG: stamp}
    assert setup.power_state(setup.get_vm(compute, "rg-build", "guest-vm")) == "running"

    again = play(playbook(name="guest-vm", resource_group="rg-build", state="deprovisioned"))
    assert again.task("generalize")["result"]["changed"] is False
    assert fresh_sim.admin.resource(vm["id"])["tags"][TAG] == stamp


def test_lost_answers_are_retried_and_each_retry_is_in_the_result(fresh_sim, play, compute, vm):
    # the deallocate's answer is lost after it acted, the first read after it fails with a 503
    fresh_sim.admin.faults([{"method": "POST", "path": "/deallocate$", "action": "drop_after", "times": 1},
                            {"method": "GET", "path": "virtualMachines/build-vm$", "status": 503, "after": 1,
                             "times": 1}])
    run = play(playbook(name="build-vm", resource_group="rg-build"), args=["-v"])
    assert run.rc == 0, run.stdout
    result = run.task("generalize")["result"]
    after = setup.get_vm(compute, "rg-build", "build-vm")
    assert setup.power_state(after) == "deallocated" and setup.is_generalized(after)
    retried = {(item["operation"], item["attempt"]) for item in result["retries"]}
    assert ("deallocate VM 'build-vm'", 2) in retried
    assert all(item["reason"] and item["wait"] >= 0 for item in result["retries"])
    deallocations = [r for r in setup.arm_requests(fresh_sim, 0) if r["path"].lower().endswith("/deallocate")]
    assert [r["fault"] for r in deallocations] == ["drop_after"]  # read, found deallocated: not sent twice
