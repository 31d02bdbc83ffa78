"""The builder and capture roles against the simulator, without a guest (real ansible-playbook)."""

from __future__ import annotations

import pytest

URN = "Canonical:ubuntu-24_04-lts:server:24.04.202411200"


def _types(sim):
    return sorted({item["type"] for item in sim.admin.resources()})


@pytest.fixture
def output_group(resources):
    resources.resource_groups.create_or_update("rg-out", {"location": "westeurope"})
    return "rg-out"


def test_builder_reports_the_phase_and_cleanup_removes_everything(play, fresh_sim, tmp_path):
    """No guest is bound, so nothing answers on port 22: the role fails naming the phase; cleanup deletes."""
    run = play(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Build
      block:
        - name: Create the build VMs
          ansible.builtin.include_role:
            name: goldenimage.azure.builder
          vars:
            builder_build_dir: {tmp_path}/builds
            builder_location: westeurope
            builder_connect_timeout: 2
            builder_vms:
              - {{name: one, build_id: r1, image: "{URN}"}}
              - {{name: two, build_id: r2, image: "{URN}", os_disk_type: StandardSSD_LRS}}
      always:
        - name: Clean up
          ansible.builtin.include_role:
            name: goldenimage.azure.builder
            tasks_from: cleanup
""")
    assert run.rc != 0
    failure = run.task("goldenimage.azure.builder : Fail when a build VM could not be created or reached")
    assert "Build 'one' failed in phase 'wait for SSH'" in failure["result"]["msg"]
    assert "Build 'two' failed in phase 'wait for SSH'" in failure["result"]["msg"]
    assert run.task("goldenimage.azure.builder : Wait for the temporary resource groups to be deleted")["status"] == "ok"
    assert fresh_sim.admin.resources() == []
    assert not (tmp_path / "builds" / "r1").exists()


def test_capture_role_makes_an_image_and_deletes_the_vm(play, fresh_sim, output_group, tmp_path):
    run = play(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Build VM
      goldenimage.azure.build_vm:
        build_id: cap1
        location: westeurope
        image: "{URN}"
        ssh_public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGqc1hGSzNoMQVBoQhDVdk0Bpq5Hj8ZydK4Y3wXhw1Uv test"
        allowed_sources: [203.0.113.7/32]
      register: vm
    - name: Capture
      ansible.builtin.include_role:
        name: goldenimage.azure.capture
      vars:
        capture_vm_name: "{{{{ vm.vm_name }}}}"
        capture_resource_group: "{{{{ vm.resource_group }}}}"
        capture_build_id: cap1
        capture_force_generalize: true
        capture_managed_image: {{name: img-cap1, resource_group: {output_group}}}
    - name: Delete the VM again
      goldenimage.azure.build_vm:
        state: absent
        scope: vm
        build_id: cap1
      register: again
    - name: Clean up
      goldenimage.azure.build_vm:
        state: absent
        build_id: cap1
""")
    assert run.rc == 0, run.stdout[-3000:]
    image = fresh_sim.admin.resource(
        f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/{output_group}/providers/Microsoft.Compute/images/img-cap1")
    assert image["tags"]["goldenimage-build-id"] == "cap1"
    assert image["tags"]["goldenimage-source-urn"] == URN
    assert run.task("goldenimage.azure.capture : Delete the captured build VM and its OS disk")["result"]["changed"] is True
    assert run.task("Delete the VM again")["result"]["changed"] is False
    assert _types(fresh_sim) == ["Microsoft.Compute/images", "Microsoft.Resources/resourceGroups"]


def _image(compute, group, name, tags):
    compute.images.begin_create_or_update(group, name, {
        "location": "westeurope", "tags": tags,
        "properties": {"storageProfile": {"osDisk": {"osType": "Linux", "osState": "Generalized",
                                                     "blobUri": f"https://acct.blob.core.windows.net/vhds/{name}.vhd"}}},
    }).result()


def test_outputs_rollback_deletes_only_the_builds_outputs(play, fresh_sim, output_group, compute):
    """Only what this run made: an earlier run's image of the same (reused) build id stays."""
    _image(compute, output_group, "keep-other-build", {"goldenimage-build-id": "other", "goldenimage-run-id": "run2"})
    _image(compute, output_group, "keep-earlier-run", {"goldenimage-build-id": "failed-build", "goldenimage-run-id": "run1"})
    _image(compute, output_group, "keep-untagged-run", {"goldenimage-build-id": "failed-build"})
    _image(compute, output_group, "drop-me", {"goldenimage-build-id": "failed-build", "goldenimage-run-id": "run2"})
    rollback = f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Roll back
      goldenimage.azure.build_vm:
        state: absent
        scope: outputs
        build_id: failed-build
        {{run_id}}
        managed_image: {{{{name: whatever, resource_group: {output_group}}}}}
        gallery: {{{{resource_group: {output_group}, name: nogallery, image: nodef}}}}
"""
    refused = play(rollback.format(run_id=""))
    assert refused.rc != 0
    assert "run_id is required" in refused.task("Roll back")["result"]["msg"]
    assert len(fresh_sim.admin.resources("Microsoft.Compute/images")) == 4
    run = play(rollback.format(run_id="run_id: run2"))
    assert run.rc == 0, run.stdout[-3000:]
    result = run.task("Roll back")["result"]
    assert result["changed"] is True and len(result["deleted_ids"]) == 1
    names = sorted(i["name"] for i in fresh_sim.admin.resources("Microsoft.Compute/images"))
    assert names == ["keep-earlier-run", "keep-other-build", "keep-untagged-run"]
