# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the lifecycle of gallery image versions (image_capture): end of life, replication mode, pruning.

- ``end_of_life(days)``: the ``endOfLifeDate`` of a new version ``days`` from today (midnight UTC).
- ``check_replication_mode``: Shallow replication stays in the version's own region; a version's replication mode
  cannot change (``replicationMode`` is not updatable), so a different one needs ``force`` (replace).
- ``keep_versions``: ``plan`` decides from plain wire bodies, ``prune`` deletes, ``apply`` does both for the task
  and fills its result. A version beyond the newest N (in numeric version
order, as ``latest`` and ``version: auto`` count) is deleted unless:

- ``latest`` resolves to it: the highest version that succeeded and is not excluded from latest, for the whole
  definition or in one of its target regions (``excludeFromLatest`` per region makes ``latest`` differ by region);
- a VM of the subscription runs it: ``storageProfile.imageReference.id`` names it exactly, or names the definition
  and ``exactVersion`` (what ``latest`` gave that VM) is this version (``_image_drift.vm_image_source``);
- it is still being written (provisioning state other than Succeeded or Failed: a concurrent build).
"""

from __future__ import annotations

import datetime
import time

from ansible_collections.goldenimage.azure.plugins.module_utils import _vmstate as vmstate
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import VERSION_RE, normalize_location
from ansible_collections.goldenimage.azure.plugins.module_utils import _gallery as gallery_utils
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError, azure_call, wait_for
from ansible_collections.goldenimage.azure.plugins.module_utils._image_drift import vm_image_source
from ansible_collections.goldenimage.azure.plugins.module_utils._resource_id import format_id
from ansible_collections.goldenimage.azure.plugins.module_utils._versions import version_key

SETTLED = ("succeeded", "failed")
PRUNE_BUDGET = 300  # seconds the deletes get at least, even when the capture spent the task's wait_timeout


def end_of_life(days, today=None):
    """``YYYY-MM-DDT00:00:00Z`` ``days`` after ``today`` (UTC), or None without ``days``."""
    if days is None:
        return None
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    return (today + datetime.timedelta(days=int(days))).isoformat() + "T00:00:00Z"


def replication_mode(version):
    return (vmstate.props(version).get("publishingProfile") or {}).get("replicationMode") or "Full"


def check_replication_mode(existing, wanted, regions, location, action, force):
    """The version action after the replication-mode rules (raises before anything is changed)."""
    if not wanted:
        return action
    if wanted == "Shallow":
        others = [r["name"] for r in regions if normalize_location(r["name"]) != normalize_location(location)]
        many = [r["name"] for r in regions if (r.get("replica_count") or 1) > 1]
        if others:
            raise AzureError("gallery.replication_mode: Shallow replication keeps the version in the gallery's region "
                             "%s only; remove %s from gallery.target_regions or use Full. Nothing was changed."
                             % (location, ", ".join(others)), code="InvalidParameter")
        if many:
            raise AzureError("gallery.replication_mode: a Shallow version has one replica; set replica_count to 1. "
                             "Nothing was changed.", code="InvalidParameter")
    if action == "keep" and existing is not None and replication_mode(existing) != wanted:
        if force:
            return "replace"
        raise AzureError("gallery.replication_mode: version %s was published with %s replication, and a version's "
                         "replication mode cannot change. Use another version, or force=true to replace it. Nothing "
                         "was changed." % (existing.get("name"), replication_mode(existing)),
                         code="PropertyChangeNotAllowed")
    return action


def _key(version):
    return version_key(version["name"])


def _state(version):
    return str(vmstate.props(version).get("provisioningState") or "Succeeded")


def latest_names(versions):
    """{version name: [where]} of the versions ``latest`` resolves to: "definition" and/or region names."""
    usable = sorted((v for v in versions if _state(v).lower() == "succeeded"), key=_key, reverse=True)
    resolved = {}
    included = [v for v in usable if not (vmstate.props(v).get("publishingProfile") or {}).get("excludeFromLatest")]
    if included:
        resolved.setdefault(included[0]["name"], []).append("definition")
    regions = {}
    for version in included:
        for region in (vmstate.props(version).get("publishingProfile") or {}).get("targetRegions") or []:
            key = normalize_location(region.get("name"))
            if key not in regions and not region.get("excludeFromLatest"):
                regions[key] = version["name"]
                if version["name"] != included[0]["name"]:
                    resolved.setdefault(version["name"], []).append(region.get("name"))
    return resolved


def users(vms, definition_id):
    """{version name: [VM names]} of the VMs that run a version of ``definition_id``."""
    used = {}
    for vm in vms or []:
        source = vm_image_source(vm)
        if source.get("kind") != "gallery_image" or not source.get("version"):
            continue
        if (source.get("definition_id") or "").lower() == definition_id.lower():
            used.setdefault(source["version"], []).append(vm.get("name"))
    return used


def plan(versions, keep, definition_id, list_vms):
    """-> {"prune": [names, newest first], "kept": [{"name", "reason"}]}; ``list_vms()`` is read only when a
    version could go."""
    ordered = sorted((v for v in versions if VERSION_RE.match(v.get("name") or "")), key=_key, reverse=True)
    latest = latest_names(ordered)
    kept, candidates = [], []
    for index, version in enumerate(ordered):
        name = version["name"]
        if index < keep:
            kept.append({"name": name, "reason": "one of the newest %d (keep_versions)" % keep})
        elif name in latest:
            kept.append({"name": name, "reason": "latest resolves to it (%s)" % ", ".join(latest[name])})
        elif _state(version).lower() not in SETTLED:
            kept.append({"name": name, "reason": "provisioning state %s (still being written)" % _state(version)})
        else:
            candidates.append(name)
    used = users(list_vms(), definition_id) if candidates else {}
    prune = []
    for name in candidates:
        if used.get(name):
            kept.append({"name": name, "reason": "used by VM %s" % ", ".join(sorted(used[name]))})
        else:
            prune.append(name)
    kept.sort(key=_key, reverse=True)
    return {"prune": prune, "kept": kept}


def prune(compute, resource_group, gallery, definition, names, deadline):
    """Delete ``names`` side by side (each delete is started, then all are awaited within ``deadline``)."""
    pollers = []
    for name in names:
        operation = "delete gallery image version '%s/%s/%s' (keep_versions)" % (gallery, definition, name)
        poller = azure_call(operation, compute.gallery_image_versions.begin_delete, resource_group, gallery,
                            definition, name, missing_ok=True)
        pollers.append((operation, poller))
    for operation, poller in pollers:
        if poller is not None:
            wait_for(poller, operation, max(1, deadline - time.monotonic()))


def definition_id(subscription_id, step):
    return format_id(subscription_id, step["rg"], "Microsoft.Compute/galleries/images", step["gallery"], step["definition"])


def apply(compute, subscription_id, step, keep, result, deadline, check_mode, list_vms):
    """Prune after the version step of ``_capture``; sets ``pruned_versions``, ``kept_versions`` and the diff.

    Check mode lists what a real run would delete, counting the version the task would create."""
    if step["create_definition"]:
        versions = []
    else:
        versions = gallery_utils.list_versions(compute, step["rg"], step["gallery"], step["definition"])
    if check_mode and step["action"] in ("create", "replace") and step.get("body"):
        predicted = dict(step["body"], name=step["version"])
        predicted["properties"] = dict(predicted["properties"], provisioningState="Succeeded")
        versions = [v for v in versions if v.get("name") != step["version"]] + [predicted]
    decided = plan(versions, keep, definition_id(subscription_id, step), list_vms)
    if decided["prune"] and not check_mode:
        try:
            prune(compute, step["rg"], step["gallery"], step["definition"], decided["prune"],
                  max(deadline, time.monotonic() + PRUNE_BUDGET))
        except AzureError as err:
            err.partial = {"changed": True, "version": result.get("version"), "kept_versions": decided["kept"],
                           "replication": result.get("replication")}
            raise
    names = sorted((v["name"] for v in versions), key=version_key)
    result["pruned_versions"] = decided["prune"]
    result["kept_versions"] = decided["kept"]
    # before the task: without the version it creates
    result["diff"]["before"]["gallery_versions"] = [name for name in names
                                                    if not (step["action"] == "create" and name == step["version"])]
    result["diff"]["after"]["gallery_versions"] = [name for name in names if name not in decided["prune"]]
    if decided["prune"]:
        result["changed"] = True
