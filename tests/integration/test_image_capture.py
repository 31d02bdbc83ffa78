"""goldenimage.azure.image_capture through ansible-playbook against the simulator."""

from __future__ import annotations

import json

import pytest

from tests.integration import lifecycle_setup as setup

VERSION_TYPE = "Microsoft.Compute/galleries/images/versions"
IMAGE_TYPE = "Microsoft.Compute/images"
URN = "Canonical:ubuntu-24_04-lts:server:"


def playbook(options, check=False):
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: capture
      goldenimage.azure.image_capture: {json.dumps(options)}
"""


def gallery(**extra):
    opts = {"name": "gal_golden", "resource_group": "rg-build", "image": "ubuntu-2404", "create_definition": True,
            "publisher": "Contoso", "offer": "ubuntu", "sku": "24_04-gen2"}
    opts.update(extra)
    return opts


@pytest.fixture
def vm(compute, network, resources):
    return setup.generalize(compute, setup.make_vm(compute, network, resources))


def versions(sim):
    return sorted(item["name"] for item in sim.admin.resources(VERSION_TYPE))


def writes(sim, since):
    return [r for r in setup.arm_requests(sim, since) if r["method"] in ("PUT", "PATCH", "POST", "DELETE")]


def test_gallery_version_from_vm_with_definition_created(fresh_sim, play, vm):
    run = play(playbook({"source": vm["id"], "build_id": "b-1", "gallery": gallery()}))
    assert run.rc == 0, run.stdout
    result = run.task("capture")["result"]
    assert result["changed"] is True and result["version"] == "1.0.0"
    assert result["source"]["hyper_v_generation"] == "V2" and result["source"]["os_state"] == "Generalized"
    assert result["source"]["source_urn"].startswith(URN) and not result["source"]["source_urn"].endswith("latest")
    definition = fresh_sim.admin.resource(vm["id"].split("/providers/")[0] +
                                          "/providers/Microsoft.Compute/galleries/gal_golden/images/ubuntu-2404")
    assert definition["properties"]["hyperVGeneration"] == "V2"
    assert definition["properties"]["osState"] == "Generalized"
    assert definition["properties"]["identifier"] == {"publisher": "Contoso", "offer": "ubuntu", "sku": "24_04-gen2"}
    [version] = fresh_sim.admin.resources(VERSION_TYPE)
    assert version["name"] == "1.0.0"
    assert version["tags"]["goldenimage-source-urn"] == result["source"]["source_urn"]
    assert version["tags"]["goldenimage-build-id"] == "b-1"
    assert version["properties"]["storageProfile"]["source"]["virtualMachineId"].lower() == vm["id"].lower()
    facts = result["gallery_image_version"]
    assert facts["name"] == "1.0.0" and facts["properties"]["provisioning_state"] == "Succeeded"
    assert result["replication"]["aggregated_state"] == "Completed"
    assert [region["state"] for region in result["replication"]["regions"]] == ["Completed"]

    since = fresh_sim.admin.last_seq()
    again = play(playbook({"source": vm["id"], "build_id": "b-1", "gallery": gallery()}))
    assert again.rc == 0, again.stdout
    result = again.task("capture")["result"]
    assert result["changed"] is False and result["version"] == "1.0.0"
    assert result["gallery_image_version_action"] == "keep"
    assert writes(fresh_sim, since) == []
    assert versions(fresh_sim) == ["1.0.0"]


def test_managed_image_and_gallery_version_together(fresh_sim, play, vm):
    options = {"source": {"type": "vm", "name": "build-vm", "resource_group": "rg-build"},
               "managed_image": {"name": "img-golden", "resource_group": "rg-build"},
               "gallery": gallery(version="2.0.0")}
    run = play(playbook(options))
    assert run.rc == 0, run.stdout
    result = run.task("capture")["result"]
    assert result["managed_image"]["name"] == "img-golden"
    assert result["managed_image"]["properties"]["hyper_v_generation"] == "V2"
    [image] = fresh_sim.admin.resources(IMAGE_TYPE)
    assert image["properties"]["sourceVirtualMachine"]["id"].lower() == vm["id"].lower()
    assert image["tags"]["goldenimage-source-urn"].startswith(URN)
    assert versions(fresh_sim) == ["2.0.0"]
    again = play(playbook(options))
    assert again.task("capture")["result"]["changed"] is False


def test_check_mode_changes_nothing(fresh_sim, play, vm):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"source": vm["id"], "managed_image": {"name": "img", "resource_group": "rg-build"},
                         "gallery": gallery()}), args=["--check"])
    assert run.rc == 0, run.stdout
    result = run.task("capture")["result"]
    assert result["changed"] is True and result["version"] == "1.0.0"
    assert result["managed_image_action"] == "create" and result["gallery_image_version_action"] == "create"
    assert fresh_sim.admin.resources() == before
    assert writes(fresh_sim, since) == []


def test_diff(play, vm):
    run = play(playbook({"source": vm["id"], "gallery": gallery()}), args=["--diff"])
    diff = run.task("capture")["result"]["diff"]
    assert diff["before"]["gallery_image"] is None
    assert diff["after"]["gallery_image"] == {"os_type": "Linux", "os_state": "Generalized", "hyper_v_generation": "V2",
                                              "security_type": "Standard", "architecture": "x64"}
    assert diff["before"]["gallery_image_version"] is None
    assert diff["after"]["gallery_image_version"]["name"] == "1.0.0"
    assert diff["after"]["gallery_image_version"]["source"].lower() == run.task("capture")["result"]["source"]["id"].lower()


def _existing_versions(compute, vm, names, definition_gen="V2"):
    rg = "rg-build"
    compute.galleries.begin_create_or_update(rg, "gal_golden", {"location": "eastus", "properties": {}}).result()
    compute.gallery_images.begin_create_or_update(rg, "gal_golden", "ubuntu-2404", {
        "location": "eastus", "properties": {"osType": "Linux", "osState": "Generalized",
                                             "hyperVGeneration": definition_gen,
                                             "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}}).result()
    for name in names:
        compute.gallery_image_versions.begin_create_or_update(rg, "gal_golden", "ubuntu-2404", name, {
            "location": "eastus", "properties": {"storageProfile": {"source": {"virtualMachineId": vm["id"]}},
                                                 "publishingProfile": {"targetRegions": [{"name": "eastus"}]}}}).result()


def test_auto_version_is_next_patch_in_numeric_order(fresh_sim, play, compute, network, resources, vm):
    _existing_versions(compute, vm, ["1.0.9", "1.0.10", "1.0.2"])
    other = setup.generalize(compute, setup.make_vm(compute, network, resources, name="build-vm-2"))
    run = play(playbook({"source": other["id"], "gallery": gallery(create_definition=False)}))
    assert run.rc == 0, run.stdout
    assert run.task("capture")["result"]["version"] == "1.0.11"
    assert versions(fresh_sim) == ["1.0.10", "1.0.11", "1.0.2", "1.0.9"]
    # the same source again finds its version instead of making 1.0.12
    again = play(playbook({"source": other["id"], "gallery": gallery(create_definition=False)}))
    assert again.task("capture")["result"]["version"] == "1.0.11"
    assert again.task("capture")["result"]["changed"] is False


def test_generation_mismatch_refused_before_anything_is_created(fresh_sim, play, compute, vm):
    _existing_versions(compute, vm, [], definition_gen="V1")
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"source": vm["id"], "managed_image": {"name": "img", "resource_group": "rg-build"},
                         "gallery": gallery()}))
    assert run.rc != 0
    result = run.task("capture")["result"]
    assert "Hyper-V generation" in result["msg"] and "V1" in result["msg"] and "V2" in result["msg"]
    assert result["error_code"] == "DefinitionMismatch"
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before


def test_trusted_launch_vm(fresh_sim, play, compute, network, resources):
    tl = setup.generalize(compute, setup.make_vm(compute, network, resources, name="tl-vm",
                                                 security_type="TrustedLaunch"))
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    refused = play(playbook({"source": tl["id"], "managed_image": {"name": "img", "resource_group": "rg-build"},
                             "gallery": gallery()}))
    assert refused.rc != 0
    result = refused.task("capture")["result"]
    assert result["error_code"] == "TrustedLaunchNotSupported" and "gallery" in result["msg"]
    assert writes(fresh_sim, since) == [] and fresh_sim.admin.resources() == before

    # a Standard definition does not fit a Trusted Launch source
    _existing_versions(compute, tl, [])
    mismatch = play(playbook({"source": tl["id"], "gallery": gallery()}))
    assert mismatch.rc != 0
    assert "security type" in mismatch.task("capture")["result"]["msg"]
    assert versions(fresh_sim) == []

    # a new definition inherits TrustedLaunch from the source
    run = play(playbook({"source": tl["id"], "gallery": gallery(image="ubuntu-2404-tl")}))
    assert run.rc == 0, run.stdout
    features = run.task("capture")["result"]["gallery_image"]["properties"]["features"]
    assert {"name": "SecurityType", "value": "TrustedLaunch"} in features


def test_specialized_vm_refused(fresh_sim, play, compute, network, resources):
    vm = setup.make_vm(compute, network, resources, name="spec-vm")
    compute.virtual_machines.begin_deallocate("rg-build", "spec-vm").result()
    before = fresh_sim.admin.resources()
    run = play(playbook({"source": vm["id"], "gallery": gallery()}))
    assert run.rc != 0
    assert "OS state" in run.task("capture")["result"]["msg"]
    assert "vm_generalize" in run.task("capture")["result"]["msg"]
    assert fresh_sim.admin.resources() == before
    # declared specialized: a Specialized definition takes it
    run = play(playbook({"source": vm["id"], "os_state": "Specialized", "gallery": gallery(image="specialized")}))
    assert run.rc == 0, run.stdout
    assert run.task("capture")["result"]["gallery_image"]["properties"]["os_state"] == "Specialized"


def test_same_name_other_source_needs_force(fresh_sim, play, compute, network, resources, vm):
    options = {"source": vm["id"], "managed_image": {"name": "img", "resource_group": "rg-build"},
               "gallery": gallery(version="1.0.0")}
    assert play(playbook(options)).rc == 0
    other = setup.generalize(compute, setup.make_vm(compute, network, resources, name="build-vm-2"))
    before = fresh_sim.admin.resources()
    clash = play(playbook(dict(options, source=other["id"])))
    assert clash.rc != 0
    assert "force" in clash.task("capture")["result"]["msg"]
    assert fresh_sim.admin.resources() == before
    forced = play(playbook(dict(options, source=other["id"], force=True)))
    assert forced.rc == 0, forced.stdout
    [image] = fresh_sim.admin.resources(IMAGE_TYPE)
    assert image["properties"]["sourceVirtualMachine"]["id"].lower() == other["id"].lower()
    [version] = fresh_sim.admin.resources(VERSION_TYPE)
    assert version["properties"]["storageProfile"]["source"]["virtualMachineId"].lower() == other["id"].lower()


@pytest.mark.parametrize("options, fragment", [
    ({"gallery": gallery(version="1.2")}, "gallery.version"),
    ({"gallery": gallery(publisher=None)}, "gallery.publisher"),
    ({"gallery": gallery(create_definition=False)}, "create_definition"),
    ({"gallery": gallery(target_regions=[{"name": "westus2"}])}, "target_regions"),
    ({"gallery": gallery(replica_count=0)}, "replica_count"),
    ({}, "managed_image, gallery"),
    ({"source": "https://example.com/x.txt", "gallery": gallery()}, "source"),
])
def test_bad_input_fails_before_any_change(fresh_sim, play, vm, options, fragment):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(playbook(dict({"source": vm["id"]}, **options)))
    assert run.rc != 0
    assert fragment in run.task("capture")["result"]["msg"]
    assert writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before


def test_failed_version_is_deleted(fresh_sim, play, vm):
    fresh_sim.admin.faults([{"method": "PUT", "path": "/versions/[^/]+$", "action": "fail_operation",
                             "code": "ReplicationFailed", "message": "Replication to eastus failed (injected)."}])
    run = play(playbook({"source": vm["id"], "gallery": gallery()}))
    assert run.rc != 0
    result = run.task("capture")["result"]
    assert result["error_code"] == "ReplicationFailed"
    assert result["cleanup"] == "deleted" and "deleted" in result["msg"]
    assert versions(fresh_sim) == []


def test_failed_version_kept_on_request(fresh_sim, play, vm):
    fresh_sim.admin.faults([{"method": "PUT", "path": "/versions/[^/]+$", "action": "fail_operation",
                             "code": "ReplicationFailed"}])
    run = play(playbook({"source": vm["id"], "gallery": gallery(keep_failed=True)}))
    assert run.rc != 0
    assert run.task("capture")["result"]["cleanup"] == "kept"
    assert versions(fresh_sim) == ["1.0.0"]


def test_replication_timeout_names_operation_reports_progress_and_cleans_up(fresh_sim, play, compute, vm):
    _existing_versions(compute, vm, [])
    fresh_sim.admin.freeze_clock()  # simulated time moves only when the test says so
    fresh_sim.admin.settings(time_scale=100.0)
    run = play(playbook({"source": vm["id"], "wait_timeout": 3,
                         "gallery": gallery(target_regions=[{"name": "eastus"}, {"name": "westeurope"}])}))
    assert run.rc != 0
    result = run.task("capture")["result"]
    assert result["error_code"] == "OperationTimedOut"
    assert "create gallery image version 'gal_golden/ubuntu-2404/1.0.0'" in result["msg"]
    regions = {item["region"] for item in result["replication"]["regions"]}
    assert len(regions) == 2
    assert all(item["state"] != "Completed" for item in result["replication"]["regions"])
    assert result["cleanup"] in ("deleted", "deleting")  # the delete was started within the task
    fresh_sim.admin.finish_operations()
    assert versions(fresh_sim) == []


def test_transient_errors_are_retried(fresh_sim, play, vm):
    fresh_sim.admin.faults([{"method": "PUT", "path": "/versions/[^/]+$", "status": 503, "times": 1},
                            {"method": "PUT", "path": "/images/[^/]+$", "status": 429, "times": 1}])
    since = fresh_sim.admin.last_seq()
    run = play(playbook({"source": vm["id"], "gallery": gallery()}))
    assert run.rc == 0, run.stdout
    assert versions(fresh_sim) == ["1.0.0"]
    # each refused PUT was sent again, and only once more
    puts = [(r["path"].split("/")[-2], r["status"]) for r in writes(fresh_sim, since) if r["method"] == "PUT"]
    assert [status for kind, status in puts if kind == "images"] == [429, 201], puts
    assert [status for kind, status in puts if kind == "versions"] == [503, 201], puts


def test_snapshot_source_infers_generation(fresh_sim, play, compute, vm):
    os_disk_id = vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
    compute.snapshots.begin_create_or_update("rg-build", "snap1", {
        "location": "eastus", "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": os_disk_id}}
    }).result()
    snap_id = os_disk_id.split("/providers/")[0] + "/providers/Microsoft.Compute/snapshots/snap1"
    run = play(playbook({"source": snap_id, "managed_image": {"name": "img-snap", "resource_group": "rg-build"},
                         "gallery": gallery(image="from-snap")}))
    assert run.rc == 0, run.stdout
    result = run.task("capture")["result"]
    assert result["source"]["type"] == "snapshot" and result["source"]["hyper_v_generation"] == "V2"
    [image] = fresh_sim.admin.resources(IMAGE_TYPE)
    assert image["properties"]["storageProfile"]["osDisk"]["snapshot"]["id"].lower() == snap_id.lower()
    assert image["properties"]["hyperVGeneration"] == "V2"


def test_publishing_settings_land_and_are_updated_in_place(fresh_sim, play, vm):
    base = gallery(version="1.0.0", replica_count=2, storage_account_type="Standard_ZRS",
                   end_of_life_date="2027-12-31T00:00:00Z",
                   target_regions=[{"name": "eastus"}, {"name": "westeurope", "replica_count": 1,
                                                         "storage_account_type": "Standard_LRS"}])
    run = play(playbook({"source": vm["id"], "gallery": base, "tags": {"team": "images"}}))
    assert run.rc == 0, run.stdout
    [version] = fresh_sim.admin.resources(VERSION_TYPE)
    profile = version["properties"]["publishingProfile"]
    regions = {r["name"].replace(" ", "").lower(): (r["regionalReplicaCount"], r["storageAccountType"])
               for r in profile["targetRegions"]}
    assert regions == {"eastus": (2, "Standard_ZRS"), "westeurope": (1, "Standard_LRS")}
    assert profile["endOfLifeDate"].startswith("2027-12-31") and profile["excludeFromLatest"] is False
    assert version["tags"]["team"] == "images"
    assert {r["region"].replace(" ", "").lower() for r in run.task("capture")["result"]["replication"]["regions"]} == \
        {"eastus", "westeurope"}

    changed = dict(base, exclude_from_latest=True, target_regions=base["target_regions"] + [{"name": "uksouth"}])
    since = fresh_sim.admin.last_seq()
    update = play(playbook({"source": vm["id"], "gallery": changed, "tags": {"team": "images"}}))
    assert update.rc == 0, update.stdout
    result = update.task("capture")["result"]
    assert result["changed"] is True and result["gallery_image_version_action"] == "update"
    assert [r["method"] for r in writes(fresh_sim, since)] == ["PATCH"]
    [version] = fresh_sim.admin.resources(VERSION_TYPE)
    assert version["properties"]["publishingProfile"]["excludeFromLatest"] is True
    assert len(version["properties"]["publishingProfile"]["targetRegions"]) == 3
    again = play(playbook({"source": vm["id"], "gallery": changed, "tags": {"team": "images"}}))
    assert again.task("capture")["result"]["changed"] is False


def test_vhd_source(fresh_sim, play, resources):
    setup.make_group(resources)
    uri = "https://stimages.blob.core.windows.net/vhds/base.vhd"
    account = ("/subscriptions/%s/resourceGroups/rg-build/providers/Microsoft.Storage/storageAccounts/stimages"
               % fresh_sim.subscription_id)
    options = {"source": uri, "os_type": "Linux", "hyper_v_generation": "V2", "storage_account_id": account,
               "gallery": gallery(image="imported", location="eastus")}
    missing_os = play(playbook({"source": uri, "gallery": gallery(image="imported", location="eastus")}))
    assert missing_os.rc != 0 and "os_type" in missing_os.task("capture")["result"]["msg"]
    run = play(playbook(options))
    assert run.rc == 0, run.stdout
    [version] = fresh_sim.admin.resources(VERSION_TYPE)
    assert version["properties"]["storageProfile"]["osDiskImage"]["source"]["uri"] == uri
    assert play(playbook(options)).task("capture")["result"]["changed"] is False


def test_failed_managed_image_is_deleted(fresh_sim, play, vm):
    fresh_sim.admin.faults([{"method": "PUT", "path": "/images/[^/]+$", "action": "fail_operation",
                             "code": "InternalOperationError"}])
    run = play(playbook({"source": vm["id"], "managed_image": {"name": "img", "resource_group": "rg-build"}}))
    assert run.rc != 0
    result = run.task("capture")["result"]
    assert result["error_code"] == "InternalOperationError" and result["cleanup"] == "deleted"
    assert fresh_sim.admin.resources(IMAGE_TYPE) == []


def test_managed_image_from_a_vm_that_is_not_generalized_is_refused(fresh_sim, play, compute, network, resources):
    vm = setup.make_vm(compute, network, resources, name="spec-vm")
    compute.virtual_machines.begin_deallocate("rg-build", "spec-vm").result()
    before = fresh_sim.admin.resources()
    run = play(playbook({"source": vm["id"], "managed_image": {"name": "img", "resource_group": "rg-build"}}))
    assert run.rc != 0
    result = run.task("capture")["result"]
    assert result["error_code"] == "VMNotGeneralized" and "vm_generalize" in result["msg"]
    assert fresh_sim.admin.resources() == before


def test_rerun_after_the_source_vm_was_deleted(fresh_sim, play, compute, vm):
    options = {"source": vm["id"], "build_id": "b-7", "managed_image": {"name": "img", "resource_group": "rg-build"},
               "gallery": gallery()}
    assert play(playbook(options)).rc == 0
    compute.virtual_machines.begin_delete("rg-build", "build-vm").result()
    since = fresh_sim.admin.last_seq()
    run = play(playbook(options))
    assert run.rc == 0, run.stdout
    result = run.task("capture")["result"]
    assert result["changed"] is False and result["source"]["exists"] is False
    assert result["version"] == "1.0.0" and result["managed_image"]["name"] == "img"
    assert writes(fresh_sim, since) == []
    # creating something new still needs the source
    missing = play(playbook(dict(options, gallery=gallery(version="1.0.1"))))
    assert missing.rc != 0 and missing.task("capture")["result"]["error_code"] == "SourceNotFound"
