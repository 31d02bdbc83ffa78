"""The admin API refuses malformed input with a 400 and leaves the simulator as it was (never a 500,
never a setting or rule that would break later requests)."""

from __future__ import annotations

import pytest
import requests


def _post(sim, path, body):
    return requests.post(f"{sim.url}/_azsim/{path}", json=body, verify=sim.ca, timeout=30)


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
    response = requests.get(f"{fresh_sim.url}/_azsim/requests", params={"since": "yesterday"}, verify=fresh_sim.ca,
                            timeout=30)
    assert response.status_code == 400, response.text
