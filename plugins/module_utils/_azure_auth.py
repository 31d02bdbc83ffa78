# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: where credentials and cloud endpoints come from.

``resolve_auth(options, environ)`` turns module options, environment variables and
``~/.azure/credentials`` into one ``AuthSettings``; ``build_credential`` makes the azure-identity
credential for it. Only plain values here and lazy SDK imports; ``_azure_client`` re-exports
``AZURE_AUTH_SPEC``. The order ``auto`` follows is documented in ``plugins/doc_fragments/azure.py``.
"""

from __future__ import annotations

import configparser
import json
import logging
import os
import shutil
import threading
from dataclasses import dataclass

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import (
    AzureError,
    from_sdk,
    register_secret,
)

AUTH_SOURCES = ("auto", "env", "credential_file", "cli", "msi", "workload_identity")

AZURE_AUTH_SPEC = {
    "auth_source": {"type": "str", "choices": list(AUTH_SOURCES)},
    "profile": {"type": "str"},
    "subscription_id": {"type": "str"},
    "client_id": {"type": "str"},
    "secret": {"type": "str", "no_log": True},
    "tenant": {"type": "str"},
    "federated_token_file": {"type": "path"},
    "cloud_environment": {"type": "str"},
    "arm_endpoint": {"type": "str"},
    "authority_host": {"type": "str"},
    "disable_instance_discovery": {"type": "bool"},
}

# Option -> environment variables, first set wins: azure-identity's names, then azure.azcollection's.
ENV_NAMES = {
    "auth_source": ("ANSIBLE_AZURE_AUTH_SOURCE",),
    "profile": ("AZURE_PROFILE",),
    "subscription_id": ("AZURE_SUBSCRIPTION_ID",),
    "client_id": ("AZURE_CLIENT_ID",),
    "secret": ("AZURE_CLIENT_SECRET", "AZURE_SECRET"),
    "tenant": ("AZURE_TENANT_ID", "AZURE_TENANT"),
    "federated_token_file": ("AZURE_FEDERATED_TOKEN_FILE",),
    "cloud_environment": ("AZURE_CLOUD_ENVIRONMENT",),
    "arm_endpoint": ("AZURE_ARM_ENDPOINT",),
    "authority_host": ("AZURE_AUTHORITY_HOST",),
    "disable_instance_discovery": ("AZURE_DISABLE_INSTANCE_DISCOVERY",),
}

# Keys of an azure.azcollection style ~/.azure/credentials profile that we read.
PROFILE_KEYS = ("subscription_id", "client_id", "secret", "tenant", "cloud_environment")

CLOUDS = {
    "azurecloud": ("https://management.azure.com/", "https://login.microsoftonline.com"),
    "azurechinacloud": ("https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn"),
    "azureusgovernment": ("https://management.usgovcloudapi.net/", "https://login.microsoftonline.us"),
}
# MSAL skips instance discovery for these hosts by itself; any other authority needs it disabled offline.
WELL_KNOWN_AUTHORITY_HOSTS = frozenset((
    "login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "sts.windows.net",
    "login.chinacloudapi.cn", "login.microsoftonline.us", "login.usgovcloudapi.net", "login.microsoftonline.de",
))
METADATA_API_VERSION = "2022-09-01"


@dataclass(frozen=True)
class AuthSettings:
    source: str                 # one of AUTH_SOURCES except "auto"
    subscription_id: str = None
    client_id: str = None
    secret: str = None
    tenant: str = None
    federated_token_file: str = None
    cloud_environment: str = None
    arm_endpoint: str = None
    authority_host: str = None
    disable_instance_discovery: bool = None
    ca_bundle: str = None       # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, passed explicitly to every client
    auto_reason: str = None     # why "auto" chose this source (for error messages)

    def __repr__(self):  # dataclass repr would print the secret
        return "AuthSettings(source=%r, subscription_id=%r, client_id=%r, tenant=%r)" % (
            self.source, self.subscription_id, self.client_id, self.tenant)


@dataclass(frozen=True)
class Cloud:
    arm_endpoint: str           # with a trailing "/"
    authority_host: str         # without a trailing "/"
    disable_instance_discovery: bool

    @property
    def credential_scope(self):
        return self.arm_endpoint + ".default"


def _first_env(environ, option):
    for name in ENV_NAMES[option]:
        value = environ.get(name)
        if value not in (None, ""):
            return value
    return None


def parse_bool(value, name):
    """A boolean from an option or an environment string; "false"/"no"/"0" really are false."""
    if value is None or isinstance(value, bool):
        return value
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise AzureError("%s: %r is not a boolean (use true or false)" % (name, value), code="InvalidConfiguration") from None


def _home(environ):
    return environ.get("HOME") or os.path.expanduser("~")


def credentials_file_path(environ):
    return os.path.join(_home(environ), ".azure", "credentials")


def read_profile(environ, name):
    """One section of ~/.azure/credentials (azure.azcollection's format) as a dict; AzureError if absent."""
    path = credentials_file_path(environ)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise AzureError("cannot read the credentials file %s: %s" % (path, exc.strerror),
                         code="InvalidConfiguration") from None
    except configparser.Error as exc:
        raise AzureError("cannot parse the credentials file %s: %s" % (path, exc.__class__.__name__),
                         code="InvalidConfiguration") from None
    if not parser.has_section(name):
        raise AzureError("profile '%s' not found in %s (sections: %s)" % (name, path, ", ".join(parser.sections()) or "none"),
                         code="InvalidConfiguration")
    section = parser[name]
    return {key: section.get(key) for key in PROFILE_KEYS if section.get(key)}


def _cli_default_subscription(environ):
    """The subscription `az account set` made the default, from az's azureProfile.json (no subprocess)."""
    config_dir = environ.get("AZURE_CONFIG_DIR") or os.path.join(_home(environ), ".azure")
    try:
        # az writes this file with a UTF-8 BOM
        with open(os.path.join(config_dir, "azureProfile.json"), encoding="utf-8-sig") as handle:
            profile = json.load(handle)
    except (OSError, ValueError):
        return None
    for item in profile.get("subscriptions", []):
        if item.get("isDefault"):
            return item.get("id")
    return None


def _explicit(options, environ, option):
    value = options.get(option)
    return value if value not in (None, "") else _first_env(environ, option)


def resolve_auth(options, environ=None):
    """Options > environment > credentials profile; pick the source for ``auto``. Makes no network call."""
    environ = os.environ if environ is None else environ
    options = options or {}
    values = {name: _explicit(options, environ, name) for name in AZURE_AUTH_SPEC}
    values["disable_instance_discovery"] = parse_bool(values["disable_instance_discovery"],
                                                      "disable_instance_discovery")
    source = values.pop("auth_source") or "auto"
    if source not in AUTH_SOURCES:
        raise AzureError("auth_source must be one of %s, not %r" % (", ".join(AUTH_SOURCES), source),
                         code="InvalidConfiguration")
    profile_name = values.pop("profile")
    reason = None
    if source == "auto":
        source, reason = _choose_source(values, profile_name, environ)
    if source == "credential_file":
        profile = read_profile(environ, profile_name or "default")
        for key, value in profile.items():
            # explicit options beat the profile; the profile beats environment variables
            if options.get(key) in (None, ""):
                values[key] = value
    if source == "cli" and not values["subscription_id"]:
        values["subscription_id"] = _cli_default_subscription(environ)
    register_secret(values["secret"])
    return AuthSettings(source=source, ca_bundle=environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE"),
                        auto_reason=reason, **values)


def _choose_source(values, profile_name, environ):
    if profile_name:
        return "credential_file", "profile '%s' was named" % profile_name
    if values["client_id"] and values["secret"] and values["tenant"]:
        return "env", "client_id, secret and tenant are set"
    if values["client_id"] and values["tenant"] and values["federated_token_file"]:
        return "workload_identity", "client_id, tenant and federated_token_file are set"
    if os.path.exists(credentials_file_path(environ)):
        return "credential_file", "%s exists" % credentials_file_path(environ)
    if environ.get("IDENTITY_ENDPOINT") or environ.get("MSI_ENDPOINT"):
        return "msi", "a managed identity endpoint is set"
    if shutil.which("az", path=environ.get("PATH")):
        return "cli", "the Azure CLI is installed"
    return "msi", "no other credentials were found (this uses the VM's managed identity through IMDS)"


def _normalise_arm(url):
    url = url.strip()
    return url if url.endswith("/") else url + "/"


def _normalise_authority(url):
    url = url.strip().rstrip("/")
    return url if "://" in url else "https://" + url


def _host(url):
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0].split(":", 1)[0].lower()


def fetch_cloud_metadata(arm_url, ca_bundle):
    """ARM's /metadata/endpoints (as `az cloud register --endpoint-resource-manager` reads it) -> (arm, authority)."""
    import requests  # azure-core's own transport dependency

    url = _normalise_arm(arm_url) + "metadata/endpoints"
    try:
        response = requests.get(url, params={"api-version": METADATA_API_VERSION}, timeout=30,
                                verify=ca_bundle if ca_bundle else True)
        response.raise_for_status()
        body = response.json()
        if isinstance(body, list):  # the older multi-cloud shape
            body = body[0]
        return body.get("resourceManager") or arm_url, body["authentication"]["loginEndpoint"]
    except (requests.RequestException, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise AzureError("cannot read cloud metadata from %s: %s" % (url, exc), code="CloudMetadataError") from None


def resolve_cloud(settings):
    """Endpoints from arm_endpoint/authority_host, else the named cloud, else a metadata URL. Cached per process."""
    key = (settings.cloud_environment, settings.arm_endpoint, settings.authority_host,
           settings.disable_instance_discovery, settings.ca_bundle)
    with _LOCK:
        cloud = _CLOUDS.get(key)
        if cloud is None:
            cloud = _CLOUDS[key] = _resolve_cloud(settings)
    return cloud


def _resolve_cloud(settings):
    arm, authority = settings.arm_endpoint, settings.authority_host
    if not (arm and authority):
        name = settings.cloud_environment
        if name and name.lower() in CLOUDS:
            named_arm, named_authority = CLOUDS[name.lower()]
        elif name and name.lower().startswith("https://"):
            named_arm, named_authority = fetch_cloud_metadata(name, settings.ca_bundle)
        elif name:
            raise AzureError("cloud_environment must be AzureCloud, AzureChinaCloud, AzureUSGovernment or an https "
                             "ARM URL, not %r" % name, code="InvalidConfiguration")
        elif arm and _normalise_arm(arm) not in {cloud[0] for cloud in CLOUDS.values()}:
            # Only a custom ARM endpoint: ask it for its login endpoint, like az CLI custom clouds.
            named_arm, named_authority = fetch_cloud_metadata(arm, settings.ca_bundle)
        else:
            named_arm, named_authority = CLOUDS["azurecloud"]
        arm, authority = arm or named_arm, authority or named_authority
    arm, authority = _normalise_arm(arm), _normalise_authority(authority)
    for label, url in (("arm_endpoint", arm), ("authority_host", authority)):
        if not url.lower().startswith("https://"):
            raise AzureError("%s must be an https URL (Azure bearer tokens are only sent over TLS), not %r" % (label, url),
                             code="InvalidConfiguration")
    disable = settings.disable_instance_discovery
    if disable is None:
        disable = _host(authority) not in WELL_KNOWN_AUTHORITY_HOSTS
    return Cloud(arm_endpoint=arm, authority_host=authority, disable_instance_discovery=disable)


_LOCK = threading.Lock()
_CLOUDS = {}
_CREDENTIALS = {}


def build_credential(settings, cloud):
    """One azure-identity credential per distinct auth setting in this process, wrapped in a token cache."""
    key = (settings.source, settings.client_id, settings.secret, settings.tenant, settings.federated_token_file,
           cloud.authority_host, cloud.disable_instance_discovery, settings.ca_bundle)
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
        hints = ", ".join("%s (%s)" % (name, " or ".join(ENV_NAMES[name])) for name in missing)
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
