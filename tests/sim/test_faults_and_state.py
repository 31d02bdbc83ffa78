"""Fault injection, throttling as the SDK sees it, and state that survives across processes and restarts."""

from __future__ import annotations

import os

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient

from azsim.testing import SimServer


def _arm_requests(sim, method, suffix):
    return [entry for entry in sim.admin.requests()
            if entry["kind"] == "arm" and entry["method"] == method and entry["path"].lower().endswith(suffix)]


@pytest.mark.parametrize("status", [429, 503])
def test_sdk_retries_injected_throttling_and_unavailability(resources, fresh_sim, status):
    resources.resource_groups.create_or_update("rg-retry", {"location": "eastus"})
    fresh_sim.admin.faults([{"method": "GET", "path": "/resourcegroups/rg-retry$", "action": "status",
                             "status": status, "times": 2}])
    assert resources.resource_groups.get("rg-retry").name == "rg-retry"
    statuses = [entry["status"] for entry in _arm_requests(fresh_sim, "GET", "/resourcegroups/rg-retry")]
    assert statuses == [status, status, 200]


def test_injected_429_carries_retry_after_and_persistent_faults_exhaust_retries(resources, fresh_sim):
    resources.resource_groups.create_or_update("rg-stuck", {"location": "eastus"})
    fresh_sim.admin.faults([{"method": "GET", "path": "/resourcegroups/rg-stuck$", "action": "status", "status": 503}])
    with pytest.raises(HttpResponseError) as info:
        resources.resource_groups.get("rg-stuck")
    assert info.value.status_code == 503
    # azure-core's default: 3 status retries after the first attempt
    assert len(_arm_requests(fresh_sim, "GET", "/resourcegroups/rg-stuck")) == 4


def test_dropped_connection_is_retried(resources, fresh_sim):
    resources.resource_groups.create_or_update("rg-drop", {"location": "eastus"})
    fresh_sim.admin.faults([{"method": "GET", "path": "/resourcegroups/rg-drop$", "action": "drop", "times": 1}])
    assert resources.resource_groups.get("rg-drop").name == "rg-drop"
    entries = _arm_requests(fresh_sim, "GET", "/resourcegroups/rg-drop")
    assert [entry["dropped"] for entry in entries] == [True, False]


def test_seeded_probabilistic_faults_repeat_exactly(fresh_sim):
    def pattern():
        fresh_sim.admin.reset()
        fresh_sim.admin.faults([{"path": "/resourcegroups$", "action": "status", "status": 503, "probability": 0.5}],
                               seed=42)
        from tests.sim.wire import Wire

        wire = Wire(fresh_sim)
        return [wire.request("GET", wire.sub("/resourcegroups")).status_code for _ in range(12)]

    first, second = pattern(), pattern()
    assert first == second
    assert set(first) == {200, 503}


CLIENT_SCRIPT = r"""
import json, os, sys
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient

env = os.environ
credential = ClientSecretCredential(env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"],
                                    authority=env["AZURE_AUTHORITY_HOST"], disable_instance_discovery=True)
client = ResourceManagementClient(credential, env["AZURE_SUBSCRIPTION_ID"], base_url=env["AZSIM_URL"] + "/",
                                  credential_scopes=[env["AZSIM_URL"] + "/.default"])
if sys.argv[1] == "write":
    client.resource_groups.create_or_update("rg-shared", {"location": "westeurope", "tags": {"writer": str(os.getpid())}})
    print(json.dumps({"pid": os.getpid()}))
else:
    group = client.resource_groups.get("rg-shared")
    print(json.dumps({"pid": os.getpid(), "location": group.location, "tags": group.tags}))
"""


def _client_process(fresh_sim, action):
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", CLIENT_SCRIPT, action], env=dict(os.environ, **fresh_sim.env),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_state_is_shared_by_client_processes(fresh_sim):
    """One client process writes a resource group through the real SDK; a second one reads it back."""
    writer = _client_process(fresh_sim, "write")
    reader = _client_process(fresh_sim, "read")
    assert reader["pid"] != writer["pid"]
    assert (reader["location"], reader["tags"]) == ("westeurope", {"writer": str(writer["pid"])})
    group = fresh_sim.admin.resource(f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/rg-shared")
    assert group["tags"] == {"writer": str(writer["pid"])}


def test_state_survives_restart(tmp_path):
    state = str(tmp_path / "state")
    with SimServer(time_scale=0, state_dir=state) as first:
        env = first.env
        credential = ClientSecretCredential(env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"],
                                            authority=first.url, disable_instance_discovery=True,
                                            connection_verify=first.ca)
        client = ResourceManagementClient(credential, first.subscription_id, base_url=first.url + "/",
                                          credential_scopes=[first.url + "/.default"], connection_verify=first.ca)
        client.resource_groups.create_or_update("rg-kept", {"location": "westeurope", "tags": {"keep": "yes"}})
    with SimServer(time_scale=0, state_dir=state) as second:
        kept = second.admin.resources("Microsoft.Resources/resourceGroups")
        assert [(item["name"], item["location"], item["tags"]) for item in kept] == [("rg-kept", "westeurope",
                                                                                      {"keep": "yes"})]


def test_state_round_trips_every_extension_and_pending_operations(tmp_path):
    """--state keeps what is not an ARM resource too: a replaced catalog, the guest pool and its bindings,
    settings, and operations still running when the server stopped."""
    from tests.sim.wire import Wire

    state = str(tmp_path / "state")
    with SimServer(time_scale=0, state_dir=state) as first:
        catalog = first.admin.get("catalog")
        kept_publisher = next(iter(catalog["publishers"]))
        catalog["publishers"] = {kept_publisher: catalog["publishers"][kept_publisher]}
        first.admin.post("catalog", catalog)
        first.admin.post("guests", {"name": "g1", "address": "192.0.2.10"})
        first.admin.post("guests", {"name": "g2", "address": "192.0.2.11"})
        wire = Wire(first)
        wire.group("rg-state")
        pip = wire.sub("/resourceGroups/rg-state/providers/Microsoft.Network/publicIPAddresses/pip")
        assert wire.request("PUT", pip, {"location": "eastus", "tags": {"azsim-guest": "g2"}}).status_code == 201
        first.admin.settings(time_scale=1.0, durations={"resource_group.delete": 600.0})
        pending = wire.request("DELETE", wire.sub("/resourcegroups/rg-state"))
        assert pending.status_code == 202
        guests_before = first.admin.get("guests")["value"]
    with SimServer(time_scale=0, state_dir=state) as second:
        assert list(second.admin.get("catalog")["publishers"]) == [kept_publisher]
        assert second.admin.get("guests")["value"] == guests_before
        pip_id = second.admin.resources("Microsoft.Network/publicIPAddresses")[0]["id"]
        assert [item["bound_to"] for item in guests_before] == [None, pip_id]
        assert second.admin.settings()["durations"]["resource_group.delete"] == 600.0
        wire = Wire(second)
        monitor = wire.request("GET", pending.headers["Location"].replace(first.url, second.url), api_version=None)
        assert monitor.status_code == 202  # the group delete is still running after the restart
        second.admin.finish_operations()
        assert second.admin.resources() == []
        assert [item["bound_to"] for item in second.admin.get("guests")["value"]] == [None, None]
