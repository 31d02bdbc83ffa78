"""The manifest of a run (_manifest.py): statuses and root causes per build, phase seconds, the builds left to
clean up, the collection and the final message - plain dicts in, as the playbook registers them."""

from __future__ import annotations

import json
import os
import sys

from tests.harness import ROOT, ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import _manifest as mf  # noqa: E402
from ansible_collections.goldenimage.azure.plugins.module_utils import _preflight as pf  # noqa: E402

T0 = 1796188320.0
RUN = {"id": "20261202051200a1b2", "uuid": "u" * 32, "started": "2026-12-02T05:12:00Z", "t0": T0}
DEFINITION = {"dir": "/home/me/images", "git_commit": "abc123", "git_dirty": False}


def planned(name):
    return {"name": name, "build_id": "%s-1" % name, "base_image": "Canonical:ubuntu-24_04-lts:server:latest",
            "resource_group": "gi-build-%s-1" % name, "location": "westeurope", "vm_size": "Standard_D2s_v5",
            "os_disk_type": "Premium_LRS", "security_type": "Standard",
            "base": {"urn": "Canonical:ubuntu-24_04-lts:server:24.04.1", "version": "24.04.1", "id": None,
                     "hyper_v_generation": "V2", "architecture": "x64", "os_type": "Linux",
                     "image_reference": {"publisher": "Canonical"}},
            "outputs": {"managed_image": {"action": "create", "name": "img-%s" % name},
                        "gallery_image_version": {"action": "create", "regions": ["westeurope", "northeurope"]}}}


def plan(*names):
    return {"changed": False, "run": RUN, "definition": DEFINITION, "timings": {"resolve": 0.5, "plan": 0.25},
            "finished": T0 + 1, "builds": [planned(name) for name in names]}


CAPTURE = {"managed_image": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/img-a",
                             "name": "img-a", "location": "westeurope", "properties": {"hyper_v_generation": "V2"}},
           "gallery_image_version": {"id": "/subscriptions/s/.../versions/1.0.0", "name": "1.0.0",
                                     "location": "westeurope"},
           "version": "1.0.0", "gallery_image": {"properties": {"hyper_v_generation": "V2"}},
           "replication": {"regions": [{"name": "westeurope", "state": "Completed"}]}}


def host(capture=CAPTURE, failure=None, end=True):
    marks = {"customize": T0 + 10, "deprovision": T0 + 20, "capture": T0 + 25, "cleanup": T0 + 40}
    if end:
        marks["end"] = T0 + 50
    return {"marks": marks, "capture": capture, "failure": failure}


def test_a_successful_build_has_every_field_and_phase():
    out = mf.build_manifest(plan("a"), created={"a": {"ok": True}}, hosts={"a": host()}, collection_dir=ROOT,
                            manifest_path="/tmp/m.json", now=T0 + 60)
    manifest = out["manifest"]
    assert out["failures"] == [] and out["left"] == [] and out["message"] == ""
    assert manifest["status"] == "succeeded" and manifest["run_id"] == RUN["id"]
    assert manifest["started"] == RUN["started"] and manifest["duration_s"] == 60.0
    assert manifest["finished"].endswith("Z") and manifest["finished"] > manifest["started"]
    assert manifest["build_definition"] == DEFINITION
    assert manifest["collection"]["name"] == "goldenimage.azure" and manifest["collection"]["version"] != "unknown"
    (build,) = manifest["builds"]
    assert build["status"] == "succeeded" and build["failed_phase"] is None and build["error"] is None
    assert build["base_image"]["requested"] == "Canonical:ubuntu-24_04-lts:server:latest"
    assert build["base_image"]["urn"] == "Canonical:ubuntu-24_04-lts:server:24.04.1"
    assert build["build_vm"] == {"resource_group": "gi-build-a-1", "location": "westeurope",
                                 "vm_size": "Standard_D2s_v5", "os_disk_type": "Premium_LRS",
                                 "security_type": "Standard"}
    assert build["phases"] == {"resolve": 0.5, "plan": 0.25, "create": 9.0, "customize": 10.0, "deprovision": 5.0,
                               "capture": 15.0, "cleanup": 10.0}
    image, version = build["outputs"]["managed_image"], build["outputs"]["gallery_image_version"]
    assert image["hyper_v_generation"] == "V2" and image["name"] == "img-a"
    assert version["version"] == "1.0.0" and version["regions"] == ["westeurope", "northeurope"]
    assert version["replication"] == [{"name": "westeurope", "state": "Completed"}]
    assert version["hyper_v_generation"] == "V2"
    json.dumps(manifest)  # plain JSON


def test_a_refused_plan_lists_the_definitions_with_the_root_cause():
    refused = {"failed": True, "msg": "Pre-flight found 1 problem(s)", "error_code": "ImageExists", "phase": "plan",
               "run": RUN, "definition": DEFINITION, "timings": {"plan": 0.4}}
    out = mf.build_manifest(refused, definitions=[{"base_image": "x"}, {"name": "b", "location": "eastus"}],
                            collection_dir=ROOT, manifest_path="/tmp/m.json", now=T0 + 1)
    builds = out["manifest"]["builds"]
    assert out["manifest"]["status"] == "failed"
    assert [b["failed_phase"] for b in builds] == ["plan", "plan"]
    assert builds[0]["error"] == "Pre-flight found 1 problem(s) (ImageExists)"
    assert builds[1]["build_vm"]["location"] == "eastus" and builds[1]["planned"] == {}
    assert builds[1]["outputs"] == {"managed_image": None, "gallery_image_version": None}
    assert out["left"] == []
    assert out["message"].endswith("Nothing was created; see /tmp/m.json.")
    assert "b: phase 'plan' failed: Pre-flight found 1 problem(s) (ImageExists);" not in out["message"]
    assert out["message"].startswith("Golden image build failed - : phase 'plan' failed: Pre-flight")


def test_failures_in_create_on_the_host_and_unreachable_hosts():
    created = {"a": {"ok": False, "phase": "create build VM", "msg": "Allocation failed (AllocationFailed)"},
               "b": {"ok": True}, "c": {"ok": True}, "d": {"ok": True}}
    hosts = {"b": host(capture=None, failure={"phase": "capture: generalize", "msg": "refused (InvalidParameter)"}),
             "c": {"marks": {"customize": T0 + 10, "deprovision": T0 + 20}}, "d": host()}
    out = mf.build_manifest(plan("a", "b", "c", "d"), created=created, hosts=hosts, create_finished=T0 + 9,
                            collection_dir=ROOT, manifest_path="/m.json", now=T0 + 100)
    by_name = {b["name"]: b for b in out["manifest"]["builds"]}
    assert by_name["a"]["failed_phase"] == "create build VM" and "AllocationFailed" in by_name["a"]["error"]
    assert by_name["a"]["phases"]["create"] == 8.0
    assert by_name["b"]["failed_phase"] == "capture: generalize"
    assert by_name["b"]["outputs"] == {"managed_image": None, "gallery_image_version": None}
    assert by_name["c"]["failed_phase"] == "deprovision" and by_name["c"]["error"] == mf.UNREACHABLE
    assert by_name["d"]["status"] == "succeeded"
    assert out["manifest"]["status"] == "failed"
    # c was created and never cleaned up (no end mark): the last play deletes its group
    assert [b["name"] for b in out["left"]] == ["c"]
    assert [f["name"] for f in out["failures"]] == ["a", "b", "c"]
    assert out["message"].endswith("The temporary resource groups were deleted; see /m.json.")
    assert "b: phase 'capture: generalize' failed: refused (InvalidParameter);" in out["message"]


def test_the_builder_role_failing_fails_every_build_and_check_mode_succeeds():
    out = mf.build_manifest(plan("a", "b"), create_failure={"phase": "create build VM", "msg": "no address"},
                            collection_dir=ROOT, now=T0 + 5)
    assert [b["error"] for b in out["manifest"]["builds"]] == ["no address", "no address"]
    assert out["left"] == []
    checked = mf.build_manifest(plan("a"), collection_dir=ROOT, check_mode=True, now=T0 + 5)
    assert checked["failures"] == [] and checked["message"] == ""


def test_root_cause_takes_the_first_failed_item_of_a_loop():
    result = {"msg": "One or more items failed", "results": [{"failed": False}, {"failed": True, "msg": "boom",
                                                                                  "error_code": "Conflict"}]}
    assert mf.root_cause(result) == "boom (Conflict)"
    assert mf.root_cause({"msg": "Conflict here", "error_code": "Conflict"}) == "Conflict here"
    assert mf.root_cause({}) == "the task failed without a message"


def test_collection_info_prefers_manifest_json(tmp_path):
    (tmp_path / "MANIFEST.json").write_text(json.dumps({"collection_info": {
        "namespace": "goldenimage", "name": "azure", "version": "9.9.9"}}))
    (tmp_path / "galaxy.yml").write_text("namespace: x\nname: y\nversion: 1.0.0\n")
    assert mf.collection_info(str(tmp_path)) == {"name": "goldenimage.azure", "version": "9.9.9",
                                                 "path": str(tmp_path)}
    os.remove(tmp_path / "MANIFEST.json")
    assert mf.collection_info(str(tmp_path))["version"] == "1.0.0"
    assert mf.collection_info(str(tmp_path / "missing"))["version"] == "unknown"


def test_write_manifest_is_json(tmp_path):
    path = tmp_path / "sub" / "m.json"
    mf.write_manifest(str(path), {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_new_run_makes_the_ids():
    run = pf.new_run("auto", now=T0)
    assert len(run["id"]) == 18 and run["id"].startswith("2026")
    assert len(run["uuid"]) == 32 and run["uuid"].isalnum() and run["uuid"].lower() == run["uuid"]
    assert run["started"].endswith("Z") and run["t0"] == T0
    assert pf.new_run("", "given")["id"] == "" and pf.new_run("x", "given")["uuid"] == "given"


def test_a_failed_validation_fails_the_build_naming_the_check_and_an_earlier_failure_keeps_its_cause():
    failed = {"status": "failed", "failed": ["machine_id_fresh"],
              "checks": {"machine_id_fresh": {"ok": False, "detail": "machine-id 'abc' is the build VM's"},
                         "host_keys_new": {"ok": True, "detail": "3 new SSH host key(s)"}}}
    out = mf.build_manifest(plan("a", "b", "c"), created={"a": {"ok": True}, "b": {"ok": True}, "c": {"ok": True}},
                            hosts={"a": host(), "b": host(), "c": host(failure={"phase": "deprovision", "msg": "x"})},
                            validations={"a": failed, "b": {"status": "passed", "failed": [], "checks": {}}, "c": failed},
                            collection_dir=ROOT, manifest_path="/tmp/m.json", now=T0 + 60)
    a, b, c = out["manifest"]["builds"]
    assert a["status"] == "failed" and a["failed_phase"] == "validate"
    assert a["error"] == "check machine_id_fresh (machine-id 'abc' is the build VM's) failed"
    assert a["validation"]["failed"] == ["machine_id_fresh"]
    assert b["status"] == "succeeded" and b["validation"]["status"] == "passed"
    assert c["failed_phase"] == "deprovision"
    assert [item["name"] for item in out["failures"]] == ["a", "c"]
