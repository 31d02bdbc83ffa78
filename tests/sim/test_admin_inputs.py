"""The simulator's own robustness: the admin API refuses malformed input with a 400 and leaves the simulator
as it was (never a 500, never a setting or rule that would break later requests); the request log holds
every ARM and Entra request; a broken finisher fails only its own operation."""

from __future__ import annotations

import pytest


def _post(sim, path, body):
    return sim.admin.raw("POST", path, body)


@pytest.mark.parametrize("body", [
    {"rules": "x"},
    {"rules": [1]},
    {"rules": [{"path": "("}]},
    {"rules": [{"path": "x"}, {"probability": "often"}]},
    {"rules": [{"times": [2]}]},
    {"rules": [{"status": "teapot"}]},
    {"rules": [{"action": "explode"}]},
    {"seed": [1], "rules": []},
])
def test_bad_fault_rules_are_400_and_add_nothing(fresh_sim, body):
    response = _post(fresh_sim, "faults", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "InvalidFaultRule"
    assert fresh_sim.admin.get("faults")["rules"] == []


@pytest.mark.parametrize("body", [
    {"time_scale": "fast"},
    {"durations": 5},
    {"durations": {"vm.create": "slow"}},
    {"throttling": {"enabled": "yes"}},
    {"page_size": -1},
    {"locations": "eastus"},
    [1],
])
def test_bad_settings_are_400_and_change_nothing(fresh_sim, body):
    before = fresh_sim.admin.settings()
    response = _post(fresh_sim, "settings", body)
    assert response.status_code == 400, response.text
    assert fresh_sim.admin.settings() == before
    fresh_sim.admin.settings(time_scale=0.5, durations={"custom.step": 2})  # good updates still apply
    assert fresh_sim.admin.settings()["durations"]["custom.step"] == 2


@pytest.mark.parametrize("ports", [[22], "ssh", {"ssh": "22"}])
def test_bad_guest_ports_are_400(fresh_sim, ports):
    response = _post(fresh_sim, "guests", {"name": "g1", "address": "192.0.2.10", "ports": ports})
    assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidGuest", response.text


def test_request_log_since_must_be_a_number(fresh_sim):
    response = fresh_sim.admin.raw("GET", "requests", since="yesterday")
    assert response.status_code == 400, response.text


def test_request_log_records_every_arm_and_entra_request_but_not_admin(fresh_sim):
    from tests.sim.wire import Wire

    wire = Wire(fresh_sim)
    wire.token  # one Entra token request
    fresh_sim.admin.clear_requests()
    seq = fresh_sim.admin.last_seq()
    calls = [
        ("GET", "/{tenant}/v2.0/.well-known/openid-configuration".format(tenant=fresh_sim.env["AZURE_TENANT_ID"]),
         None, 200),
        ("PUT", wire.sub("/resourcegroups/rg-log"), {"location": "eastus"}, 201),
        ("PUT", wire.sub("/resourcegroups/rg-log2"), {"tags": [1]}, 400),  # malformed body
        ("GET", wire.sub("/resourcegroups/absent"), None, 404),
        ("GET", wire.sub("/providers/Microsoft.Nope/things"), None, 400),  # no route
        ("DELETE", wire.sub("/resourcegroups/rg-log"), None, 202),
    ]
    for method, path, body, status in calls:
        assert wire.request(method, path, body).status_code == status, path
    assert wire.request("GET", wire.sub("/resourcegroups"), api_version=None).status_code == 400
    assert wire.request("GET", wire.sub("/resourcegroups"), auth=False).status_code == 401
    fresh_sim.admin.resources()  # admin calls are not logged
    logged = [(entry["method"], entry["path"], entry["status"]) for entry in fresh_sim.admin.requests(since=seq)]
    expected = [(method, path, status) for method, path, _, status in calls]
    expected += [("GET", wire.sub("/resourcegroups"), 400), ("GET", wire.sub("/resourcegroups"), 401)]
    assert logged == expected
    assert [entry["kind"] for entry in fresh_sim.admin.requests(since=seq)][:2] == ["entra", "arm"]


def test_a_finisher_that_raises_fails_its_operation_only():
    from types import SimpleNamespace

    from azsim.server import Sim

    sim = Sim()
    sim.ops.register_finisher("broken", lambda _sim, _op: 1 / 0)
    req = SimpleNamespace(params={"subscriptionId": sim.settings.default_subscription}, api_version="2026-04-01",
                          method="PUT", path="/subscriptions/x")
    op = sim.ops.start(req, "broken", duration=0)
    assert op.status == "Failed" and op.error["code"] == "InternalOperationError"
    assert op.monitor_body()["error"]["code"] == "InternalOperationError"
