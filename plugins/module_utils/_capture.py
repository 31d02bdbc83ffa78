# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: capture a generalized VM, managed image, managed disk, snapshot or VHD as a managed image and/or
a Compute Gallery image version (image_capture).

Order of work, so that a refusal never leaves anything behind:
1. read the source and infer its facts (OS type and state, Hyper-V generation, security type, base image URN);
2. read the targets (image, gallery, definition, versions) and decide what exists, what matches, what to create;
3. validate everything (Trusted Launch vs managed image, definition vs source, same name + other source);
4. create: gallery -> definition -> managed image -> version (bounded waits; a failed version is deleted).
"""

from __future__ import annotations

import re
import time

from ansible_collections.goldenimage.azure.plugins.module_utils import _gallery as gallery_utils
from ansible_collections.goldenimage.azure.plugins.module_utils import _gallery_lifecycle
from ansible_collections.goldenimage.azure.plugins.module_utils import _resource_id
from ansible_collections.goldenimage.azure.plugins.module_utils import _encryption
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import (  # noqa: F401  # check_names re-exported
    TAG_BUILD_ID,
    TAG_SOURCE_URN,
    check_names,
    normalize_location,
)
from ansible_collections.goldenimage.azure.plugins.module_utils import _vmstate as vmstate
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
    azure_call,
    to_snake,
    wait_for,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._versions import newest

BUILD_ID_TAG = TAG_BUILD_ID  # the name _preflight uses
_MARKETPLACE_ID = re.compile(
    r"/publishers/(?P<publisher>[^/]+)/artifacttypes/vmimage/offers/(?P<offer>[^/]+)/skus/(?P<sku>[^/]+)"
    r"/versions/(?P<version>[^/]+)$", re.IGNORECASE)
SOURCE_TYPES = {
    "microsoft.compute/virtualmachines": "vm",
    "microsoft.compute/images": "image",
    "microsoft.compute/disks": "disk",
    "microsoft.compute/snapshots": "snapshot",
}
TYPE_PATHS = {"vm": "virtualMachines", "image": "images", "disk": "disks", "snapshot": "snapshots"}


# -- source -------------------------------------------------------------------------------------
def parse_source(source, subscription_id):
    """``source`` (an id, a VHD URI, or a dict type/name/resource_group) -> {type, id | uri, resource_group, name}."""
    if isinstance(source, dict):
        kind = source.get("type")
        if kind not in TYPE_PATHS and kind != "vhd":
            raise AzureError("source.type: '%s' is not one of vm, image, disk, snapshot, vhd" % kind)
        if kind == "vhd":
            if not source.get("uri"):
                raise AzureError("source.uri is required for a VHD source")
            return {"type": "vhd", "uri": source["uri"]}
        if source.get("id"):
            return parse_source(source["id"], subscription_id)
        if not source.get("name") or not source.get("resource_group"):
            raise AzureError("source: give an id, or name and resource_group (with type)")
        rid = _resource_id.format_id(subscription_id, source["resource_group"], "Microsoft.Compute/" + TYPE_PATHS[kind],
                                     source["name"])
        return {"type": kind, "id": rid, "subscription": subscription_id, "resource_group": source["resource_group"],
                "name": source["name"]}
    text = (source or "").strip()
    if text.lower().startswith("https://"):
        if not text.lower().split("?")[0].endswith(".vhd"):
            raise AzureError("source: '%s' is a URL but not a .vhd blob" % text)
        return {"type": "vhd", "uri": text}
    parsed = vmstate.parse_resource_id(text, parameter="source")
    kind = SOURCE_TYPES.get(parsed["type"].lower())
    if kind is None:
        raise AzureError("source: '%s' is a %s; use a VM, managed image, managed disk, snapshot or a VHD URI"
                         % (text, parsed["type"]))
    # read in the subscription the id names (same credential)
    return {"type": kind, "id": text, "subscription": parsed["subscription"], "resource_group": parsed["resource_group"],
            "name": parsed["name"]}


def urn_from_image_reference(ref):
    """publisher:offer:sku:version from an imageReference (exactVersion preferred) or a marketplace id."""
    if not ref:
        return None
    if ref.get("publisher") and ref.get("offer") and ref.get("sku"):
        version = ref.get("exactVersion") or ref.get("version")
        return "%s:%s:%s:%s" % (ref["publisher"], ref["offer"], ref["sku"], version)
    match = _MARKETPLACE_ID.search(ref.get("id") or "")
    if match:
        return "%(publisher)s:%(offer)s:%(sku)s:%(version)s" % match.groupdict()
    return ref.get("id") or ref.get("sharedGalleryImageId") or ref.get("communityGalleryImageId")


def _get(compute, kind, resource_group, name):
    ops = {"vm": compute.virtual_machines, "image": compute.images, "disk": compute.disks,
           "snapshot": compute.snapshots}[kind]
    kwargs = {"expand": "instanceView"} if kind == "vm" else {}
    return vmstate.wire(vmstate.get_or_none("get source %s '%s'" % (gallery_utils._source_noun(kind), name), ops.get,
                                            resource_group, name, **kwargs))


def read_source(compute, source, overrides):
    """Read the source and infer its facts. ``overrides``: os_type, os_state, hyper_v_generation (may be None)."""
    facts = {"type": source["type"], "id": source.get("id"), "uri": source.get("uri"), "location": None,
             "os_type": None, "os_state": None, "hyper_v_generation": None, "security_type": "Standard",
             "source_urn": None, "power_state": None, "os_disk_id": None, "storage_account_id": None}
    if source["type"] == "vhd":
        facts["os_state"] = "Generalized"
        facts["hyper_v_generation"] = "V1"
        facts["storage_account_id"] = overrides.get("storage_account_id")
    else:
        try:
            body = _get(compute, source["type"], source["resource_group"], source["name"])
        except AzureError as err:
            if err.code != "ResourceGroupNotFound":
                raise
            # the build group is usually deleted after capture: still "no source", but said truthfully
            raise AzureError("source: resource group '%s' of %s '%s' does not exist (ResourceGroupNotFound)"
                             % (source["resource_group"], gallery_utils._source_noun(source["type"]), source["name"]),
                             status_code=404, code="SourceNotFound") from None
        if body is None:
            raise AzureError("source: %s '%s' was not found in resource group '%s'"
                             % (gallery_utils._source_noun(source["type"]), source["name"], source["resource_group"]),
                             status_code=404, code="SourceNotFound")
        facts["body"] = body
        facts["id"] = body.get("id") or source["id"]
        facts["location"] = body.get("location")
        p = vmstate.props(body)
        if source["type"] == "vm":
            storage = p.get("storageProfile") or {}
            os_disk = storage.get("osDisk") or {}
            view = p.get("instanceView") or {}
            facts["os_type"] = os_disk.get("osType")
            facts["os_state"] = "Generalized" if vmstate.os_state(body) == "generalized" else "Specialized"
            facts["power_state"] = vmstate.power_state(body)
            facts["security_type"] = vmstate.security_type(body)
            facts["os_disk_id"] = (os_disk.get("managedDisk") or {}).get("id")
            facts["os_disk_vhd"] = (os_disk.get("vhd") or {}).get("uri")
            facts["source_urn"] = urn_from_image_reference(storage.get("imageReference"))
            facts["plan"] = purchase_plan(body.get("plan"))  # a Marketplace plan the image's VMs need too
            facts["data_disks"] = source_data_disks(storage.get("dataDisks"))
            facts["hyper_v_generation"] = view.get("hyperVGeneration")
            if not facts["hyper_v_generation"] and facts["os_disk_id"]:
                parsed = vmstate.parse_resource_id(facts["os_disk_id"])
                disk = _get(compute, "disk", parsed["resource_group"], parsed["name"])
                facts["hyper_v_generation"] = vmstate.props(disk).get("hyperVGeneration") if disk else None
        elif source["type"] == "image":
            os_disk = (p.get("storageProfile") or {}).get("osDisk") or {}
            facts["os_type"] = os_disk.get("osType")
            facts["os_state"] = os_disk.get("osState")
            facts["hyper_v_generation"] = p.get("hyperVGeneration") or "V1"
            facts["source_urn"] = (body.get("tags") or {}).get(TAG_SOURCE_URN)
            facts["data_disks"] = source_data_disks((p.get("storageProfile") or {}).get("dataDisks"))
        else:  # disk, snapshot
            facts["os_type"] = p.get("osType")
            facts["architecture"] = (p.get("supportedCapabilities") or {}).get("architecture")
            facts["plan"] = purchase_plan(p.get("purchasePlan"))
            facts["hyper_v_generation"] = p.get("hyperVGeneration") or "V1"
            security = (p.get("securityProfile") or {}).get("securityType") or "Standard"
            facts["security_type"] = ("TrustedLaunch" if security == "TrustedLaunch"
                                      else "ConfidentialVM" if security.startswith("ConfidentialVM") else "Standard")
            facts["source_urn"] = urn_from_image_reference((p.get("creationData") or {}).get("imageReference")) \
                or (body.get("tags") or {}).get(TAG_SOURCE_URN)
            facts["os_state"] = "Generalized"
    facts["declared_os_state"] = overrides.get("os_state")
    for key in ("os_type", "os_state", "hyper_v_generation"):
        if overrides.get(key) and not (source["type"] == "vm" and key == "os_state"):
            facts[key] = overrides[key]  # a VM's OS state is a fact of its instance view, not an option
    facts["hyper_v_generation"] = facts["hyper_v_generation"] or "V1"
    if not facts["os_type"]:
        raise AzureError("os_type: the OS type of source %s is not recorded; set os_type (Linux or Windows)"
                         % (facts["id"] or facts["uri"]))
    return facts


# A SAS token (query string of a blob URL, with its signature sig=) grants access to the blob: it never goes into
# results or messages. Every URL whose query holds sig= loses its whole query string.
SAS_URL = re.compile(r"(https?://[^\s?#'\"]+)\?([^\s#'\"]*)")


def scrub_sas(value):
    """``value`` (str, list, dict, nested) with the query string of every URL carrying ``sig=`` removed."""
    if isinstance(value, str):
        return SAS_URL.sub(lambda m: m.group(1) if "sig=" in m.group(2).lower() else m.group(0), value)
    if isinstance(value, dict):
        return {key: scrub_sas(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_sas(item) for item in value]
    return value


def sas_queries(value):
    """The SAS query strings (and their sig values) found in ``value``, to register as no_log values."""
    found = set()
    if isinstance(value, str):
        for match in SAS_URL.finditer(value):
            query = match.group(2)
            if "sig=" in query.lower():
                found.add(query)
                for part in query.split("&"):
                    if part.lower().startswith("sig=") and len(part) > 4:
                        found.add(part[4:])
    elif isinstance(value, dict):
        for item in value.values():
            found |= sas_queries(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= sas_queries(item)
    return found


def source_data_disks(entries):
    """The data disks of a VM or managed image source (``storageProfile.dataDisks``), by LUN: what the captured
    managed image (``dataDisks``) and gallery version (``dataDiskImages``) carry, LUNs kept."""
    out = []
    for entry in entries or []:
        managed = entry.get("managedDisk") or {}
        out.append({"lun": entry.get("lun"), "size_gb": entry.get("diskSizeGB"), "caching": entry.get("caching"),
                    "storage_account_type": managed.get("storageAccountType") or entry.get("storageAccountType"),
                    "id": managed.get("id") or (entry.get("snapshot") or {}).get("id")})
    return sorted(out, key=lambda item: item["lun"] if isinstance(item["lun"], int) else -1)


def source_summary(facts):
    keys = ("type", "id", "uri", "location", "os_type", "os_state", "hyper_v_generation", "security_type",
            "source_urn", "power_state")
    summary = {key: facts.get(key) for key in keys}
    summary["exists"] = not facts.get("missing")
    summary["data_disks"] = list(facts.get("data_disks") or [])
    return summary


# -- managed image ------------------------------------------------------------------------------
def image_source_ref(image):
    """What a managed image was made from (id or blob URI), for idempotency."""
    p = vmstate.props(image)
    if (p.get("sourceVirtualMachine") or {}).get("id"):
        return p["sourceVirtualMachine"]["id"]
    os_disk = (p.get("storageProfile") or {}).get("osDisk") or {}
    return ((os_disk.get("managedDisk") or {}).get("id") or (os_disk.get("snapshot") or {}).get("id")
            or os_disk.get("blobUri"))


def source_ref(facts):
    return facts.get("id") or facts.get("uri")


def image_body(facts, location, tags, zone_resilient=None, storage_account_type=None):
    p = {"hyperVGeneration": facts["hyper_v_generation"]}
    if facts["type"] == "vm":
        p["sourceVirtualMachine"] = {"id": facts["id"]}
    else:
        os_disk = {"osType": facts["os_type"], "osState": facts["os_state"]}
        if facts["type"] == "image":
            raise AzureError("managed_image: a managed image cannot be made from another managed image; "
                             "use the gallery target")
        if facts["type"] == "disk":
            os_disk["managedDisk"] = {"id": facts["id"]}
        elif facts["type"] == "snapshot":
            os_disk["snapshot"] = {"id": facts["id"]}
        else:
            os_disk["blobUri"] = facts["uri"]
        if storage_account_type:
            os_disk["storageAccountType"] = storage_account_type
        p["storageProfile"] = {"osDisk": os_disk}
        if zone_resilient is not None:
            p["storageProfile"]["zoneResilient"] = zone_resilient
    if facts["type"] == "vm" and zone_resilient is not None:
        p["storageProfile"] = {"zoneResilient": zone_resilient}
    return {"location": location, "tags": tags, "properties": p}


def check_image_source(facts):
    """Refusals Azure would give for a managed image, raised before anything is created."""
    if facts["security_type"] in ("TrustedLaunch", "ConfidentialVM"):
        raise AzureError(
            "managed_image: the source %s uses security type %s, and Azure refuses to create managed images from "
            "Trusted Launch or Confidential VMs and their disks ('Creation of managed images are not supported for "
            "virtual machine with TrustedLaunch security type'). Publish it to a Compute Gallery instead (the "
            "gallery option, with a %s image definition). Nothing was created."
            % (source_ref(facts), facts["security_type"], facts["security_type"]), code="TrustedLaunchNotSupported")
    if facts["type"] == "vm" and facts["os_state"] != "Generalized":
        raise AzureError("managed_image: VM %s is not generalized; Azure creates a managed image only from a "
                         "generalized VM. Run goldenimage.azure.vm_generalize first. Nothing was created."
                         % facts["id"], code="VMNotGeneralized")
    if facts["type"] == "image":
        raise AzureError("managed_image: the source is already a managed image; use the gallery target to publish it")


def create_image(compute, resource_group, name, body, deadline, cleanup_timeout=600):
    """PUT a managed image and wait; an image that ends Failed or times out is deleted (it is never usable)."""
    operation = "create managed image '%s'" % name
    poller = azure_call(operation, compute.images.begin_create_or_update, resource_group, name, body)
    try:
        return vmstate.wire(wait_for(poller, operation, max(1, deadline - time.monotonic())))
    except AzureError as err:
        err.cleanup = "deleted"
        try:
            delete_image(compute, resource_group, name, time.monotonic() + cleanup_timeout)
        except AzureError as cleanup_err:
            err.cleanup = "deleting" if cleanup_err.code == "OperationTimedOut" else \
                "delete failed: %s" % cleanup_err
        err.message += {"deleted": " The failed image was deleted.",
                        "deleting": " Deleting the failed image was started."}.get(
            err.cleanup, " Deleting the failed image also failed: %s" % err.cleanup)
        err.partial = {"changed": True, "cleanup": err.cleanup}
        raise


def merged_tags(existing, tags):
    """The tags a resource should carry: its own, with ours added or updated (foreign tags are kept)."""
    return dict((existing or {}).get("tags") or {}, **tags)


def update_image_tags(compute, resource_group, name, tags, deadline):
    operation = "update tags of managed image '%s'" % name
    poller = azure_call(operation, compute.images.begin_update, resource_group, name, {"tags": tags})
    return vmstate.wire(wait_for(poller, operation, max(1, deadline - time.monotonic())))


def delete_image(compute, resource_group, name, deadline):
    operation = "delete managed image '%s'" % name
    poller = azure_call(operation, compute.images.begin_delete, resource_group, name, missing_ok=True)
    if poller is not None:
        wait_for(poller, operation, max(1, deadline - time.monotonic()))


# -- gallery version -----------------------------------------------------------------------------
def version_source_ref(version):
    storage = vmstate.props(version).get("storageProfile") or {}
    source = storage.get("source") or {}
    ref = source.get("virtualMachineId") or source.get("id")
    if ref:
        return ref
    os_image = (storage.get("osDiskImage") or {}).get("source") or {}
    return os_image.get("id") or os_image.get("uri")


def version_storage_profile(facts, image_id=None):
    if image_id:
        return {"source": {"id": image_id}}
    kind = facts["type"]
    if kind == "vm":
        return {"source": {"virtualMachineId": facts["id"]}}
    if kind == "image":
        return {"source": {"id": facts["id"]}}
    if kind in ("disk", "snapshot"):
        return {"osDiskImage": {"source": {"id": facts["id"]}}}
    source = {"uri": facts["uri"]}
    if facts.get("storage_account_id"):
        source["storageAccountId"] = facts["storage_account_id"]
    return {"osDiskImage": {"source": source}}


def version_body(location, facts, publishing, tags):
    profile = {
        "targetRegions": [
            {"name": region["name"], "regionalReplicaCount": region.get("replica_count") or publishing["replica_count"],
             "storageAccountType": region.get("storage_account_type") or publishing["storage_account_type"],
             **({"excludeFromLatest": region["exclude_from_latest"]}
                if region.get("exclude_from_latest") is not None else {})}
            for region in publishing["target_regions"]],
        "replicaCount": publishing["replica_count"],
        "storageAccountType": publishing["storage_account_type"],
        "excludeFromLatest": bool(publishing.get("exclude_from_latest")),
    }
    if publishing.get("end_of_life_date"):
        profile["endOfLifeDate"] = publishing["end_of_life_date"]
    if publishing.get("replication_mode"):
        profile["replicationMode"] = publishing["replication_mode"]
    for item, region in zip(profile["targetRegions"], publishing["target_regions"]):
        if region.get("disk_encryption_set"):  # the region's set encrypts the OS and every data disk image
            item["encryption"] = _encryption.region_encryption(
                region["disk_encryption_set"], [disk["lun"] for disk in facts.get("data_disks") or []])
    return {"location": location, "tags": tags, "properties": {
        "publishingProfile": profile,
        "storageProfile": version_storage_profile(facts),
    }}


_snake = to_snake


# -- regions, checked before any request (names: ``_arm_names.check_names``) --------------------------------
def check_regions(params, list_locations):
    """Every region the task names (gallery target regions, gallery and image locations) must exist; a typo gets
    the closest region names. One locations list, only when a region is given."""
    from ansible_collections.goldenimage.azure.plugins.module_utils._marketplace import suggestion

    gallery_opts = params.get("gallery") or {}
    given = [("gallery.target_regions", region.get("name")) for region in gallery_opts.get("target_regions") or []]
    given += [("gallery.location", gallery_opts.get("location")),
              ("managed_image.location", (params.get("managed_image") or {}).get("location"))]
    given = [(parameter, name) for parameter, name in given if name]
    if not given:
        return
    known = {}
    for item in list_locations() or []:
        for key in ("name", "displayName"):
            if item.get(key):
                known.setdefault(normalize_location(item[key]), item.get("name") or item[key])
    if not known:
        return
    for parameter, name in given:
        if normalize_location(name) not in known:
            raise AzureError("%s: '%s' is not a region of this subscription. %s Nothing was changed."
                             % (parameter, name, suggestion("regions", normalize_location(name),
                                                            sorted(set(known.values())))),
                             code="LocationNotAvailable")


# -- orchestration -------------------------------------------------------------------------------
def capture(compute, subscription_id, params, check_mode=False, compute_for=None,  # noqa: C901  # one linear plan
            list_locations=None, list_vms=None):
    """The whole image_capture task; returns the module result.

    ``compute`` acts in ``subscription_id`` (the targets, named by resource group and name);
    ``compute_for(subscription)`` gives the client of a source id's own subscription (same credential).
    ``list_locations()`` -> the subscription's regions (``name``, ``displayName``), read only to check
    the regions given. ``list_vms()`` -> the subscription's VMs, read only when ``gallery.keep_versions`` could
    delete a version (a VM's version is kept). Names and versions are checked before any request.
    """
    deadline = time.monotonic() + params["wait_timeout"]
    timings = {}
    check_names(params)
    source = parse_source(params["source"], subscription_id)
    if params.get("storage_account_id"):
        _resource_id.parse(params["storage_account_id"], "Microsoft.Storage/storageAccounts",
                           parameter="storage_account_id")
    if list_locations is not None:
        check_regions(params, list_locations)
    source_compute = compute
    if source.get("subscription") and compute_for is not None:
        source_compute = compute_for(source["subscription"])
    overrides = {key: params.get(key) for key in ("os_type", "os_state", "hyper_v_generation", "storage_account_id")}
    image_opts = params.get("managed_image")
    gallery_opts = params.get("gallery")
    if not image_opts and not gallery_opts:
        raise AzureError("give a target: managed_image, gallery, or both")

    started = time.monotonic()
    try:
        facts = read_source(source_compute, source, overrides)
    except AzureError as err:
        if err.code != "SourceNotFound":
            raise
        # the build VM is usually deleted after capture: a re-run still finds what it made from it
        facts = dict(source, location=None, os_type=None, os_state=None, hyper_v_generation=None,
                     security_type=None, source_urn=None, power_state=None, missing=err)
    timings["read_source"] = round(time.monotonic() - started, 3)
    ref = source_ref(facts)
    tags = dict(params.get("tags") or {})
    if facts.get("source_urn"):
        tags[TAG_SOURCE_URN] = facts["source_urn"]
    if params.get("build_id"):
        tags[TAG_BUILD_ID] = params["build_id"]
    force = params.get("force")
    if facts["type"] == "vm" and facts["os_state"] == "Generalized" and facts["power_state"] not in (
            "deallocated", "stopped", None, "unknown"):
        raise AzureError("source: VM %s is %s; capture it deallocated (goldenimage.azure.vm_generalize does both)"
                         % (facts["id"], facts["power_state"]))

    result = {"changed": False, "source": source_summary(facts), "tags": tags, "timings": timings,
              "diff": {"before": {}, "after": {}}}
    plan = {}

    # -- managed image: read, validate ------------------------------------------------------------
    if image_opts:
        if not facts.get("missing"):
            check_image_source(facts)
        image_rg = image_opts.get("resource_group")
        image_name = image_opts["name"]
        existing = vmstate.wire(vmstate.get_or_none("get managed image '%s'" % image_name, compute.images.get,
                                                    image_rg, image_name))
        image_location = image_opts.get("location") or facts["location"] or (existing or {}).get("location")
        if not image_location:
            raise AzureError("managed_image.location is required for a VHD source")
        action = "create"
        if existing is not None:
            state = vmstate.props(existing).get("provisioningState")
            if vmstate.same_id(image_source_ref(existing), ref) and state != "Failed":
                action = "update" if merged_tags(existing, tags) != (existing.get("tags") or {}) else "keep"
            elif facts.get("missing"):
                raise facts["missing"]
            elif state == "Failed" or force:
                action = "replace"
            else:
                raise AzureError("managed_image: image '%s' in resource group '%s' exists and was made from %s, not "
                                 "from %s. Use another name, or force=true to replace it. Nothing was changed."
                                 % (image_name, image_rg, image_source_ref(existing), ref), code="ImageExists")
        if facts.get("missing") and action == "create":
            raise facts["missing"]
        plan["image"] = {"action": action, "existing": existing, "rg": image_rg, "name": image_name,
                         "body": None if facts.get("missing") else image_body(
                             facts, image_location, tags, image_opts.get("zone_resilient"),
                             image_opts.get("storage_account_type"))}
        result["diff"]["before"]["managed_image"] = _image_diff(existing)
        if image_opts.get("disk_encryption_set") and plan["image"]["body"]:
            _encryption.apply_image(plan["image"]["body"], image_opts["disk_encryption_set"], facts)

    # -- gallery: read, validate ------------------------------------------------------------------
    if gallery_opts:
        plan["gallery"] = _plan_gallery(compute, facts, gallery_opts, tags, force, dict(params.get("tags") or {}))
        step = plan["gallery"]
        result["diff"]["before"]["gallery_image"] = (gallery_utils.definition_facts(step["existing_definition"])
                                                     if step["existing_definition"] else None)
        result["diff"]["after"]["gallery_image"] = dict(step["definition_facts"])
        result["diff"]["before"]["gallery_image_version"] = _version_diff(step["existing_version"])

    # -- encryption at rest: every disk encryption set in its region; a customer-key source has one per region
    _encryption.check_capture(compute, params, facts, ((plan.get("image") or {}).get("body") or {}).get("location"),
                              (plan.get("gallery") or {}).get("location"), subscription_id)

    # -- act --------------------------------------------------------------------------------------
    changed = any(step["action"] != "keep" for step in ([plan["image"]] if "image" in plan else []) +
                  ([plan["gallery"]] if "gallery" in plan else [])) or (
        "gallery" in plan and (plan["gallery"]["create_gallery"] or plan["gallery"]["create_definition"]))
    result["changed"] = changed
    if "image" in plan:
        step = plan["image"]
        result["managed_image_action"] = step["action"]
        after = step["existing"] if step["action"] == "keep" else step["body"]
        if step["action"] == "update":
            after = dict(step["existing"], tags=merged_tags(step["existing"], tags))
        if step["action"] == "keep":
            result["managed_image"] = _snake(step["existing"])
        elif check_mode:
            result["managed_image"] = _snake(dict(after, name=step["name"]))
        else:
            started = time.monotonic()
            if step["action"] == "update":
                image = update_image_tags(compute, step["rg"], step["name"], after["tags"], deadline)
            else:
                if step["action"] == "replace":
                    delete_image(compute, step["rg"], step["name"], deadline)
                image = create_image(compute, step["rg"], step["name"], step["body"], deadline,
                                     cleanup_timeout=min(600, params["wait_timeout"]))
            result["managed_image"] = _snake(image)
            timings["managed_image"] = round(time.monotonic() - started, 3)
        result["diff"]["after"]["managed_image"] = _image_diff(after)
    if "gallery" in plan:
        _run_gallery(compute, plan["gallery"], facts, params, result, timings, deadline, check_mode)
        if gallery_opts.get("keep_versions"):
            _gallery_lifecycle.apply(compute, subscription_id, plan["gallery"], gallery_opts["keep_versions"], result,
                                     deadline, check_mode, list_vms or (lambda: []))
    return result


def _image_diff(image):
    if not image:
        return None
    p = vmstate.props(image)
    return {"source": image_source_ref(image), "hyper_v_generation": p.get("hyperVGeneration"),
            "tags": image.get("tags") or {}}


def _version_diff(version):
    if not version:
        return None
    profile = vmstate.props(version).get("publishingProfile") or {}
    return {"name": version.get("name"), "source": version_source_ref(version),
            "target_regions": sorted(normalize_location(r.get("name")) for r in profile.get("targetRegions") or []),
            "exclude_from_latest": profile.get("excludeFromLatest"), "end_of_life_date": profile.get("endOfLifeDate"),
            "tags": version.get("tags") or {}}


def _plan_gallery(compute, facts, opts, tags, force, user_tags):
    rg, gname, dname = opts["resource_group"], opts["name"], opts["image"]
    gallery = gallery_utils.get_gallery(compute, rg, gname)
    definition = gallery_utils.get_definition(compute, rg, gname, dname) if gallery else None
    location = (gallery or {}).get("location") or opts.get("location") or facts["location"]
    if not location:
        raise AzureError("gallery.location is required for a VHD source when the gallery does not exist yet")
    where = "gallery image definition '%s/%s'" % (gname, dname)
    if gallery is None and not opts.get("create_definition"):
        raise AzureError("gallery: gallery '%s' does not exist in resource group '%s'; set gallery.create_definition="
                         "true to create it and the image definition" % (gname, rg), code="GalleryNotFound")
    wanted_security = opts.get("security_type")
    if facts.get("missing") and definition is None:
        raise facts["missing"]
    if definition is not None:
        def_facts = gallery_utils.definition_facts(definition)
        if not facts.get("missing"):
            gallery_utils.check_definition(def_facts, facts, "The existing %s" % where)
        def_body = None
    else:
        if not opts.get("create_definition"):
            raise AzureError("gallery.image: %s does not exist; set gallery.create_definition=true (with publisher, "
                             "offer and sku) to create it" % where, code="GalleryImageNotFound")
        missing = [key for key in ("publisher", "offer", "sku") if not opts.get(key)]
        if missing:
            raise AzureError("gallery: %s is required to create %s" % (", ".join("gallery." + m for m in missing), where))
        # a golden image is generalized: a new definition is Specialized only when asked (os_state)
        def_facts = {"os_type": facts["os_type"], "os_state": facts.get("declared_os_state") or "Generalized",
                     "hyper_v_generation": opts.get("hyper_v_generation") or facts["hyper_v_generation"],
                     "security_type": wanted_security or facts["security_type"],
                     # inherited from the source (an Arm64 VM makes an Arm64 definition), unless given
                     "architecture": opts.get("architecture") or facts.get("architecture")
                     or _disk_architecture(compute, facts.get("os_disk_id")) or "x64"}
        if facts.get("plan"):
            def_facts["purchase_plan"] = facts["plan"]
        gallery_utils.check_definition(def_facts, facts, "The %s to be created" % where)
        identifier = {"publisher": opts["publisher"], "offer": opts["offer"], "sku": opts["sku"]}
        # the definition outlives builds: only the user's tags, not the build's
        def_body = gallery_utils.definition_body(location, def_facts, identifier, opts.get("description"), None,
                                                 user_tags)
    if wanted_security and definition is not None and gallery_utils.definition_security_type(definition) != wanted_security:
        raise AzureError("gallery.security_type: %s is %s, not %s; a definition's security type cannot change"
                         % (where, gallery_utils.definition_security_type(definition), wanted_security),
                         code="DefinitionMismatch")

    versions = gallery_utils.list_versions(compute, rg, gname, dname) if definition is not None else []
    ref = source_ref(facts)
    requested = str(opts.get("version") or "auto")
    existing_version = None
    if requested == "auto":
        ours = [v for v in versions if vmstate.same_id(version_source_ref(v), ref)
                and vmstate.props(v).get("provisioningState") != "Failed"]
        if ours:
            existing_version = gallery_utils.get_version(compute, rg, gname, dname,
                                                         newest([v["name"] for v in ours]))
            version_name = existing_version["name"]
        else:
            version_name = gallery_utils.next_version([v.get("name") for v in versions])
    else:
        gallery_utils.validate_version_name(requested)
        version_name = requested
        match = [v for v in versions if v.get("name") == requested]
        if match:
            existing_version = gallery_utils.get_version(compute, rg, gname, dname, requested)
    action = "create"
    if existing_version is not None:
        state = vmstate.props(existing_version).get("provisioningState")
        if vmstate.same_id(version_source_ref(existing_version), ref) and state != "Failed":
            action = "keep"
        elif state == "Failed" or force:
            action = "replace"
        else:
            raise AzureError("gallery.version: version %s of %s exists and was made from %s, not from %s. A version's "
                             "source cannot change (PropertyChangeNotAllowed). Use another version (or 'auto'), or "
                             "force=true to delete and recreate it. Nothing was changed."
                             % (version_name, where, version_source_ref(existing_version), ref),
                             code="VersionExists")
    if facts.get("missing") and action not in ("keep",):
        raise facts["missing"]
    regions = opts.get("target_regions") or [{"name": location}]
    if normalize_location(location) not in [normalize_location(r["name"]) for r in regions]:
        raise AzureError("gallery.target_regions: must include the gallery's region %s" % location)
    publishing = {"target_regions": regions, "replica_count": opts.get("replica_count") or 1,
                  "storage_account_type": opts.get("storage_account_type") or "Standard_LRS",
                  "exclude_from_latest": opts.get("exclude_from_latest"),
                  "end_of_life_date": opts.get("end_of_life_date"),
                  "replication_mode": opts.get("replication_mode")}
    # end_of_life_days dates a new version only: an existing one keeps its date, so a re-run the next day is a no-op
    new_publishing = dict(publishing, end_of_life_date=opts.get("end_of_life_date")
                          or _gallery_lifecycle.end_of_life(opts.get("end_of_life_days")))
    action = _gallery_lifecycle.check_replication_mode(existing_version, opts.get("replication_mode"), regions,
                                                       location, action, force)
    update = None
    if action == "keep":
        update = publishing_update(existing_version, publishing, opts.get("target_regions") is not None, tags)
        if update:
            action = "update"
    return {
        "update": update,
        "action": action, "rg": rg, "gallery": gname, "definition": dname, "version": version_name,
        "location": location, "create_gallery": gallery is None, "create_definition": definition is None,
        "definition_body": def_body, "definition_facts": def_facts, "existing_version": existing_version,
        "existing_gallery": gallery, "existing_definition": definition,
        "body": None if facts.get("missing") else version_body(location, facts, new_publishing, tags),
        "keep_failed": opts.get("keep_failed"),
    }


def _region_set(targets):
    return sorted((normalize_location(item.get("name")), int(item.get("regionalReplicaCount") or 0),
                   item.get("storageAccountType"), bool(item.get("excludeFromLatest"))) for item in targets or [])


def publishing_update(version, publishing, regions_given, tags):
    """The PATCH body that brings an existing version (same source) to the requested publishing settings and tags,
    or None. Only what the task sets is compared: regions when given, exclude_from_latest and end_of_life_date
    when set; tags are added to the version's own."""
    current = vmstate.props(version).get("publishingProfile") or {}
    wanted = version_body(version.get("location"), {"type": "vm", "id": ""}, publishing, {})["properties"][
        "publishingProfile"]
    profile = {}
    if regions_given:
        for item in wanted["targetRegions"]:
            item.setdefault("excludeFromLatest", False)
        if _region_set(wanted["targetRegions"]) != _region_set(current.get("targetRegions")):
            profile["targetRegions"] = wanted["targetRegions"]
    if publishing.get("exclude_from_latest") is not None and \
            bool(current.get("excludeFromLatest")) != publishing["exclude_from_latest"]:
        profile["excludeFromLatest"] = publishing["exclude_from_latest"]
    if publishing.get("end_of_life_date") and \
            (current.get("endOfLifeDate") or "")[:10] != publishing["end_of_life_date"][:10]:
        profile["endOfLifeDate"] = publishing["end_of_life_date"]
    new_tags = merged_tags(version, tags)
    if not profile and new_tags == (version.get("tags") or {}):
        return None
    body = {"tags": new_tags}
    if profile:
        body["properties"] = {"publishingProfile": dict(current, **profile)}
        body["properties"]["publishingProfile"].pop("publishedDate", None)
    return body


def _run_gallery(compute, step, facts, params, result, timings, deadline, check_mode):
    result["gallery_image_version_action"] = step["action"]
    result["version"] = step["version"]
    gallery, definition, version = step["existing_gallery"], step["existing_definition"], step["existing_version"]
    if check_mode:
        if step["create_gallery"]:
            gallery = {"name": step["gallery"], "location": step["location"]}
        if step["create_definition"]:
            definition = dict(step["definition_body"], name=step["definition"])
        if step["action"] == "update":
            version = _apply_update(version, step["update"])
        elif step["action"] != "keep":
            version = dict(step["body"], name=step["version"])
    else:
        started = time.monotonic()
        if step["create_gallery"]:
            gallery = gallery_utils.create_gallery(compute, step["rg"], step["gallery"], step["location"],
                                                   dict(params.get("tags") or {}), deadline)
            result["changed"] = True
        if step["create_definition"]:
            definition = gallery_utils.create_definition(compute, step["rg"], step["gallery"], step["definition"],
                                                         step["definition_body"], deadline)
            result["changed"] = True
        if step["action"] == "replace":
            gallery_utils.delete_version(compute, step["rg"], step["gallery"], step["definition"], step["version"],
                                         max(1, deadline - time.monotonic()))
        if step["action"] == "update":
            version = gallery_utils.update_version(compute, step["rg"], step["gallery"], step["definition"],
                                                   step["version"], step["update"], deadline)
            timings["gallery_image_version"] = round(time.monotonic() - started, 3)
        elif step["action"] != "keep":
            try:
                version = gallery_utils.create_version(compute, step["rg"], step["gallery"], step["definition"],
                                                       step["version"], step["body"], deadline,
                                                       keep_failed=step["keep_failed"],
                                                       cleanup_timeout=min(600, params["wait_timeout"]))
            except AzureError as err:
                err.partial = {"changed": True, "version": step["version"],
                               "replication": err.replication,
                               "cleanup": err.cleanup,
                               "managed_image": result.get("managed_image")}
                raise
            timings["gallery_image_version"] = round(time.monotonic() - started, 3)
    result["gallery"] = _snake(gallery)
    result["gallery_image"] = _snake(definition)
    result["gallery_image_version"] = _snake(version)
    result["replication"] = gallery_utils.replication(version) if version and not check_mode else None
    result["diff"]["after"]["gallery_image_version"] = _version_diff(version)


def _apply_update(version, update):
    after = dict(version, tags=update["tags"])
    if "properties" in update:
        props = dict(vmstate.props(version))
        props["publishingProfile"] = update["properties"]["publishingProfile"]
        after["properties"] = props
    return after


def purchase_plan(plan):
    """A Marketplace plan as a gallery definition's ``purchasePlan`` ({name, publisher, product}), or None."""
    plan = plan or {}
    out = {key: plan[key] for key in ("name", "publisher", "product") if plan.get(key)}
    return out or None


def _disk_architecture(compute, disk_id):
    """The CPU architecture of a VM's OS disk (``supportedCapabilities.architecture``, set from its image)."""
    if not disk_id:
        return None
    parsed = vmstate.parse_resource_id(disk_id)
    disk = _get(compute, "disk", parsed["resource_group"], parsed["name"])
    return ((vmstate.props(disk).get("supportedCapabilities") or {}).get("architecture")) if disk else None
