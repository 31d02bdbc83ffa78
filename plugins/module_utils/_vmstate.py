# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: VM state and power actions shared by vm_generalize, disk_tier and image_capture.

Functions take a ``ComputeManagementClient`` and plain values and return plain (wire-format,
camelCase) dicts; errors are ``AzureError``. No AnsibleModule here.
"""

from __future__ import annotations

import re
import time

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
    azure_call,
    retry_action,
    wait_for,
)

_ID_RE = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<resource_group>[^/]+)"
    r"/providers/(?P<namespace>[^/]+)/(?P<type>[^/]+)/(?P<name>[^/]+)(?P<rest>(/[^/]+/[^/]+)*)/?$",
    re.IGNORECASE,
)

POWER_STATES = ("running", "stopped", "deallocated", "starting", "stopping", "deallocating", "unknown")


def parse_resource_id(rid, expected_type=None, parameter="id"):
    """Split an ARM id into subscription, resource_group, type, name (+ child segments).

    Raises ``AzureError`` naming ``parameter`` when the id does not parse or has another type.
    """
    match = _ID_RE.match(rid or "")
    if not match:
        raise AzureError("%s: '%s' is not an Azure resource id (/subscriptions/.../resourceGroups/.../providers/...)"
                         % (parameter, rid))
    parts = match.groupdict()
    full_type = "%s/%s" % (parts["namespace"], parts["type"])
    children = [seg for seg in (parts["rest"] or "").split("/") if seg]
    child_names = children[1::2]
    for index in range(0, len(children), 2):
        full_type += "/" + children[index]
    if expected_type and full_type.lower() != expected_type.lower():
        raise AzureError("%s: '%s' is a %s id, expected %s" % (parameter, rid, full_type, expected_type))
    return {
        "subscription": parts["subscription"],
        "resource_group": parts["resource_group"],
        "type": full_type,
        "name": parts["name"],
        "children": child_names,
    }


def same_id(left, right):
    return bool(left) and bool(right) and left.rstrip("/").lower() == right.rstrip("/").lower()


def wire(model):
    """An SDK model (or None) as its wire-format dict."""
    if model is None:
        return None
    if hasattr(model, "as_dict"):
        return model.as_dict()
    return dict(model)


def props(body):
    return (body or {}).get("properties") or {}


def statuses(vm):
    view = props(vm).get("instanceView") or {}
    return [status.get("code") or "" for status in view.get("statuses") or []]


def power_state(vm):
    """``running``, ``deallocated``... from an instance view (``unknown`` when it has none)."""
    for code in statuses(vm):
        if code.lower().startswith("powerstate/"):
            return code.split("/", 1)[1].lower()
    return "unknown"


def os_state(vm):
    """``generalized`` or ``specialized`` from an instance view."""
    for code in statuses(vm):
        if code.lower() == "osstate/generalized":
            return "generalized"
    return "specialized"


def security_type(vm):
    """``TrustedLaunch``, ``ConfidentialVM`` or ``Standard`` from a VM body."""
    profile = props(vm).get("securityProfile") or {}
    return profile.get("securityType") or "Standard"


def get_vm(compute, resource_group, name, instance_view=True, missing_ok=False):
    kwargs = {"expand": "instanceView"} if instance_view else {}
    vm = azure_call("get VM '%s' in resource group '%s'" % (name, resource_group),
                    compute.virtual_machines.get, resource_group, name, missing_ok=missing_ok, **kwargs)
    return wire(vm)


def _run_action(operation, begin, resource_group, name, deadline):
    """POST action (retried on 429 / 409 in progress) + bounded LRO wait. Returns elapsed seconds."""
    started = time.monotonic()
    poller = retry_action(operation, begin, resource_group, name, timeout=max(1, deadline - time.monotonic()))
    wait_for(poller, operation, max(1, deadline - time.monotonic()))
    return round(time.monotonic() - started, 3)


def deallocate(compute, resource_group, name, deadline):
    return _run_action("deallocate VM '%s'" % name, compute.virtual_machines.begin_deallocate,
                       resource_group, name, deadline)


def start(compute, resource_group, name, deadline):
    return _run_action("start VM '%s'" % name, compute.virtual_machines.begin_start, resource_group, name, deadline)


def power_off(compute, resource_group, name, deadline):
    return _run_action("power off VM '%s'" % name, compute.virtual_machines.begin_power_off,
                       resource_group, name, deadline)


def generalize(compute, resource_group, name, deadline):
    """Synchronous POST generalize (200, no body). Returns elapsed seconds."""
    started = time.monotonic()
    retry_action("generalize VM '%s'" % name, compute.virtual_machines.generalize, resource_group, name,
                 timeout=max(1, deadline - time.monotonic()))
    return round(time.monotonic() - started, 3)


def restore_power(compute, resource_group, name, previous, deadline):
    """Bring a VM deallocated by us back to ``previous`` (running, or stopped = start + power off)."""
    steps = {}
    if previous in ("running", "starting"):
        steps["start"] = start(compute, resource_group, name, deadline)
    elif previous in ("stopped", "stopping"):
        steps["start"] = start(compute, resource_group, name, deadline)
        steps["power_off"] = power_off(compute, resource_group, name, deadline)
    return steps
