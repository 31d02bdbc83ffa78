"""A certificate service principal (issue 13, set-up): azure-identity's CertificateCredential against azsim's Entra,
which accepts only an assertion signed by a certificate registered on the application."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.test_auth import LIBRARY, PROBE, no_credentials_env, token_requests  # noqa: F401  # fixture

KEY_PASSWORD = "Cert-Key-Password-for-the-test-5555"


def make_certificate(path, password=None):
    """A self-signed certificate and its key in one PEM file, as az ad sp create-for-rbac --create-cert writes."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "goldenimage-ci")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()
    path.write_text(key_pem + cert_pem, encoding="utf-8")
    return cert_pem


def certificate_env(sim, base, path, **extra):
    return dict(base, AZURE_CLIENT_ID=sim.env["AZURE_CLIENT_ID"], AZURE_TENANT_ID=sim.env["AZURE_TENANT_ID"],
                AZURE_SUBSCRIPTION_ID=sim.subscription_id, AZURE_CLIENT_CERTIFICATE_PATH=str(path), **extra)


def probe(run):
    return run.task("Authenticate and list resource groups")


def test_registered_certificate_authenticates(play, fresh_sim, no_credentials_env, tmp_path):
    path = tmp_path / "sp.pem"
    fresh_sim.admin.settings(auth={"client_certificates": [make_certificate(path)]})
    fresh_sim.admin.clear_requests()

    run = play(PROBE, env=certificate_env(fresh_sim, no_credentials_env, path))

    assert probe(run)["status"] == "ok", run.stdout
    assert probe(run)["result"]["auth_source"] == "env"
    assert len(token_requests(fresh_sim)) == 1 and token_requests(fresh_sim)[0]["status"] == 200


def test_certificate_not_registered_is_refused_by_entra(play, fresh_sim, no_credentials_env, tmp_path):
    registered, other = tmp_path / "registered.pem", tmp_path / "other.pem"
    fresh_sim.admin.settings(auth={"client_certificates": [make_certificate(registered)]})
    make_certificate(other)

    run = play(PROBE, env=certificate_env(fresh_sim, no_credentials_env, other))

    assert probe(run)["status"] == "failed"
    assert probe(run)["result"]["error_code"] == "AADSTS700027"
    assert [item["status"] for item in token_requests(fresh_sim)] == [401]


def test_encrypted_key_with_its_password_never_shown(play, fresh_sim, no_credentials_env, tmp_path):
    path = tmp_path / "sp-encrypted.pem"
    fresh_sim.admin.settings(auth={"client_certificates": [make_certificate(path, KEY_PASSWORD)]})

    run = play(PROBE, env=certificate_env(fresh_sim, no_credentials_env, path,
                                         AZURE_CLIENT_CERTIFICATE_PASSWORD=KEY_PASSWORD), args=["-vvv"])

    assert probe(run)["status"] == "ok", run.stdout
    assert KEY_PASSWORD not in run.stdout + run.stderr + repr(run.results)


@pytest.mark.parametrize("case", ["missing file", "no private key", "wrong password"])
def test_bad_certificate_fails_before_any_request_naming_the_option(play, fresh_sim, no_credentials_env, tmp_path,
                                                                   case):
    path = tmp_path / "sp.pem"
    extra = {}
    if case == "no private key":
        path.write_text(make_certificate(tmp_path / "full.pem"), encoding="utf-8")
    elif case == "wrong password":
        make_certificate(path, KEY_PASSWORD)
        extra["AZURE_CLIENT_CERTIFICATE_PASSWORD"] = "not-the-password"
    fresh_sim.admin.clear_requests()

    run = play(PROBE, env=certificate_env(fresh_sim, no_credentials_env, path, **extra))

    assert probe(run)["status"] == "failed"
    assert probe(run)["result"]["msg"].startswith("client_certificate_path: "), probe(run)["result"]["msg"]
    assert [item for item in fresh_sim.admin.requests() if item["kind"] in ("entra", "arm")] == []
