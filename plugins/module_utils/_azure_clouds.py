# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: Azure cloud endpoints (Resource Manager, Entra authority, token scope) from settings.

Named clouds come from a table; a custom cloud's ARM URL is asked for its ``/metadata/endpoints`` as
``az cloud register`` does. Explicit ``arm_endpoint`` + ``authority_host`` need no request at all.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import AzureError

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
class Cloud:
    arm_endpoint: str           # with a trailing "/"
    authority_host: str         # without a trailing "/"
    disable_instance_discovery: bool

    @property
    def credential_scope(self):
        return self.arm_endpoint + ".default"


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
_CLOUDS = {}  # per process: a metadata URL is read once
