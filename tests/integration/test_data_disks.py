"""Data disks end to end through ansible-playbook against the simulator: a build VM with two blank data disks
(LUNs 0 and 3), captured into a managed image and a gallery version that keep them at their LUNs, reported by
image_facts; and the bad inputs (LUN clash, LUN out of range, too many disks for the size), each refused before
any resource exists."""

from __future__ import annotations

import json

import pytest

from tests.guest import gi_build

PLAN_TASK = "Plan - pin the base images and check every output before any VM is created"
URN = "Canonical:ubuntu-24_04-lts:server:24.04.202411200"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGqc1hGSzNoMQVBoQhDVdk0Bpq5Hj8ZydK4Y3wXhw1Uv test"
DATA_DISKS = [
    {"lun": 0, "size_gb": 64, "sku": "Premium_LRS", "caching": "ReadOnly"},
    {"lun": 3, "size_gb": 128, "sku": "StandardSSD_LRS"},
]
# (lun, size, storage type, caching) of each disk, as the simulator must store it.
EXPECTED = [(0, 64, "Premium_LRS", "ReadOnly"), (3, 128, "StandardSSD_LRS", "None")]
OUT = "rg-out"
GALLERY = {"name": "gal_golden", "resource_group": OUT, "image": "ubuntu-data", "version": "1.0.0",
           "create_definition": True, "publisher": "Contoso", "offer": "ubuntu", "sku": "data-gen2"}


def build_task(build_id, data_disks, vm_size="Standard_D2s_v5", check=False, name="build"):
    options = {"build_id": build_id, "location": "eastus", "image": URN, "ssh_public_key": SSH_KEY,
               "vm_size": vm_size, "allowed_sources": ["203.0.113.7/32"], "data_disks": data_disks,
               "wait_timeout": 120}
    return f"""
    - name: {name}
      goldenimage.azure.build_vm: {json.dumps(options)}
      {"check_mode: true" if check else ""}
"""


def play_of(*tasks):
    return "- hosts: localhost\n  gather_facts: false\n  tasks:\n" + "".join(tasks)


def vm_id(sim, build_id):
    return (f"/subscriptions/{sim.subscription_id}/resourceGroups/gi-build-{build_id}/providers/"
            f"Microsoft.Compute/virtualMachines/gi-{build_id}")


def by_lun(entries):
    return {entry["lun"]: entry for entry in entries}


@pytest.fixture
def output_group(resources):
    resources.resource_groups.create_or_update(OUT, {"location": "eastus"})
    return OUT


def test_build_vm_with_data_disks_captured_with_their_luns(play, fresh_sim, output_group, tmp_path):
    first = play(play_of(build_task("dd1", DATA_DISKS), build_task("dd1", DATA_DISKS, name="again")))
    assert first.rc == 0, first.stdout[-3000:]
    result = first.task("build")["result"]
    assert result["changed"] is True and first.task("again")["result"]["changed"] is False
    vm = fresh_sim.admin.resource(vm_id(fresh_sim, "dd1"))
    entries = by_lun(vm["properties"]["storageProfile"]["dataDisks"])
    assert sorted(entries) == [0, 3]
    for lun, size, sku, caching in EXPECTED:
        entry = entries[lun]
        assert (entry["createOption"], entry["diskSizeGB"], entry["caching"]) == ("Empty", size, caching)
        disk = fresh_sim.admin.resource(entry["managedDisk"]["id"])
        assert disk["name"] == f"gi-dd1-datadisk-{lun}"
        assert (disk["sku"]["name"], disk["properties"]["diskSizeGB"], disk["properties"]["diskState"]) == \
            (sku, size, "Attached")
        assert disk["managedBy"].lower() == vm["id"].lower()
        reported = by_lun(result["data_disks"])[lun]
        assert (reported["size_gb"], reported["sku"], reported["caching"]) == (size, sku, caching)
        assert reported["id"].lower() == disk["id"].lower()

    captured = play(play_of(f"""
    - name: Capture
      ansible.builtin.include_role:
        name: goldenimage.azure.capture
      vars:
        capture_vm_name: gi-dd1
        capture_resource_group: gi-build-dd1
        capture_build_id: dd1
        capture_force_generalize: true
        capture_managed_image: {{name: img-dd1, resource_group: {OUT}}}
        capture_gallery: {json.dumps(GALLERY)}
    - name: facts
      goldenimage.azure.image_facts:
        location: eastus
        managed_image: {{resource_group: {OUT}, name: img-dd1}}
        gallery_image: {{resource_group: {OUT}, gallery: gal_golden, name: ubuntu-data}}
    - name: cleanup
      goldenimage.azure.build_vm: {{state: absent, build_id: dd1}}
"""))
    assert captured.rc == 0, captured.stdout[-3000:]

    base = f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/{OUT}/providers/Microsoft.Compute"
    image = fresh_sim.admin.resource(f"{base}/images/img-dd1")
    image_disks = by_lun(image["properties"]["storageProfile"]["dataDisks"])
    assert sorted(image_disks) == [0, 3]
    for lun, size, sku, caching in EXPECTED:
        assert (image_disks[lun]["diskSizeGB"], image_disks[lun]["storageAccountType"],
                image_disks[lun]["caching"]) == (size, sku, caching)
        assert image_disks[lun]["managedDisk"]["id"].lower() == entries[lun]["managedDisk"]["id"].lower()
    version = fresh_sim.admin.resource(f"{base}/galleries/gal_golden/images/ubuntu-data/versions/1.0.0")
    assert sorted((item["lun"], item["sizeInGB"], item["hostCaching"])
                  for item in version["properties"]["storageProfile"]["dataDiskImages"]) == \
        [(0, 64, "ReadOnly"), (3, 128, "None")]

    for step in ("Capture the managed image", "Publish the gallery image version and wait for its replication"):
        source = captured.task(f"goldenimage.azure.capture : {step}")["result"]["source"]
        assert [(item["lun"], item["size_gb"], item["storage_account_type"], item["caching"])
                for item in source["data_disks"]] == EXPECTED
    managed, gallery = captured.task("facts")["result"]["images"]
    assert [(item["lun"], item["size_gb"], item["storage_account_type"], item["caching"])
            for item in managed["data_disk_images"]] == EXPECTED
    assert [(item["lun"], item["size_gb"], item["caching"]) for item in gallery["data_disk_images"]] == \
        [(0, 64, "ReadOnly"), (3, 128, "None")]
    assert all(item["storage_account_type"] for item in gallery["data_disk_images"])
    # The build's data disks went with the VM (deleteOption Delete) and the group with the cleanup.
    assert not [disk for disk in fresh_sim.admin.resources("Microsoft.Compute/disks") if "datadisk" in disk["name"]]


def test_check_mode_reports_the_data_disks_and_creates_nothing(play, fresh_sim):
    run = play(play_of(build_task("dd2", DATA_DISKS, check=True)))
    assert run.rc == 0, run.stdout[-3000:]
    result = run.task("build")["result"]
    assert result["changed"] is True
    assert [(item["lun"], item["size_gb"], item["sku"], item["caching"]) for item in result["data_disks"]] == EXPECTED
    assert fresh_sim.admin.resources() == []


TOO_MANY = [{"lun": lun, "size_gb": 4} for lun in range(5)]  # Standard_B2s takes 4


@pytest.mark.parametrize("data_disks, vm_size, fragments", [
    ([{"lun": 0, "size_gb": 8}, {"lun": 0, "size_gb": 16}], "Standard_D2s_v5",
     ["data_disks[1].lun", "LUN 0", "data_disks[0]"]),
    ([{"lun": 64, "size_gb": 8}], "Standard_D2s_v5", ["data_disks[0].lun", "64", "0-63"]),
    (TOO_MANY, "Standard_B2s", ["data_disks", "5 data disks", "Standard_B2s", "at most 4"]),
    ([{"lun": 0, "size_gb": 8, "sku": "Premium_LRS"}], "Standard_D2_v5",
     ["data_disks[0].sku", "Premium_LRS", "Standard_D2_v5", "StandardSSD_LRS"]),
], ids=["lun-clash", "lun-out-of-range", "too-many-for-size", "premium-on-standard-size"])
def test_bad_data_disks_fail_before_any_resource(play, fresh_sim, data_disks, vm_size, fragments):
    run = play(play_of(build_task("dd3", data_disks, vm_size=vm_size)))
    assert run.rc != 0
    msg = run.task("build")["result"]["msg"]
    for fragment in fragments:
        assert fragment in msg, msg
    assert fresh_sim.admin.resources("Microsoft.Resources/resourceGroups") == []
    assert fresh_sim.admin.resources("Microsoft.Compute/virtualMachines") == []
    assert fresh_sim.admin.resources() == []


def test_builder_role_refuses_a_lun_clash_before_anything(play, fresh_sim, tmp_path):
    run = play(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Create the build VMs
      ansible.builtin.include_role:
        name: goldenimage.azure.builder
      vars:
        builder_build_dir: {tmp_path}/builds
        builder_location: eastus
        builder_allowed_sources: [203.0.113.7/32]
        builder_connect_timeout: 2
        builder_vms:
          - {{name: fine, build_id: dd4a, image: "{URN}"}}
          - {{name: clash, build_id: dd4b, image: "{URN}",
             data_disks: [{{lun: 2, size_gb: 8}}, {{lun: 2, size_gb: 8}}]}}
""")
    assert run.rc != 0
    refusal = run.task("goldenimage.azure.builder : Refuse builds that cannot be created (nothing was created)")
    assert "Build 'clash'" in refusal["result"]["msg"] and "data_disks[1].lun" in refusal["result"]["msg"]
    assert fresh_sim.admin.resources() == []


def test_main_job_passes_data_disks_to_the_build_vm_in_check_mode(fresh_sim, resources, tmp_path):
    gi_build.prepare_outputs(resources)
    since = fresh_sim.admin.last_seq()
    builds = [dict(gi_build.image_definition("ubuntu", regions=("westeurope",)), data_disks=DATA_DISKS)]
    run, _manifest = gi_build.run_build(fresh_sim, tmp_path, builds=builds, args=["--check"])
    assert run.rc == 0, run.stdout[-4000:]
    (build,) = run.task(PLAN_TASK)["result"]["builds"]
    assert [(item["lun"], item["size_gb"], item["sku"], item["caching"]) for item in build["vm"]["data_disks"]] == \
        [(0, 64, "Premium_LRS", "ReadOnly"), (3, 128, "StandardSSD_LRS", "None")]
    assert gi_build.writes(fresh_sim, since) == []


@pytest.mark.parametrize("data_disks, fragment", [
    ([{"lun": 1, "size_gb": 8}, {"lun": 1, "size_gb": 8}], "data_disks[1].lun"),
    ([{"lun": 70, "size_gb": 8}], "0-63"),
], ids=["lun-clash", "lun-out-of-range"])
def test_main_job_plan_refuses_bad_data_disks_before_any_vm(fresh_sim, resources, tmp_path, data_disks, fragment):
    gi_build.prepare_outputs(resources)
    since = fresh_sim.admin.last_seq()
    before = fresh_sim.admin.resources()
    builds = [dict(gi_build.image_definition("ubuntu", regions=("westeurope",)), data_disks=data_disks)]
    run, manifest = gi_build.run_build(fresh_sim, tmp_path, builds=builds)
    assert run.rc != 0
    (build,) = manifest["builds"]
    assert build["failed_phase"] == "plan"
    assert fragment in build["error"] and "InvalidBuildDefinition" in build["error"], build["error"]
    assert gi_build.writes(fresh_sim, since) == []
    assert fresh_sim.admin.resources() == before
    assert fresh_sim.admin.resources("Microsoft.Compute/virtualMachines") == []
