# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: whether a VM size has a temporary (resource) disk, and what that means for an image.

The facts come from the Resource SKUs API (``GET /subscriptions/{sub}/providers/Microsoft.Compute/skus`` with
``$filter=location eq '<location>'``, capability ``MaxResourceVolumeMB``; 0 means no temporary disk, as for the
v5/v6 sizes without a ``d``). Microsoft documents that API as the replacement of the deprecated ``vmSizes`` list.
One list per location, whatever the number of sizes asked about.

An image built on a size with a temporary disk carries what waagent and cloud-init configured for it (a swap
file, the ``ephemeral0`` fstab line); a VM of a size without one may then wait for that device at boot, and the
reverse leaves the disk unused. The deprovision role neutralises both; the plan warns when the build size and
the sizes the image is meant for (a build's ``target_sizes``) differ.

Everything takes plain values and, where it reads, a compute client; errors are ``AzureError``.
"""

from __future__ import annotations

from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import normalize_location
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_wire import wire
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError, azure_call

CAPABILITY = "MaxResourceVolumeMB"


# -- plain values -------------------------------------------------------------------------------------------
def capabilities_from_skus(skus):
    """{size name (lower case): {capability: value}} from Resource SKU wire dicts (other resource types skipped)."""
    out = {}
    for sku in skus or []:
        if str(sku.get("resourceType") or "").lower() != "virtualmachines" or not sku.get("name"):
            continue
        out[str(sku["name"]).lower()] = {str(item.get("name")): item.get("value") for item in sku.get("capabilities") or []}
    return out


def sizes_from_capabilities(capabilities):
    """{size name (lower case): temporary disk MB} from ``capabilities_from_skus``."""
    out = {}
    for name, values in capabilities.items():
        try:
            out[name] = int(values.get(CAPABILITY) or 0)
        except (TypeError, ValueError):
            out[name] = 0
    return out


def sizes_from_skus(skus):
    """{size name (lower case): temporary disk MB} from Resource SKU wire dicts."""
    return sizes_from_capabilities(capabilities_from_skus(skus))


def temp_disk(sizes, vm_size):
    """{"present": bool, "size_mb": int} of ``vm_size`` in ``sizes`` (``sizes_from_skus``); both None when the
    location does not offer that size."""
    mb = sizes.get(str(vm_size or "").lower())
    if mb is None:
        return {"present": None, "size_mb": None}
    return {"present": mb > 0, "size_mb": mb}


def check_target_sizes(value, where="target_sizes"):
    """``value`` as a list of size names; raises AzureError naming ``where`` otherwise."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) and item.strip() for item in value):
        raise AzureError("%s: give a list of VM size names (for example [Standard_D2s_v5, Standard_D2ds_v5]), not %r"
                         % (where, value))
    return [item.strip() for item in value]


def compare(build_size, build_disk, targets):
    """Warnings (strings) for a build size and its target sizes: {name: temp_disk(...)}.

    A size the location does not offer is named; then, when the build size has a temporary disk and targets have
    none (the image must not wait for it at boot), or the reverse (the image was never set up for one)."""
    warnings = []
    unknown = sorted(name for name, disk in targets.items() if disk["present"] is None)
    if unknown:
        warnings.append("target_sizes %s: not offered in the build's location, temporary disk unknown"
                        % ", ".join(unknown))
    without = sorted(name for name, disk in targets.items() if disk["present"] is False)
    with_disk = sorted(name for name, disk in targets.items() if disk["present"])
    if build_disk["present"] and without:
        warnings.append(
            "the build size %s has a temporary disk (%d MB) but target size(s) %s have none: the image must not "
            "depend on it (the deprovision role's deprovision_temp_disk_mount nofail or remove, and no data or swap "
            "on /mnt)" % (build_size, build_disk["size_mb"], ", ".join(without)))
    elif build_disk["present"] is False and with_disk:
        warnings.append(
            "the build size %s has no temporary disk but target size(s) %s have one: nothing in the image was set "
            "up for it on the build VM; check that cloud-init or waagent formats and mounts it on those sizes"
            % (build_size, ", ".join(with_disk)))
    return warnings


# -- reads --------------------------------------------------------------------------------------------------
def list_capabilities(compute, location):
    """{size name (lower case): {capability: value}} for one location: one Resource SKUs list (the one read that
    build_vm's data disk limits and temporary disk report share)."""
    location = normalize_location(location)
    operation = "list resource SKUs in %s" % location
    skus = azure_call(operation, lambda: [wire(item) for item in compute.resource_skus.list(
        filter="location eq '%s'" % location)])
    return capabilities_from_skus(skus)


def list_sizes(compute, location):
    """{size name (lower case): temporary disk MB} for one location: one Resource SKUs list."""
    return sizes_from_capabilities(list_capabilities(compute, location))


def plan_builds(compute, builds):
    """{build name: {"build": temp_disk, "targets": {size: temp_disk}}} and the warnings, for the builds that give
    ``target_sizes`` (one list per location; none without target sizes)."""
    by_location, out, warnings = {}, {}, []
    for build in builds:
        targets = check_target_sizes(build.get("target_sizes"), "build '%s': target_sizes" % build.get("name"))
        if not targets:
            continue
        location = normalize_location(build["location"])
        if location not in by_location:
            by_location[location] = list_sizes(compute, location)
        sizes = by_location[location]
        build_disk = temp_disk(sizes, build["vm_size"])
        target_disks = {name: temp_disk(sizes, name) for name in targets}
        out[build["name"]] = {"build": build_disk, "targets": target_disks}
        warnings.extend("build '%s': %s" % (build["name"], text)
                        for text in compare(build["vm_size"], build_disk, target_disks))
    return out, warnings


def from_size_report(report):
    """``temp_disk`` from a ``{"present", "size_mb", ...}`` report made from the region's size list (disk_tier's
    ``vm.temporary_disk``), without another request; None without one."""
    if not isinstance(report, dict):
        return None
    return {"present": report.get("present"), "size_mb": report.get("size_mb")}
