# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: bring a VM to deallocated + generalized in one pass (vm_generalize), and record deprovisioning.

Request budget (instant operations): a running VM costs GET (with instance view) + POST deallocate +
its polls + POST generalize; the resulting state is known from the calls, so no re-read follows.
An already generalized and deallocated VM costs one GET.
"""

from __future__ import annotations

import datetime
import time

from ansible_collections.goldenimage.azure.plugins.module_utils import _vmstate as vmstate
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import TAG_DEPROVISIONED
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
    azure_call,
    wait_for,
)

DEPROVISIONED_TAG = TAG_DEPROVISIONED


# The options naming one existing VM (doc fragment goldenimage.azure.vm) and their rules.
VM_TARGET_SPEC = {"name": {"type": "str"}, "resource_group": {"type": "str"}, "id": {"type": "str"}}
VM_TARGET_RULES = {"mutually_exclusive": [("id", "name")], "required_one_of": [("id", "name")],
                   "required_by": {"name": "resource_group"}}


def target_vm(session, params):
    """(compute client, resource group, name) of the VM the VM_TARGET_SPEC ``params`` name; a VM id is acted on in
    its own subscription, with the same credential. Raises AzureError (a malformed id names ``id``)."""
    subscription, resource_group, name = resolve_vm(params["name"], params["resource_group"], params["id"])
    if subscription:
        session = session.for_subscription(subscription, parameter="id")
    return session.compute(), resource_group, name


def resolve_vm(name=None, resource_group=None, vm_id=None):
    """(subscription or None, resource_group, name) from either name + resource_group or a VM id.

    A VM id is acted on in its own subscription (None: the configured one); its subscription must be a GUID.
    """
    if vm_id:
        parsed = vmstate.parse_resource_id(vm_id, "Microsoft.Compute/virtualMachines", parameter="id")
        return parsed["subscription"], parsed["resource_group"], parsed["name"]
    if not name or not resource_group:
        raise AzureError("name and resource_group (or id) are required to find the VM")
    return None, resource_group, name


def _require_vm(compute, resource_group, name, instance_view=True):
    vm = vmstate.get_vm(compute, resource_group, name, instance_view=instance_view, missing_ok=True)
    if vm is None:
        raise AzureError("VM '%s' was not found in resource group '%s'" % (name, resource_group),
                         status_code=404, code="ResourceNotFound",
                         operation="get VM '%s'" % name)
    return vm


def describe(vm, power, osstate):
    return {
        "id": vm.get("id"),
        "name": vm.get("name"),
        "resource_group": vmstate.parse_resource_id(vm["id"])["resource_group"] if vm.get("id") else None,
        "location": vm.get("location"),
        "power_state": power,
        "os_state": osstate,
        "security_type": vmstate.security_type(vm),
        "deprovisioned_at": (vm.get("tags") or {}).get(DEPROVISIONED_TAG),
    }


def plan(vm, force=False):
    """The actions a VM needs, and the refusal (a message) if generalizing would be unsafe."""
    power = vmstate.power_state(vm)
    osstate = vmstate.os_state(vm)
    actions = []
    if power != "deallocated":
        actions.append("deallocate")
    if osstate != "generalized":
        actions.append("generalize")
        if not force and DEPROVISIONED_TAG not in (vm.get("tags") or {}):
            return actions, (
                "VM '%s' has no '%s' tag, so its guest has not been shown to be deprovisioned. Generalizing cannot be "
                "undone: the VM can never be started again, and an image of a guest that was not deprovisioned "
                "(waagent -deprovision+user on Linux, Sysprep /generalize on Windows) fails to provision "
                "(OSProvisioningTimedOut). Deprovision the guest first (the goldenimage.azure.deprovision role does it "
                "and then records the tag with vm_generalize state=deprovisioned), or set force=true."
                % (vm.get("name"), DEPROVISIONED_TAG))
    return actions, None


def generalize_vm(compute, resource_group, name, force=False, check_mode=False, wait_timeout=1800):
    """Deallocate (if needed) and generalize (if needed). Returns the module result (without ``changed`` diff)."""
    deadline = time.monotonic() + wait_timeout
    vm = _require_vm(compute, resource_group, name)
    before_power, before_os = vmstate.power_state(vm), vmstate.os_state(vm)
    actions, refusal = plan(vm, force)
    if refusal:
        raise AzureError(refusal, code="NotDeprovisioned", operation="generalize VM '%s'" % name)
    seconds = {}
    power, osstate = before_power, before_os
    if actions and not check_mode:
        try:
            if "deallocate" in actions:
                seconds["deallocate"] = vmstate.deallocate(compute, resource_group, name, deadline)
                power = "deallocated"
            if "generalize" in actions:
                seconds["generalize"] = vmstate.generalize(compute, resource_group, name, deadline)
                osstate = "generalized"
        except AzureError as err:
            # report what did happen: a deallocation that succeeded is a change
            err.partial = {"changed": bool(seconds), "actions": list(seconds), "seconds": seconds,
                           "power_state": power, "os_state": osstate}
            raise
    elif actions:
        power = "deallocated"
        osstate = "generalized"
    result = describe(vm, power, osstate)
    return {
        "changed": bool(actions),
        "actions": actions,
        "vm": result,
        "power_state": power,
        "os_state": osstate,
        "seconds": seconds,
        "diff": {
            "before": {"power_state": before_power, "os_state": before_os},
            "after": {"power_state": power, "os_state": osstate},
        },
    }


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def mark_deprovisioned(compute, resource_group, name, check_mode=False, wait_timeout=600, timestamp=None):
    """Record the ``goldenimage-deprovisioned`` tag (ISO-8601 UTC) with a VM PATCH; idempotent."""
    deadline = time.monotonic() + wait_timeout
    vm = _require_vm(compute, resource_group, name, instance_view=False)
    tags = dict(vm.get("tags") or {})
    before = tags.get(DEPROVISIONED_TAG)
    seconds = {}
    if before:
        stamp = before
        changed = False
    else:
        stamp = timestamp or utc_now()
        changed = True
        if not check_mode:
            tags[DEPROVISIONED_TAG] = stamp
            operation = "tag VM '%s' as deprovisioned" % name
            started = time.monotonic()
            poller = azure_call(operation, compute.virtual_machines.begin_update, resource_group, name,
                                {"tags": tags})
            updated = vmstate.wire(wait_for(poller, operation, max(1, deadline - time.monotonic())))
            if updated:
                vm = updated
            seconds["tag"] = round(time.monotonic() - started, 3)
    result = describe(vm, None, None)
    result.pop("power_state")
    result.pop("os_state")
    result["deprovisioned_at"] = stamp
    return {
        "changed": changed,
        "actions": ["tag"] if changed else [],
        "vm": result,
        "deprovisioned_at": stamp,
        "seconds": seconds,
        "diff": {"before": {"tags": {DEPROVISIONED_TAG: before} if before else {}},
                 "after": {"tags": {DEPROVISIONED_TAG: stamp}}},
    }
