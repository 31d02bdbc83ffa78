"""Section 11 of the wire reference, one test per checklist line (core parts).

Provider-specific lines (status-code whitelists, transitional states, image lists) are in
test_wire_checklist_providers.py.
"""

from __future__ import annotations

import socket
import ssl

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ClientSecretCredential

from tests.sim.wire import Wire


@pytest.fixture
def wire(fresh_sim):
    return Wire(fresh_sim)


# -- TLS everywhere; one CA; SAN for localhost/127.0.0.1; REQUESTS_CA_BUNDLE ----------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tls_with_one_ca_and_sans(fresh_sim, host):
    port = fresh_sim.info["port"]
    context = ssl.create_default_context(cafile=fresh_sim.ca)
    with socket.create_connection((host, port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            assert tls.version().startswith("TLS")


def test_plain_http_is_not_served(fresh_sim):
    port = fresh_sim.info["port"]
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/_azsim/health", timeout=5)


def test_env_bundle_trusts_simulator_and_keeps_system_cas(fresh_sim):
    bundle = open(fresh_sim.env["REQUESTS_CA_BUNDLE"], encoding="utf-8").read()
    ca = open(fresh_sim.ca, encoding="utf-8").read()
    assert ca.strip() in bundle
    assert bundle.count("BEGIN CERTIFICATE") > 1


# -- AAD: discovery and token endpoints; any scope, any tenant GUID or name -------------------
@pytest.mark.parametrize("tenant", ["72f988bf-86f1-41af-91ab-2d7cd011db47", "contoso.onmicrosoft.com"])
@pytest.mark.parametrize("scope", ["https://management.azure.com/.default",
                                   "https://management.core.windows.net//.default"])
def test_token_for_any_tenant_and_scope(fresh_sim, tenant, scope):
    env = fresh_sim.env
    credential = ClientSecretCredential(tenant, env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"],
                                        authority=fresh_sim.url, disable_instance_discovery=True,
                                        connection_verify=fresh_sim.ca)
    token = credential.get_token(scope)
    assert token.token.count(".") == 2
    paths = [entry["path"] for entry in fresh_sim.admin.requests() if entry["kind"] == "entra"]
    assert paths == [f"/{tenant}/v2.0/.well-known/openid-configuration", f"/{tenant}/oauth2/v2.0/token"]


def test_wrong_secret_is_aadsts7000215(fresh_sim):
    env = fresh_sim.env
    credential = ClientSecretCredential(env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], "not-the-secret-0123456789",
                                        authority=fresh_sim.url, disable_instance_discovery=True,
                                        connection_verify=fresh_sim.ca)
    with pytest.raises(ClientAuthenticationError) as info:
        credential.get_token("https://management.azure.com/.default")
    assert "AADSTS7000215" in str(info.value)


def test_arm_without_token_is_401(wire):
    response = wire.request("GET", wire.sub("/resourcegroups"), auth=False)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AuthenticationFailed"


# -- ARM: missing api-version 400; any date api-version accepted ------------------------------
def test_missing_api_version(wire):
    response = wire.request("GET", wire.sub("/resourcegroups"), api_version=None)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"


@pytest.mark.parametrize("version", ["2014-04-01", "2026-04-01", "2099-12-31", "2024-07-01-preview"])
def test_any_date_api_version(wire, version):
    assert wire.request("GET", wire.sub("/resourcegroups"), api_version=version).status_code == 200


def test_metadata_endpoints_for_custom_clouds(wire):
    # az CLI appends the path to an ARM URL with a trailing slash: accept the double slash too.
    for path in ("/metadata/endpoints", "//metadata/endpoints"):
        body = wire.request("GET", path, api_version="2022-09-01", auth=False).json()
        assert body["authentication"]["loginEndpoint"].startswith("https://")
        assert body["resourceManager"] == wire.sim.url + "/"
        assert isinstance(body["suffixes"], dict)


# -- LRO: AAO/Location, Retry-After 1 never 0, monitor body JSON with status ------------------
def test_resource_group_delete_is_location_polled(wire, fresh_sim):
    fresh_sim.admin.freeze_clock()  # simulated time moves only when the test says so
    fresh_sim.admin.settings(time_scale=1.0)
    wire.group("rg-lro")
    response = wire.request("DELETE", wire.sub("/resourcegroups/rg-lro"))
    assert response.status_code == 202
    assert response.headers["Retry-After"] == "1"
    assert "api-version=" in response.headers["Location"]
    poll = wire.request("GET", response.headers["Location"], api_version=None)
    assert poll.status_code == 202
    assert int(poll.headers["Retry-After"]) >= 1
    assert wire.request("GET", wire.sub("/resourcegroups/rg-lro")).json()["properties"]["provisioningState"] == "Deleting"
    fresh_sim.admin.finish_operations()
    assert wire.request("GET", response.headers["Location"], api_version=None).status_code == 200
    assert wire.request("GET", wire.sub("/resourcegroups/rg-lro")).status_code == 404


def test_failed_operation_reports_code_through_sdk(resources, fresh_sim):
    resources.resource_groups.create_or_update("rg-fail", {"location": "eastus"})
    fresh_sim.admin.faults([{"method": "DELETE", "path": "/resourcegroups/rg-fail$", "action": "fail_operation",
                             "code": "ResourceGroupDeletionBlocked", "message": "Deletion blocked (injected)."}])
    with pytest.raises(HttpResponseError) as info:
        resources.resource_groups.begin_delete("rg-fail").result()
    assert "ResourceGroupDeletionBlocked" in str(info.value)
    assert fresh_sim.admin.resource(f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/rg-fail") is not None


# -- Never Retry-After on non-retryable errors; 429 with Retry-After + throttling body -------
def test_no_retry_after_on_client_errors(wire):
    for response in (wire.request("GET", wire.sub("/resourcegroups"), api_version=None),
                     wire.request("GET", wire.sub("/resourcegroups/absent")),
                     wire.request("PUT", wire.sub("/resourcegroups/bad name!"), {"location": "eastus"})):
        assert response.status_code in (400, 404)
        assert "Retry-After" not in response.headers


def test_throttling_answers_429_with_retry_after(wire, fresh_sim):
    # the bucket refills on the simulator's clock: frozen, only admin.advance refills it
    fresh_sim.admin.freeze_clock()
    fresh_sim.admin.post("settings", {"throttling": {"reads": {"capacity": 3, "refill_per_s": 0.5}}})
    statuses = [wire.request("GET", wire.sub("/resourcegroups")) for _ in range(5)]
    assert [response.status_code for response in statuses] == [200, 200, 200, 429, 429]
    throttled = statuses[3]
    assert throttled.headers["Retry-After"] == "2"  # one token at 0.5 per second
    assert throttled.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert [int(response.headers["x-ms-ratelimit-remaining-subscription-reads"]) for response in statuses[:3]] == [2, 1, 0]
    fresh_sim.admin.advance(2)  # the Retry-After later: exactly one token back
    assert [wire.request("GET", wire.sub("/resourcegroups")).status_code for _ in range(2)] == [200, 429]


def test_write_bucket_is_separate_from_reads(wire, fresh_sim):
    fresh_sim.admin.freeze_clock()
    fresh_sim.admin.post("settings", {"throttling": {"reads": {"capacity": 1, "refill_per_s": 0.01}}})
    wire.request("GET", wire.sub("/resourcegroups"))
    assert wire.request("GET", wire.sub("/resourcegroups")).status_code == 429
    response = wire.request("PUT", wire.sub("/resourcegroups/rg-w"), {"location": "eastus"})
    assert response.status_code == 201
    assert "x-ms-ratelimit-remaining-subscription-writes" in response.headers


# -- Request ids -------------------------------------------------------------------------------
def test_request_ids(wire):
    response = wire.request("GET", wire.sub("/resourcegroups"), headers={"x-ms-correlation-request-id": "corr-1"})
    assert response.headers["x-ms-request-id"]
    assert response.headers["x-ms-correlation-request-id"] == "corr-1"
    assert response.headers["x-ms-routing-request-id"].endswith(":corr-1")


# -- Deterministic error codes; bad input never a 500 ---------------------------------------
@pytest.mark.parametrize("body,code", [
    (b"{not json", "InvalidRequestContent"),
    (b"", "InvalidRequestContent"),
    (b"[1, 2]", "InvalidRequestContent"),
])
def test_malformed_bodies(wire, body, code):
    response = wire.session.put(f"{wire.sim.url}{wire.sub('/resourcegroups/rg-bad')}", data=body,
                                params={"api-version": "2026-04-01"}, verify=wire.sim.ca, timeout=30,
                                headers={"Authorization": f"Bearer {wire.token}", "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_unknown_namespace_and_type(wire):
    wire.group("rg-ns")
    unknown_ns = wire.request("GET", wire.sub("/resourceGroups/rg-ns/providers/Contoso.Widgets/widgets/w1"))
    assert (unknown_ns.status_code, unknown_ns.json()["error"]["code"]) == (400, "InvalidResourceNamespace")
    unknown_type = wire.request("GET", wire.sub("/resourceGroups/rg-ns/providers/Microsoft.Compute/widgets/w1"))
    assert (unknown_type.status_code, unknown_type.json()["error"]["code"]) == (400, "InvalidResourceType")


def test_unknown_subscription(wire):
    response = wire.request("GET", "/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "SubscriptionNotFound")


def test_names_and_paths_are_case_insensitive(wire):
    wire.group("RG-Case")
    assert wire.request("GET", wire.sub("/RESOURCEGROUPS/rg-case")).json()["name"] == "RG-Case"
    assert wire.request("GET", wire.sub("/resourceGroups/Rg-CaSe")).status_code == 200
