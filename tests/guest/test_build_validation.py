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
