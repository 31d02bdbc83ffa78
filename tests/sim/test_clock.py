"""The simulator's own clock (``/_azsim/clock``): tests move time forward instead of sleeping."""

from __future__ import annotations

import pytest

from azsim.testing import SimServer
from tests.sim.wire import Wire


def test_a_frozen_clock_moves_only_when_advanced(fresh_sim):
    frozen = fresh_sim.admin.freeze_clock()
    assert frozen["frozen"] is True
    assert fresh_sim.admin.clock()["now"] == frozen["now"]  # no real time flows into it
    later = fresh_sim.admin.advance(90)
    assert later["now"] == pytest.approx(frozen["now"] + 90)
    assert later["offset"] == pytest.approx(90)


def test_advancing_finishes_what_became_due(fresh_sim):
    wire = Wire(fresh_sim)
    fresh_sim.admin.freeze_clock()
    fresh_sim.admin.settings(time_scale=1.0, durations={"resource_group.delete": 600.0})
    wire.group("rg-clock")
    started = wire.request("DELETE", wire.sub("/resourcegroups/rg-clock"))
    assert started.status_code == 202
    fresh_sim.admin.advance(599)
    assert wire.request("GET", started.headers["Location"], api_version=None).status_code == 202
    fresh_sim.admin.advance(1)
    assert fresh_sim.admin.resources() == []  # finished by the advance itself, before any ARM request
    assert wire.request("GET", started.headers["Location"], api_version=None).status_code == 200


def test_reset_rewinds_and_unfreezes_the_clock(fresh_sim):
    fresh_sim.admin.freeze_clock()
    fresh_sim.admin.advance(3600)
    fresh_sim.admin.reset(settings=True)
    clock = fresh_sim.admin.clock()
    assert clock["offset"] == 0 and clock["frozen"] is False


@pytest.mark.parametrize("body", [{}, {"advance": -1}, {"advance": "10"}, {"advance": True}, {"freeze": "yes"},
                                  {"speed": 2}])
def test_bad_clock_updates_are_400_and_change_nothing(fresh_sim, body):
    before = fresh_sim.admin.freeze_clock()
    # the admin client's own session: it carries whatever authenticates admin calls
    response = fresh_sim.admin.session.post(f"{fresh_sim.url}/_azsim/clock", json=body, verify=fresh_sim.ca, timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "InvalidClock"
    assert fresh_sim.admin.clock() == before


def test_unfreezing_carries_on_from_the_frozen_instant(fresh_sim):
    frozen = fresh_sim.admin.freeze_clock()
    fresh_sim.admin.advance(10)
    running = fresh_sim.admin.freeze_clock(False)
    assert running["frozen"] is False
    assert running["now"] == pytest.approx(frozen["now"] + 10, abs=5)  # a few real seconds at most, never a jump


def test_the_clock_survives_a_restart(tmp_path):
    state = str(tmp_path / "state")
    with SimServer(time_scale=0, state_dir=state) as first:
        first.admin.freeze_clock()
        advanced = first.admin.advance(7200)
        Wire(first).group("rg-keep")  # a change, so that the state is saved
    with SimServer(time_scale=0, state_dir=state) as second:
        assert second.admin.clock() == advanced
