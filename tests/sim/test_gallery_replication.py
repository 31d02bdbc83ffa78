"""Image version replication as ``$expand=ReplicationStatus`` shows it, with real operation durations on the
simulator's clock: the clock is frozen and the tests move it forward (``admin.advance``), so what each step
sees does not depend on how fast the machine runs."""

import pytest
from azure.core.exceptions import HttpResponseError

from azsim.core.settings import DEFAULT_DURATIONS
from tests.sim.gallery_helpers import (
    DEFINITION,
    GALLERY,
    RG,
    make_gallery_with_definition,
    make_managed_image,
    version_body,
)

REGIONS = ("eastus", "westus3", "westeurope")


@pytest.fixture
def definition(compute, resources, fresh_sim):
    make_gallery_with_definition(compute, resources)
    yield
    fresh_sim.admin.settings(
        durations={"gallery_image_version.create": DEFAULT_DURATIONS["gallery_image_version.create"]}
    )


DURATION = 400.0  # simulated seconds; only admin.advance moves the frozen clock


def slow_replication(sim):
    """Replication takes DURATION seconds of simulated time, which passes only when the test advances it."""
    sim.admin.freeze_clock()
    sim.admin.settings(time_scale=1.0, durations={"gallery_image_version.create": DURATION})


def finished(poller):
    """The poller's result once the operation is done in the simulator (bounded: never waits for the clock)."""
    poller.wait(60)
    assert poller.done(), "the operation did not finish once its simulated duration had passed"
    return poller.result()


def replication(compute, name="1.0.0"):
    version = compute.gallery_image_versions.get(RG, GALLERY, DEFINITION, name, expand="ReplicationStatus")
    return version.provisioning_state, version.replication_status


def test_replication_progresses_then_completes(compute, fresh_sim, definition):
    image_id = make_managed_image(compute, fresh_sim)
    slow_replication(fresh_sim)
    poller = compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, DEFINITION, "1.0.0", version_body(image_id, regions=REGIONS)
    )
    state, status = replication(compute)
    assert state == "Creating"
    assert status.aggregated_state == "InProgress"
    assert [item.region for item in status.summary] == ["East US", "West US 3", "West Europe"]
    assert all(item.state in ("Replicating", "Completed") for item in status.summary)
    assert any(item.state == "Replicating" and item.progress < 100 for item in status.summary)
    seen = {item.region: item.progress for item in status.summary}
    for _ in range(int(DURATION // 50) - 1):  # up to 350 of 400 s: every region moves, none goes backwards
        fresh_sim.admin.advance(50)
        state, status = replication(compute)
        assert state == "Creating"
        for item in status.summary:
            assert item.progress >= seen[item.region]
            seen[item.region] = item.progress
    assert all(0 < progress for progress in seen.values())
    assert any(item.state == "Replicating" for item in status.summary)
    fresh_sim.admin.advance(50)
    assert finished(poller).provisioning_state == "Succeeded"
    state, status = replication(compute)
    assert state == "Succeeded" and status.aggregated_state == "Completed"
    assert [(item.state, item.progress) for item in status.summary] == [("Completed", 100)] * 3


def test_status_only_with_expand(compute, fresh_sim, definition):
    image_id = make_managed_image(compute, fresh_sim)
    version = compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, DEFINITION, "1.0.0", version_body(image_id)
    ).result()
    assert version.replication_status is None
    assert "replicationStatus" not in fresh_sim.admin.resource(version.id)["properties"]


def test_injected_failure_fails_one_region(compute, fresh_sim, definition):
    image_id = make_managed_image(compute, fresh_sim)
    fresh_sim.admin.faults(
        [
            {
                "method": "PUT",
                "path": "/versions/1\\.0\\.0$",
                "action": "fail_operation",
                "code": "ReplicationFailed",
                "message": "Replication to region 'West Europe' failed.",
            }
        ]
    )
    with pytest.raises(HttpResponseError) as info:
        compute.gallery_image_versions.begin_create_or_update(
            RG, GALLERY, DEFINITION, "1.0.0", version_body(image_id, regions=REGIONS)
        ).result()
    assert info.value.error.code == "ReplicationFailed"
    state, status = replication(compute)
    assert state == "Failed" and status.aggregated_state == "Failed"
    by_region = {item.region: item for item in status.summary}
    assert by_region["West Europe"].state == "Failed"
    assert by_region["West Europe"].details == "Replication to region 'West Europe' failed."
    assert by_region["East US"].state == by_region["West US 3"].state == "Completed"


def test_failing_region_stalls_while_others_finish(compute, fresh_sim, definition):
    image_id = make_managed_image(compute, fresh_sim)
    slow_replication(fresh_sim)
    fresh_sim.admin.faults(
        [
            {
                "method": "PUT",
                "path": "/versions/1\\.0\\.0$",
                "action": "fail_operation",
                "message": "Replication to region 'West Europe' failed.",
            }
        ]
    )
    poller = compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, DEFINITION, "1.0.0", version_body(image_id, regions=REGIONS)
    )
    _, status = replication(compute)
    assert status.aggregated_state == "InProgress"
    fresh_sim.admin.advance(DURATION / 2)
    _, status = replication(compute)
    assert status.aggregated_state == "InProgress"
    progress = {item.region: item.progress for item in status.summary}
    assert all(progress["West Europe"] < progress[region] for region in ("East US", "West US 3"))  # it lags
    fresh_sim.admin.advance(DURATION / 2)
    with pytest.raises(HttpResponseError):
        finished(poller)
    state, status = replication(compute)
    failed = [item for item in status.summary if item.state == "Failed"]
    assert state == "Failed" and [item.region for item in failed] == ["West Europe"]
    assert 0 < failed[0].progress < 100


def test_added_region_replicates(compute, fresh_sim, definition):
    image_id = make_managed_image(compute, fresh_sim)
    compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, DEFINITION, "1.0.0", version_body(image_id)
    ).result()
    slow_replication(fresh_sim)
    poller = compute.gallery_image_versions.begin_update(
        RG,
        GALLERY,
        DEFINITION,
        "1.0.0",
        {"properties": {"publishingProfile": {"targetRegions": [{"name": "eastus"}, {"name": "northeurope"}]}}},
    )
    state, status = replication(compute)
    assert state == "Updating"
    by_region = {item.region: item for item in status.summary}
    assert by_region["East US"].state == "Completed"
    assert by_region["North Europe"].state == "Replicating"
    fresh_sim.admin.advance(DURATION)
    assert finished(poller).provisioning_state == "Succeeded"
    assert replication(compute)[1].aggregated_state == "Completed"


def test_repeated_put_retries_a_failed_region(compute, fresh_sim, definition):
    image_id = make_managed_image(compute, fresh_sim)
    fresh_sim.admin.faults([{"method": "PUT", "path": "/versions/1\\.0\\.0$", "action": "fail_operation", "times": 1}])
    body = version_body(image_id, regions=REGIONS)
    with pytest.raises(HttpResponseError):
        compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, DEFINITION, "1.0.0", body).result()
    assert replication(compute)[0] == "Failed"
    retried = compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, DEFINITION, "1.0.0", body).result()
    assert retried.provisioning_state == "Succeeded"
    assert replication(compute)[1].aggregated_state == "Completed"
