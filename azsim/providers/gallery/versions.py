"""Gallery image versions (``galleries/{g}/images/{i}/versions/{Major.Minor.Patch}``).

- The source is checked against the parent definition (``sources.py``); ``storageProfile`` can
  never change afterwards (409 PropertyChangeNotAllowed, target ``storageProfile``).
- ``publishingProfile`` is filled as GalleryRP returns it: every target region gets
  ``regionalReplicaCount``, ``storageAccountType`` and ``excludeFromLatest``; the version's own region
  must be a target region; ``publishedDate`` is set once.
- Creating replicates to every target region for ``gallery_image_version.create`` seconds (x time
  scale); a PATCH that adds regions replicates those. ``$expand=ReplicationStatus`` shows the progress.

``latest_version(sim, image_id, location)`` is how ``imageReference.id`` of a definition resolves.
"""

from __future__ import annotations

import datetime as dt

from ...core.errors import ArmError, property_change_not_allowed
from ...core.store import private
from ..disks import encryption_sets
from . import replication
from .models import VERSION_TYPE, normalize_region, region_name
from .sources import source_reference

STORAGE_ACCOUNT_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS", "PremiumV2_LRS")
REPLICATION_MODES = ("Full", "Shallow")
DEFAULT_SIZE_GB = 30  # a VHD source's size is not readable by the simulator


def _now():
    return dt.datetime.now(dt.timezone.utc).isoformat()


def _choice(value, allowed, target):
    for item in allowed:
        if str(value).lower() == item.lower():
            return item
    raise ArmError(400, "InvalidParameter", f"The value '{value}' of parameter '{target}' is not allowed. Allowed "
                   f"values are {', '.join(allowed)}.", target=target)


def publishing_profile(sim, raw, location, current=None):
    current = current or {}
    replica_count = int(raw.get("replicaCount") or current.get("replicaCount") or 1)
    storage_type = _choice(raw.get("storageAccountType") or current.get("storageAccountType") or "Standard_LRS",
                           STORAGE_ACCOUNT_TYPES, "publishingProfile.storageAccountType")
    wanted = raw.get("targetRegions") or current.get("targetRegions") or [{"name": location}]
    regions, seen = [], set()
    for item in wanted:
        key = normalize_region(item.get("name"))
        if key not in sim.settings["locations"]:
            raise ArmError(400, "InvalidParameter", f"The target region '{item.get('name')}' is not a valid Azure "
                           "region.", target="publishingProfile.targetRegions")
        if key in seen:
            raise ArmError(400, "InvalidParameter", f"The target region '{item.get('name')}' is listed more than once.",
                           target="publishingProfile.targetRegions")
        seen.add(key)
        regions.append({
            "name": region_name(key),
            "regionalReplicaCount": int(item.get("regionalReplicaCount") or replica_count),
            "storageAccountType": _choice(item.get("storageAccountType") or storage_type, STORAGE_ACCOUNT_TYPES,
                                          "publishingProfile.targetRegions.storageAccountType"),
            "excludeFromLatest": bool(item.get("excludeFromLatest", False)),
        })
        encryption = encryption_sets.region_encryption(sim, item, key, "publishingProfile.targetRegions")
        if encryption:  # a DES per disk image, in this region
            regions[-1]["encryption"] = encryption
    if location not in seen:
        raise ArmError(400, "InvalidParameter", f"The gallery image version's region '{location}' must be one of the "
                       "target regions of the publishing profile.", target="publishingProfile.targetRegions")
    _check_zone_redundant(sim, regions)
    mode = _choice(raw.get("replicationMode") or current.get("replicationMode") or "Full", REPLICATION_MODES,
                   "publishingProfile.replicationMode")
    if current and mode != (current.get("replicationMode") or "Full"):  # "This property is not updatable."
        raise property_change_not_allowed("publishingProfile.replicationMode")
    if mode == "Shallow":
        _check_shallow(regions, location)
    profile = {
        "targetRegions": regions,
        "replicaCount": replica_count,
        "excludeFromLatest": bool(raw.get("excludeFromLatest", current.get("excludeFromLatest", False))),
        "publishedDate": current.get("publishedDate") or _now(),
        "storageAccountType": storage_type,
        "replicationMode": mode,
    }
    end_of_life = raw.get("endOfLifeDate", current.get("endOfLifeDate"))
    if end_of_life:
        profile["endOfLifeDate"] = end_of_life
    return profile


def _check_zone_redundant(sim, regions):
    """Standard_ZRS replicas need a region with availability zones (Learn: "Zone Redundant Storage (ZRS) accounts in
    regions that support Availability Zones"). The wording of the error is not from a real trace."""
    zonal = {normalize_region(name) for name in sim.settings["zonal_locations"]}
    for item in regions:
        if item["storageAccountType"] == "Standard_ZRS" and normalize_region(item["name"]) not in zonal:
            raise ArmError(400, "InvalidParameter", f"Storage account type 'Standard_ZRS' is not supported in region "
                           f"'{item['name']}', which has no availability zones.",
                           target="publishingProfile.targetRegions.storageAccountType")


def _check_shallow(regions, location):
    """Shallow replication publishes in the version's own region only, one replica (not confirmed in a stored
    source: the rule follows the Learn image-version article as remembered; the wording is the simulator's)."""
    others = [item["name"] for item in regions if normalize_region(item["name"]) != location]
    if others:
        raise ArmError(400, "InvalidParameter", "Shallow replication supports only the source region as a target "
                       f"region; remove {', '.join(others)}.", target="publishingProfile.targetRegions")
    if any(item["regionalReplicaCount"] != 1 for item in regions):
        raise ArmError(400, "InvalidParameter", "Shallow replication supports only one replica.",
                       target="publishingProfile.targetRegions.regionalReplicaCount")


def storage_profile(raw, source):
    os_raw = raw.get("osDiskImage") or {}
    os_image = {"sizeInGB": source.size_gb or DEFAULT_SIZE_GB,
                "hostCaching": os_raw.get("hostCaching") or source.host_caching}
    if os_raw.get("source"):
        os_image["source"] = os_raw["source"]
    profile = {"osDiskImage": os_image, "dataDiskImages": source.data_disks}
    if raw.get("source"):
        profile = {"source": raw["source"], **profile}
    return profile


def check_source_unchanged(body, raw_storage):
    if not raw_storage:
        return
    try:
        wanted = source_reference(raw_storage)
    except ArmError:
        return  # no source named: nothing that could differ
    if wanted.lower() != source_reference(body["properties"]["storageProfile"]).lower():
        raise property_change_not_allowed("storageProfile")


def finish_write(sim, op):
    """The write's finisher (``gallery_version.write``): replication ends, then the provisioning state."""
    body = sim.store.get(op.args["id"])
    if body is None:
        return
    replication.finish(body, op)
    body["properties"]["provisioningState"] = "Succeeded" if op.status == "Succeeded" else "Failed"


def _version_key(body):
    return tuple(int(part) for part in body["name"].split("."))


def latest_version(sim, image_id, location=None):
    """The version a definition id resolves to: highest Major.Minor.Patch that succeeded and is not
    excluded from latest (globally or, given ``location``, in that target region); None if there is none."""
    candidates = []
    for body in sim.store.list(image_id.rstrip("/") + "/versions/", VERSION_TYPE):
        props = body["properties"]
        profile = props.get("publishingProfile", {})
        if props.get("provisioningState") != "Succeeded" or profile.get("excludeFromLatest"):
            continue
        if location is not None:
            region = next((item for item in profile.get("targetRegions", [])
                           if normalize_region(item["name"]) == normalize_region(location)), None)
            if region is None or region.get("excludeFromLatest"):
                continue
        candidates.append(body)
    return max(candidates, key=_version_key) if candidates else None



def check_customer_key_regions(sim, body, profile):
    """A version from a customer-key source (recorded at create) needs a DES in every target region (400)."""
    luns = private(body).get("customer_key_luns")
    if luns is not None:
        encryption_sets.check_gallery_regions(profile["targetRegions"], luns)
