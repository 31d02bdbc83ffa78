# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: move a VM off unmanaged (VHD, blob-based) disks with ``convertToManagedDisks`` (vm_managed_disks).

Azure retired unmanaged disks: a VM that still has one cannot be started, and Azure stopped and deallocated those
that were running. The supported way out is ``convertToManagedDisks``, which needs the VM deallocated, turns each
VHD into a managed disk (the blobs stay in their storage account) and starts the VM.

Flow: read the VM -> nothing to do when every disk is managed -> refuse (before any write) a generalized VM, or a
VM that is not deallocated unless ``allow_deallocate`` -> deallocate -> convert (bounded wait) -> bring the VM to
the wanted power state (the one it had, by default) -> read it again for the result.
"""

from __future__ import annotations

import time

from ansible_collections.goldenimage.azure.plugins.module_utils import _vmstate as vmstate
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
    retry_action,
    wait_for,
)

POWER_TARGETS = ("restore", "running", "deallocated")
# a transition counts as the state it ends in
SETTLED = {"starting": "running", "stopping": "stopped", "deallocating": "deallocated"}


def describe_disks(vm):
    """Each disk of the VM: name, role, lun, managed, id, vhd_uri, sku, size_gb (from the VM's storage profile)."""
    storage = vmstate.props(vm).get("storageProfile") or {}
    entries = [("os", storage.get("osDisk") or {})] + [("data", item) for item in storage.get("dataDisks") or []]
    disks = []
    for role, entry in entries:
        managed = entry.get("managedDisk") or {}
        disks.append({
            "name": entry.get("name"),
            "role": role,
            "lun": entry.get("lun") if role == "data" else None,
            "managed": bool(managed.get("id")),
            "id": managed.get("id"),
            "vhd_uri": (entry.get("vhd") or {}).get("uri"),
            "sku": managed.get("storageAccountType"),
            "size_gb": entry.get("diskSizeGB"),
        })
    return disks


def unmanaged(disks):
    return [disk for disk in disks if disk["vhd_uri"]]


def predicted_after(vm, disks):
    """Check mode: the disks as the conversion names them (managed disks named as the VM's profile names them)."""
    parsed = vmstate.parse_resource_id(vm["id"])
    after = []
    for disk in disks:
        item = dict(disk)
        if disk["vhd_uri"]:
            item.update(managed=True, vhd_uri=None, sku=None,
                        id="/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/%s"
                        % (parsed["subscription"], parsed["resource_group"], disk["name"]))
        after.append(item)
    return after


def converted(compute, resource_group, name):
    """``retry_action(done=...)``: the VM has no VHD disk left."""
    def check():
        return not unmanaged(describe_disks(vmstate.get_vm(compute, resource_group, name, instance_view=False)))
    return check


def target_power(wanted, before):
    if wanted in (None, "restore"):
        return SETTLED.get(before, before)
    return wanted


def _reach(compute, resource_group, name, target, deadline, seconds):
    """Bring the VM from whatever the conversion left (Azure starts it) to ``target``."""
    now = vmstate.power_state(vmstate.get_vm(compute, resource_group, name))
    now = SETTLED.get(now, now)
    if target == "running" and now != "running":
        seconds["start"] = vmstate.start(compute, resource_group, name, deadline)
    elif target == "deallocated" and now != "deallocated":
        seconds["deallocate_after"] = vmstate.deallocate(compute, resource_group, name, deadline)
    elif target == "stopped" and now != "stopped":
        if now == "deallocated":
            seconds["start"] = vmstate.start(compute, resource_group, name, deadline)
        seconds["power_off"] = vmstate.power_off(compute, resource_group, name, deadline)


def migrate(compute, resource_group, name, allow_deallocate=False, power_state="restore", check_mode=False,
            wait_timeout=1800):
    """Convert the VM's unmanaged disks to managed disks. Returns the module result.

    An AzureError raised after a change carries ``partial`` (what was changed, the power state it left)."""
    if power_state not in POWER_TARGETS:
        raise AzureError("power_state: '%s' is not one of %s" % (power_state, ", ".join(POWER_TARGETS)))
    deadline = time.monotonic() + wait_timeout
    vm = vmstate.get_vm(compute, resource_group, name, missing_ok=True)
    if vm is None:
        raise AzureError("VM '%s' was not found in resource group '%s'" % (name, resource_group),
                         status_code=404, code="ResourceNotFound", operation="get VM '%s'" % name)
    before = describe_disks(vm)
    power_before = vmstate.power_state(vm)
    blobs = [disk["vhd_uri"] for disk in unmanaged(before)]
    result = {
        "changed": False,
        "vm": {"id": vm.get("id"), "name": vm.get("name"),
               "vm_size": (vmstate.props(vm).get("hardwareProfile") or {}).get("vmSize")},
        "disks_before": before,
        "disks_after": before,
        "power_state_before": power_before,
        "power_state_after": power_before,
        "deallocated": False,
        "blobs_left": [],
        "seconds": {},
    }
    if not blobs:
        result["diff"] = {"before": _diff(before, power_before), "after": _diff(before, power_before)}
        return result
    names = ", ".join("%s %s disk '%s' (%s)" % (
        disk["role"], "" if disk["lun"] is None else "LUN %s" % disk["lun"], disk["name"], disk["vhd_uri"])
        for disk in unmanaged(before))
    names = names.replace("  ", " ")
    if vmstate.os_state(vm) == "generalized":
        raise AzureError("VM '%s' is generalized; Azure does not convert the disks of a generalized VM to managed "
                         "disks (capture an image from its VHD instead). Nothing was changed." % name)
    must_deallocate = SETTLED.get(power_before, power_before) != "deallocated"
    if must_deallocate and not allow_deallocate:
        raise AzureError("VM '%s' is %s; Azure converts unmanaged disks (%s) only on a deallocated VM. Set "
                         "allow_deallocate=true to let this task deallocate the VM, convert its disks and restore its "
                         "power state, or deallocate it first. Nothing was changed." % (name, power_before, names))
    target = target_power(power_state, power_before)
    result.update(changed=True, deallocated=must_deallocate, blobs_left=blobs, power_state_after=target)
    if check_mode:
        result["disks_after"] = predicted_after(vm, before)
        result["diff"] = {"before": _diff(before, power_before), "after": _diff(result["disks_after"], target)}
        return result

    seconds = result["seconds"]
    if must_deallocate:
        seconds["deallocate"] = vmstate.deallocate(compute, resource_group, name, deadline)
    operation = "convert VM '%s' to managed disks" % name
    started = time.monotonic()
    try:
        poller = retry_action(operation, compute.virtual_machines.begin_convert_to_managed_disks, resource_group,
                              name, timeout=max(1, deadline - time.monotonic()),
                              done=converted(compute, resource_group, name))
        if poller is not None:
            wait_for(poller, operation, max(1, deadline - time.monotonic()))
    except AzureError as err:
        if must_deallocate:
            # Azure no longer starts a VM on unmanaged disks: its earlier power state cannot come back
            err.message += (" The VM was deallocated for the conversion and is left deallocated: Azure does not start "
                            "a VM that still has unmanaged disks.")
        err.partial = {"changed": must_deallocate, "seconds": seconds,
                       "power_state": "deallocated" if must_deallocate else power_before}
        raise
    seconds["convert"] = round(time.monotonic() - started, 3)
    try:
        _reach(compute, resource_group, name, target, max(deadline, time.monotonic() + 60), seconds)
    except AzureError as err:
        err.message += " The disks were converted to managed disks; the VM's power state was not restored."
        err.partial = {"changed": True, "seconds": seconds}
        raise
    after_vm = vmstate.get_vm(compute, resource_group, name)
    result["disks_after"] = describe_disks(after_vm)
    result["power_state_after"] = vmstate.power_state(after_vm)
    result["diff"] = {"before": _diff(before, power_before),
                      "after": _diff(result["disks_after"], result["power_state_after"])}
    return result


def _diff(disks, power):
    return {"power_state": power,
            "disks": {disk["name"]: ("managed: %s" % disk["id"]) if disk["managed"] else ("vhd: %s" % disk["vhd_uri"])
                      for disk in disks}}
