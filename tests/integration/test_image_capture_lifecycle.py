"""image_capture gallery lifecycle (keep_versions, end_of_life_days, replication_mode) through ansible-playbook."""

from __future__ import annotations

import datetime

from tests.integration import lifecycle_setup as setup
from tests.integration.test_image_capture import _existing_versions, gallery, playbook, versions, vm  # noqa: F401

DEFINITION = "/providers/Microsoft.Compute/galleries/gal_golden/images/ubuntu-2404"


def test_keep_versions_prunes_only_what_nothing_needs(fresh_sim, play, compute, network, resources, vm):  # noqa: F811
    definition_id = vm["id"].split("/providers/")[0] + DEFINITION
    _existing_versions(compute, vm, ["1.0.1", "1.0.2", "1.0.3"])
    setup.make_vm(compute, network, resources, name="app-pinned", image={"id": definition_id + "/versions/1.0.1"})
    setup.make_vm(compute, network, resources, name="app-latest", image={"id": definition_id})  # runs 1.0.3
    _existing_versions(compute, vm, ["1.0.4"])  # latest, as the new version is excluded from it
    source = setup.generalize(compute, setup.make_vm(compute, network, resources, name="build-vm-2"))
    options = {"source": source["id"], "gallery": gallery(keep_versions=1, exclude_from_latest=True,
                                                           replication_mode="Shallow", end_of_life_days=30)}

    check = play(playbook(options), args=("--check", "--diff"))
    assert check.rc == 0, check.stdout
    predicted = check.task("capture")["result"]
    assert predicted["pruned_versions"] == ["1.0.2"]
    assert predicted["diff"]["after"]["gallery_versions"] == ["1.0.1", "1.0.3", "1.0.4", "1.0.5"], predicted["diff"]
    assert versions(fresh_sim) == ["1.0.1", "1.0.2", "1.0.3", "1.0.4"]

    run = play(playbook(options))
    assert run.rc == 0, run.stdout
    result = run.task("capture")["result"]
    assert result["changed"] is True and result["version"] == "1.0.5"
    assert result["pruned_versions"] == ["1.0.2"]
    reasons = {item["name"]: item["reason"] for item in result["kept_versions"]}
    assert reasons["1.0.5"].startswith("one of the newest 1")
    assert reasons["1.0.4"].startswith("latest resolves to it")
    assert reasons["1.0.3"] == "used by VM app-latest" and reasons["1.0.1"] == "used by VM app-pinned"
    assert versions(fresh_sim) == ["1.0.1", "1.0.3", "1.0.4", "1.0.5"]
    profile = fresh_sim.admin.resource(definition_id + "/versions/1.0.5")["properties"]["publishingProfile"]
    expected_eol = (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=30)).isoformat()
    assert profile["replicationMode"] == "Shallow" and profile["endOfLifeDate"].startswith(expected_eol)
    assert profile["excludeFromLatest"] is True

    again = play(playbook(options))
    assert again.rc == 0, again.stdout
    result = again.task("capture")["result"]
    assert result["changed"] is False and result["pruned_versions"] == []
    assert versions(fresh_sim) == ["1.0.1", "1.0.3", "1.0.4", "1.0.5"]


def test_shallow_to_other_regions_is_refused_before_anything_changes(fresh_sim, play, vm):  # noqa: F811
    options = {"source": vm["id"], "gallery": gallery(replication_mode="Shallow",
                                                      target_regions=[{"name": "eastus"}, {"name": "westeurope"}])}
    run = play(playbook(options))
    assert run.rc != 0
    assert "gallery.replication_mode" in run.task("capture")["result"]["msg"]
    assert fresh_sim.admin.resources("Microsoft.Compute/galleries") == []
