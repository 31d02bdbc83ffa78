"""TLS for the simulator: one CA (generated once with trustme, reused), a server certificate per start.

ARM, Entra and the SDKs insist on HTTPS (wire reference section 8.1); clients trust the CA through
``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import os
import ssl

import trustme

HOSTS = ["localhost", "127.0.0.1", "::1"]


def default_tls_dir():
    return os.environ.get("AZSIM_TLS_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "azsim", "tls")


def ca_path(tls_dir):
    return os.path.join(tls_dir, "ca.pem")


def bundle_path(tls_dir):
    """System CAs plus the simulator's CA, so exporting REQUESTS_CA_BUNDLE keeps pip and friends working."""
    return os.path.join(tls_dir, "bundle.pem")


def _write_bundle(tls_dir):
    parts = []
    for candidate in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
        if os.path.exists(candidate):
            with open(candidate, encoding="utf-8") as handle:
                parts.append(handle.read())
            break
    with open(ca_path(tls_dir), encoding="utf-8") as handle:
        parts.append(handle.read())
    tmp = bundle_path(tls_dir) + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts))
    os.replace(tmp, bundle_path(tls_dir))


def _load_or_create_ca(tls_dir):
    os.makedirs(tls_dir, exist_ok=True)
    cert_file = ca_path(tls_dir)
    key_file = os.path.join(tls_dir, "ca.key")
    if os.path.exists(cert_file) and os.path.exists(key_file):
        with open(cert_file, "rb") as cert, open(key_file, "rb") as key:
            return trustme.CA.from_pem(cert.read(), key.read())
    ca = trustme.CA(organization_name="azsim local test CA")
    tmp_key = key_file + ".tmp"
    with open(os.open(tmp_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(ca.private_key_pem.bytes())
    os.replace(tmp_key, key_file)
    ca.cert_pem.write_to_path(cert_file + ".tmp")
    os.replace(cert_file + ".tmp", cert_file)
    return ca


def server_context(tls_dir, extra_hosts=()):
    ca = _load_or_create_ca(tls_dir)
    _write_bundle(tls_dir)
    cert = ca.issue_cert(*HOSTS, *extra_hosts)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context
