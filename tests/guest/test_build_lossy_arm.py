"""The main job on a lossy ARM (issue 16): a quarter of ARM requests faulted, writes whose answers are lost after
ARM acted, and still one build, one image, one gallery version and nothing left behind (root: real guests)."""

from __future__ import annotations

import pytest

from benchmarks import bench_reliability
from tests.guest import gi_build

pytestmark = [pytest.mark.guest, pytest.mark.slow]

# each write the job depends on loses its first answer after ARM acted, whatever the random faults do
LOST_WRITES = [
    {"method": "PUT", "path": "/virtualMachines/[^/]+$", "action": "drop_after", "times": 1},
    {"method": "PATCH", "path": "/virtualMachines/[^/]+$", "action": "drop_after", "times": 1},
    {"method": "POST", "path": "/deallocate$", "action": "drop_after", "times": 1},
    {"method": "POST", "path": "/generalize$", "action": "drop_after", "times": 1},
    {"method": "PUT", "path": "/versions/[^/]+$", "action": "drop_after", "times": 1},
    {"method": "DELETE", "path": "/resourcegroups/gi-build-[^/]+$", "action": "drop_after", "times": 1},
]


def test_build_that_lost_write_answers_at_25_percent_faults_succeeds(guest_cache, fresh_sim, resources, tmp_path):
    gi_build.require_guests()
    sim = fresh_sim
    gi_build.prepare_outputs(resources)
    since = sim.admin.last_seq()
    with gi_build.guests(sim, 1) as started:
        sim.admin.faults(LOST_WRITES + bench_reliability.lossy_rules(), seed=7)
        try:
            run, manifest = gi_build.run_build(
                sim, tmp_path, builds=[gi_build.image_definition("ubuntu-2404-gen2", guest=started[0])])
        finally:
            sim.admin.clear_faults()
    log = sim.admin.requests(since)

    assert run.rc == 0, run.stdout[-4000:]
    assert manifest["status"] == "succeeded"
    lost = {(item["method"], item["path"].rsplit("/", 1)[-1].lower()) for item in bench_reliability.lost_writes(log)}
    assert {("POST", "deallocate"), ("POST", "generalize")} <= lost  # the answers were really lost
    assert len(lost) >= len(LOST_WRITES)
    # one of each: no write was applied twice into a second resource
    versions = sim.admin.resources("Microsoft.Compute/galleries/images/versions")
    assert [item["properties"]["provisioningState"] for item in versions] == ["Succeeded"]
    assert len(sim.admin.resources("Microsoft.Compute/images")) == 1
    assert gi_build.leftovers(sim, ["-"]) == []  # nothing of the build is left, outputs aside
    # the generalize POST whose answer was lost was not sent again: the VM was read and found generalized
    # (requests refused before the handler - a status fault, a drop - had no effect and are sent again)
    generalized = [item for item in log if item["method"] == "POST" and item["path"].lower().endswith("/generalize")]
    assert [item["fault"] for item in generalized if item["fault"] not in ("status", "drop")] == ["drop_after"], \
        [(item["status"], item["fault"]) for item in generalized]
