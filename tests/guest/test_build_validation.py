"""The main job's validation phase, end to end on real local guests (root only): a VM is created from the new
image, and a badly deprovisioned image is caught there and kept out of ``latest`` (or deleted)."""

from __future__ import annotations

import os

import pytest

from tests.guest import gi_build
from tests.harness import ROOT

pytestmark = [pytest.mark.guest, pytest.mark.slow]

VARS = os.path.join(ROOT, "examples", "vars", "ubuntu-2404-gen2.yml")


@pytest.mark.parametrize("on_failure", ["exclude", "delete"])
def test_an_image_that_keeps_the_build_user_fails_validation(world, resources, tmp_path, on_failure):
    gi_build.prepare_outputs(resources)
    with gi_build.guests(world, 1):
        # a deprovisioning step skipped: the build user stays in the image
        run, manifest = gi_build.run_build(world, tmp_path, vars_file=VARS, extra={
            "deprovision_delete_user": False, "golden_image_validation_failure": on_failure})
    assert run.rc != 0
    (build,) = manifest["builds"]
    assert build["status"] == "failed" and build["failed_phase"] == "validate", build
    assert "build_user_removed" in build["validation"]["failed"]
    assert "build_user_removed" in build["error"]
    assert build["validation"]["checks"]["new_user_provisioned"]["ok"] is True

    versions = gi_build.by_type(world, "Microsoft.Compute/galleries/images/versions")
    images = gi_build.by_type(world, "Microsoft.Compute/images")
    if on_failure == "exclude":
        (version,) = versions
        assert version["properties"]["publishingProfile"]["excludeFromLatest"] is True
        assert version["tags"]["goldenimage-validation"] == "failed"
        (image,) = images
        assert image["tags"]["goldenimage-validation"] == "failed"
    else:
        assert versions == [] and images == []
    # the validation VM's group went too: only the output group is left
    groups = [g["name"] for g in gi_build.by_type(world, "Microsoft.Resources/resourceGroups")]
    assert groups == [gi_build.OUTPUT_RG]
    for kind in gi_build.BUILD_TYPES:
        assert gi_build.by_type(world, kind) == [], kind


@pytest.mark.parametrize("passes", [True, False], ids=["passed", "failed"])
def test_old_versions_are_pruned_only_once_the_new_version_passed(world, resources, compute, network, tmp_path, passes):
    from tests.integration import lifecycle_setup as setup

    build = gi_build.image_definition()
    build["gallery"]["keep_versions"] = 1
    gallery, definition = build["gallery"]["name"], build["gallery"]["image"]
    gi_build.prepare_outputs(resources, compute, gallery=gallery, definitions=[definition])
    # two older versions, from a VM of their own (made before any guest is registered: bound to none), then its group goes
    seed = setup.generalize(compute, setup.make_vm(compute, network, resources, rg="rg-seed", location="westeurope"))
    for name in ("1.0.1", "1.0.2"):
        compute.gallery_image_versions.begin_create_or_update(gi_build.OUTPUT_RG, gallery, definition, name, {
            "location": "westeurope", "properties": {"storageProfile": {"source": {"virtualMachineId": seed["id"]}},
                                                     "publishingProfile": {"targetRegions": [{"name": "westeurope"}]}}}
        ).result()
    resources.resource_groups.begin_delete("rg-seed").result()
    extra = {} if passes else {"deprovision_delete_user": False}  # a skipped deprovisioning step fails validation
    with gi_build.guests(world, 1):
        run, manifest = gi_build.run_build(world, tmp_path, builds=[build], extra=extra)
    assert (run.rc == 0) is passes, run.stdout[-3000:]
    assert manifest["builds"][0]["validation"]["status"] == ("passed" if passes else "failed")
    names = sorted(v["name"] for v in gi_build.by_type(world, "Microsoft.Compute/galleries/images/versions"))
    # passed: the newest one (1.0.3) is all that is kept; failed: nothing is pruned, 1.0.2 stays what latest gives
    assert names == (["1.0.3"] if passes else ["1.0.1", "1.0.2", "1.0.3"])
