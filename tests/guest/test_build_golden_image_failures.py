"""A fault in each phase of build-golden-image.yml: the run fails naming the phase, nothing of the build is
left in the simulator, and a re-run succeeds (root only: real local guests)."""

from __future__ import annotations

import pytest

from tests.guest import gi_build

pytestmark = [pytest.mark.guest, pytest.mark.slow]

FAULTS = {
    "create": ("create build VM", [{"method": "PUT", "path": "/virtualMachines/[^/]+$", "action": "fail_operation",
                                    "code": "AllocationFailed", "message": "Allocation failed (injected).", "times": 1}]),
    "ssh": ("wait for SSH", None),  # no guest bound to the public IP: nothing listens
    "deprovision": ("deprovision", None),  # the guest's waagent fails
    "generalize": ("capture: generalize", [{"method": "POST", "path": "/generalize$", "status": 400,
                                            "code": "InvalidParameter", "message": "Generalize refused (injected).",
                                            "times": 1}]),
    "capture": ("capture: capture managed image", [{"method": "PUT", "path": "/images/img-[^/]+$",
                                                    "action": "fail_operation", "code": "InternalOperationError",
                                                    "message": "Image creation failed (injected).", "times": 1}]),
    "replication": ("capture: publish gallery version (replication)", [
        {"method": "PUT", "path": "/versions/[^/]+$", "action": "fail_operation", "code": "ReplicationFailed",
         "message": "Replication to northeurope failed (injected).", "times": 1}]),
}


@pytest.mark.parametrize("phase", list(FAULTS))
def test_fault_in_each_phase_cleans_up_and_rerun_succeeds(phase, guest_cache, fresh_sim, resources, tmp_path):
    gi_build.require_guests()
    sim = fresh_sim
    expected_phase, faults = FAULTS[phase]
    gi_build.prepare_outputs(resources)
    builds = [gi_build.image_definition("ubuntu-2404-gen2")]
    extra = {"golden_image_connect_timeout": 5} if phase == "ssh" else {}

    with gi_build.guests(sim, 0 if phase == "ssh" else 1) as started:
        if phase == "deprovision":
            gi_build.break_waagent(started[0])
        if faults:
            sim.admin.faults(faults)
        run, manifest = gi_build.run_build(sim, tmp_path, builds=builds, extra=extra)
        sim.admin.clear_faults()

    assert run.rc != 0
    failure = run.task("Fail when a build failed")
    assert failure["status"] == "failed"
    assert f"phase '{expected_phase}'" in failure["result"]["msg"]
    (build,) = manifest["builds"]
    assert manifest["status"] == "failed"
    assert build["status"] == "failed"
    assert build["failed_phase"] == expected_phase
    assert build["error"]
    if faults:  # the root cause: the failing task's message with the injected ARM error code
        assert faults[0]["code"] in build["error"], build["error"]
        assert faults[0]["code"] in failure["result"]["msg"]
    assert build["outputs"]["managed_image"] is None and build["outputs"]["gallery_image_version"] is None
    # nothing of the build is left: no temporary group, VM, disk, network, image or gallery version
    assert gi_build.leftovers(sim, [build["build_id"]]) == []
    assert gi_build.leftovers(sim) == []

    with gi_build.guests(sim, 1):
        again, manifest = gi_build.run_build(sim, tmp_path, builds=builds)
    assert again.rc == 0, again.stdout[-4000:]
    assert manifest["status"] == "succeeded"
    (build,) = manifest["builds"]
    left = gi_build.leftovers(sim)
    assert len(left) == 2 and all(build["build_id"] == sim.admin.resource(rid)["tags"]["goldenimage-build-id"]
                                  for rid in left)
