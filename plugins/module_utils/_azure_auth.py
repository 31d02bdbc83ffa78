# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the shared auth options and where their values come from.

``resolve_auth(options, environ)`` turns module options, environment variables and
``~/.azure/credentials`` into one ``AuthSettings`` and picks the source for ``auto`` (the order is
documented in ``plugins/doc_fragments/azure.py``). Plain values only, no network, no SDK;
``_azure_clouds`` turns settings into endpoints and ``_azure_credentials`` into a credential.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
from dataclasses import dataclass

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import (
    AzureError,
    register_secret,
)

AUTH_SOURCES = ("auto", "env", "credential_file", "cli", "msi", "workload_identity")

AZURE_AUTH_SPEC = {
    "auth_source": {"type": "str", "choices": list(AUTH_SOURCES)},
    "profile": {"type": "str"},
    "subscription_id": {"type": "str"},
    "client_id": {"type": "str"},
    "secret": {"type": "str", "no_log": True},
    "client_certificate_path": {"type": "path"},
    "client_certificate_password": {"type": "str", "no_log": True},
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
    "client_certificate_path": ("AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_X509_CERTIFICATE_PATH"),
    "client_certificate_password": ("AZURE_CLIENT_CERTIFICATE_PASSWORD",),
    "tenant": ("AZURE_TENANT_ID", "AZURE_TENANT"),
    "federated_token_file": ("AZURE_FEDERATED_TOKEN_FILE",),
    "cloud_environment": ("AZURE_CLOUD_ENVIRONMENT",),
    "arm_endpoint": ("AZURE_ARM_ENDPOINT",),
    "authority_host": ("AZURE_AUTHORITY_HOST",),
    "disable_instance_discovery": ("AZURE_DISABLE_INSTANCE_DISCOVERY",),
}

# Keys of an azure.azcollection style ~/.azure/credentials profile that we read.
PROFILE_KEYS = ("subscription_id", "client_id", "secret", "tenant", "cloud_environment", "client_certificate_path",
                "client_certificate_password")
# azure.azcollection's profile names for the same settings
PROFILE_ALIASES = {"x509_certificate_path": "client_certificate_path"}


@dataclass(frozen=True)
class AuthSettings:
    source: str                 # one of AUTH_SOURCES except "auto"
    subscription_id: str = None
    client_id: str = None
    secret: str = None
    client_certificate_path: str = None
    client_certificate_password: str = None
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
    found = {key: section.get(key) for key in PROFILE_KEYS if section.get(key)}
    for alias, key in PROFILE_ALIASES.items():
        if section.get(alias) and key not in found:
            found[key] = section.get(alias)
    return found


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
    register_secret(values["client_certificate_password"])
    if values["client_certificate_path"]:
        values["client_certificate_path"] = os.path.expanduser(values["client_certificate_path"])
    return AuthSettings(source=source, ca_bundle=environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE"),
                        auto_reason=reason, **values)


def _choose_source(values, profile_name, environ):
    if profile_name:
        return "credential_file", "profile '%s' was named" % profile_name
    if values["client_id"] and values["secret"] and values["tenant"]:
        return "env", "client_id, secret and tenant are set"
    if values["client_id"] and values["tenant"] and values["client_certificate_path"]:
        return "env", "client_id, tenant and client_certificate_path are set"
    if values["client_id"] and values["tenant"] and values["federated_token_file"]:
        return "workload_identity", "client_id, tenant and federated_token_file are set"
    if os.path.exists(credentials_file_path(environ)):
        return "credential_file", "%s exists" % credentials_file_path(environ)
    if environ.get("IDENTITY_ENDPOINT") or environ.get("MSI_ENDPOINT"):
        return "msi", "a managed identity endpoint is set"
    if shutil.which("az", path=environ.get("PATH")):
        return "cli", "the Azure CLI is installed"
    return "msi", "no other credentials were found (this uses the VM's managed identity through IMDS)"
