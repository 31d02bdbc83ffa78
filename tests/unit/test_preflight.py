"""The plan of a golden-image run (_preflight.py): definitions, predicted source facts and the output checks,
with a fake client (plain dicts in, the readers of image_capture underneath)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import _preflight as pf  # noqa: E402
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError  # noqa: E402

SUB = "00000000-0000-4000-8000-000000000001"
BASE = {"source": "marketplace", "urn": "Canonical:ubuntu-24_04-lts:server:24.04.1", "version": "24.04.1",
        "hyper_v_generation": "V2", "architecture": "x64", "os_type": "Linux",
        "image_reference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "24.04.1"},
        "plan": None}


def build(**extra):
    value = {"name": "ubuntu", "base_image": "Canonical:ubuntu-24_04-lts:server:latest",
             "managed_image": {"name": "img-ubuntu", "resource_group": "rg-out"}}
    value.update(extra)
    return value


GALLERY = {"resource_group": "rg-out", "name": "golden", "image": "ubuntu", "version": "auto",
           "create_definition": True, "publisher": "p", "offer": "o", "sku": "s"}


# -- a fake session: resource groups over arm_get, the compute client's readers --------------------------------
class _Ops:
    def __init__(self, store, kind):
        self.store, self.kind = store, kind

    def get(self, *names, **_):
        return self.store.get((self.kind,) + tuple(n.lower() for n in names))

    def list_by_gallery_image(self, rg, gallery, definition):
        prefix = ("version", rg.lower(), gallery.lower(), definition.lower())
        return [body for key, body in self.store.items() if key[:4] == prefix]


class _Compute:
    def __init__(self, store):
        self.images = _Ops(store, "image")
        self.galleries = _Ops(store, "gallery")
        self.gallery_images = _Ops(store, "definition")
        self.gallery_image_versions = _Ops(store, "version")


class FakeSession:
    subscription_id = SUB

    def __init__(self, groups=("rg-out",)):
        self.groups = [g.lower() for g in groups]
        self.store = {}
        self.reads = []

    def compute(self):
        return _Compute(self.store)

    def arm_get(self, path, api_version, params=None, operation=None):
        self.reads.append(path)
        name = path.rstrip("/").split("/")[-1].lower()
        if name in self.groups:
            return {"name": name}
        raise AzureError("not found", status_code=404, code="ResourceGroupNotFound")

    def arm_list(self, path, api_version, params=None, operation=None):
        if path.endswith("/locations"):
            self.reads.append(path)
            return [{"name": "westeurope", "displayName": "West Europe"}, {"name": "northeurope"}, {"name": "eastus"}]
        return [{"name": name} for name in self.groups]

    def add(self, kind, *names, body):
        self.store[(kind,) + tuple(n.lower() for n in names)] = body


def definition_body(**props):
    base = {"osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2", "architecture": "x64"}
    base.update(props)
    return {"name": "ubuntu", "location": "westeurope", "properties": base}


def plan(session, builds, bases=None):
    normalized = pf.normalize_builds(builds, {"location": "westeurope"}, "r1", "/")
    return pf.plan_outputs(session, normalized, bases or {b["name"]: BASE for b in normalized},
                           list_locations=lambda: pf._list_locations(session))


# -- definitions ---------------------------------------------------------------------------------------------
def test_defaults_naming_and_no_secrets(tmp_path):
    tasks = tmp_path / "customize.yml"
    tasks.write_text("[]\n")
    (out,) = pf.normalize_builds([build(admin_password="s3cret", customize_tasks="customize.yml")],
                                 {"location": "westeurope", "vm_size": "Standard_D4s_v5"}, "20261202", str(tmp_path))
    assert out["build_id"] == "ubuntu-20261202"
    assert out["resource_group"] == "gi-build-ubuntu-20261202"
    assert out["vm_name"] == "gi-ubuntu-20261202"
    assert (out["location"], out["vm_size"], out["os_type"], out["security_type"]) == (
        "westeurope", "Standard_D4s_v5", "linux", "Standard")
    assert out["customize_tasks"] == str(tasks)
    assert "admin_password" not in out


def test_build_id_keeps_the_last_60_characters():
    (out,) = pf.normalize_builds([build(name="n" * 70)], {}, "run", "/")
    assert len(out["build_id"]) == 60 and out["build_id"].endswith("-run")


@pytest.mark.parametrize("builds, words", [
    ([], "at least one image definition"),
    ([build(base_image="")], "base_image is required"),
    ([build(managed_image={})], "at least one output"),
    ([build(), build()], "names must be unique"),
    ([build(os_type="bsd")], "os_type 'bsd'"),
    ([build(security_type="Trusted")], "security_type 'Trusted'"),
    ([build(managed_image={"name": "x"})], "managed_image needs name and resource_group"),
    ([build(gallery={"name": "g"})], "gallery needs resource_group, image"),
    ([build(customize_tasks="missing.yml")], "customize_tasks 'missing.yml' is not a file"),
    ([build(managed_image={"name": "img/bad", "resource_group": "rg"})], "managed_image.name: 'img/bad' is not a valid"),
    ([build(gallery=dict(GALLERY, version="1.0"))], "'1.0' is not a gallery image version"),
    (["text"], "is a str, not a dict"),
])
def test_bad_definitions_are_refused_without_a_request(builds, words):
    with pytest.raises(AzureError) as info:
        pf.normalize_builds(builds, {}, "r", "/")
    assert words in info.value.message
    assert info.value.code == "InvalidBuildDefinition" and info.value.phase == "plan"


def test_build_vm_must_match_its_base_image():
    (gen1,) = pf.normalize_builds([build(security_type="TrustedLaunch", gallery=GALLERY, managed_image={})], {}, "r", "/")
    assert pf.check_build_vm(gen1, dict(BASE, hyper_v_generation="V1")) == [
        "security_type TrustedLaunch needs a Gen2 (V2) base image; Canonical:ubuntu-24_04-lts:server:24.04.1 is V1"]
    (windows,) = pf.normalize_builds([build(os_type="windows")], {}, "r", "/")
    assert "the base image" in pf.check_build_vm(windows, BASE)[0]


def test_source_facts_are_what_capture_will_read():
    (out,) = pf.normalize_builds([build(security_type="TrustedLaunch")], {}, "r", "/")
    facts = pf.source_facts(out, dict(BASE, architecture="Arm64"), SUB)
    assert facts["id"] == f"/subscriptions/{SUB}/resourceGroups/gi-build-ubuntu-r/providers/Microsoft.Compute/" \
                          "virtualMachines/gi-ubuntu-r"
    assert (facts["os_type"], facts["os_state"], facts["hyper_v_generation"], facts["security_type"],
            facts["architecture"]) == ("Linux", "Generalized", "V2", "TrustedLaunch", "Arm64")


# -- outputs -------------------------------------------------------------------------------------------------
def test_new_outputs_are_planned():
    session = FakeSession()
    plans = plan(session, [build(gallery=GALLERY)])
    image = plans["ubuntu"]["managed_image"]
    assert (image["action"], image["id"]) == (
        "create", f"/subscriptions/{SUB}/resourceGroups/rg-out/providers/Microsoft.Compute/images/img-ubuntu")
    version = plans["ubuntu"]["gallery_image_version"]
    assert (version["action"], version["version"], version["create_gallery"], version["create_definition"]) == (
        "create", "1.0.0", True, True)


def test_auto_version_follows_the_highest():
    session = FakeSession()
    session.add("gallery", "rg-out", "golden", body={"name": "golden", "location": "westeurope"})
    session.add("definition", "rg-out", "golden", "ubuntu", body=definition_body())
    session.add("version", "rg-out", "golden", "ubuntu", "1.2.9", body={"name": "1.2.9", "properties": {
        "storageProfile": {"source": {"id": "/other"}}}})
    version = plan(session, [build(managed_image={}, gallery=GALLERY)])["ubuntu"]["gallery_image_version"]
    assert (version["version"], version["create_gallery"], version["create_definition"]) == ("1.2.10", False, False)


def test_existing_image_is_a_clash_but_a_failed_one_is_replaced():
    session = FakeSession()
    session.add("image", "rg-out", "img-ubuntu", body={"id": "/img", "name": "img-ubuntu", "tags": {
        "goldenimage-build-id": "old"}, "properties": {"provisioningState": "Succeeded",
                                                       "sourceVirtualMachine": {"id": "/old-vm"}}})
    with pytest.raises(AzureError) as info:
        plan(session, [build()])
    assert info.value.code == "ImageExists" and "build old" in info.value.message
    session.store[("image", "rg-out", "img-ubuntu")]["properties"]["provisioningState"] = "Failed"
    assert plan(session, [build()])["ubuntu"]["managed_image"]["action"] == "replace"


@pytest.mark.parametrize("props, words", [
    ({"hyperVGeneration": "V1"}, "Hyper-V generation"),
    ({"osType": "Windows"}, "OS type"),
    ({"osState": "Specialized"}, "OS state"),
    ({"architecture": "Arm64"}, "is Arm64, but the base image"),
    ({"features": [{"name": "SecurityType", "value": "TrustedLaunch"}]}, "security type"),
])
def test_incompatible_definition(props, words):
    session = FakeSession()
    session.add("gallery", "rg-out", "golden", body={"name": "golden", "location": "westeurope"})
    session.add("definition", "rg-out", "golden", "ubuntu", body=definition_body(**props))
    with pytest.raises(AzureError) as info:
        plan(session, [build(managed_image={}, gallery=GALLERY)])
    assert info.value.code == "DefinitionMismatch" and words in info.value.message


def test_explicit_version_that_exists():
    session = FakeSession()
    session.add("gallery", "rg-out", "golden", body={"name": "golden", "location": "westeurope"})
    session.add("definition", "rg-out", "golden", "ubuntu", body=definition_body())
    session.add("version", "rg-out", "golden", "ubuntu", "2.0.0", body={"name": "2.0.0", "properties": {
        "provisioningState": "Succeeded", "storageProfile": {"source": {"id": "/other"}}}})
    with pytest.raises(AzureError) as info:
        plan(session, [build(managed_image={}, gallery=dict(GALLERY, version="2.0.0"))])
    assert info.value.code == "VersionExists"


def test_missing_groups_gallery_and_definition():
    session = FakeSession(groups=())
    with pytest.raises(AzureError) as info:
        plan(session, [build()])
    assert info.value.code == "ResourceGroupNotFound" and "managed_image.resource_group" in info.value.message
    session = FakeSession()
    with pytest.raises(AzureError) as info:
        plan(session, [build(managed_image={}, gallery=dict(GALLERY, create_definition=False))])
    assert info.value.code == "GalleryNotFound"


def test_region_typo_gets_the_closest_regions_and_locations_are_read_once():
    session = FakeSession()
    gallery = dict(GALLERY, target_regions=[{"name": "westeurope"}, {"name": "northeurop"}])
    with pytest.raises(AzureError) as info:
        plan(session, [build(name="a", managed_image={}, gallery=gallery), build(name="b", gallery=gallery)])
    assert info.value.code == "LocationNotAvailable" and "northeurope" in info.value.message
    assert "2 problem(s)" in info.value.message
    assert sum(path.endswith("/locations") for path in session.reads) == 1


def test_trusted_launch_cannot_make_a_managed_image():
    with pytest.raises(AzureError) as info:
        plan(FakeSession(), [build(security_type="TrustedLaunch")])
    assert info.value.code == "TrustedLaunchNotSupported"


def test_two_builds_with_one_output_and_every_problem_listed():
    session = FakeSession()
    session.add("image", "rg-out", "img-taken", body={"id": "/t", "properties": {"provisioningState": "Succeeded"}})
    builds = [build(name="a"), build(name="b"), build(name="c", managed_image={"name": "img-taken",
                                                                                 "resource_group": "rg-out"})]
    with pytest.raises(AzureError) as info:
        plan(session, builds)
    message = info.value.message
    assert "2 problem(s)" in message
    assert "build 'b' (builds[1]): managed_image 'rg-out/img-ubuntu' is also the output of build 'a'" in message
    assert "build 'c' (builds[2]): managed_image: image 'img-taken' already exists" in message
    assert info.value.phase == "plan"


def test_resource_groups_are_read_once():
    session = FakeSession()
    plan(session, [build(name="a", gallery=GALLERY, managed_image={"name": "i1", "resource_group": "rg-out"}),
                   build(name="b", managed_image={"name": "i2", "resource_group": "RG-OUT"})])
    assert session.reads == ["/subscriptions/%s/resourceGroups/rg-out" % SUB]


# -- the whole plan and the definition's commit ---------------------------------------------------------------
def test_build_plan_summary(monkeypatch):
    monkeypatch.setattr(pf, "resolve_bases", lambda client, builds, concurrency: ({b["name"]: BASE for b in builds},
                                                                                ["a warning"]))
    result = pf.build_plan(FakeSession(), [build(gallery=dict(GALLERY, target_regions=[{"name": "westeurope"}]),
                                                 admin_password="x")],
                           {"location": "westeurope"}, "r1", "/", tags={"team": "images"})
    (item,) = result["builds"]
    assert result["summary"] == [
        "ubuntu: managed image rg-out/img-ubuntu (create) and gallery version rg-out/golden/ubuntu 1.0.0 to westeurope "
        "(create, new gallery, new definition) from Canonical:ubuntu-24_04-lts:server:24.04.1 on a Standard_D2s_v5 "
        "linux VM in westeurope"]
    # the build's tags: the run's and what a later run compares (base, definition hash, collection version)
    assert item["vm"]["image"] == BASE["image_reference"] and item["vm"]["tags"] == dict(
        {"team": "images"}, **item["output_tags"])
    assert set(item["output_tags"]) == {"goldenimage-source-urn", "goldenimage-definition-hash",
                                        "goldenimage-collection-version"}
    assert "admin_password" not in item and "admin_password" not in item["vm"]
    assert result["warnings"] == ["a warning"]


def test_definition_info(tmp_path):
    assert pf.definition_info(str(tmp_path)) == {"dir": str(tmp_path), "git_commit": "unknown", "git_dirty": None}
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
           "PATH": "/usr/bin:/bin"}
    (tmp_path / "vars.yml").write_text("a: 1\n")
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, env=env)
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()
    assert pf.definition_info(str(tmp_path)) == {"dir": str(tmp_path), "git_commit": head, "git_dirty": False}
    (tmp_path / "vars.yml").write_text("a: 2\n")
    assert pf.definition_info(str(tmp_path))["git_dirty"] is True
