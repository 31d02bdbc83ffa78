"""The builder and capture roles under test of their own: a second run changes nothing, check mode writes
nothing, bad role arguments fail from meta/argument_specs.yml before any request; and build_vm state=absent
on a resource group it did not create is refused with nothing deleted (real ansible-playbook, simulator).

No guest is bound here, so nothing answers on the build VM's port 22: the builder runs with
``builder_fail_on_error: false`` and records the failed SSH wait, which is all these tests need (the
resources in the simulator are what they compare)."""

from __future__ import annotations

import pytest

from tests.integration import lifecycle_setup as setup

URN = "Canonical:ubuntu-24_04-lts:server:24.04.202411200"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGqc1hGSzNoMQVBoQhDVdk0Bpq5Hj8ZydK4Y3wXhw1Uv test"
WRITES = ("PUT", "PATCH", "POST", "DELETE")


def writes(sim, since):
    return [(r["method"], r["path"]) for r in setup.arm_requests(sim, since) if r["method"] in WRITES]


def every_request(sim, since):
    """Every ARM and Entra request after ``since`` (admin calls are not logged)."""
    return [(r["kind"], r["method"], r["path"]) for r in sim.admin.requests(since=since)]


def changed_tasks(run):
    return [item["task"] for item in run.results if item["result"].get("changed")]


# -- builder --------------------------------------------------------------------------------------------------
def builder_play(tmp_path, **extra):
    options = {
        "builder_build_dir": f"{tmp_path}/builds",
        "builder_location": "westeurope",
        "builder_build_id": "idem1",
        "builder_run_id": "run1",  # the same run id both times: a new one would retag everything, by design
        "builder_image": URN,
        "builder_allowed_sources": ["203.0.113.7/32"],
        "builder_connect_timeout": 1,
        "builder_wait_for_connection": False,
        "builder_fail_on_error": False,
    }
    options.update(extra)
    lines = "\n".join(f"        {key}: {value!r}" if not isinstance(value, list) else f"        {key}: {value}"
                      for key, value in options.items())
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Builder
      ansible.builtin.include_role:
        name: goldenimage.azure.builder
      vars:
{lines}
"""


def test_builder_second_run_changes_nothing(play, fresh_sim, tmp_path):
    first = play(builder_play(tmp_path))
    keys = {path: path.read_bytes() for path in (tmp_path / "builds" / "idem1").glob("*ed25519*")}
    assert first.rc == 0, first.stdout
    assert first.task("goldenimage.azure.builder : Create the build environments")["result"]["changed"] is True
    before = fresh_sim.admin.resources()
    assert any(item["type"] == "Microsoft.Compute/virtualMachines" for item in before)

    since = fresh_sim.admin.last_seq()
    second = play(builder_play(tmp_path))
    assert second.rc == 0, second.stdout
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before
    created = second.task("goldenimage.azure.builder : Create the build environments")["result"]
    assert created["changed"] is False, created
    # the per-build keys were kept, so the VM's SSH key did not change either
    assert len(keys) == 4 and {path: path.read_bytes() for path in keys} == keys


def test_builder_check_mode_writes_nothing(play, fresh_sim, tmp_path):
    since = fresh_sim.admin.last_seq()
    # default builder_fail_on_error: a check-mode preview must not fail for want of a VM to reach
    run = play(builder_play(tmp_path, builder_build_id="check1", builder_fail_on_error=True), args=["--check"])
    assert run.rc == 0, run.stdout + run.stderr
    created = run.task("goldenimage.azure.builder : Create the build environments")
    assert created["status"] == "ok" and created["result"]["changed"] is True, created
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == []


@pytest.mark.parametrize("option, value, expected", [
    ("builder_os_type", "solaris", "builder_os_type"),
    ("builder_connect_timeout", "soon", "builder_connect_timeout"),
    ("builder_security_type", "Secure", "builder_security_type"),
    ("builder_vms", "one,two", "builder_vms"),
])
def test_builder_bad_arguments_fail_from_the_spec_before_any_request(play, fresh_sim, tmp_path, option, value,
                                                                      expected):
    since = fresh_sim.admin.last_seq()
    run = play(builder_play(tmp_path, **{option: value}))
    assert run.rc != 0
    failed = [item for item in run.results if item["status"] == "failed"]
    assert [item["action"] for item in failed] == ["ansible.builtin.validate_argument_spec"], failed
    message = failed[0]["result"]["msg"]
    assert expected in message and "Validation of arguments failed" in message, message
    assert every_request(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == []


# -- capture ----------------------------------------------------------------------------------------------------
@pytest.fixture
def build_vm(play, fresh_sim, resources):
    resources.resource_groups.create_or_update("rg-out", {"location": "westeurope"})
    run = play(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Build VM
      goldenimage.azure.build_vm:
        build_id: cap2
        location: westeurope
        image: "{URN}"
        ssh_public_key: "{SSH_KEY}"
        allowed_sources: [203.0.113.7/32]
""")
    assert run.rc == 0, run.stdout
    return run.task("Build VM")["result"]


def capture_play(vm, **extra):
    options = {
        "capture_vm_name": vm["vm_name"],
        "capture_resource_group": vm["resource_group"],
        "capture_build_id": "cap2",
        "capture_force_generalize": True,
        "capture_managed_image": {"name": "img-cap2", "resource_group": "rg-out"},
        "capture_gallery": {"resource_group": "rg-out", "name": "gal_cap", "image": "ubuntu-cap",
                            "version": "1.0.0", "target_regions": [{"name": "westeurope"}], "create_definition": True,
                            "publisher": "contoso", "offer": "golden", "sku": "ubuntu-cap"},
        "capture_delete_vm": False,
    }
    options.update(extra)
    lines = "\n".join(f"        {key}: {value!r}" if isinstance(value, str) else f"        {key}: {value}"
                      for key, value in options.items())
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Capture
      ansible.builtin.include_role:
        name: goldenimage.azure.capture
      vars:
{lines}
"""


def test_capture_second_run_changes_nothing(play, fresh_sim, build_vm):
    first = play(capture_play(build_vm))
    assert first.rc == 0, first.stdout
    assert first.task("goldenimage.azure.capture : Capture the managed image")["result"]["changed"] is True
    before = fresh_sim.admin.resources()
    types = {item["type"] for item in before}
    assert {"Microsoft.Compute/images", "Microsoft.Compute/galleries/images/versions"} <= types

    since = fresh_sim.admin.last_seq()
    second = play(capture_play(build_vm))
    assert second.rc == 0, second.stdout
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before
    assert [task for task in changed_tasks(second) if "goldenimage.azure." in task
            and not second.task(task)["action"].endswith("set_fact")] == []


def test_capture_check_mode_writes_nothing(play, fresh_sim, build_vm):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(capture_play(build_vm, capture_delete_vm=True), args=["--check"])
    assert run.rc == 0, run.stdout + run.stderr
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before


@pytest.mark.parametrize("option, value", [
    ("capture_force_generalize", "perhaps"),
    ("capture_timeout", "long"),
    ("capture_managed_image", "img-cap2"),
    ("capture_tags", ["a", "b"]),
])
def test_capture_bad_arguments_fail_from_the_spec_before_any_request(play, fresh_sim, build_vm, option, value):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(capture_play(build_vm, **{option: value}))
    assert run.rc != 0
    failed = [item for item in run.results if item["status"] == "failed"]
    assert [item["action"] for item in failed] == ["ansible.builtin.validate_argument_spec"], failed
    message = failed[0]["result"]["msg"]
    assert option in message and "Validation of arguments failed" in message, message
    assert every_request(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before


# -- build_vm state=absent on what it did not create --------------------------------------------------------------
def absent_play(**options):
    lines = "\n".join(f"        {key}: {value}" for key, value in options.items())
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Delete
      goldenimage.azure.build_vm:
        state: absent
{lines}
"""


@pytest.mark.parametrize("tags", [
    {},  # a user's group
    {"goldenimage-build-id": "x1"},  # the build id tag alone: anyone can write it
    {"goldenimage-temporary": "true", "goldenimage-build-id": "other"},  # another build's group
], ids=["untagged", "build-id-only", "other-build"])
@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_absent_on_a_group_it_did_not_create_is_refused_and_deletes_nothing(play, fresh_sim, resources, network,
                                                                            tags, check):
    resources.resource_groups.create_or_update("rg-users", {"location": "westeurope", "tags": tags})
    network.virtual_networks.begin_create_or_update("rg-users", "vnet-users", {
        "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}}}).result()
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(absent_play(build_id="x1", resource_group="rg-users"), args=["--check"] if check else [])
    assert run.rc != 0
    result = run.task("Delete")["result"]
    assert "refusing to delete resource group 'rg-users'" in result["msg"], result
    assert result.get("changed") is False
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before


def test_absent_in_check_mode_reports_the_delete_and_sends_none(play, fresh_sim):
    created = play(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Build VM
      goldenimage.azure.build_vm:
        build_id: chk
        location: westeurope
        image: "{URN}"
        ssh_public_key: "{SSH_KEY}"
        allowed_sources: [203.0.113.7/32]
""")
    assert created.rc == 0, created.stdout
    before = fresh_sim.admin.resources()
    for scope in ("group", "vm"):
        since = fresh_sim.admin.last_seq()
        run = play(absent_play(build_id="chk", scope=scope), args=["--check"])
        assert run.rc == 0, run.stdout
        assert run.task("Delete")["result"]["changed"] is True, scope
        assert run.task("Delete")["result"]["deleted"] is True, scope
        assert writes(fresh_sim, since) == [], scope
    assert fresh_sim.admin.resources() == before


@pytest.mark.parametrize("options, wanted", [
    ({"build_id": "'../etc'"}, "build_id"),
    ({"build_id": "ok1", "scope": "everything"}, "scope"),
    ({"build_id": "ok1", "scope": "outputs"}, "run_id"),
], ids=["bad-build-id", "bad-scope", "outputs-without-run-id"])
def test_absent_bad_input_fails_before_any_request(play, fresh_sim, resources, options, wanted):
    resources.resource_groups.create_or_update("gi-build-ok1", {"location": "westeurope", "tags": {
        "goldenimage-temporary": "true", "goldenimage-build-id": "ok1"}})
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(absent_play(**options))
    assert run.rc != 0
    assert wanted in run.task("Delete")["result"]["msg"]
    assert [entry for entry in every_request(fresh_sim, since) if entry[0] == "arm"] == []
    assert fresh_sim.admin.resources() == before
