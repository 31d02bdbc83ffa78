"""The example vars files of issue 13 through the main job on a real local guest (root), state read from azsim."""

from __future__ import annotations

import os

import pytest

from tests.guest import gi_build
from tests.harness import ROOT

pytestmark = [pytest.mark.guest, pytest.mark.slow]

EXAMPLES = os.path.join(ROOT, "examples", "vars")


def test_plan_image_example_accepts_the_terms_and_the_definition_carries_the_plan(guest_cache, fresh_sim, resources,
                                                                                  tmp_path):
    gi_build.require_guests()
    gi_build.prepare_outputs(resources)
    with gi_build.guests(fresh_sim, 1):
        run, manifest = gi_build.run_build(fresh_sim, tmp_path, vars_file=os.path.join(EXAMPLES, "cis-plan-image.yml"),
                                           cwd=ROOT)
    assert run.rc == 0, run.stdout[-4000:]
    assert manifest["status"] == "succeeded"
    (agreement,) = gi_build.by_type(fresh_sim, "Microsoft.MarketplaceOrdering/offertypes")
    assert agreement["properties"]["accepted"] is True
    (definition,) = gi_build.by_type(fresh_sim, "Microsoft.Compute/galleries/images")
    assert definition["properties"]["purchasePlan"] == {"name": "cis-ubuntu2204-l1-gen2",
                                                        "publisher": "center-for-internet-security-inc",
                                                        "product": "cis-ubuntu-linux-2204-l1"}
    (version,) = gi_build.by_type(fresh_sim, "Microsoft.Compute/galleries/images/versions")
    assert version["properties"]["provisioningState"] == "Succeeded"
    assert gi_build.leftovers(fresh_sim, ["-"]) == []


def test_arm64_example_makes_an_arm64_definition(guest_cache, fresh_sim, resources, tmp_path):
    gi_build.require_guests()
    gi_build.prepare_outputs(resources)
    with gi_build.guests(fresh_sim, 1):
        run, manifest = gi_build.run_build(fresh_sim, tmp_path,
                                           vars_file=os.path.join(EXAMPLES, "ubuntu-2404-arm64.yml"), cwd=ROOT)
    assert run.rc == 0, run.stdout[-4000:]
    assert manifest["builds"][0]["base_image"]["architecture"] == "Arm64"
    (definition,) = gi_build.by_type(fresh_sim, "Microsoft.Compute/galleries/images")
    assert definition["properties"]["architecture"] == "Arm64"  # inherited from the VM's disk, not x64
    (version,) = gi_build.by_type(fresh_sim, "Microsoft.Compute/galleries/images/versions")
    assert version["properties"]["provisioningState"] == "Succeeded"
    assert gi_build.leftovers(fresh_sim, ["-"]) == []


def test_trusted_launch_example_makes_a_gallery_only_trusted_launch_image(guest_cache, fresh_sim, resources, tmp_path):
    gi_build.require_guests()
    gi_build.prepare_outputs(resources)
    with gi_build.guests(fresh_sim, 1):
        run, manifest = gi_build.run_build(
            fresh_sim, tmp_path, vars_file=os.path.join(EXAMPLES, "ubuntu-2404-trusted-launch.yml"), cwd=ROOT)
    assert run.rc == 0, run.stdout[-4000:]
    assert manifest["status"] == "succeeded"
    (definition,) = gi_build.by_type(fresh_sim, "Microsoft.Compute/galleries/images")
    assert {"name": "SecurityType", "value": "TrustedLaunch"} in definition["properties"]["features"]
    (version,) = gi_build.by_type(fresh_sim, "Microsoft.Compute/galleries/images/versions")
    assert version["properties"]["provisioningState"] == "Succeeded"
    assert gi_build.by_type(fresh_sim, "Microsoft.Compute/images") == []  # gallery only
    assert gi_build.leftovers(fresh_sim, ["-"]) == []


def test_cmk_example_encrypts_the_version_in_both_regions_with_their_own_sets(guest_cache, fresh_sim, resources,
                                                                               compute, tmp_path):
    gi_build.require_guests()
    gi_build.prepare_outputs(resources)
    resources.resource_groups.create_or_update("rg-keys", {"location": "westeurope"})
    key = "https://kv-golden01.vault.azure.net/keys/disk-key/0123456789abcdef0123456789abcdef"
    sets = {region: compute.disk_encryption_sets.begin_create_or_update("rg-keys", f"des-{region}", {
        "location": region, "identity": {"type": "SystemAssigned"},
        "properties": {"activeKey": {"keyUrl": key}}}).result().id for region in ("westeurope", "northeurope")}
    with gi_build.guests(fresh_sim, 1):
        run, manifest = gi_build.run_build(fresh_sim, tmp_path, vars_file=os.path.join(EXAMPLES, "cmk-two-regions.yml"),
                                           cwd=ROOT)
    assert run.rc == 0, run.stdout[-4000:]
    assert manifest["status"] == "succeeded"
    (version,) = gi_build.by_type(fresh_sim, "Microsoft.Compute/galleries/images/versions")
    assert version["properties"]["provisioningState"] == "Succeeded"
    regions = {region["name"]: region["encryption"]["osDiskImage"]["diskEncryptionSetId"].lower()
               for region in version["properties"]["publishingProfile"]["targetRegions"]}
    assert regions == {"West Europe": sets["westeurope"].lower(), "North Europe": sets["northeurope"].lower()}
    assert gi_build.leftovers(fresh_sim, ["-"]) == []
