"""Client assertions signed with a certificate (a certificate service principal), checked as Entra checks them.

azure-identity's ``CertificateCredential`` (through MSAL) sends ``client_assertion``: a JWT whose header names the
certificate by its SHA-1 thumbprint (``x5t``) or SHA-256 thumbprint (``x5t#S256``), signed with the private key
(RS256, or PS256 in newer MSAL), with ``aud`` the token endpoint, ``iss`` = ``sub`` = the client id and an ``exp``.
Entra accepts it only when the certificate is registered on the application (``auth.client_certificates``, PEM).

A federated credential's assertion (workload identity) names no certificate: ``is_certificate_assertion`` tells
the two apart, and the token route keeps accepting federated tokens as before.

Errors, as Entra answers them [docs: "Microsoft identity platform application authentication certificate
credentials" and the AADSTS error code reference]:
- AADSTS700027 - the assertion's signature does not verify, or its certificate is not registered on the app;
- AADSTS700024 - the assertion is expired (``exp`` in the past) [unverified: the exact code for an expired one];
- AADSTS700023 / AADSTS50027 - a malformed assertion (not a JWT) [unverified].
"""

from __future__ import annotations

import base64
import hashlib
import json
import time


class InvalidAssertion(Exception):
    """Entra's refusal of an assertion: the AADSTS number and its description."""

    def __init__(self, code, description):
        super().__init__(description)
        self.code = code
        self.description = description


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parts(assertion):
    try:
        head, body, signature = assertion.split(".")
        return json.loads(_unb64(head)), json.loads(_unb64(body)), _unb64(signature), f"{head}.{body}".encode()
    except (ValueError, TypeError) as err:
        raise InvalidAssertion(50027, f"The client assertion is not a valid JWT ({err.__class__.__name__}).") from None


def is_certificate_assertion(assertion):
    """True when the assertion's header names a certificate (x5t / x5t#S256)."""
    try:
        header = json.loads(_unb64(assertion.split(".")[0]))
    except (ValueError, TypeError, IndexError):
        return False
    return isinstance(header, dict) and ("x5t" in header or "x5t#S256" in header)


def _registered(pems):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    found = {}
    for pem in pems:
        cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
        der = cert.public_bytes(serialization.Encoding.DER)
        found[("x5t", hashlib.sha1(der).digest())] = cert  # nosec - x5t is SHA-1 by definition (RFC 7515)
        found[("x5t#S256", hashlib.sha256(der).digest())] = cert
    return found


def _thumbprint(text):
    """The digest an x5t names: base64url by RFC 7515, though MSAL sends standard base64 with padding."""
    try:
        return base64.b64decode(str(text).replace("-", "+").replace("_", "/") + "=" * (-len(str(text)) % 4))
    except ValueError:
        return b""


def _verify(cert, alg, signature, signed):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    if alg == "RS256":
        pad = padding.PKCS1v15()
    elif alg == "PS256":
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256().digest_size)
    else:
        raise InvalidAssertion(700027, f"Client assertion uses an unsupported algorithm '{alg}'.")
    try:
        cert.public_key().verify(signature, signed, pad, hashes.SHA256())
    except InvalidSignature:
        raise InvalidAssertion(700027, "Client assertion contains an invalid signature.") from None


def check_certificate_assertion(assertion, client_id, registered_pems, now=None):
    """Raise InvalidAssertion unless ``assertion`` is signed by a certificate registered on ``client_id``."""
    header, claims, signature, signed = _parts(assertion)
    registered = _registered(registered_pems)
    key = ("x5t#S256", header["x5t#S256"]) if "x5t#S256" in header else ("x5t", header.get("x5t"))
    cert = registered.get((key[0], _thumbprint(key[1])))
    if cert is None:
        raise InvalidAssertion(700027, f"Client assertion failed signature validation: the certificate with "
                              f"{key[0]} '{key[1]}' is not registered on application '{client_id}'.")
    _verify(cert, header.get("alg"), signature, signed)
    if str(claims.get("iss", "")).lower() != client_id.lower() or str(claims.get("sub", "")).lower() != client_id.lower():
        raise InvalidAssertion(700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
    if float(claims.get("exp", 0)) < (time.time() if now is None else now):
        raise InvalidAssertion(700024, "Client assertion is not within its valid time range.")
