"""DiskRP's rules for changing a managed disk (wire reference 4.4), checked before an update starts.

Switches in ``settings["rules"]``: ``tier_change_requires_deallocation``, ``allow_premium_v2_conversion``,
``tier_downgrade_cooldown_hours``, ``sku_changes_per_day``. Times are on the simulator's clock (``sim.clock``: real
time, not time-scaled, plus what ``/_azsim/clock`` advanced).
"""

from __future__ import annotations

import datetime as dt
import re

from ...core.errors import ArmError, invalid_parameter, operation_not_allowed
from ...core.store import private
from . import performance as perf
from ..compute import sizes as vm_sizes

DAY_SECONDS = 24 * 3600
# DiskRP's name rule for disks and snapshots.
NAME = re.compile(r"^[A-Za-z0-9](?:[\w.-]{0,78}\w)?$")
NEW_GENERATION_SKUS = ("premiumv2_lrs", "ultrassd_lrs")


def check_sku(sku_name, target="sku.name"):
    sku = perf.canonical_sku(sku_name)
    if sku is None:
        raise invalid_parameter(f"The value '{sku_name}' is not a valid disk SKU. Valid values are "
                                f"{', '.join(perf.SKU_NAMES)}.", target=target)
    return sku


def check_size(sku, size_gb):
    limit = perf.ULTRA_MAX_GIB if sku.lower() in NEW_GENERATION_SKUS else perf.MAX_DISK_GIB
    if not isinstance(size_gb, int) or size_gb < 1 or size_gb > limit:
        raise invalid_parameter(f"The disk size {size_gb} GB is not valid. Disk sizes must be between 1 and {limit} "
                                "GB.", target="diskSizeGB")


def check_data_disk_only(name, sku, os_type):
    if os_type and sku.lower() in NEW_GENERATION_SKUS:
        raise invalid_parameter(f"Disk '{name}': {sku} disks can only be used as data disks, not as OS disks.",
                                target="sku.name")


def check_tier(name, sku, size_gb, tier, current=None):
    """A Premium SSD performance tier: exists, not below the size's baseline, P60+ only above 4 TiB."""
    if not perf.is_premium_ssd(sku):
        raise invalid_parameter(f"Performance tiers are only supported for Premium SSD disks; disk '{name}' has SKU "
                                f"'{sku}'.", target="tier")
    row = perf.premium_tier(tier)
    if row is None:
        raise invalid_parameter(f"The performance tier '{tier}' is not valid. Valid tiers are "
                                f"{', '.join(r[0] for r in perf.PREMIUM_TIERS)}.", target="tier")
    baseline = perf.tier_for_size(sku, size_gb)
    if perf.tier_rank(row[0]) < perf.tier_rank(baseline):
        raise invalid_parameter(f"The performance tier {row[0]} of disk '{name}' is lower than the baseline tier "
                                f"{baseline} of its size ({size_gb} GiB). A disk cannot run below its baseline tier.",
                                target="tier")
    if perf.tier_rank(row[0]) >= perf.tier_rank("P60") and size_gb <= 4096:
        raise invalid_parameter("Performance tiers P60, P70 and P80 are only available for disks larger than 4,096 "
                                f"GiB; disk '{name}' is {size_gb} GiB.", target="tier")
    return row[0]


def check_performance(name, sku, size_gb, iops, mbps):
    """diskIOPSReadWrite / diskMBpsReadWrite: settable (and range-checked) on Premium SSD v2 and Ultra only."""
    if iops is None and mbps is None:
        return
    target = "diskIOPSReadWrite" if iops is not None else "diskMBpsReadWrite"
    if not perf.is_performance_settable(sku):
        raise invalid_parameter(f"Disk '{name}': {target} can only be set on UltraSSD_LRS and PremiumV2_LRS disks.",
                                target=target)
    if sku.lower() == "premiumv2_lrs":
        low = perf.PREMIUM_V2_BASELINE[0]
        high = min(perf.PREMIUM_V2_MAX_IOPS, perf.PREMIUM_V2_MAX_IOPS_PER_GIB * size_gb)
        mbps_low, mbps_high = perf.PREMIUM_V2_BASELINE[1], perf.PREMIUM_V2_MAX_MBPS
    else:
        low, high = 100, min(perf.ULTRA_MAX_IOPS, perf.ULTRA_MAX_IOPS_PER_GIB * size_gb)
        mbps_low, mbps_high = 1, perf.ULTRA_MAX_MBPS
    if iops is not None and not low <= iops <= max(low, high):
        raise invalid_parameter(f"Disk '{name}': diskIOPSReadWrite {iops} is out of range; a {size_gb} GiB {sku} disk "
                                f"allows {low} to {max(low, high)}.", target="diskIOPSReadWrite")
    effective = iops if iops is not None else high
    mbps_high = min(mbps_high, max(mbps_low, effective // 4))
    if mbps is not None and not mbps_low <= mbps <= mbps_high:
        raise invalid_parameter(f"Disk '{name}': diskMBpsReadWrite {mbps} is out of range; this disk allows "
                                f"{mbps_low} to {mbps_high}.", target="diskMBpsReadWrite")


def check_bursting(name, sku, size_gb, enabled):
    if enabled and not (perf.is_premium_ssd(sku) and size_gb >= perf.BURSTING_MIN_GIB):
        raise invalid_parameter(f"On-demand bursting is only supported for Premium SSD disks larger than 512 GiB; disk "
                                f"'{name}' is a {size_gb} GiB {sku} disk.", target="burstingEnabled")


def check_premium_vm(sim, disk, sku):
    """A premium SKU needs a premium-capable size on the VM that owns the disk."""
    owner = sim.store.get(disk.get("managedBy") or "") if disk.get("managedBy") else None
    if owner is None or not perf.needs_premium_vm(sku):
        return
    size = vm_sizes.find(owner["properties"]["hardwareProfile"]["vmSize"])
    if size is not None and not size.premium_io:
        raise premium_not_supported(size.name, sku, disk["name"])


def premium_not_supported(size_name, sku, disk_name):
    return ArmError(400, "OperationNotAllowed",
                    f"Requested operation cannot be performed because the VM size {size_name} does not support the "
                    f"storage account type {sku} of disk '{disk_name}'. Consider updating the VM to a size that "
                    "supports Premium storage.")


def check_name(noun, name, target):
    """400 InvalidParameter for a disk or snapshot name DiskRP refuses (``noun``: "Disk", "Snapshot")."""
    if not NAME.match(name):
        raise ArmError(400, "InvalidParameter", f"The entity name '{name}' is invalid. {noun} names are 1-80 letters, "
                       "digits, underscores, periods or hyphens, start with a letter or digit and end with a letter, "
                       "digit or underscore.", target=target)


# -- update rules that depend on the disk's history and attachment --------------------------------
def check_sku_change(sim, disk, new_sku):
    name, old = disk["name"], disk["sku"]["name"]
    state = disk["properties"].get("diskState")
    if state not in ("Unattached", "Reserved"):
        raise operation_not_allowed(
            f"Changing the SKU of disk '{name}' from {old} to {new_sku} is not allowed while it is attached to the "
            f"running virtual machine '{disk.get('managedBy')}'. Deallocate the virtual machine or detach the disk "
            "first.")
    involved = {old.lower(), new_sku.lower()} & set(NEW_GENERATION_SKUS)
    allowed = involved == {"premiumv2_lrs"} and sim.settings.rule("allow_premium_v2_conversion")
    if involved and not allowed:
        raise operation_not_allowed(
            f"Changing the SKU of disk '{name}' from {old} to {new_sku} is not supported. Create a new disk from an "
            "incremental snapshot of this disk instead.")
    check_data_disk_only(name, new_sku, disk["properties"].get("osType"))
    limit = int(sim.settings.rule("sku_changes_per_day"))
    recent = [stamp for stamp in private(disk).get("sku_changes", []) if stamp > sim.clock.time() - DAY_SECONDS]
    if len(recent) >= limit:
        raise operation_not_allowed(
            f"The type of disk '{name}' has already been changed {len(recent)} times in the last 24 hours. A disk's "
            f"type can only be changed {limit} times per day.")
    check_premium_vm(sim, disk, new_sku)


def check_tier_change(sim, disk, sku, size_gb, new_tier):
    name = disk["name"]
    tier = check_tier(name, sku, size_gb, new_tier)
    current = disk["properties"].get("tier")
    if sim.settings.rule("tier_change_requires_deallocation") and disk["properties"].get("diskState") == "Attached":
        raise operation_not_allowed(
            f"Changing the performance tier of disk '{name}' requires the disk to be detached or its virtual machine "
            f"'{disk.get('managedBy')}' to be deallocated.")
    if int(disk["properties"].get("maxShares") or 1) > 1 and disk["properties"].get("diskState") == "Attached":
        # Learn, "Performance tiers" restrictions: a shared disk's tier can't change while attached to running VMs.
        raise operation_not_allowed(
            f"The performance tier of shared disk '{name}' cannot be changed while it is attached to a running virtual "
            f"machine ('{disk.get('managedBy')}'). Stop (deallocate) every virtual machine the disk is attached to "
            "first.")
    if current and perf.premium_tier(current) and perf.tier_rank(tier) < perf.tier_rank(current):
        hours = float(sim.settings.rule("tier_downgrade_cooldown_hours"))
        last = private(disk).get("last_tier_downgrade")
        if last and sim.clock.time() - last < hours * 3600:
            when = dt.datetime.fromtimestamp(last, dt.timezone.utc).isoformat()
            raise operation_not_allowed(
                f"The performance tier of disk '{name}' was already downgraded at {when}. A performance tier can only "
                f"be downgraded once every {hours:g} hours.")
    return tier


def check_resize(disk, new_size):
    name, old = disk["name"], int(disk["properties"].get("diskSizeGB") or 0)
    if new_size < old:
        raise ArmError(400, "BadRequest", f"Disk size reduction is not supported. Disk '{name}' is {old} GB and the "
                       f"requested size is {new_size} GB.", target="diskSizeGB")
    if new_size > old and disk["properties"].get("osType") and disk["properties"].get("diskState") == "Attached":
        raise operation_not_allowed("Disk resizing is allowed only when creating a VM or when the VM is deallocated.")
    check_size(disk["sku"]["name"], new_size)
