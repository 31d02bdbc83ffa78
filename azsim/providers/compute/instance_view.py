"""A VM's instance view (wire reference 3.2), computed from the simulator's record of the VM.

The record lives in the VM body's private ``_sim``: ``power`` (running | stopped | deallocated | unknown),
``generalized``, ``action`` (the operation in flight, if any), ``failed`` (the error of the last failed
operation), ``status_time``, ``os_name``/``os_version`` (what the guest agent would report).
"""

from __future__ import annotations

from ...core.store import private

AGENT_VERSION = "2.9.1.1"
POWER_DISPLAY = {
    "starting": "VM starting", "running": "VM running", "stopping": "VM stopping", "stopped": "VM stopped",
    "deallocating": "VM deallocating", "deallocated": "VM deallocated", "unknown": "VM status unknown",
}
# (provisioning state, power state) shown while an action runs; None keeps the current one.
TRANSITIONS = {
    "create": ("creating", "starting"),
    "update": ("updating", None),
    "deallocate": ("updating", "deallocating"),
    "power_off": ("updating", "stopping"),
    "start": ("updating", "starting"),
    "restart": ("updating", "starting"),
    "delete": ("deleting", None),
    "convert_to_managed": ("updating", None),
}
PROVISIONING_STATE = {"creating": "Creating", "updating": "Updating", "deleting": "Deleting"}


def provisioning_state(vm):
    """The top-level ``properties.provisioningState`` for the VM's record."""
    record = private(vm)
    transition = TRANSITIONS.get(record.get("action"))
    if transition:
        return PROVISIONING_STATE[transition[0]]
    return "Failed" if record.get("failed") else "Succeeded"


def power_state(vm):
    record = private(vm)
    transition = TRANSITIONS.get(record.get("action"))
    if transition and transition[1]:
        return transition[1]
    return record.get("power", "running")


def statuses(vm):
    record = private(vm)
    transition = TRANSITIONS.get(record.get("action"))
    time = record.get("status_time")
    if transition:
        provisioning = {"code": f"ProvisioningState/{transition[0]}", "level": "Info",
                        "displayStatus": PROVISIONING_STATE[transition[0]]}
    elif record.get("failed"):
        error = record["failed"]
        provisioning = {"code": f"ProvisioningState/failed/{error.get('code', 'InternalOperationError')}",
                        "level": "Error", "displayStatus": "Provisioning failed", "message": error.get("message", ""),
                        "time": time}
    else:
        provisioning = {"code": "ProvisioningState/succeeded", "level": "Info",
                        "displayStatus": "Provisioning succeeded", "time": time}
    items = [provisioning]
    if record.get("generalized"):
        items.append({"code": "OSState/generalized", "level": "Info", "displayStatus": "VM generalized"})
    power = power_state(vm)
    items.append({"code": f"PowerState/{power}", "level": "Info", "displayStatus": POWER_DISPLAY[power]})
    return items


def _disk_views(vm):
    storage = vm["properties"].get("storageProfile", {})
    time = private(vm).get("status_time")
    disks = [storage.get("osDisk") or {}] + list(storage.get("dataDisks") or [])
    return [{"name": disk.get("name"), "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                                                     "displayStatus": "Provisioning succeeded", "time": time}]}
            for disk in disks if disk.get("name")]


def instance_view(vm):
    record = private(vm)
    props = vm["properties"]
    view = {}
    running = power_state(vm) == "running" and record.get("action") not in TRANSITIONS
    if running:
        # Only a running guest's agent reports its name and OS; deallocated VMs have neither (wire ref 3.2).
        view["computerName"] = (props.get("osProfile") or {}).get("computerName") or vm["name"]
        view["osName"] = record.get("os_name") or props["storageProfile"]["osDisk"].get("osType", "").lower()
        view["osVersion"] = record.get("os_version") or ""
    view["hyperVGeneration"] = record.get("hyper_v_generation", "V1")
    if running:
        view["vmAgent"] = {"vmAgentVersion": AGENT_VERSION, "statuses": [
            {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Ready",
             "message": "Guest Agent is running", "time": record.get("status_time")}], "extensionHandlers": []}
    elif power_state(vm) == "stopped":
        view["vmAgent"] = {"vmAgentVersion": "Unknown", "statuses": [
            {"code": "ProvisioningState/Unavailable", "level": "Warning", "displayStatus": "Not Ready",
             "message": "VM status blob is found but not yet populated."}], "extensionHandlers": []}
    view["disks"] = _disk_views(vm)
    view["statuses"] = statuses(vm)
    return view
