"""Every credential source of the client layer that works offline, against the simulator's Entra and ARM."""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import _azure_clouds, _azure_credentials  # noqa: E402
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (  # noqa: E402
    AzureError,
    AzureSession,
)

API = "2022-09-01"
CREDENTIAL_ENV = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID")


@pytest.fixture(autouse=True)
def new_process():
    """Each test behaves like a fresh module run: no credential or cloud cached by an earlier test."""
    _azure_credentials._CREDENTIALS.clear()
    _azure_clouds._CLOUDS.clear()
    yield
    _azure_credentials._CREDENTIALS.clear()
    _azure_clouds._CLOUDS.clear()


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def base_env(fresh_sim, home):
    """Endpoints and CA of the simulator, an empty HOME and no credentials, and no `az` on PATH."""
    env = {key: value for key, value in fresh_sim.env.items() if key not in CREDENTIAL_ENV}
    env.update(HOME=str(home), PATH=str(home))
    return env


def token_requests(sim):
    return [item for item in sim.admin.requests() if item["kind"] == "entra" and item["method"] == "POST"]


def list_groups(session):
    return session.arm_get("/subscriptions/%s/resourcegroups" % session.subscription_id, API)


def write_profile(home, text):
    azure_dir = home / ".azure"
    azure_dir.mkdir(exist_ok=True)
    (azure_dir / "credentials").write_text(textwrap.dedent(text), encoding="utf-8")


def test_secret_from_azure_identity_env_vars(fresh_sim, home):
    session = AzureSession({}, environ=dict(fresh_sim.env, HOME=str(home)))

    assert list_groups(session) == {"value": []}
    assert session.auth_source == "env"
    assert len(token_requests(fresh_sim)) == 1


def test_secret_from_azcollection_env_vars(fresh_sim, base_env):
    auth = fresh_sim.env
    environ = dict(base_env, AZURE_CLIENT_ID=auth["AZURE_CLIENT_ID"], AZURE_SECRET=auth["AZURE_CLIENT_SECRET"],
                   AZURE_TENANT=auth["AZURE_TENANT_ID"], AZURE_SUBSCRIPTION_ID=auth["AZURE_SUBSCRIPTION_ID"])
    session = AzureSession({}, environ=environ)

    assert list_groups(session) == {"value": []}
    assert session.auth_source == "env"


def test_module_options_alone(fresh_sim, home):
    auth = fresh_sim.env
    options = {
        "client_id": auth["AZURE_CLIENT_ID"], "secret": auth["AZURE_CLIENT_SECRET"], "tenant": auth["AZURE_TENANT_ID"],
        "subscription_id": auth["AZURE_SUBSCRIPTION_ID"], "arm_endpoint": fresh_sim.url,
        "authority_host": fresh_sim.url, "auth_source": "env",
    }
    session = AzureSession(options, environ={"HOME": str(home), "REQUESTS_CA_BUNDLE": fresh_sim.ca})

    assert list_groups(session) == {"value": []}
    assert session.arm_endpoint == fresh_sim.url + "/"
    assert session.credential_scope == fresh_sim.url + "/.default"


def test_options_win_over_environment(fresh_sim, home):
    environ = dict(fresh_sim.env, HOME=str(home), AZURE_SUBSCRIPTION_ID="not-this-one")
    session = AzureSession({"subscription_id": fresh_sim.subscription_id}, environ=environ)

    assert session.subscription_id == fresh_sim.subscription_id
    assert list_groups(session) == {"value": []}


def test_credentials_file_default_profile(fresh_sim, base_env, home):
    auth = fresh_sim.env
    write_profile(home, f"""
        [default]
        subscription_id={auth["AZURE_SUBSCRIPTION_ID"]}
        client_id={auth["AZURE_CLIENT_ID"]}
        secret={auth["AZURE_CLIENT_SECRET"]}
        tenant={auth["AZURE_TENANT_ID"]}
        """)
    session = AzureSession({}, environ=base_env)

    assert session.auth_source == "credential_file"
    assert list_groups(session) == {"value": []}


def test_credentials_file_named_profile_with_option_override(fresh_sim, base_env, home):
    auth = fresh_sim.env
    write_profile(home, f"""
        [default]
        client_id=someone-else
        secret=another-long-secret-value
        tenant=another-tenant

        [sim]
        subscription_id=00000000-0000-4000-8000-000000000099
        client_id={auth["AZURE_CLIENT_ID"]}
        secret={auth["AZURE_CLIENT_SECRET"]}
        tenant={auth["AZURE_TENANT_ID"]}
        """)
    session = AzureSession({"profile": "sim", "subscription_id": auth["AZURE_SUBSCRIPTION_ID"]}, environ=base_env)

    assert session.subscription_id == auth["AZURE_SUBSCRIPTION_ID"]
    assert list_groups(session) == {"value": []}


def test_missing_profile_names_the_sections(base_env, home):
    write_profile(home, "[default]\nclient_id=x\n")

    with pytest.raises(AzureError) as caught:
        AzureSession({"profile": "nope"}, environ=base_env)

    assert caught.value.code == "InvalidConfiguration"
    assert "nope" in caught.value.message and "default" in caught.value.message


def test_workload_identity_federated_token_file(fresh_sim, base_env, tmp_path):
    auth = fresh_sim.env
    token_file = tmp_path / "federated-token"
    token_file.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl")
    environ = dict(base_env, AZURE_CLIENT_ID=auth["AZURE_CLIENT_ID"], AZURE_TENANT_ID=auth["AZURE_TENANT_ID"],
                   AZURE_FEDERATED_TOKEN_FILE=str(token_file), AZURE_SUBSCRIPTION_ID=auth["AZURE_SUBSCRIPTION_ID"])
    session = AzureSession({}, environ=environ)

    assert session.auth_source == "workload_identity"
    assert list_groups(session) == {"value": []}
    assert len(token_requests(fresh_sim)) == 1


def test_app_service_managed_identity(fresh_sim, base_env, monkeypatch):
    identity = {"IDENTITY_ENDPOINT": fresh_sim.url + "/msi/token", "IDENTITY_HEADER": "azsim-identity-header"}
    for key, value in identity.items():
        monkeypatch.setenv(key, value)  # azure-identity reads these from the process environment itself
    session = AzureSession({}, environ=dict(base_env, AZURE_SUBSCRIPTION_ID=fresh_sim.subscription_id, **identity))

    assert session.auth_source == "msi"
    assert list_groups(session) == {"value": []}
    assert [item["path"] for item in fresh_sim.admin.requests() if item["kind"] == "entra"] == ["/msi/token"]


def test_failed_auto_choice_explains_itself(fresh_sim, base_env, monkeypatch):
    identity = {"IDENTITY_ENDPOINT": fresh_sim.url + "/msi/token", "IDENTITY_HEADER": "not-the-identity-header"}
    for key, value in identity.items():
        monkeypatch.setenv(key, value)
    session = AzureSession({}, environ=dict(base_env, AZURE_SUBSCRIPTION_ID=fresh_sim.subscription_id, **identity))

    with pytest.raises(AzureError) as caught:
        list_groups(session)

    assert "auth_source auto chose msi because a managed identity endpoint is set" in caught.value.message


def test_azure_cli_account(fresh_sim, base_env, home, credential, monkeypatch):
    """A stand-in `az` on PATH answers `az account get-access-token` with a token the simulator issued."""
    token = credential.get_token(fresh_sim.url + "/.default")
    az = home / "az"
    az.write_text("#!/bin/sh\ncat <<'EOF'\n%s\nEOF\n" % json.dumps({
        "accessToken": token.token, "expires_on": token.expires_on, "tokenType": "Bearer",
        "subscription": fresh_sim.subscription_id, "tenant": fresh_sim.env["AZURE_TENANT_ID"]}))
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    azure_dir = home / ".azure"
    azure_dir.mkdir()
    (azure_dir / "azureProfile.json").write_text("\ufeff" + json.dumps({"subscriptions": [
        {"id": "00000000-0000-4000-8000-000000000002", "isDefault": False},
        {"id": fresh_sim.subscription_id, "isDefault": True}]}), encoding="utf-8")
    monkeypatch.setenv("PATH", str(home) + os.pathsep + os.environ["PATH"])  # azure-identity runs `az` itself
    session = AzureSession({}, environ=base_env)

    assert session.auth_source == "cli"
    assert session.subscription_id == fresh_sim.subscription_id
    assert list_groups(session) == {"value": []}
    assert session.resources().resource_groups.check_existence("absent-group") is False


def test_wrong_secret_is_a_clear_error_without_the_secret(fresh_sim, home):
    wrong = "Wrong-Client-Secret-for-the-test-0987654321"
    session = AzureSession({"secret": wrong}, environ=dict(fresh_sim.env, HOME=str(home)))

    with pytest.raises(AzureError) as caught:
        list_groups(session)

    result = caught.value.to_result()
    assert result["error_code"] == "AADSTS7000215"
    assert "Invalid client secret" in result["msg"]
    assert wrong not in json.dumps(result)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_env_source_without_a_secret_names_what_is_missing(base_env):
    session = AzureSession({"auth_source": "env", "client_id": "app"}, environ=base_env)

    with pytest.raises(AzureError) as caught:
        session.credential.get_token(session.credential_scope)

    assert caught.value.code == "InvalidConfiguration"
    assert "AZURE_CLIENT_SECRET or AZURE_SECRET" in caught.value.message
    assert "AZURE_TENANT_ID or AZURE_TENANT" in caught.value.message


def test_missing_subscription_is_a_clear_error(fresh_sim, home):
    environ = {k: v for k, v in fresh_sim.env.items() if k != "AZURE_SUBSCRIPTION_ID"}
    session = AzureSession({}, environ=dict(environ, HOME=str(home)))

    with pytest.raises(AzureError, match="subscription_id is required"):
        session.compute()


def test_one_token_request_per_session(fresh_sim, home):
    session = AzureSession({}, environ=dict(fresh_sim.env, HOME=str(home)))

    list_groups(session)
    session.resources().resource_groups.create_or_update("rg-token", {"location": "eastus"})
    session.compute()  # built, never called: no token needed
    assert session.resources().resource_groups.get("rg-token").location == "eastus"
    list_groups(AzureSession({}, environ=dict(fresh_sim.env, HOME=str(home))))  # same process, same settings

    assert len(token_requests(fresh_sim)) == 1


def test_settings_repr_hides_the_secret(fresh_sim, home):
    session = AzureSession({}, environ=dict(fresh_sim.env, HOME=str(home)))

    assert fresh_sim.env["AZURE_CLIENT_SECRET"] not in repr(session.settings)
