# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: managed disk SKU, performance tier, size and IOPS/throughput changes, VM-aware (disk_tier).

Flow: resolve the disks (by id, name or VM) -> validate every requested change against the documented
rules (nothing is called that changes anything until every disk passes) -> decide whether the owning VM
must be deallocated (SKU or encryption change while attached to a VM that is not deallocated) -> deallocate if allowed
-> PATCH each disk -> restore the VM's power state (also after a failed PATCH).
"""

from __future__ import annotations

import time

from ansible_collections.goldenimage.azure.plugins.module_utils import _encryption
from ansible_collections.goldenimage.azure.plugins.module_utils import _vmstate as vmstate
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
    azure_call,
    retry_action,
    wait_for,
)

SKUS = ("Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS", "PremiumV2_LRS",
        "UltraSSD_LRS")
PREMIUM_SSD = ("Premium_LRS", "Premium_ZRS")
PROVISIONED_PERFORMANCE = ("PremiumV2_LRS", "UltraSSD_LRS")

# Premium SSD performance tiers and the largest disk (GiB) each is the baseline for.
TIERS = (("P1", 4), ("P2", 8), ("P3", 16), ("P4", 32), ("P6", 64), ("P10", 128), ("P15", 256), ("P20", 512),
         ("P30", 1024), ("P40", 2048), ("P50", 4096), ("P60", 8192), ("P70", 16384), ("P80", 32767))
TIER_NAMES = tuple(name for name, _size in TIERS)
LARGE_TIER_MIN_GB = 4096
# Documented IOPS and MB/s of each Premium SSD performance tier (Learn, "Azure managed disk types").
PREMIUM_PERFORMANCE = {
    "P1": (120, 25), "P2": (120, 25), "P3": (120, 25), "P4": (120, 25), "P6": (240, 50), "P10": (500, 100),
    "P15": (1100, 125), "P20": (2300, 150), "P30": (5000, 200), "P40": (7500, 250), "P50": (7500, 250),
    "P60": (16000, 500), "P70": (18000, 750), "P80": (20000, 900),
}  # P60-P80 only for disks above 4 TiB


def tier_rank(tier):
    return TIER_NAMES.index(tier) if tier in TIER_NAMES else -1


def baseline_tier(size_gb):
    """The performance tier that a Premium SSD of this size gets by default."""
    for name, limit in TIERS:
        if size_gb <= limit:
            return name
    return TIERS[-1][0]


def describe_disk(disk):
    """The facts of a disk that disk_tier reports and compares."""
    p = vmstate.props(disk)
    return {
        "sku": (disk.get("sku") or {}).get("name"),
        "tier": p.get("tier"),
        "size_gb": p.get("diskSizeGB"),
        "iops": p.get("diskIOPSReadWrite"),
        "mbps": p.get("diskMBpsReadWrite"),
        "disk_state": p.get("diskState"),
        "encryption_type": (p.get("encryption") or {}).get("type") or _encryption.PLATFORM_KEY,
        "disk_encryption_set": (p.get("encryption") or {}).get("diskEncryptionSetId"),
    }


def validate_request(sku=None, tier=None, size_gb=None, iops=None, mbps=None):
    """Checks that need no Azure state. Raises AzureError naming the parameter."""
    if sku is not None and sku not in SKUS:
        raise AzureError("sku: '%s' is not a managed disk SKU; use one of %s" % (sku, ", ".join(SKUS)))
    if tier is not None and tier not in TIER_NAMES:
        raise AzureError("tier: '%s' is not a Premium SSD performance tier (P1 ... P80)" % tier)
    if size_gb is not None and size_gb < 1:
        raise AzureError("size_gb: must be a positive number of GiB, got %s" % size_gb)
    for name, value in (("iops", iops), ("mbps", mbps)):
        if value is not None and value < 1:
            raise AzureError("%s: must be positive, got %s" % (name, value))
    if sku is not None and tier is not None and sku not in PREMIUM_SSD:
        raise AzureError("tier: performance tiers exist only for Premium SSD (Premium_LRS, Premium_ZRS), "
                         "not for sku %s" % sku)
    if sku is not None and (iops is not None or mbps is not None) and sku not in PROVISIONED_PERFORMANCE:
        raise AzureError("iops/mbps: IOPS and throughput can be set only on PremiumV2_LRS and UltraSSD_LRS disks, "
                         "not on %s (their performance follows size and tier)" % sku)


def plan_disk(disk, role, sku=None, tier=None, size_gb=None, iops=None, mbps=None, encryption=None):
    """The PATCH body a disk needs (``{}`` = nothing to do); raises AzureError on a rule violation.

    ``encryption``: the disk's new ``encryption`` (``_encryption.disk_target_encryption``), None to keep it."""
    name = disk.get("name")
    current = describe_disk(disk)
    target_sku = sku or current["sku"]
    target_size = size_gb if size_gb is not None else current["size_gb"]
    patch_props = {}
    body = {}
    if size_gb is not None and current["size_gb"] is not None and size_gb < current["size_gb"]:
        raise AzureError("size_gb: disk '%s' is %s GiB; Azure disks can only grow, not shrink to %s GiB"
                         % (name, current["size_gb"], size_gb))
    if sku is not None and sku != current["sku"]:
        if role == "os" and sku in PROVISIONED_PERFORMANCE:
            raise AzureError("sku: %s cannot be an OS disk (disk '%s'); it is for data disks only" % (sku, name))
        body["sku"] = {"name": sku}
    if size_gb is not None and size_gb != current["size_gb"]:
        patch_props["diskSizeGB"] = size_gb
    if tier is not None:
        if target_sku not in PREMIUM_SSD:
            raise AzureError("tier: disk '%s' is %s; performance tiers exist only for Premium SSD "
                             "(Premium_LRS, Premium_ZRS)" % (name, target_sku))
        base = baseline_tier(target_size or 0)
        if tier_rank(tier) < tier_rank(base):
            raise AzureError("tier: %s is below the baseline tier %s of a %s GiB disk '%s'; a tier can only be "
                             "raised above the size's baseline" % (tier, base, target_size, name))
        if tier_rank(tier) >= tier_rank("P60") and (target_size or 0) <= LARGE_TIER_MIN_GB:
            raise AzureError("tier: %s is only available for disks larger than %d GiB; disk '%s' is %s GiB"
                             % (tier, LARGE_TIER_MIN_GB, name, target_size))
        if tier != current["tier"]:
            patch_props["tier"] = tier
    if iops is not None or mbps is not None:
        if target_sku not in PROVISIONED_PERFORMANCE:
            raise AzureError("iops/mbps: disk '%s' is %s; IOPS and throughput can be set only on PremiumV2_LRS "
                             "and UltraSSD_LRS" % (name, target_sku))
        if iops is not None and iops != current["iops"]:
            patch_props["diskIOPSReadWrite"] = iops
        if mbps is not None and mbps != current["mbps"]:
            patch_props["diskMBpsReadWrite"] = mbps
    if encryption:
        patch_props["encryption"] = encryption
    if patch_props:
        body["properties"] = patch_props
    return body


def predict(disk, body):
    """The disk facts after ``body`` is applied (check mode). IOPS/throughput are predicted for Premium SSD
    from the documented tier table and left as they are otherwise (None when the SKU changes)."""
    after = describe_disk(disk)
    p = body.get("properties") or {}
    sku_changed = "sku" in body
    if sku_changed:
        after["sku"] = body["sku"]["name"]
    after["size_gb"] = p.get("diskSizeGB", after["size_gb"])
    if after["sku"] in PREMIUM_SSD:
        tier = p.get("tier") or (None if sku_changed else after["tier"])
        base = baseline_tier(after["size_gb"] or 0)
        if not tier or tier_rank(tier) < tier_rank(base):
            tier = base
        after["tier"] = tier
        after["iops"], after["mbps"] = PREMIUM_PERFORMANCE[tier]
    else:
        after["tier"] = None
        if sku_changed:
            after["iops"] = after["mbps"] = None
    after["iops"] = p.get("diskIOPSReadWrite", after["iops"])
    after["mbps"] = p.get("diskMBpsReadWrite", after["mbps"])
    if "encryption" in p:
        after["encryption_type"] = p["encryption"]["type"]
        after["disk_encryption_set"] = p["encryption"].get("diskEncryptionSetId")
    return after


def is_shared(disk):
    """A shared disk (``maxShares`` above 1) can be attached to several VMs at once."""
    return int((vmstate.props(disk or {}).get("maxShares")) or 1) > 1


def needs_deallocation(body, role, disk=None):
    """True when Azure accepts this change only on an unattached disk or a deallocated VM."""
    # A SKU change, and a change of encryption ("Your existing disks must not be attached to a running VM in order
    # for you to encrypt them", Learn, customer-managed keys for managed disks).
    if "sku" in body or "encryption" in (body.get("properties") or {}):
        return True
    # The performance tier changes without downtime, except on a shared disk attached to a running VM
    # (Learn, "Performance tiers for managed disks", Restrictions).
    if "tier" in (body.get("properties") or {}) and is_shared(disk):
        return True
    # Growing an OS disk needs the VM deallocated; data disks expand online.
    return role == "os" and "diskSizeGB" in (body.get("properties") or {})


def refused_for_running_vm(err, disk, power_before):
    """Azure's 409 OperationNotAllowed for a change it accepts only while the disk's VM is deallocated."""
    return (err.status_code == 409 and (err.code or "") == "OperationNotAllowed" and bool(disk.get("managedBy"))
            and power_before not in (None, "deallocated") and "deallocat" in (err.message or "").lower())


def _get_disk(compute, resource_group, name):
    disk = vmstate.wire(vmstate.get_or_none("get disk '%s' in resource group '%s'" % (name, resource_group),
                                            compute.disks.get, resource_group, name))
    if disk is None:
        raise AzureError("disk '%s' was not found in resource group '%s'" % (name, resource_group),
                         status_code=404, code="ResourceNotFound", operation="get disk '%s'" % name)
    return disk


def vm_disks(vm):
    """(role, lun, name, managed id or None, vhd uri or None) for the OS disk and each data disk."""
    storage = vmstate.props(vm).get("storageProfile") or {}
    items = []
    os_disk = storage.get("osDisk") or {}
    items.append(("os", None, os_disk.get("name"), (os_disk.get("managedDisk") or {}).get("id"),
                  (os_disk.get("vhd") or {}).get("uri")))
    for data in storage.get("dataDisks") or []:
        items.append(("data", data.get("lun"), data.get("name"), (data.get("managedDisk") or {}).get("id"),
                      (data.get("vhd") or {}).get("uri")))
    return items


def temporary_disk(compute, location, vm_size):
    """The VM size's temporary (resource) disk, from the VM sizes list of the region."""
    sizes = azure_call("list VM sizes in %s" % location, compute.virtual_machine_sizes.list, location)
    for size in sizes or []:
        item = vmstate.wire(size)
        if (item.get("name") or "").lower() == (vm_size or "").lower():
            mb = item.get("resourceDiskSizeInMB") or 0
            return {"present": mb > 0, "size_mb": mb, "size_gb": round(mb / 1024.0, 1)}
    return {"present": None, "size_mb": None, "size_gb": None}


def _select(vm, select, luns):
    entries = vm_disks(vm)
    if luns:
        chosen = []
        present = {lun: entry for entry in entries for lun in [entry[1]] if entry[0] == "data"}
        missing = [lun for lun in luns if lun not in present]
        if missing:
            raise AzureError("luns: VM '%s' has no data disk at LUN %s (it has %s)"
                             % (vm.get("name"), ", ".join(str(x) for x in missing),
                                ", ".join(str(x) for x in sorted(present)) or "none"))
        for lun in luns:
            chosen.append(present[lun])
        return chosen
    select = select or "os"
    if select == "os":
        return [entries[0]]
    if select == "data":
        return entries[1:]
    return entries


def change_disks(compute, disks=None, vm=None, select=None, luns=None, sku=None, tier=None, size_gb=None,
                 iops=None, mbps=None, disk_encryption_set=None, encryption_type=None, allow_deallocate=False,
                 check_mode=False, wait_timeout=1800):
    """Apply the requested changes. ``disks``: list of (resource_group, name); ``vm``: (resource_group, name).

    Returns the module result. On failure after a change, the raised AzureError carries ``partial``.
    """
    deadline = time.monotonic() + wait_timeout
    validate_request(sku, tier, size_gb, iops, mbps)
    _encryption.validate_disk_request(disk_encryption_set, encryption_type)
    wants_encryption = disk_encryption_set is not None or encryption_type is not None
    vm_body = None
    targets = []  # dicts: role, lun, disk (wire) or None, vhd
    if vm is not None:
        vm_body = vmstate.get_vm(compute, vm[0], vm[1], missing_ok=True)
        if vm_body is None:
            raise AzureError("vm: VM '%s' was not found in resource group '%s'" % (vm[1], vm[0]),
                             status_code=404, code="ResourceNotFound", operation="get VM '%s'" % vm[1])
        for role, lun, name, managed_id, vhd in _select(vm_body, select, luns):
            disk = None
            if managed_id:
                parsed = vmstate.parse_resource_id(managed_id)
                disk = _get_disk(compute, parsed["resource_group"], parsed["name"])
            targets.append({"role": role, "lun": lun, "name": name, "disk": disk, "vhd": vhd})
    else:
        owners = {}
        for resource_group, name in disks:
            disk = _get_disk(compute, resource_group, name)
            targets.append({"role": None, "lun": None, "name": name, "disk": disk, "vhd": None})
            if disk.get("managedBy"):
                owners.setdefault(disk["managedBy"].lower(), disk["managedBy"])
        if len(owners) > 1:
            raise AzureError("the disks are attached to different VMs (%s); change them in separate tasks"
                             % ", ".join(sorted(owners.values())))
        if owners:
            owner = vmstate.parse_resource_id(next(iter(owners.values())))
            vm_body = vmstate.get_vm(compute, owner["resource_group"], owner["name"], missing_ok=True)
            if vm_body is not None:
                for target in targets:
                    for role, lun, _name, managed_id, _vhd in vm_disks(vm_body):
                        if vmstate.same_id(managed_id, target["disk"].get("id")):
                            target["role"], target["lun"] = role, lun

    # -- validate and plan every disk before changing anything --------------------------------
    des_cache = {}
    for target in targets:
        disk = target["disk"]
        if disk is None:
            if wants_encryption or any(value is not None for value in (sku, tier, size_gb, iops, mbps)):
                raise AzureError("VM '%s' %s disk '%s' is unmanaged (a VHD in a storage account: %s); SKU, tier, "
                                 "size, performance and encryption can only be changed on managed disks. Convert the VM to managed "
                                 "disks first (goldenimage.azure.vm_managed_disks)."
                                 % (vm_body.get("name"), target["role"], target["name"], target["vhd"]))
            target["body"] = {}
            continue
        encryption = _encryption.disk_target_encryption(compute, disk, disk_encryption_set, encryption_type,
                                                        des_cache)
        target["body"] = plan_disk(disk, target["role"] or "data", sku, tier, size_gb, iops, mbps, encryption)

    power_before = vmstate.power_state(vm_body) if vm_body is not None else None
    must_deallocate = vm_body is not None and power_before != "deallocated" and any(
        target["body"] and needs_deallocation(target["body"], target["role"] or "data", target["disk"])
        and (target["disk"].get("managedBy")) for target in targets)
    if must_deallocate and not allow_deallocate:
        reasons = ["%s (%s)" % (t["disk"]["name"], ", ".join(_change_names(t["body"])))
                   for t in targets if t["body"] and needs_deallocation(t["body"], t["role"] or "data", t["disk"])]
        raise AzureError("VM '%s' is %s; Azure changes a disk's SKU or encryption, grows an OS disk or changes the "
                         "performance tier of a shared disk only while the disk is unattached or its VM is deallocated: %s. "
                         "Set allow_deallocate=true to let this task "
                         "deallocate the VM, change the disks and restore its power state, or deallocate it first. "
                         "Nothing was changed." % (vm_body.get("name"), power_before, "; ".join(reasons)))

    changed = any(target["body"] for target in targets)
    seconds = {}
    vm_result = None
    done = []
    if changed and not check_mode:
        vm_rg = vm_name = None
        if vm_body is not None:
            parsed = vmstate.parse_resource_id(vm_body["id"])
            vm_rg, vm_name = parsed["resource_group"], parsed["name"]
        try:
            if must_deallocate:
                seconds["deallocate"] = vmstate.deallocate(compute, vm_rg, vm_name, deadline)
            for target in targets:
                if not target["body"]:
                    continue
                disk = target["disk"]
                parsed = vmstate.parse_resource_id(disk["id"])
                operation = "update disk '%s' (%s)" % (disk["name"], ", ".join(_change_names(target["body"])))
                started = time.monotonic()
                try:
                    poller = retry_action(operation, compute.disks.begin_update, parsed["resource_group"],
                                          parsed["name"], target["body"], timeout=max(1, deadline - time.monotonic()))
                except AzureError as err:
                    # a change that only Azure knows needs the VM deallocated (older rule for tiers)
                    if must_deallocate or not refused_for_running_vm(err, disk, power_before):
                        raise
                    if not allow_deallocate:
                        err.message += (" Azure accepts this change only with VM '%s' deallocated; set "
                                        "allow_deallocate=true to let this task deallocate it, change the disks and "
                                        "restore its power state.%s"
                                        % (vm_name, "" if done else " Nothing was changed."))
                        raise
                    must_deallocate = True
                    seconds["deallocate"] = vmstate.deallocate(compute, vm_rg, vm_name, deadline)
                    poller = retry_action(operation, compute.disks.begin_update, parsed["resource_group"],
                                          parsed["name"], target["body"], timeout=max(1, deadline - time.monotonic()))
                updated = vmstate.wire(wait_for(poller, operation, max(1, deadline - time.monotonic())))
                if not updated:
                    updated = _get_disk(compute, parsed["resource_group"], parsed["name"])
                target["after"] = updated
                seconds["update:%s" % disk["name"]] = round(time.monotonic() - started, 3)
                done.append(disk["name"])
        except AzureError as err:
            restored = _restore(compute, vm_rg, vm_name, power_before, must_deallocate, deadline, seconds)
            err.partial = {"changed": bool(done) or must_deallocate, "updated": done, "seconds": seconds,
                           "power_state": power_before if restored else "deallocated"}
            raise
        try:
            _restore(compute, vm_rg, vm_name, power_before, must_deallocate, deadline, seconds, strict=True)
        except AzureError as err:
            err.message += " The disks were changed (%s); the VM is left deallocated." % ", ".join(done)
            err.partial = {"changed": True, "updated": done, "seconds": seconds, "power_state": "deallocated"}
            raise

    disks_out = []
    for target in targets:
        disk = target["disk"]
        entry = {"name": target["name"] if disk is None else disk.get("name"),
                 "id": disk.get("id") if disk else None,
                 "role": target["role"], "lun": target["lun"], "managed": disk is not None,
                 "vhd_uri": target["vhd"], "changes": _change_names(target["body"])}
        if disk is not None:
            entry["before"] = describe_disk(disk)
            if "after" in target:
                entry["after"] = describe_disk(target["after"])
            elif target["body"]:
                entry["after"] = predict(disk, target["body"])
            else:
                entry["after"] = dict(entry["before"])
            entry["iops"] = entry["after"]["iops"]
            entry["mbps"] = entry["after"]["mbps"]
        disks_out.append(entry)

    if vm_body is not None:
        props = vmstate.props(vm_body)
        vm_size = (props.get("hardwareProfile") or {}).get("vmSize")
        vm_result = {
            "id": vm_body.get("id"),
            "name": vm_body.get("name"),
            "vm_size": vm_size,
            "power_state_before": power_before,
            "power_state": power_before,
            "deallocated": must_deallocate and changed,
            "disks": [{"name": name, "role": role, "lun": lun, "managed": bool(managed_id), "id": managed_id,
                       "vhd_uri": vhd} for role, lun, name, managed_id, vhd in vm_disks(vm_body)],
        }
        if vm is not None:
            vm_result["temporary_disk"] = temporary_disk(compute, vm_body.get("location"), vm_size)
    result = {
        "changed": changed,
        "disks": disks_out,
        "seconds": seconds,
        "diff": {
            "before": {item["name"]: item.get("before") for item in disks_out if item["managed"]},
            "after": {item["name"]: item.get("after") for item in disks_out if item["managed"]},
        },
    }
    if vm_result is not None:
        result["vm"] = vm_result
    return result


def _restore(compute, vm_rg, vm_name, power_before, deallocated, deadline, seconds, strict=False):
    """Bring the VM back to its earlier power state after we deallocated it. True when restored."""
    if not deallocated:
        return True
    try:
        steps = vmstate.restore_power(compute, vm_rg, vm_name, power_before, max(deadline, time.monotonic() + 60))
    except AzureError:
        if strict:
            raise
        return False
    for key, value in steps.items():
        seconds["restore:%s" % key] = value
    return True


def _change_names(body):
    names = []
    if "sku" in body:
        names.append("sku")
    mapping = {"diskSizeGB": "size_gb", "tier": "tier", "diskIOPSReadWrite": "iops", "diskMBpsReadWrite": "mbps",
               "encryption": "encryption"}
    for key in (body.get("properties") or {}):
        names.append(mapping.get(key, key))
    return names
