"""The simulator's CA (azsim/core/tls.py): name-constrained to loopback, short-lived and renewed, kept per state
(or run) directory, and safe to create from several simulators that start together on one directory
(issue 10 finding "its CA has no name constraints, is valid until the year 3000, and is reused across runs";
issue 11 "writes the shared CA through fixed .tmp names, so simulators that start together race")."""

from __future__ import annotations

import datetime as dt
import ipaddress
import multiprocessing
import os
import ssl
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from azsim.core import tls
from azsim.testing import SimServer

LOOPBACK = {x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
            x509.IPAddress(ipaddress.ip_network("::1/128"))}


def certs(path):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificates(handle.read())


def fingerprint(cert):
    return cert.fingerprint(hashes.SHA256()).hex()


def not_after(cert):
    return tls._not_after(cert)


def handshake(ca_file, cert, key, server_hostname):
    """A TLS handshake in memory: server with ``cert``/``key``, client trusting ``ca_file``. Raises on failure."""
    folder = os.path.dirname(ca_file)
    cert_file, key_file = os.path.join(folder, "leaf-test.pem"), os.path.join(folder, "leaf-test.key")
    with open(cert_file, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert_file, key_file)
    client_ctx = ssl.create_default_context(cafile=ca_file)
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=server_hostname)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):
        for name, side in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return True
    raise AssertionError("handshake did not finish")


def test_the_ca_is_name_constrained_to_loopback_and_short_lived(sim):
    ca = certs(sim.ca)[0]
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert set(constraints.value.permitted_subtrees) == LOOPBACK
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    lifetime = not_after(ca) - tls._not_before(ca)
    assert lifetime <= dt.timedelta(days=15), lifetime  # days, not the year 3000
    assert not_after(ca) - dt.datetime.now(dt.timezone.utc) >= tls.CA_RENEW_BEFORE
    # the simulator's own certificate verifies under it (for both names clients use)
    for host in ("127.0.0.1", "localhost"):
        url = sim.url.replace("127.0.0.1", host)
        assert requests.get(url + "/_azsim/health", headers=sim.admin.headers, verify=sim.ca, timeout=30).ok


def test_a_certificate_for_another_name_does_not_verify(tmp_path):
    folder = str(tmp_path / "tls")
    ca = tls.load_or_create_ca(folder)
    with pytest.raises(ValueError, match="loopback"):
        ca.issue(["management.azure.com"])
    # signed by hand with the CA's key, bypassing issue(): the name constraint makes clients refuse it
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    forged = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "management.azure.com")]))
              .issuer_name(ca.cert.subject).public_key(key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(minutes=1)).not_valid_after(now + dt.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.DNSName("management.azure.com")]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
              .sign(ca.key, hashes.SHA256()))
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tls.ca_path(folder), forged, key, "management.azure.com")
    # the same CA's loopback certificate is fine
    cert, leaf_key = ca.issue(["localhost", "127.0.0.1"])
    assert handshake(tls.ca_path(folder), cert, leaf_key, "localhost")


def test_the_ca_is_renewed_near_expiry_and_the_previous_stays_trusted(tmp_path):
    folder = str(tmp_path / "tls")
    first = tls.load_or_create_ca(folder)
    assert tls.load_or_create_ca(folder).cert == first.cert  # reused while it is fresh
    soon = dt.datetime.now(dt.timezone.utc) + tls.CA_LIFETIME - tls.CA_RENEW_BEFORE + dt.timedelta(hours=1)
    second = tls.load_or_create_ca(folder, now=soon)
    assert second.cert != first.cert
    assert [fingerprint(c) for c in certs(tls.ca_path(folder))] == [fingerprint(second.cert), fingerprint(first.cert)]
    later = not_after(first.cert) + dt.timedelta(hours=1)
    third = tls.load_or_create_ca(folder, now=later)  # the first has expired: it leaves the trust file
    assert fingerprint(first.cert) not in [fingerprint(c) for c in certs(tls.ca_path(folder))]
    assert certs(tls.ca_path(folder))[0] == third.cert


def test_an_unconstrained_ca_from_an_older_version_is_replaced(tmp_path):
    import trustme

    folder = tmp_path / "tls"
    folder.mkdir()
    old = trustme.CA(organization_name="azsim local test CA")  # what earlier versions wrote (valid until 3000)
    old.cert_pem.write_to_path(str(folder / "ca.pem"))
    old.private_key_pem.write_to_path(str(folder / "ca.key"))
    ca = tls.load_or_create_ca(str(folder))
    assert ca.cert.extensions.get_extension_for_class(x509.NameConstraints)
    assert [fingerprint(c) for c in certs(tls.ca_path(str(folder)))] == [fingerprint(ca.cert)]


def test_files_and_permissions(tmp_path):
    folder = str(tmp_path / "tls")
    tls.load_or_create_ca(folder)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tls.key_path(folder)).st_mode) == 0o600
    assert sorted(os.listdir(folder)) == [".lock", "bundle.pem", "ca.key", "ca.pem"]  # no temporary left over


def test_no_fixed_temporary_names(tmp_path):
    """A fixed ``ca.pem.tmp`` is shared by every simulator on the directory: here it cannot even be created."""
    folder = tmp_path / "tls"
    folder.mkdir()
    for name in ("ca.pem.tmp", "ca.key.tmp", "bundle.pem.tmp", ".ca.pem.tmp", ".bundle.pem.tmp"):
        (folder / name).mkdir()
    ca = tls.load_or_create_ca(str(folder))
    assert certs(tls.ca_path(str(folder)))[0] == ca.cert


def test_kept_per_state_directory(tmp_path):
    with SimServer(state_dir=str(tmp_path / "a")) as first:
        ca_a = first.ca
        fp_a = fingerprint(certs(ca_a)[0])
    assert ca_a.startswith(str(tmp_path / "a"))
    with SimServer(state_dir=str(tmp_path / "a")) as again, SimServer(state_dir=str(tmp_path / "b")) as other:
        assert fingerprint(certs(again.ca)[0]) == fp_a  # a restart on the same state keeps its CA
        assert fingerprint(certs(other.ca)[0]) != fp_a  # another state directory has its own
        assert again.admin.get("health")["status"] == "ok" and other.admin.get("health")["status"] == "ok"


def test_without_state_each_run_has_its_own_ca(sim):
    assert sim.ca.startswith(sim.info["run_dir"])
    with SimServer() as other:
        assert fingerprint(certs(other.ca)[0]) != fingerprint(certs(sim.ca)[0])


def _create(folder, barrier, results):
    barrier.wait(timeout=60)  # every process reaches load_or_create_ca at the same moment
    results.put(fingerprint(tls.load_or_create_ca(folder).cert))


def test_processes_creating_the_ca_together_agree_on_one(tmp_path):
    folder = str(tmp_path / "tls")
    workers = 8
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=_create, args=(folder, barrier, results)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    used = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    on_disk = [fingerprint(c) for c in certs(tls.ca_path(folder))]
    assert on_disk == [used[0]] and set(used) == {used[0]}, (used, on_disk)
    assert sorted(os.listdir(folder)) == [".lock", "bundle.pem", "ca.key", "ca.pem"]


def test_simulators_started_together_on_one_directory_all_serve_valid_tls(tmp_path):
    folder = str(tmp_path / "shared-tls")
    servers = [SimServer(tls_dir=folder) for _ in range(4)]
    with ThreadPoolExecutor(len(servers)) as pool:
        list(pool.map(lambda server: server.start(timeout=60), servers))
    try:
        shared = tls.ca_path(folder)
        for server in servers:
            assert server.ca == shared
            response = requests.get(server.url + "/_azsim/health", headers=server.admin.headers, verify=shared,
                                    timeout=30)
            assert response.status_code == 200
        assert len(certs(shared)) == 1
        assert sorted(os.listdir(folder)) == [".lock", "bundle.pem", "ca.key", "ca.pem"]
    finally:
        for server in servers:
            server.stop()
