"""End to end on real local guests (root only): the main job run twice with nothing changed builds once - the
second run creates no VM and the manifest says "up to date" - and changing one customisation file rebuilds."""

from __future__ import annotations

import pytest

from tests.guest import gi_build

pytestmark = [pytest.mark.guest, pytest.mark.slow]


@pytest.fixture
def world(guest_cache, fresh_sim, resources, compute):
    gi_build.require_guests()
    gi_build.prepare_outputs(resources)
    return fresh_sim


def _vm_creations(sim, since):
    """The VMs created (PUT) since ``since``, by path."""
    return sorted({item["path"].lower() for item in gi_build.writes(
        sim, since, r"/providers/Microsoft\.Compute/virtualMachines/[^/]+$") if item["method"] == "PUT"})


def _versions(sim):
    return sorted(item["name"] for item in sim.admin.resources()
                  if item["type"].lower() == "microsoft.compute/galleries/images/versions")


def test_second_run_is_up_to_date_and_a_changed_file_rebuilds(world, tmp_path):
    tasks = tmp_path / "customize.yml"
    tasks.write_text("- ansible.builtin.copy: {dest: /etc/gi-up-to-date, content: one}\n  become: true\n")
    extra = {"golden_image_definition_dir": str(tmp_path), "golden_image_customize_tasks": "customize.yml",
             "golden_image_validate": False}
    # one guest per build; the pool binds the one that never served a VM first
    builds = [gi_build.image_definition("ubuntu", managed_image=False, regions=("westeurope",))]
    with gi_build.guests(world, 2) as (first, second):
        run, manifest = gi_build.run_build(world, tmp_path, builds=builds, extra=extra)
        assert run.rc == 0, run.stdout[-4000:]
        assert manifest["builds"][0]["status"] == "succeeded" and _versions(world) == ["1.0.0"]
        # validation off: the manifest says so, and the validation plays had no host (not even localhost)
        assert manifest["builds"][0]["validation"]["status"] == "skipped"
        assert "golden_image_validate is false" in manifest["builds"][0]["validation"]["reason"]
        assert not [item for item in run.results if item["task"].startswith("Keep the build VMs' creation results")]

        since = world.admin.last_seq()
        run, manifest = gi_build.run_build(world, tmp_path, builds=builds, extra=extra)
        assert run.rc == 0, run.stdout[-4000:]
        assert _vm_creations(world, since) == [] and gi_build.writes(world, since) == []
        (entry,) = manifest["builds"]
        assert entry["status"] == "up_to_date" and "1.0.0" in entry["reason"]
        assert _versions(world) == ["1.0.0"]

        tasks.write_text(tasks.read_text().replace("content: one", "content: two"))
        since = world.admin.last_seq()
        run, manifest = gi_build.run_build(world, tmp_path, builds=builds, extra=extra)
        assert run.rc == 0, run.stdout[-4000:]
        assert len(_vm_creations(world, since)) == 1
        assert manifest["builds"][0]["status"] == "succeeded" and _versions(world) == ["1.0.0", "1.0.1"]
        assert second.path("/etc/gi-up-to-date").read_text() == "two"
