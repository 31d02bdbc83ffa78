"""TLS for the simulator: a short-lived CA kept per state (or run) directory, a server certificate per start.

ARM, Entra and the SDKs insist on HTTPS (wire reference section 8.1); clients trust the CA through
``REQUESTS_CA_BUNDLE`` (or ``AZSIM_CA``). Whoever holds a trusted CA's key can impersonate any host to the
programs that trust it, so this CA is made to be worth little:

- It is name-constrained (critical ``nameConstraints``) to loopback: DNS ``localhost`` (and its subdomains),
  IP ``127.0.0.0/8`` and ``::1``. A certificate it signs for any other name fails verification.
- It is valid for ``CA_LIFETIME`` (days, not years) and replaced at start when less than ``CA_RENEW_BEFORE``
  remains (or when it lacks the constraints: CAs written by older versions). The trust file ``ca.pem`` keeps
  the previous CA while it is still valid, so simulators already serving with it stay trusted.
- It lives in one directory per state directory (``--state``) or per run directory, not in one shared place.
  The key is mode 0600 in a 0700 directory.
- Several simulators may start together on the same directory: creation and renewal happen under an
  ``flock`` on ``<dir>/.lock``, and every file is written to a unique temporary name in the directory and
  renamed into place (``os.replace``), so a reader never sees a half-written file.

Built with ``cryptography`` directly: trustme cannot add name constraints or shorten a CA's validity.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import ipaddress
import os
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOSTS = ["localhost", "127.0.0.1", "::1"]
CA_LIFETIME = dt.timedelta(days=14)
CA_RENEW_BEFORE = dt.timedelta(days=7)  # so that a server certificate issued now is valid for a week at least
PERMITTED = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
             x509.IPAddress(ipaddress.ip_network("::1/128"))]
ORGANIZATION = "azsim local test CA"


def default_tls_dir():
    """An explicit CA directory from ``AZSIM_TLS_DIR``, or None (the state or run directory decides)."""
    return os.environ.get("AZSIM_TLS_DIR") or None


def ca_path(tls_dir):
    """The trust file: the current CA (and the previous one while it is valid)."""
    return os.path.join(tls_dir, "ca.pem")


def key_path(tls_dir):
    return os.path.join(tls_dir, "ca.key")


def bundle_path(tls_dir):
    """System CAs plus the simulator's CA, so exporting REQUESTS_CA_BUNDLE keeps pip and friends working."""
    return os.path.join(tls_dir, "bundle.pem")


def is_loopback(host):
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _now():
    return dt.datetime.now(dt.timezone.utc)


def write_atomic(path, data, mode=0o644):
    """Write ``data`` (bytes) to a unique temporary file beside ``path``, then rename it into place."""
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _locked(tls_dir):
    fd = os.open(os.path.join(tls_dir, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _not_after(cert):
    return cert.not_valid_after_utc if hasattr(cert, "not_valid_after_utc") else \
        cert.not_valid_after.replace(tzinfo=dt.timezone.utc)


def _not_before(cert):
    return cert.not_valid_before_utc if hasattr(cert, "not_valid_before_utc") else \
        cert.not_valid_before.replace(tzinfo=dt.timezone.utc)


class CA:
    """The signing CA: its certificate and key."""

    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    @classmethod
    def create(cls, now=None):
        now = now or _now()
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                          x509.NameAttribute(NameOID.COMMON_NAME, "azsim loopback CA " + now.strftime("%Y%m%d%H%M%S"))])
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + CA_LIFETIME)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                             crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.NameConstraints(permitted_subtrees=PERMITTED, excluded_subtrees=None),
                               critical=True)
                .add_extension(ski, critical=False)
                .sign(key, hashes.SHA256()))
        return cls(cert, key)

    def usable(self, now=None):
        """Valid now, for at least CA_RENEW_BEFORE more, constrained to loopback, and the key matches."""
        now = now or _now()
        if not _not_before(self.cert) <= now or _not_after(self.cert) - now < CA_RENEW_BEFORE:
            return False
        try:
            constraints = self.cert.extensions.get_extension_for_class(x509.NameConstraints)
        except x509.ExtensionNotFound:
            return False
        if not constraints.critical or set(constraints.value.permitted_subtrees or ()) != set(PERMITTED):
            return False
        pub = serialization.PublicFormat.SubjectPublicKeyInfo
        return (self.cert.public_key().public_bytes(serialization.Encoding.PEM, pub)
                == self.key.public_key().public_bytes(serialization.Encoding.PEM, pub))

    def issue(self, hosts, now=None):
        """A server certificate (and its key) for loopback ``hosts``, valid as long as the CA."""
        now = now or _now()
        outside = [host for host in hosts if not is_loopback(host)]
        if outside:
            raise ValueError(f"the simulator's CA signs loopback names only, not {', '.join(outside)}")
        names = []
        for host in dict.fromkeys(hosts):
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host.strip("[]"))))
            except ValueError:
                names.append(x509.DNSName(host))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "azsim"),
                                         x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
                .issuer_name(self.cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(_not_after(self.cert))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        return cert, key


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _read_ca(tls_dir):
    """(current CA or None, every certificate in the trust file)."""
    try:
        with open(ca_path(tls_dir), "rb") as handle:
            certs = x509.load_pem_x509_certificates(handle.read())
        with open(key_path(tls_dir), "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
    except (OSError, ValueError, TypeError):
        return None, []
    return (CA(certs[0], key) if certs else None), certs


def load_or_create_ca(tls_dir, now=None):
    """The directory's CA: created, or replaced when it is not usable (see the module docstring)."""
    now = now or _now()
    os.makedirs(tls_dir, mode=0o700, exist_ok=True)
    with _locked(tls_dir):
        ca, certs = _read_ca(tls_dir)
        if ca is None or not ca.usable(now):
            ca = CA.create(now)
            key_pem = ca.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())
            write_atomic(key_path(tls_dir), key_pem, mode=0o600)
        # the previous CA stays trusted while valid (simulators that started with it keep working); an
        # expired or unconstrained one leaves the trust file
        trusted = [ca.cert] + [cert for cert in certs if cert != ca.cert and _not_after(cert) > now
                               and _has_constraints(cert)][:1]
        if trusted != certs:
            write_atomic(ca_path(tls_dir), b"".join(_pem(cert) for cert in trusted))
        _write_bundle(tls_dir)
    return ca


def _has_constraints(cert):
    try:
        cert.extensions.get_extension_for_class(x509.NameConstraints)
    except x509.ExtensionNotFound:
        return False
    return True


def _write_bundle(tls_dir):
    parts = []
    for candidate in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
        if os.path.exists(candidate):
            with open(candidate, "rb") as handle:
                parts.append(handle.read())
            break
    with open(ca_path(tls_dir), "rb") as handle:
        parts.append(handle.read())
    write_atomic(bundle_path(tls_dir), b"\n".join(parts))


def server_context(tls_dir, extra_hosts=()):
    """An SSL server context with a fresh certificate from the directory's CA, for HOSTS plus ``extra_hosts``."""
    ca = load_or_create_ca(tls_dir)
    cert, key = ca.issue([*HOSTS, *extra_hosts])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory(prefix="azsim-cert-") as folder:
        cert_file = os.path.join(folder, "cert.pem")
        key_file = os.path.join(folder, "key.pem")
        with open(cert_file, "wb") as handle:
            handle.write(_pem(cert))
        with open(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        context.load_cert_chain(cert_file, key_file)
    return context


def ensure_bundle(tls_dir):
    """The directory's CA and bundle, created if missing (``azsim env`` before the first ``serve``); the bundle path."""
    load_or_create_ca(tls_dir)
    return bundle_path(tls_dir)
