"""Gallery image versions (``galleries/{g}/images/{i}/versions/{Major.Minor.Patch}``).

- The source is checked against the parent definition (``gallery_sources``); ``storageProfile`` can
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

from ..core.errors import ArmError, missing_property, property_change_not_allowed
from ..core.request import Reply
from ..core.store import private, public
from . import gallery_replication as replication
from .gallery_common import (
    VERSION_PATH,
    VERSION_TYPE,
    begin_delete,
    list_children,
    check_name,
    check_same_location,
    get_or_404,
    ids_from,
    normalize_region,
    region_name,
    require_group,
    require_parent,
    tags_of,
)
from .gallery_images import security_type
from .gallery_sources import check_compatible, check_region, inspect, source_reference
from .resources import validate_location

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


def _publishing_profile(sim, raw, location, current=None):
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
    if location not in seen:
        raise ArmError(400, "InvalidParameter", f"The gallery image version's region '{location}' must be one of the "
                       "target regions of the publishing profile.", target="publishingProfile.targetRegions")
    profile = {
        "targetRegions": regions,
        "replicaCount": replica_count,
        "excludeFromLatest": bool(raw.get("excludeFromLatest", current.get("excludeFromLatest", False))),
        "publishedDate": current.get("publishedDate") or _now(),
        "storageAccountType": storage_type,
        "replicationMode": _choice(raw.get("replicationMode") or current.get("replicationMode") or "Full",
                                   REPLICATION_MODES, "publishingProfile.replicationMode"),
    }
    end_of_life = raw.get("endOfLifeDate", current.get("endOfLifeDate"))
    if end_of_life:
        profile["endOfLifeDate"] = end_of_life
    return profile


def _storage_profile(raw, source):
    os_raw = raw.get("osDiskImage") or {}
    os_image = {"sizeInGB": source.size_gb or DEFAULT_SIZE_GB,
                "hostCaching": os_raw.get("hostCaching") or source.host_caching}
    if os_raw.get("source"):
        os_image["source"] = os_raw["source"]
    profile = {"osDiskImage": os_image, "dataDiskImages": source.data_disks}
    if raw.get("source"):
        profile = {"source": raw["source"], **profile}
    return profile


def _check_source_unchanged(body, raw_storage):
    if not raw_storage:
        return
    try:
        wanted = source_reference(raw_storage)
    except ArmError:
        return  # no source named: nothing that could differ
    if wanted.lower() != source_reference(body["properties"]["storageProfile"]).lower():
        raise property_change_not_allowed("storageProfile")


def _begin(req, body, created, new_regions, duration_key):
    """Store the version, start replicating ``new_regions`` and answer 201/200 with a capsOperations monitor."""
    sim = req.sim
    body["properties"]["provisioningState"] = "Creating" if created else "Updating"
    duration = sim.settings.duration(duration_key)
    replication.start(body, new_regions, sim.clock.time(), duration)
    sim.store.put(body)
    answer = public(body)
    op = sim.ops.start(req, "gallery_version.write", args={"id": body["id"]}, duration=duration,
                       location=body["location"], kind="caps")
    if not op.done and op.error and new_regions:
        replication.mark_failing(body, new_regions[-1])
    private(body)["operation"] = op.id
    sim.store.touch()
    return Reply(201 if created else 200, answer, sim.ops.headers(req, op))


def finish_write(sim, op):
    body = sim.store.get(op.args["id"])
    if body is None:
        return
    replication.finish(body, op)
    body["properties"]["provisioningState"] = "Succeeded" if op.status == "Succeeded" else "Failed"


def _update(req, body, spec):
    raw = spec.get("properties") or {}
    _check_source_unchanged(body, raw.get("storageProfile"))
    props = body["properties"]
    before = replication.regions_of(props["publishingProfile"])
    if "publishingProfile" in raw:
        props["publishingProfile"] = _publishing_profile(req.sim, raw["publishingProfile"] or {},
                                                         normalize_region(body["location"]), props["publishingProfile"])
    if "safetyProfile" in raw:
        props["safetyProfile"] = {**props.get("safetyProfile", {}), **(raw["safetyProfile"] or {})}
    after = replication.regions_of(props["publishingProfile"])
    replication.keep_only(body, after)
    body["tags"] = tags_of(spec, body)
    # New regions replicate; so do failed ones, as a repeated PUT/PATCH retries them.
    failed = replication.failed_regions(body)
    added = [region for region in after if region not in before or region in failed]
    return _begin(req, body, False, added,
                  "gallery_image_version.create" if added else "gallery_image_version.update")


def put_version(req):
    sim = req.sim
    name = req.params["galleryImageVersionName"]
    check_name("version", name)
    require_group(req)
    _, image_id, rid = ids_from(req)
    definition = require_parent(sim, image_id, req.params["galleryImageName"])
    spec = req.json()
    location = validate_location(sim, spec.get("location"))
    existing = sim.store.get(rid)
    check_same_location(existing, location)
    raw = spec.get("properties") or {}
    if not raw.get("storageProfile"):
        raise missing_property("properties.storageProfile")
    if existing is not None:
        return _update(req, existing, spec)
    source = inspect(sim, raw["storageProfile"])
    check_region(source, location)
    check_compatible(source, definition, security_type(definition))
    profile = _publishing_profile(sim, raw.get("publishingProfile") or {}, location)
    body = {
        "id": rid,
        "name": name,
        "type": VERSION_TYPE,
        "location": location,
        "tags": tags_of(spec),
        "properties": {
            "publishingProfile": profile,
            "storageProfile": _storage_profile(raw["storageProfile"], source),
            "safetyProfile": {"reportedForPolicyViolation": False, **(raw.get("safetyProfile") or {})},
        },
    }
    if source.guest:
        private(body).update(source.guest)
    return _begin(req, body, True, replication.regions_of(profile), "gallery_image_version.create")


def patch_version(req):
    _, _, rid = ids_from(req)
    return _update(req, get_or_404(req, rid), req.json())


def get_version(req):
    _, _, rid = ids_from(req)
    body = get_or_404(req, rid)
    answer = public(body)
    if "replicationstatus" in (req.query.get("$expand") or "").lower():
        answer["properties"]["replicationStatus"] = replication.status(body, req.sim.clock.time())
    return answer


def delete_version(req):
    _, _, rid = ids_from(req)
    return begin_delete(req, rid, "gallery_image_version.delete")


def list_versions(req):
    _, image_id, _ = ids_from(req)
    return list_children(req, image_id, req.params["galleryImageName"], "versions", VERSION_TYPE)


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


def register(sim):
    add = sim.router.add
    add("PUT", VERSION_PATH, put_version)
    add("PATCH", VERSION_PATH, patch_version)
    add("GET", VERSION_PATH, get_version)
    add("DELETE", VERSION_PATH, delete_version)
    add("GET", VERSION_PATH.rsplit("/", 1)[0], list_versions)
    sim.ops.register_finisher("gallery_version.write", finish_write)
