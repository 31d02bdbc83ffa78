"""Error translation, retry_action and wait_for against real simulator responses and injected faults."""

from __future__ import annotations

import sys

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (  # noqa: E402
    AzureError,
    AzureSession,
    azure_call,
    bounded,
    retries,
    retry_action,
    wait_for,
)

API = "2022-09-01"
REGISTER = "/register$"


@pytest.fixture
def session(fresh_sim, tmp_path):
    return AzureSession({}, environ=dict(fresh_sim.env, HOME=str(tmp_path)))


def arm_requests(sim, method, path_end):
    return [item for item in sim.admin.requests()
            if item["kind"] == "arm" and item["method"] == method and item["path"].lower().endswith(path_end.lower())]


def register_compute(session):
    return session.resources().providers.register("Microsoft.Compute")


# -- translation ----------------------------------------------------------------------------------

def test_sdk_404_keeps_status_code_and_arm_code(session):
    with pytest.raises(AzureError) as caught:
        azure_call("get resource group 'absent'", session.resources().resource_groups.get, "absent")

    assert caught.value.to_result() == {
        "msg": "get resource group 'absent': Resource group 'absent' could not be found.",
        "status_code": 404,
        "error_code": "ResourceGroupNotFound",
        "operation": "get resource group 'absent'",
    }


def test_missing_ok_maps_404_to_none(session):
    assert azure_call("get group", session.resources().resource_groups.get, "absent", missing_ok=True) is None
    path = "/subscriptions/%s/resourcegroups/absent" % session.subscription_id
    assert azure_call("get group", session.arm_get, path, API, missing_ok=True) is None


def test_arm_get_error_names_the_outer_operation(session):
    path = "/subscriptions/%s/resourcegroups/absent" % session.subscription_id

    with pytest.raises(AzureError) as caught:
        azure_call("read the build group", session.arm_get, path, API)

    assert (caught.value.operation, caught.value.status_code) == ("read the build group", 404)


def test_throttling_is_never_absent(fresh_sim, session):
    # throttled for good: the pipeline retries (Retry-After: 1) until the call's bound, then the 429 is raised
    fresh_sim.admin.faults([{"method": "GET", "path": "resourcegroups/busy$", "status": 429}])

    with bounded(2.5), pytest.raises(AzureError) as caught:
        azure_call("get group", session.resources().resource_groups.get, "busy", missing_ok=True)

    assert (caught.value.status_code, caught.value.code) == (429, "SubscriptionRequestsThrottled")
    sent = arm_requests(fresh_sim, "GET", "/resourcegroups/busy")
    assert 2 <= len(sent) <= 3  # retried, and never past the bound: a third retry would start after 3 s
    assert [item["operation"] for item in retries()] == ["get group"] * (len(sent) - 1)


def test_server_error_is_never_absent(fresh_sim, session):
    fresh_sim.admin.faults([{"method": "GET", "path": "resourcegroups/broken$", "status": 500,
                             "code": "InternalServerError", "retry_after": 1}])
    path = "/subscriptions/%s/resourcegroups/broken" % session.subscription_id

    with bounded(1.5), pytest.raises(AzureError) as caught:
        azure_call("get group", session.arm_get, path, API, missing_ok=True)

    assert caught.value.status_code == 500
    assert len(arm_requests(fresh_sim, "GET", "/resourcegroups/broken")) == 2


def test_transient_errors_within_the_bound_are_retried_away(fresh_sim, session):
    fresh_sim.admin.faults([{"method": "GET", "path": "resourcegroups/flaky$", "status": 503, "times": 2}])
    session.resources().resource_groups.create_or_update("flaky", {"location": "eastus"})

    group = azure_call("get group", session.resources().resource_groups.get, "flaky")

    assert group.name == "flaky"
    assert [(item["attempt"], item["reason"]) for item in retries()] == [(2, "GET 503"), (3, "GET 503")]


def test_unreachable_endpoint_is_an_azure_error(fresh_sim, tmp_path):
    environ = dict(fresh_sim.env, HOME=str(tmp_path), AZURE_ARM_ENDPOINT="https://127.0.0.1:9/")
    session = AzureSession({}, environ=environ)

    with pytest.raises(AzureError) as caught:
        azure_call("list groups", session.arm_get, "/subscriptions", API)

    assert caught.value.status_code is None
    assert caught.value.code == "ServiceRequestError"


# -- retry_action ----------------------------------------------------------------------------------

def test_retry_action_retries_in_progress_conflicts(fresh_sim, session):
    fresh_sim.admin.faults([{"method": "POST", "path": REGISTER, "status": 409, "times": 2}])

    provider = retry_action("register Microsoft.Compute", register_compute, session, timeout=60)

    assert provider.namespace == "Microsoft.Compute"
    assert [item["status"] for item in arm_requests(fresh_sim, "POST", "/register")] == [409, 409, 200]


def test_retry_action_does_not_retry_a_state_conflict(fresh_sim, session):
    fresh_sim.admin.faults([{"method": "POST", "path": REGISTER, "status": 409, "code": "OperationNotAllowed",
                             "message": "Operation 'generalize' is not allowed on VM 'vm1' since the VM is running.",
                             "times": 1}])

    with pytest.raises(AzureError) as caught:
        retry_action("generalize VM 'vm1'", register_compute, session, timeout=60)

    assert (caught.value.status_code, caught.value.code) == (409, "OperationNotAllowed")
    assert len(arm_requests(fresh_sim, "POST", "/register")) == 1


@pytest.mark.slow
def test_retry_action_outlasts_azure_core_on_throttled_posts(fresh_sim, session):
    # azure-core gives up after 1 + 3 attempts (Retry-After: 1); retry_action tries again within its bound
    fresh_sim.admin.faults([{"method": "POST", "path": REGISTER, "status": 429, "times": 4}])

    provider = retry_action("register Microsoft.Compute", register_compute, session, timeout=60)

    assert provider.namespace == "Microsoft.Compute"
    assert [item["status"] for item in arm_requests(fresh_sim, "POST", "/register")] == [429] * 4 + [200]


def test_retry_action_stops_at_its_bound(fresh_sim, session):
    fresh_sim.admin.faults([{"method": "POST", "path": REGISTER, "status": 409}])  # busy for ever

    with pytest.raises(AzureError) as caught:
        retry_action("register Microsoft.Compute", register_compute, session, timeout=1)

    assert caught.value.status_code == 409
    assert caught.value.operation == "register Microsoft.Compute"


# -- wait_for ------------------------------------------------------------------------------------

def test_wait_for_returns_the_result(fresh_sim, session):
    session.resources().resource_groups.create_or_update("rg-wait", {"location": "eastus"})
    poller = session.resources().resource_groups.begin_delete("rg-wait", polling_interval=0)

    assert wait_for(poller, "delete resource group 'rg-wait'", timeout=60) is None
    assert fresh_sim.admin.resources() == []


def test_wait_for_timeout_names_the_operation(fresh_sim, session):
    fresh_sim.admin.freeze_clock()  # simulated time moves only when the test says so
    fresh_sim.admin.settings(time_scale=1)  # resource group deletion takes 30 s
    session.resources().resource_groups.create_or_update("rg-slow", {"location": "eastus"})
    poller = session.resources().resource_groups.begin_delete("rg-slow", polling_interval=1)

    with pytest.raises(AzureError) as caught:
        wait_for(poller, "delete resource group 'rg-slow'", timeout=1)

    assert caught.value.code == "OperationTimedOut"
    assert caught.value.operation == "delete resource group 'rg-slow'"
    assert "1 seconds" in str(caught.value) and "delete resource group 'rg-slow'" in str(caught.value)
    fresh_sim.admin.finish_operations()


def test_wait_for_failed_operation_raises_its_error(fresh_sim, session):
    session.resources().resource_groups.create_or_update("rg-fail", {"location": "eastus"})
    fresh_sim.admin.faults([{"method": "DELETE", "path": "resourcegroups/rg-fail$", "action": "fail_operation",
                             "code": "ResourceGroupDeletionBlocked", "message": "Deletion is blocked (injected)."}])
    poller = session.resources().resource_groups.begin_delete("rg-fail", polling_interval=0)

    with pytest.raises(AzureError) as caught:
        wait_for(poller, "delete resource group 'rg-fail'", timeout=60)

    assert caught.value.code == "ResourceGroupDeletionBlocked"
    assert caught.value.operation == "delete resource group 'rg-fail'"
