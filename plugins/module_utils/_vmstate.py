# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: VM state and power actions shared by vm_generalize, disk_tier and image_capture.

Functions take a ``ComputeManagementClient`` and plain values and return plain (wire-format,
camelCase) dicts; errors are ``AzureError``. No AnsibleModule here.
"""

from __future__ import annotations

import time

from ansible_collections.goldenimage.azure.plugins.module_utils import _resource_id
# re-exported: callers read VM state through _vmstate
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import (  # noqa: F401  # pylint: disable=unused-import
    POWER_STATES,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_wire import (  # noqa: F401  # pylint: disable=unused-import
    os_state,
    power_state,
    props,
    statuses,
    wire,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
    azure_call,
    retry_action,
    wait_for,
)


def parse_resource_id(rid, expected_type=None, parameter="id"):
    """Split an ARM id into subscription, resource_group, type, name (+ child segments): ``_resource_id.parse``.

    Raises ``AzureError`` naming ``parameter`` when the id does not parse, has another type or a subscription
    that is not a GUID.
    """
    return _resource_id.parse(rid, expected_type, parameter=parameter)


# 404 codes that say the resource's scope is missing, not the resource itself.
SCOPE_MISSING = ("ResourceGroupNotFound", "SubscriptionNotFound")


def get_or_none(operation, func, *args, **kwargs):
    """``azure_call``; None when the resource is absent (404), but AzureError when its resource group or
    subscription is: "resource group 'x' does not exist" is the truth, not "VM 'y' was not found"."""
    try:
        return azure_call(operation, func, *args, **kwargs)
    except AzureError as err:
        if err.status_code == 404 and err.code not in SCOPE_MISSING:
            return None
        raise  # ARM's own words: "Resource group 'x' could not be found." (code ResourceGroupNotFound)


def same_id(left, right):
    return bool(left) and bool(right) and left.rstrip("/").lower() == right.rstrip("/").lower()


def security_type(vm):
    """``TrustedLaunch``, ``ConfidentialVM`` or ``Standard`` from a VM body."""
    profile = props(vm).get("securityProfile") or {}
    return profile.get("securityType") or "Standard"


def get_vm(compute, resource_group, name, instance_view=True, missing_ok=False):
    kwargs = {"expand": "instanceView"} if instance_view else {}
    operation = "get VM '%s' in resource group '%s'" % (name, resource_group)
    if missing_ok:  # a missing resource group is an error, not a missing VM
        return wire(get_or_none(operation, compute.virtual_machines.get, resource_group, name, **kwargs))
    return wire(azure_call(operation, compute.virtual_machines.get, resource_group, name, **kwargs))


def reached(compute, resource_group, name, power=None, generalized=False):
    """A callable for ``retry_action(done=...)``: re-read the VM; True when it is in ``power`` (and generalized)."""
    def check():
        vm = get_vm(compute, resource_group, name)
        if generalized:
            return os_state(vm) == "generalized"
        return power_state(vm) == power
    return check


def _run_action(operation, begin, resource_group, name, deadline, done):
    """POST action (retried as ``retry_action`` does: a lost answer counts as done once the VM reached the target
    state) + bounded LRO wait. Returns elapsed seconds."""
    started = time.monotonic()
    poller = retry_action(operation, begin, resource_group, name, timeout=max(1, deadline - time.monotonic()),
                          done=done)
    if poller is not None:
        wait_for(poller, operation, max(1, deadline - time.monotonic()))
    return round(time.monotonic() - started, 3)


def deallocate(compute, resource_group, name, deadline):
    return _run_action("deallocate VM '%s'" % name, compute.virtual_machines.begin_deallocate,
                       resource_group, name, deadline, reached(compute, resource_group, name, "deallocated"))


def start(compute, resource_group, name, deadline):
    return _run_action("start VM '%s'" % name, compute.virtual_machines.begin_start, resource_group, name, deadline,
                       reached(compute, resource_group, name, "running"))


def power_off(compute, resource_group, name, deadline):
    return _run_action("power off VM '%s'" % name, compute.virtual_machines.begin_power_off,
                       resource_group, name, deadline, reached(compute, resource_group, name, "stopped"))


def generalize(compute, resource_group, name, deadline):
    """Synchronous POST generalize (200, no body). Returns elapsed seconds."""
    started = time.monotonic()
    retry_action("generalize VM '%s'" % name, compute.virtual_machines.generalize, resource_group, name,
                 timeout=max(1, deadline - time.monotonic()),
                 done=reached(compute, resource_group, name, generalized=True))
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
