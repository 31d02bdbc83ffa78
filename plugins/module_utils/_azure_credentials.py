# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: one azure-identity credential per process and auth setting, behind a token cache.

``build_credential(settings, cloud)`` is the only place azure-identity is imported.
"""

from __future__ import annotations

import logging
import threading

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import (
    AzureError,
    from_sdk,
)

# Option -> environment variables named in "missing option" errors (the full table is in _azure_auth).
_HINT_ENV = {
    "client_id": ("AZURE_CLIENT_ID",),
    "secret": ("AZURE_CLIENT_SECRET", "AZURE_SECRET"),
    "client_certificate_path": ("AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_X509_CERTIFICATE_PATH"),
    "tenant": ("AZURE_TENANT_ID", "AZURE_TENANT"),
    "federated_token_file": ("AZURE_FEDERATED_TOKEN_FILE",),
}

_LOCK = threading.Lock()
_CREDENTIALS = {}


def build_credential(settings, cloud):
    """One azure-identity credential per distinct auth setting in this process, wrapped in a token cache."""
    key = (settings.source, settings.client_id, settings.secret, settings.tenant, settings.federated_token_file,
           settings.client_certificate_path, settings.client_certificate_password, cloud.authority_host, cloud.disable_instance_discovery, settings.ca_bundle)
    with _LOCK:
        credential = _CREDENTIALS.get(key)
        if credential is None:
            hint = None
            if settings.auto_reason:
                hint = ("auth_source auto chose %s because %s; set auth_source or the credential options "
                        "(ansible-doc goldenimage.azure.image_facts lists them)" % (settings.source, settings.auto_reason))
            credential = _CREDENTIALS[key] = CachedTokenCredential(_new_credential(settings, cloud), hint=hint)
    return credential


def _missing(settings, names, source):
    missing = [name for name in names if not getattr(settings, name)]
    if missing:
        hints = ", ".join("%s (%s)" % (name, " or ".join(_HINT_ENV[name])) for name in missing)
        raise AzureError("auth_source %s needs %s" % (source, hints), code="InvalidConfiguration")


def _new_credential(settings, cloud):
    try:
        from azure import identity
    except ImportError:
        raise AzureError("the azure-identity Python package is required (pip install -r requirements.txt of "
                         "goldenimage.azure)", code="MissingDependency") from None
    # azure-identity logs failed token requests as warnings; without a handler Python prints them to
    # stderr, next to the AzureError that already carries the same text.
    azure_logger = logging.getLogger("azure")
    if not azure_logger.handlers:
        azure_logger.addHandler(logging.NullHandler())
    common = {"authority": cloud.authority_host, "disable_instance_discovery": cloud.disable_instance_discovery}
    transport = {}
    if settings.ca_bundle:
        # explicit, so that the cloud's own bundle is used even when another REQUESTS_CA_BUNDLE is inherited
        transport["connection_verify"] = settings.ca_bundle
    source = settings.source
    if source in ("env", "credential_file"):
        if not settings.secret and settings.client_certificate_path:
            _missing(settings, ("client_id", "tenant"), source)
            try:
                return identity.CertificateCredential(settings.tenant, settings.client_id, **_certificate(settings),
                                                      **common, **transport)
            except (ValueError, TypeError) as exc:  # the key did not load: a wrong or missing password, a bad file
                message = ("client_certificate_path: cannot load the certificate or its private key from %s (%s; check "
                           "client_certificate_password)" % (settings.client_certificate_path, exc.__class__.__name__))
                raise AzureError(message, code="InvalidConfiguration") from None
        if settings.secret or not settings.federated_token_file:
            _missing(settings, ("client_id", "secret", "tenant"), source)
            return identity.ClientSecretCredential(settings.tenant, settings.client_id, settings.secret,
                                                   **common, **transport)
        source = "workload_identity"
    if source == "workload_identity":
        _missing(settings, ("client_id", "tenant", "federated_token_file"), "workload_identity")
        return identity.WorkloadIdentityCredential(tenant_id=settings.tenant, client_id=settings.client_id,
                                                   token_file_path=settings.federated_token_file,
                                                   **common, **transport)
    if source == "cli":
        return identity.AzureCliCredential(tenant_id=settings.tenant or "")
    if source == "msi":
        return identity.ManagedIdentityCredential(client_id=settings.client_id or None, **transport)
    raise AzureError("unknown auth_source %r" % source, code="InvalidConfiguration")


def _certificate(settings):
    """The certificate file's bytes and password for CertificateCredential; an unreadable file names the option."""
    path = settings.client_certificate_path
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise AzureError("client_certificate_path: cannot read the certificate file %s: %s" % (path, exc.strerror),
                         code="InvalidConfiguration") from None
    if b"PRIVATE KEY-----" not in data and data[:1] != b"\x30":  # PEM without a key; DER PKCS#12 starts 0x30
        raise AzureError("client_certificate_path: %s holds no private key (a PEM file needs the certificate and its "
                         "private key, as az ad sp create-for-rbac --create-cert writes it; or a PKCS#12 file)" % path,
                         code="InvalidConfiguration")
    password = settings.client_certificate_password
    return {"certificate_data": data, "password": password.encode() if password else None}


class CachedTokenCredential:
    """Hands out one token per scope until shortly before it expires.

    azure-identity's secret/MSI credentials cache tokens already, but the CLI credential runs ``az``
    on every call; caching here keeps every source at one token request per process.
    """

    _MARGIN = 300  # seconds before expiry to fetch a new token, as azure-core's policies do

    def __init__(self, credential, hint=None):
        self.credential = credential
        self.hint = hint  # why this source was chosen, added to authentication errors
        self._tokens = {}
        self._lock = threading.Lock()

    def get_token(self, *scopes, **kwargs):
        import time

        if kwargs.get("claims"):
            return self._fetch(scopes, kwargs)  # a CAE challenge must reach the server
        key = (scopes, kwargs.get("tenant_id"))
        with self._lock:
            token = self._tokens.get(key)
            if token is None or token.expires_on - self._MARGIN <= time.time():
                token = self._tokens[key] = self._fetch(scopes, kwargs)
            return token

    def _fetch(self, scopes, kwargs):
        try:
            return self.credential.get_token(*scopes, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except  # translated below, re-raised otherwise
            err = from_sdk(exc)
            if not isinstance(err, AzureError):
                raise
            if self.hint and err.code in ("CredentialUnavailableError", "ClientAuthenticationError"):
                err.message = "%s (%s)" % (err.message, self.hint)
                err.args = (err.message,)
            raise err from None

    def close(self):
        close = getattr(self.credential, "close", None)
        if close:
            close()
