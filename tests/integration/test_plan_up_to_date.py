"""Rebuild only when needed: the plan leaves out a build whose newest good gallery version was made from the same
pinned base, definition hash and collection version, and plans it again when any of them changed, when that
version is not good (excluded from latest, failed validation) or with force_rebuild. A main job where every build
is up to date creates nothing and changes nothing. Real ansible-playbook against the simulator, no guest: the
outputs are published beforehand with the SDK."""

from __future__ import annotations

import pytest

from tests.guest import gi_build

OUT = gi_build.OUTPUT_RG
URN = "Canonical:ubuntu-24_04-lts:server:24.04.202411200"
VHD = "https://goldenstore.blob.core.windows.net/vhds/ubuntu-2404.vhd"
PLAN_TASK = "Plan - pin the base images and check every output before any VM is created"


@pytest.fixture
def gallery(fresh_sim, resources, compute):
    gi_build.prepare_outputs(resources, compute, gallery="golden", definitions=("ubuntu",))
    image = compute.images.begin_create_or_update(OUT, "img-source", {
        "location": "westeurope",
        "properties": {"hyperVGeneration": "V2", "storageProfile": {"osDisk": {
            "osType": "Linux", "osState": "Generalized", "blobUri": VHD, "diskSizeGB": 30}}},
    }).result()
    return image.id


def publish(compute, source, version, tags, exclude=False):
    compute.gallery_image_versions.begin_create_or_update(OUT, "golden", "ubuntu", version, {
        "location": "westeurope", "tags": tags,
        "properties": {"publishingProfile": {"targetRegions": [{"name": "westeurope"}], "excludeFromLatest": exclude},
                       "storageProfile": {"source": {"id": source}}},
    }).result()


def definition(tmp_path, **extra):
    (tmp_path / "customize.yml").exists() or (tmp_path / "customize.yml").write_text("- ansible.builtin.ping:\n")
    build = gi_build.image_definition("ubuntu", managed_image=False, create_definition=False,
                                      regions=("westeurope",))
    build.update(customize_tasks="customize.yml", **extra)
    return build


def plan(sim, tmp_path, build, args=()):
    run = gi_build.run_plan(sim, [build], args, base_dir=str(tmp_path), run_id="auto")
    assert run.rc == 0, run.stdout
    return run.task("plan")["result"]


def test_matching_version_is_up_to_date_until_a_file_changes_or_force(fresh_sim, gallery, compute, tmp_path):
    first = plan(fresh_sim, tmp_path, definition(tmp_path))
    (build,) = first["builds"]
    assert first["up_to_date"] == [] and "does not exist" not in build["rebuild_reason"]
    tags = build["output_tags"]
    assert tags["goldenimage-source-urn"] == URN and len(tags["goldenimage-definition-hash"]) == 64
    assert build["vm"]["tags"]["goldenimage-definition-hash"] == tags["goldenimage-definition-hash"]
    publish(compute, gallery, "1.0.0", {"goldenimage-source-urn": "Canonical:ubuntu-24_04-lts:server:24.04.202411030"})
    publish(compute, gallery, "1.0.1", dict(tags, **{"goldenimage-validation": "passed"}))

    for args in ((), ("--check",)):
        again = plan(fresh_sim, tmp_path, definition(tmp_path), args)
        assert again["builds"] == [] and again["changed"] is False
        (current,) = again["up_to_date"]
        assert current["name"] == "ubuntu" and current["version"] == "1.0.1"
        assert current["base_urn"] == URN and current["definition_hash"] == tags["goldenimage-definition-hash"]
        assert current["output_id"].lower().endswith("/images/ubuntu/versions/1.0.1")

    forced = plan(fresh_sim, tmp_path, definition(tmp_path, force_rebuild=True))
    assert [item["name"] for item in forced["builds"]] == ["ubuntu"] and forced["up_to_date"] == []

    (tmp_path / "customize.yml").write_text("- ansible.builtin.ping:\n- ansible.builtin.debug: {msg: new}\n")
    changed = plan(fresh_sim, tmp_path, definition(tmp_path))
    assert changed["up_to_date"] == [] and [item["name"] for item in changed["builds"]] == ["ubuntu"]
    assert changed["builds"][0]["definition_hash"] != tags["goldenimage-definition-hash"]


def test_other_base_or_a_version_that_is_not_good_is_rebuilt(fresh_sim, gallery, compute, tmp_path):
    tags = plan(fresh_sim, tmp_path, definition(tmp_path))["builds"][0]["output_tags"]
    # the newest good version was made from an older base: a newer base version is out, rebuild
    publish(compute, gallery, "1.0.0", dict(tags, **{"goldenimage-source-urn": URN.replace("202411200", "202411030")}))
    older = plan(fresh_sim, tmp_path, definition(tmp_path))
    assert older["up_to_date"] == [] and "the base is now %s" % URN in older["builds"][0]["rebuild_reason"]
    # a newer version that matches but is excluded from latest (failed validation) is not good
    publish(compute, gallery, "1.0.1", tags, exclude=True)
    publish(compute, gallery, "1.0.2", dict(tags, **{"goldenimage-validation": "failed"}))
    excluded = plan(fresh_sim, tmp_path, definition(tmp_path))
    assert excluded["up_to_date"] == [] and [item["name"] for item in excluded["builds"]] == ["ubuntu"]
    assert "version 1.0.0 " in excluded["builds"][0]["rebuild_reason"]


def test_main_job_with_every_build_up_to_date_creates_and_changes_nothing(fresh_sim, gallery, compute, tmp_path):
    build = definition(tmp_path)
    publish(compute, gallery, "1.0.0", plan(fresh_sim, tmp_path, build)["builds"][0]["output_tags"])
    since = fresh_sim.admin.last_seq()
    run, manifest = gi_build.run_build(fresh_sim, tmp_path, builds=[build],
                                       extra={"golden_image_definition_dir": str(tmp_path)})
    assert run.rc == 0, run.stdout
    assert [item["task"] for item in run.results if item["result"].get("changed")] == []
    assert gi_build.writes(fresh_sim, since) == []  # no group, no VM: not one write
    (entry,) = manifest["builds"]
    assert manifest["status"] == "succeeded"
    assert entry["status"] == "up_to_date" and "version 1.0.0" in entry["reason"]
    assert entry["up_to_date_output"]["version"] == "1.0.0" and entry["base_image"]["urn"] == URN
