"""How the client layer resolves clouds, booleans and the ``auto`` source from options and the environment."""

from __future__ import annotations

import sys

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import _azure_clouds, _azure_credentials  # noqa: E402
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (  # noqa: E402
    AZURE_AUTH_SPEC,
    AzureError,
    AzureSession,
)

SECRET_TRIO = {"AZURE_CLIENT_ID": "app", "AZURE_CLIENT_SECRET": "a-long-enough-dummy-secret", "AZURE_TENANT_ID": "t"}


@pytest.fixture(autouse=True)
def new_process():
    _azure_clouds._CLOUDS.clear()
    yield
    _azure_clouds._CLOUDS.clear()


@pytest.fixture
def bare_env(tmp_path):
    """No credentials, no clouds, no `az`: only an empty HOME."""
    return {"HOME": str(tmp_path), "PATH": str(tmp_path)}


def metadata_requests(sim):
    return [item for item in sim.admin.requests() if item["path"].endswith("/metadata/endpoints")]


def test_secret_option_is_no_log():
    assert AZURE_AUTH_SPEC["secret"]["no_log"] is True
    assert not any(spec.get("default") for spec in AZURE_AUTH_SPEC.values())


@pytest.mark.parametrize("text, expected", [("true", True), ("yes", True), ("1", True), ("on", True),
                                            ("false", False), ("no", False), ("0", False), ("False", False)])
def test_instance_discovery_env_is_a_real_boolean(bare_env, text, expected):
    session = AzureSession({}, environ=dict(bare_env, AZURE_DISABLE_INSTANCE_DISCOVERY=text, **SECRET_TRIO))

    assert session.settings.disable_instance_discovery is expected
    assert session.cloud.disable_instance_discovery is expected


def test_instance_discovery_garbage_is_rejected(bare_env):
    with pytest.raises(AzureError, match="not a boolean"):
        AzureSession({}, environ=dict(bare_env, AZURE_DISABLE_INSTANCE_DISCOVERY="sometimes"))


def test_option_false_beats_env_true(bare_env):
    session = AzureSession({"disable_instance_discovery": False},
                           environ=dict(bare_env, AZURE_DISABLE_INSTANCE_DISCOVERY="true", **SECRET_TRIO))

    assert session.cloud.disable_instance_discovery is False


@pytest.mark.parametrize("name, arm, authority", [
    ("AzureCloud", "https://management.azure.com/", "https://login.microsoftonline.com"),
    ("azurechinacloud", "https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn"),
    ("AzureUSGovernment", "https://management.usgovcloudapi.net/", "https://login.microsoftonline.us"),
])
def test_named_clouds(bare_env, name, arm, authority):
    session = AzureSession({"cloud_environment": name}, environ=dict(bare_env, **SECRET_TRIO))

    assert (session.arm_endpoint, session.cloud.authority_host) == (arm, authority)
    assert session.credential_scope == arm + ".default"
    assert session.cloud.disable_instance_discovery is False  # well-known authority hosts


def test_public_cloud_by_default(bare_env):
    session = AzureSession({}, environ=dict(bare_env, **SECRET_TRIO))

    assert session.credential_scope == "https://management.azure.com/.default"


def test_unknown_cloud_name_is_rejected(bare_env):
    session = AzureSession({"cloud_environment": "AzureMoonCloud"}, environ=bare_env)

    with pytest.raises(AzureError, match="AzureMoonCloud"):
        session.cloud


def test_custom_cloud_from_metadata_url(fresh_sim, bare_env):
    session = AzureSession({"cloud_environment": fresh_sim.url},
                           environ=dict(bare_env, REQUESTS_CA_BUNDLE=fresh_sim.ca, **SECRET_TRIO))

    assert session.arm_endpoint == fresh_sim.url + "/"
    assert session.cloud.authority_host == fresh_sim.url
    assert session.cloud.disable_instance_discovery is True  # not a well-known authority
    assert len(metadata_requests(fresh_sim)) == 1


def test_custom_arm_endpoint_alone_reads_its_metadata(fresh_sim, bare_env):
    session = AzureSession({}, environ=dict(bare_env, AZURE_ARM_ENDPOINT=fresh_sim.url, REQUESTS_CA_BUNDLE=fresh_sim.ca))

    assert session.cloud.authority_host == fresh_sim.url
    assert len(metadata_requests(fresh_sim)) == 1


def test_explicit_endpoints_need_no_metadata(fresh_sim, tmp_path):
    session = AzureSession({}, environ=dict(fresh_sim.env, HOME=str(tmp_path)))

    session.arm_get("/subscriptions", "2022-09-01")

    assert session.arm_endpoint == fresh_sim.env["AZURE_ARM_ENDPOINT"]
    assert metadata_requests(fresh_sim) == []


def test_plain_http_endpoints_are_refused(bare_env):
    session = AzureSession({"arm_endpoint": "http://127.0.0.1:8080", "authority_host": "https://login.example"},
                           environ=bare_env)

    with pytest.raises(AzureError, match="arm_endpoint must be an https URL"):
        session.cloud


def test_explicit_ca_bundle_reaches_every_client(fresh_sim, tmp_path):
    session = AzureSession({}, environ=dict(fresh_sim.env, HOME=str(tmp_path)))

    assert session.client_kwargs()["connection_verify"] == fresh_sim.env["REQUESTS_CA_BUNDLE"]
    assert session.client_kwargs()["credential_scopes"] == [fresh_sim.url + "/.default"]


@pytest.mark.parametrize("extra, expected", [
    ({"AZURE_PROFILE": "other"}, "credential_file"),
    (SECRET_TRIO, "env"),
    ({"AZURE_CLIENT_ID": "app", "AZURE_TENANT_ID": "t", "AZURE_FEDERATED_TOKEN_FILE": "/var/run/token"},
     "workload_identity"),
    ({"IDENTITY_ENDPOINT": "https://127.0.0.1:1/msi/token"}, "msi"),
    ({}, "msi"),  # nothing found: the VM's own managed identity
])
def test_auto_order(bare_env, tmp_path, extra, expected):
    if expected == "credential_file":
        (tmp_path / ".azure").mkdir()
        (tmp_path / ".azure" / "credentials").write_text("[other]\nclient_id=app\n")

    assert AzureSession({}, environ=dict(bare_env, **extra)).auth_source == expected


def test_auto_prefers_an_existing_credentials_file_over_managed_identity(bare_env, tmp_path):
    (tmp_path / ".azure").mkdir()
    (tmp_path / ".azure" / "credentials").write_text("[default]\nsubscription_id=00000000-0000-4000-8000-0000000000aa\n")

    session = AzureSession({}, environ=dict(bare_env, IDENTITY_ENDPOINT="https://127.0.0.1:1/msi/token"))

    assert (session.auth_source, session.subscription_id) == ("credential_file", "00000000-0000-4000-8000-0000000000aa")


def test_auto_uses_the_cli_when_az_is_installed(bare_env, tmp_path):
    az = tmp_path / "az"
    az.write_text("#!/bin/sh\nexit 1\n")
    az.chmod(0o755)

    assert AzureSession({}, environ=bare_env).auth_source == "cli"


def test_explicit_auth_source_env_var(bare_env):
    session = AzureSession({}, environ=dict(bare_env, ANSIBLE_AZURE_AUTH_SOURCE="msi", **SECRET_TRIO))

    assert session.auth_source == "msi"
