"""The main job as users run it, without a guest: the plan refuses clashing outputs before any VM exists, --check
plans and writes nothing, the manifest carries the root cause, the collection version and the user's commit, and
the example inventory leaves build VMs out (real ansible-playbook / ansible-inventory against the simulator)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from tests.guest import gi_build
from tests.harness import ROOT, run_playbook
from tests.integration.test_azure_images_inventory_helpers import Seeder, ansible_inventory

VARS = os.path.join(ROOT, "examples", "vars", "ubuntu-2404-gen2.yml")
URN = "Canonical:ubuntu-24_04-lts:server:24.04.202411200"
OUT = gi_build.OUTPUT_RG


def _build(**extra):
    build = gi_build.image_definition("ubuntu", regions=("westeurope",))
    build.update(extra)
    return build


def _definition(compute, name, gallery="golden", **props):
    body = {"location": "westeurope", "properties": dict({
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "contoso", "offer": "o", "sku": name}}, **props)}
    compute.galleries.begin_create_or_update(OUT, gallery, {"location": "westeurope"}).result()
    return compute.gallery_images.begin_create_or_update(OUT, gallery, name, body).result()


@pytest.fixture
def outputs(fresh_sim, resources):
    gi_build.prepare_outputs(resources)
    return fresh_sim


def _refused(sim, tmp_path, builds, code):
    since = sim.admin.last_seq()
    before = sim.admin.resources()
    run, manifest = gi_build.run_build(sim, tmp_path, builds=builds)
    assert run.rc != 0
    (build,) = manifest["builds"]
    assert manifest["status"] == "failed"
    assert build["failed_phase"] == "plan"
    assert code in build["error"], build["error"]
    assert run.task("Plan - pin the base images and check every output before any VM is created")["result"][
        "error_code"] == code
    # refused before anything was created: not one write, the simulator as it was
    assert gi_build.writes(sim, since) == []
    assert sim.admin.resources() == before
    return build["error"]


def test_existing_managed_image_is_refused_before_any_vm(outputs, tmp_path):
    seed = Seeder(outputs)
    seed.managed_image(OUT, "img-ubuntu", location="westeurope")
    error = _refused(outputs, tmp_path, [_build(gallery={})], "ImageExists")
    assert "img-ubuntu" in error


def test_existing_gallery_version_is_refused(outputs, compute, tmp_path):
    seed = Seeder(outputs)
    image = seed.managed_image(OUT, "img-other", location="westeurope")
    definition = _definition(compute, "ubuntu")
    seed.gallery_version(definition.id, "1.0.0", image, regions=("westeurope",))
    build = _build(managed_image={})
    build["gallery"]["version"] = "1.0.0"
    assert "1.0.0" in _refused(outputs, tmp_path, [build], "VersionExists")


@pytest.mark.parametrize("props, words", [
    ({"hyperVGeneration": "V1"}, "Hyper-V generation"),
    ({"osType": "Windows"}, "OS type"),
    ({"osState": "Specialized"}, "OS state"),
    ({"architecture": "Arm64"}, "Arm64"),
    ({"features": [{"name": "SecurityType", "value": "TrustedLaunch"}]}, "security type"),
])
def test_incompatible_gallery_definition_is_refused(outputs, compute, tmp_path, props, words):
    _definition(compute, "ubuntu", **props)
    assert words in _refused(outputs, tmp_path, [_build(managed_image={})], "DefinitionMismatch")


def test_every_problem_is_listed_at_once(outputs, compute, tmp_path):
    Seeder(outputs).managed_image(OUT, "img-ubuntu", location="westeurope")
    _definition(compute, "ubuntu", hyperVGeneration="V1")
    twin = _build(name="twin", gallery={})
    twin["managed_image"] = {"name": "img-fresh", "resource_group": OUT}
    other = _build(name="other", gallery={}, managed_image={"name": "img-fresh", "resource_group": OUT})
    since = outputs.admin.last_seq()
    run, manifest = gi_build.run_build(outputs, tmp_path, builds=[_build(), twin, other])
    assert run.rc != 0
    error = manifest["builds"][0]["error"]
    assert "3 problem(s)" in error
    assert "img-ubuntu" in error and "Hyper-V generation" in error and "also the output of" in error
    assert gi_build.writes(outputs, since) == []


def test_trusted_launch_managed_image_and_missing_group_are_refused(outputs, tmp_path):
    tl = _build(security_type="TrustedLaunch", gallery={})
    assert "TrustedLaunch" in _refused(outputs, tmp_path, [tl], "TrustedLaunchNotSupported")
    nowhere = _build(gallery={}, managed_image={"name": "img-x", "resource_group": "rg-missing"})
    assert "rg-missing" in _refused(outputs, tmp_path, [nowhere], "ResourceGroupNotFound")


def test_missing_customisation_file_is_refused(outputs, tmp_path):
    build = _build(customize_tasks="no/such/tasks.yml")
    assert "no/such/tasks.yml" in _refused(outputs, tmp_path, [build], "InvalidBuildDefinition")


def test_a_definition_without_a_name_still_gets_a_manifest(outputs, tmp_path):
    since = outputs.admin.last_seq()
    run, manifest = gi_build.run_build(outputs, tmp_path, builds=[{"base_image": URN}])
    assert run.rc != 0
    (build,) = manifest["builds"]
    assert build["failed_phase"] == "plan" and "name is required" in build["error"]
    assert gi_build.writes(outputs, since) == []


def test_check_mode_plans_to_the_end_and_writes_nothing(outputs, tmp_path):
    since = outputs.admin.last_seq()
    before = outputs.admin.resources()
    run, manifest = gi_build.run_build(outputs, tmp_path, vars_file=VARS, args=["--check"])
    assert run.rc == 0, run.stdout[-4000:]
    assert gi_build.writes(outputs, since) == []
    assert outputs.admin.resources() == before
    assert manifest is None  # check mode writes no file either
    (line,) = run.task("Report the plan (check mode - nothing was created)")["result"]["msg"]
    assert line.startswith("ubuntu-2404-gen2: managed image rg-golden-images/img-ubuntu-2404-gen2-")
    assert "gallery version rg-golden-images/golden/ubuntu-2404-gen2 1.0.0 to westeurope, northeurope" in line
    assert URN in line
    plan = run.task("Plan - pin the base images and check every output before any VM is created")["result"]
    (build,) = plan["builds"]
    assert build["outputs"]["managed_image"]["action"] == "create"
    assert build["customize_tasks"] == os.path.join(ROOT, "examples", "customize", "linux-baseline.yml")
    assert "admin_password" not in build and "admin_password" not in build["vm"]


def test_manifest_error_carries_the_root_cause(outputs, tmp_path):
    outputs.admin.faults([{"method": "PUT", "path": "/virtualMachines/[^/]+$", "action": "fail_operation",
                           "code": "AllocationFailed", "message": "Allocation failed (injected).", "times": 1}])
    run, manifest = gi_build.run_build(outputs, tmp_path, builds=[_build()])
    assert run.rc != 0
    (build,) = manifest["builds"]
    assert build["failed_phase"] == "create build VM"
    assert "AllocationFailed" in build["error"], build["error"]
    assert "AllocationFailed" in run.task("Fail when a build failed")["result"]["msg"]
    assert gi_build.leftovers(outputs) == []


def _git(cwd, *args):
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True,
                          env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")).stdout.strip()


def test_manifest_records_the_collection_version_and_the_users_commit(outputs, tmp_path):
    """The user's directory is a git repository of its own with a playbook importing the collection's."""
    user = tmp_path / "images"
    user.mkdir()
    (user / "site.yml").write_text("- name: Build\n  ansible.builtin.import_playbook: goldenimage.azure.build_golden_image\n")
    (user / "customize.yml").write_text("- name: Nothing\n  ansible.builtin.meta: noop\n")
    _git(user, "init", "-q")
    _git(user, "add", ".")
    _git(user, "commit", "-q", "-m", "images")
    commit = _git(user, "rev-parse", "HEAD")
    Seeder(outputs).managed_image(OUT, "img-ubuntu", location="westeurope")  # refused: the manifest is still written
    run, manifest = gi_build.run_build(outputs, tmp_path, builds=[_build(customize_tasks="customize.yml")],
                                       playbook=str(user / "site.yml"), cwd=user)
    assert run.rc != 0
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        version = str(yaml.safe_load(handle)["version"])
    assert manifest["collection"]["name"] == "goldenimage.azure"
    assert manifest["collection"]["version"] == version
    assert manifest["build_definition"]["dir"] == str(user)
    assert manifest["build_definition"]["git_commit"] == commit
    assert manifest["build_definition"]["git_dirty"] is False
    assert commit != _git(ROOT, "rev-parse", "HEAD")


def test_example_inventory_leaves_out_build_vms(fresh_sim, tmp_path):
    """A real build VM (goldenimage.azure.build_vm), tagged like the production VMs, next to a production VM."""
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    run = run_playbook(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Build VM
      goldenimage.azure.build_vm:
        build_id: inv1
        location: eastus
        image: {URN}
        ssh_public_key: "{(tmp_path / 'id_ed25519.pub').read_text().strip()}"
        allowed_sources: [203.0.113.7/32]
        tags: {{environment: prod}}
""", sim_env=fresh_sim.env)
    assert run.rc == 0, run.stdout[-3000:]
    seed = Seeder(fresh_sim)
    seed.group("rg-prod")
    subnet = seed.vnet("rg-prod", "vnet")
    seed.vm("rg-prod", "web-1", seed.nic("rg-prod", "web-1-nic", subnet), URN, tags={"environment": "prod"})
    seed.finish()
    inventory = tmp_path / "prod.azure_images.yml"
    shutil.copy(os.path.join(ROOT, "examples", "inventory", "prod.azure_images.yml"), inventory)
    rc, data, out, err = ansible_inventory(fresh_sim.env, inventory, "--list")
    assert rc == 0, out + err
    hosts = set(data["_meta"]["hostvars"])
    assert "web-1" in hosts
    assert "gi-inv1" not in hosts
    vm = next(item for item in fresh_sim.admin.resources("Microsoft.Compute/virtualMachines")
              if item["name"] == "gi-inv1")
    assert vm["tags"]["goldenimage-temporary"] == "true" and vm["tags"]["environment"] == "prod"
