"""End to end: build-golden-image.yml against the simulator and real local guests (root only).

The guest stands in for the VM's operating system: its public IP is bound to the guest, the simulator
provisions the admin user and SSH key into it when the VM is created, and the playbook customises and
deprovisions it over real SSH. Assertions read the simulator's state, the guest's files and the manifest.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.guest import gi_build
from tests.harness import ROOT

pytestmark = [pytest.mark.guest, pytest.mark.slow]

VARS = os.path.join(ROOT, "examples", "vars", "ubuntu-2404-gen2.yml")
LATEST = "Canonical:ubuntu-24_04-lts:server:24.04.202411200"  # the newest version in the simulator's catalog


def test_build_golden_image_end_to_end(world, resources, tmp_path):
    gi_build.prepare_outputs(resources)
    # a spare guest: the validation VM takes the guest that never served a VM, so the build guest stays as it was left
    with gi_build.guests(world, 2) as (guest, spare):
        run, manifest = gi_build.run_build(world, tmp_path, vars_file=VARS)
        assert run.rc == 0, run.stdout[-4000:]
        # the guest was customised, then deprovisioned, as seen from the host
        marker = guest.path("/etc/golden-image-release").read_text()
        assert gi_build.deprovisioned(guest) == []
        # the validation VM's guest booted the captured filesystem, provisioned with a new user
        assert spare.path("/etc/golden-image-release").read_text() == marker
        assert gi_build.runs_the_image(spare) == manifest["builds"][0]["build_id"]

    assert manifest["status"] == "succeeded"
    (build,) = manifest["builds"]
    build_id = build["build_id"]
    assert f"build-id={build_id}" in marker

    # the managed image: tags, generation, made from the build VM
    (image,) = gi_build.by_type(world, "Microsoft.Compute/images")
    # the example's name carries the time of the run (a new image per run)
    assert re.fullmatch(r"img-ubuntu-2404-gen2-\d{12}", image["name"]), image["name"]
    assert image["tags"]["goldenimage-build-id"] == build_id
    assert image["tags"]["goldenimage-source-urn"] == LATEST
    assert image["properties"]["hyperVGeneration"] == "V2"
    assert image["properties"]["provisioningState"] == "Succeeded"

    # the gallery version, replicated to both regions
    (definition,) = gi_build.by_type(world, "Microsoft.Compute/galleries/images")
    assert definition["properties"]["hyperVGeneration"] == "V2"
    (version,) = gi_build.by_type(world, "Microsoft.Compute/galleries/images/versions")
    assert version["tags"]["goldenimage-build-id"] == build_id
    assert version["tags"]["goldenimage-source-urn"] == LATEST
    assert version["properties"]["provisioningState"] == "Succeeded"
    regions = {r["name"].replace(" ", "").lower() for r in version["properties"]["publishingProfile"]["targetRegions"]}
    assert regions == {"westeurope", "northeurope"}

    # nothing temporary is left: no build group, no VM, disk, NIC, IP, VNet or NSG
    assert set(gi_build.leftovers(world, [build_id])) == {image["id"], version["id"]}
    groups = [g["name"] for g in gi_build.by_type(world, "Microsoft.Resources/resourceGroups")]
    assert groups == [gi_build.OUTPUT_RG]
    for kind in gi_build.BUILD_TYPES:
        assert gi_build.by_type(world, kind) == [], kind
    # the VMs went with their temporary groups: the job deleted no VM on its own (one Azure wait fewer per build)
    assert [item for item in gi_build.writes(world, 0, r"/virtualMachines/[^/]+$") if item["method"] == "DELETE"] == []

    # the manifest is complete
    assert manifest["build_definition"]["git_commit"]
    assert manifest["started"] < manifest["finished"]
    assert manifest["duration_s"] > 0
    assert build["status"] == "succeeded" and build["failed_phase"] is None
    assert build["base_image"]["requested"] == "Canonical:ubuntu-24_04-lts:server:latest"
    assert build["base_image"]["urn"] == LATEST
    assert build["base_image"]["version"] == "24.04.202411200"
    assert build["outputs"]["managed_image"]["id"].lower() == image["id"].lower()
    assert build["outputs"]["managed_image"]["hyper_v_generation"] == "V2"
    assert build["outputs"]["gallery_image_version"]["id"].lower() == version["id"].lower()
    assert build["outputs"]["gallery_image_version"]["version"] == version["name"]
    assert sorted(build["outputs"]["gallery_image_version"]["regions"]) == ["northeurope", "westeurope"]
    assert set(build["phases"]) == {"resolve", "plan", "create", "customize", "deprovision", "capture", "cleanup"}
    # validated: every built-in check passed, and the outputs say so
    assert build["validation"]["status"] == "passed" and build["validation"]["failed"] == []
    assert set(build["validation"]["checks"]) == {"build_user_removed", "machine_id_fresh", "host_keys_new",
                                                  "customization_present", "new_user_provisioned"}
    assert version["tags"]["goldenimage-validation"] == "passed" == image["tags"]["goldenimage-validation"]
    assert version["properties"]["publishingProfile"]["excludeFromLatest"] is False
    assert all(isinstance(value, (int, float)) and value >= 0 for value in build["phases"].values())


def test_three_images_in_one_run(world, resources, compute, tmp_path):
    names = ["web", "db", "cache"]
    gi_build.prepare_outputs(resources, compute, gallery="golden")
    with gi_build.guests(world, 3) as started:
        builds = [gi_build.image_definition(name, regions=("westeurope",), guest=guest)
                  for name, guest in zip(names, started)]
        run, manifest = gi_build.run_build(world, tmp_path, builds=builds)
        assert run.rc == 0, run.stdout[-4000:]
        # each build's guest served its validation VM too (the build names it): it now runs the captured image
        running = [gi_build.runs_the_image(guest) for guest in started]

    assert manifest["status"] == "succeeded"
    assert [b["name"] for b in manifest["builds"]] == names
    build_ids = {b["name"]: b["build_id"] for b in manifest["builds"]}
    assert len(set(build_ids.values())) == 3
    assert running == [build_ids[name] for name in names]
    assert [b["validation"]["status"] for b in manifest["builds"]] == ["passed"] * 3
    images = {i["name"]: i for i in gi_build.by_type(world, "Microsoft.Compute/images")}
    versions = {v["id"].split("/images/")[1].split("/")[0]: v
                for v in gi_build.by_type(world, "Microsoft.Compute/galleries/images/versions")}
    for name in names:
        assert images[f"img-{name}"]["tags"]["goldenimage-build-id"] == build_ids[name]
        assert versions[name]["tags"]["goldenimage-build-id"] == build_ids[name]
    for kind in gi_build.BUILD_TYPES:
        assert gi_build.by_type(world, kind) == [], kind
    assert [g["name"] for g in gi_build.by_type(world, "Microsoft.Resources/resourceGroups")] == [gi_build.OUTPUT_RG]
