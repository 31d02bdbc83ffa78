"""Entra ID (AAD) routes: OIDC discovery, the client-credentials token endpoint, managed identity.

Tokens and the bearer-token check are in ``models.py``.

Works with azure-identity's ``ClientSecretCredential(authority=<sim>, disable_instance_discovery=True)``,
with federated (client assertion) credentials, with ``CertificateCredential`` (an assertion signed by a
certificate registered in ``auth.client_certificates``: ``assertions.py``), and with the App Service style managed-identity
endpoint (``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``).
"""

from __future__ import annotations

import time
import uuid

from ...core.request import Reply
from .assertions import InvalidAssertion, check_certificate_assertion, is_certificate_assertion
from .models import IDENTITY_HEADER_VALUE, issue_token


def _aad_error(status, error, description, code):
    now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    trace = str(uuid.uuid4())
    return Reply(status, {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {trace} Timestamp: {now}",
        "error_codes": [code],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": trace,
    })


def openid_configuration(req):
    tenant = req.params["tenant"]
    base = req.base_url
    return {
        "issuer": f"{base}/{tenant}/v2.0",
        "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
        "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
        "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "tenant_region_scope": None,
        "cloud_instance_name": "microsoftonline.com",
    }


def _audience(scope):
    first = (scope or "https://management.azure.com/.default").split()[0]
    return first[: -len(".default")] if first.endswith(".default") else first


def token(req):
    sim = req.sim
    form = req.form()
    auth = sim.settings["auth"]
    tenant = req.params["tenant"]
    grant = form.get("grant_type")
    if grant != "client_credentials":
        return _aad_error(400, "unsupported_grant_type", f"The grant type '{grant}' is not supported.", 70003)
    client_id = form.get("client_id", "")
    if client_id.lower() != auth["client_id"].lower():
        return _aad_error(400, "unauthorized_client",
                          f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.", 700016)
    if "client_assertion" in form:
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return _aad_error(400, "invalid_request", "The client_assertion_type is invalid.", 50027)
        if is_certificate_assertion(form["client_assertion"]):  # a certificate service principal
            try:
                check_certificate_assertion(form["client_assertion"], client_id, auth.get("client_certificates") or [])
            except InvalidAssertion as err:
                return _aad_error(401, "invalid_client", err.description, err.code)
    elif form.get("client_secret") != auth["client_secret"]:
        return _aad_error(401, "invalid_client",
                          f"Invalid client secret provided. Ensure the secret being sent in the request is the client "
                          f"secret value, not the client secret ID, for a secret added to app '{client_id}'.", 7000215)
    access_token, lifetime = issue_token(sim, tenant, client_id, _audience(form.get("scope")))
    return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access_token}


def managed_identity_token(req):
    """App Service style managed identity (IDENTITY_ENDPOINT / IDENTITY_HEADER)."""
    if req.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER_VALUE:
        return Reply(401, {"error": "invalid_request", "error_description": "X-IDENTITY-HEADER is missing or wrong."})
    sim = req.sim
    resource = req.query.get("resource") or "https://management.azure.com/"
    access_token, lifetime = issue_token(sim, sim.settings["auth"]["tenant_id"], "azsim-managed-identity", resource)
    return {
        "access_token": access_token,
        "expires_on": str(int(time.time()) + lifetime),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": "azsim-managed-identity",
    }


def instance_discovery(req):
    authorization_endpoint = req.query.get("authorization_endpoint", "")
    tenant_base = authorization_endpoint.rsplit("/oauth2/", 1)[0]
    return {
        "tenant_discovery_endpoint": f"{tenant_base}/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [],
    }


def register(sim):
    sim.router.add("GET", "/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration, kind="entra")
    sim.router.add("POST", "/{tenant}/oauth2/v2.0/token", token, kind="entra")
    sim.router.add("GET", "/common/discovery/instance", instance_discovery, kind="entra")
    sim.router.add("GET", "/msi/token", managed_identity_token, kind="entra")
