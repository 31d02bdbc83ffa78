# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one Azure client and auth layer (contract: docs/architecture.md, "The client layer").

Modules, the lookup and the inventory plugin import everything from here:

    AZURE_AUTH_SPEC, AzureError, AzureSession, azure_call, wait_for, retry_action, bounded, retries, to_snake

SDK packages are imported only when a call needs them: a read through ``AzureSession.arm_get``
costs azure-identity plus azure-core, not the 0.2-0.4 s of an ``azure.mgmt.*`` client import.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from urllib.parse import quote

from ansible_collections.goldenimage.azure.plugins.module_utils._arm_wire import to_snake  # noqa: F401  # re-exported
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_auth import (  # noqa: F401  # re-exported
    AZURE_AUTH_SPEC,
    resolve_auth,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_clouds import resolve_cloud
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_credentials import build_credential
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import (  # noqa: F401  # re-exported
    AzureError,
    azure_call,
    retries,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_waits import (  # noqa: F401  # re-exported
    arm_retry_policy,
    bounded,
    retry_action,
    wait_for,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._resource_id import check_subscription

__all__ = ["AZURE_AUTH_SPEC", "AzureError", "AzureSession", "azure_call", "wait_for", "retry_action", "bounded",
           "retries", "to_snake"]

COLLECTION_VERSION = "0.1.0"
USER_AGENT = "ansible-goldenimage-azure/%s" % COLLECTION_VERSION

# Characters ARM resource names and ids may hold that must not be percent-encoded in a path.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _subscription_origin(options, environ, settings):
    """Where the configured subscription id came from, for error messages."""
    if (options or {}).get("subscription_id") not in (None, ""):
        return "subscription_id"
    if environ.get("AZURE_SUBSCRIPTION_ID"):
        return "subscription_id (from AZURE_SUBSCRIPTION_ID)"
    if settings.source == "credential_file":
        return "subscription_id (from the credentials profile)"
    return "subscription_id (from az's default subscription)"


class AzureSession:
    """Credentials, endpoints and lazily built, cached clients for one subscription.

    ``options`` are AZURE_AUTH_SPEC keys (None = not set); ``environ`` supplies the environment
    fallbacks. Construction makes no network call; bad configuration (a ``subscription_id`` that is
    not a GUID included) raises AzureError.

    ``for_subscription(sub)`` is the session of another subscription: the same settings, cloud,
    credential (one token cache) and REST pipeline, its own SDK clients. Resource ids are acted on in
    the subscription they name (see ``_resource_id``).
    """

    def __init__(self, options, environ=None):
        self._environ = os.environ if environ is None else environ
        retries(clear=True)  # a new session is a new task (modules may run in one worker process, item after item)
        self.settings = resolve_auth(options, self._environ)
        if self.settings.subscription_id:
            check_subscription(self.settings.subscription_id,
                               _subscription_origin(options, self._environ, self.settings))
        self._cloud = None
        self._clients = {}
        self._arm_pipeline = None
        self._lock = threading.Lock()
        self._root = self
        self._children = {}

    # -- where and who ---------------------------------------------------------------------------
    @property
    def subscription_id(self):
        if not self.settings.subscription_id:
            raise AzureError("subscription_id is required: set the subscription_id option or AZURE_SUBSCRIPTION_ID"
                             "%s" % (" (or the profile's subscription_id)" if self.settings.source == "credential_file"
                                     else ""), code="InvalidConfiguration")
        return self.settings.subscription_id

    def for_subscription(self, subscription_id, parameter="subscription_id"):
        """The session acting in ``subscription_id`` with this credential (``self`` when it is the configured one).

        A value that is not a GUID raises AzureError naming ``parameter`` (no request is made). Sessions are
        cached per subscription and share the credential, its token cache, the cloud and the REST pipeline.
        """
        wanted = check_subscription(subscription_id, parameter)
        root = self._root
        current = root.settings.subscription_id
        if current and current.lower() == wanted.lower():
            return root
        with root._lock:
            child = root._children.get(wanted.lower())
            if child is None:
                child = object.__new__(AzureSession)
                child._environ = root._environ
                child.settings = dataclasses.replace(root.settings, subscription_id=wanted)
                child._cloud = None
                child._clients = {}
                child._arm_pipeline = None
                child._lock = threading.Lock()
                child._root = root
                child._children = root._children
                root._children[wanted.lower()] = child
            return child

    @property
    def auth_source(self):
        return self.settings.source

    @property
    def cloud(self):
        root = self._root
        if root._cloud is None:
            root._cloud = resolve_cloud(root.settings)
        return root._cloud

    @property
    def arm_endpoint(self):
        return self.cloud.arm_endpoint

    @property
    def credential_scope(self):
        return self.cloud.credential_scope

    @property
    def credential(self):
        """The process-wide credential for these settings (at most one token request per scope)."""
        return build_credential(self.settings, self.cloud)

    def client_kwargs(self):
        """Keyword arguments for any azure-mgmt-* client: this cloud, its scope, the CA bundle, our user agent."""
        kwargs = {
            "base_url": self.arm_endpoint,
            "credential_scopes": [self.credential_scope],
            "user_agent": USER_AGENT,
        }
        if self.settings.ca_bundle:
            kwargs["connection_verify"] = self.settings.ca_bundle
        return kwargs

    # -- SDK clients -----------------------------------------------------------------------------
    def client(self, module_name, class_name):
        """Any azure-mgmt client class, e.g. ``client("azure.mgmt.compute", "ComputeManagementClient")``; cached."""
        key = (module_name, class_name)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._new_client(module_name, class_name)
            return self._clients[key]

    def _new_client(self, module_name, class_name):
        import importlib

        try:
            client_class = getattr(importlib.import_module(module_name), class_name)
        except ImportError:
            raise AzureError("the %s Python package is required (pip install -r requirements.txt of goldenimage.azure)"
                             % module_name.replace(".", "-"), code="MissingDependency") from None
        # the ARM layer's retry rule (_azure_waits) instead of azure-core's default RetryPolicy
        return client_class(self.credential, self.subscription_id, retry_policy=arm_retry_policy(),
                            **self.client_kwargs())

    def compute(self):
        return self.client("azure.mgmt.compute", "ComputeManagementClient")

    def network(self):
        return self.client("azure.mgmt.network", "NetworkManagementClient")

    def resources(self):
        return self.client("azure.mgmt.resource.resources", "ResourceManagementClient")

    # -- light ARM REST path for hot reads ---------------------------------------------------------
    def _pipeline(self):
        root = self._root  # one pipeline per credential: paths carry the subscription
        with root._lock:
            if root._arm_pipeline is None:
                root._arm_pipeline = root._new_pipeline()
            return root._arm_pipeline

    def _new_pipeline(self):
        try:
            from azure.core import PipelineClient
            from azure.core.pipeline import policies
        except ImportError:
            raise AzureError("the azure-core Python package is required", code="MissingDependency") from None
        kwargs = {"user_agent": USER_AGENT}
        if self.settings.ca_bundle:
            kwargs["connection_verify"] = self.settings.ca_bundle
        # The same chain a generated mgmt client uses, minus provider auto-registration (reads never need it).
        chain = [
            policies.RequestIdPolicy(**kwargs),
            policies.HeadersPolicy(**kwargs),
            policies.UserAgentPolicy(**kwargs),
            policies.ProxyPolicy(**kwargs),
            policies.ContentDecodePolicy(**kwargs),
            policies.RedirectPolicy(**kwargs),
            arm_retry_policy(),
            policies.BearerTokenCredentialPolicy(self.credential, self.credential_scope, **kwargs),
            policies.NetworkTraceLoggingPolicy(**kwargs),
            policies.SensitiveHeaderCleanupPolicy(**kwargs),
        ]
        return PipelineClient(self.arm_endpoint, policies=chain, **kwargs)

    def _url(self, path):
        if path.lower().startswith("https://"):
            return path  # a nextLink
        return self.arm_endpoint + quote(path.lstrip("/"), safe=_PATH_SAFE)

    def arm_get(self, path, api_version, params=None, operation=None):
        """GET an ARM path (relative to the ARM endpoint, unquoted names) and return the decoded JSON.

        The JSON is a dict, or a list for the Marketplace's bare-array lists. Errors raise AzureError
        (404: ``status_code`` 404, so ``azure_call(..., missing_ok=True)`` turns it into None).
        """
        return self._arm_send("GET", path, api_version, params, None, operation)

    def arm_put(self, path, api_version, body, operation=None):
        """PUT ``body`` (JSON) on an ARM path that answers synchronously (no LRO), e.g. Marketplace agreements."""
        return self._arm_send("PUT", path, api_version, None, body, operation)

    def _arm_send(self, method, path, api_version, params, body, operation):
        query = dict(params or {})
        if "api-version=" not in path:
            query["api-version"] = api_version

        def send():
            from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
            from azure.core.rest import HttpRequest

            response = self._pipeline().send_request(HttpRequest(method, self._url(path), params=query, json=body))
            if response.status_code >= 400:
                error_class = ResourceNotFoundError if response.status_code == 404 else HttpResponseError
                raise error_class(response=response)
            return response.json() if response.content else None

        try:
            return azure_call(operation, send)
        except AzureError as err:
            if operation is None:
                # unnamed: say which request failed, and leave ``operation`` to an enclosing azure_call
                err.message = "%s (%s %s)" % (err.message, method, path.split("?", 1)[0])
                err.args = (err.message,)
            raise

    def arm_list(self, path, api_version, params=None, operation=None):
        """All items of an ARM list: follows ``nextLink`` pages; a bare-array answer is returned as it is."""
        page = self.arm_get(path, api_version, params=params, operation=operation)
        if isinstance(page, list):
            return page
        items = list(page.get("value", []))
        while page.get("nextLink"):
            page = self.arm_get(page["nextLink"], api_version, operation=operation)
            items.extend(page.get("value", []))
        return items
