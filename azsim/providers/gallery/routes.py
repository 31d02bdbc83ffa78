"""Azure Compute Gallery (GalleryRP) routes: galleries, image definitions and image versions.

The state and its rules live in :mod:`.models` (types, names, regions, finishers), :mod:`.images`
(definitions), :mod:`.versions` and :mod:`.replication` (versions), :mod:`.sources` (what a version is made
from). Every write is asynchronous (capsOperations); deleting a gallery or definition that still holds
nested resources is refused (409 CannotDeleteResource).

A gallery's ``identifier.uniqueName`` is ``{subscription}-{NAME}`` (upper-cased), as GalleryRP sets it.
"""

from __future__ import annotations

from ...core.errors import missing_property
from ...core.resource import tags_of, validate_location
from ...core.store import private, public
from ..disks import encryption_sets
from ..guests import filesystems
from . import images, replication, versions
from .images import security_type
from .models import (
    GALLERIES,
    GALLERY_TYPE,
    IMAGE_TYPE,
    IMAGES,
    VERSION_TYPE,
    VERSIONS,
    begin_delete,
    begin_write,
    check_name,
    register_finishers,
)
from .sources import check_compatible, check_region, inspect

# Properties a client may set on a gallery; everything else in the body is read-only or unknown to the simulator.
GALLERY_WRITABLE = ("description", "softDeletePolicy", "sharingProfile")


# -- galleries ----------------------------------------------------------------------------------------
def _view(req, body):
    answer = public(body)
    if (req.query.get("$select") or "").lower() == "permissions":
        answer["properties"].setdefault("sharingProfile", {"permissions": "Private"})
    return answer


def put_gallery(req):
    name = req.params["galleryName"]
    check_name("gallery", name)
    GALLERIES.group(req)
    spec = req.json()
    location = validate_location(req.sim, spec.get("location"))
    existing = GALLERIES.existing(req)
    GALLERIES.check_location(existing, location)
    body = {
        "id": GALLERIES.id(req),
        "name": name,
        "type": GALLERY_TYPE,
        "location": location,
        "tags": tags_of(spec, existing),
        "properties": GALLERIES.writable(spec.get("properties") or {}, GALLERY_WRITABLE),
    }
    body["properties"]["identifier"] = {"uniqueName": f"{req.subscription}-{name.upper()}"}
    duration = "gallery.create" if existing is None else "gallery.update"
    return begin_write(req, GALLERIES, body, existing is None, duration)


def patch_gallery(req):
    body = GALLERIES.or_404(req, GALLERIES.existing(req))
    spec = req.json()
    body["tags"] = tags_of(spec, body)
    body["properties"].update(GALLERIES.writable(spec.get("properties") or {}, GALLERY_WRITABLE))
    return begin_write(req, GALLERIES, body, False, "gallery.update")


def get_gallery(req):
    return _view(req, GALLERIES.or_404(req, GALLERIES.existing(req)))


def delete_gallery(req):
    return begin_delete(req, GALLERIES, "gallery.delete", child_type=IMAGE_TYPE)


# -- image definitions --------------------------------------------------------------------------------
def put_image(req):
    name = req.params["galleryImageName"]
    check_name("image", name)
    IMAGES.group(req)
    IMAGES.require_parent(req)
    spec = req.json()
    location = validate_location(req.sim, spec.get("location"))
    existing = IMAGES.existing(req)
    IMAGES.check_location(existing, location)
    props = images.definition_properties(spec.get("properties") or {},
                                         existing["properties"] if existing is not None else {})
    if existing is not None:
        images.check_immutable(existing, props)
    rid = IMAGES.id(req)
    images.check_identifier_unique(req.sim, IMAGES.parent_id(req), rid, props["identifier"])
    body = {"id": rid, "name": name, "type": IMAGE_TYPE, "location": location, "tags": tags_of(spec, existing),
            "properties": props}
    duration = "gallery_image.create" if existing is None else "gallery_image.update"
    return begin_write(req, IMAGES, body, existing is None, duration)


def patch_image(req):
    body = IMAGES.or_404(req, IMAGES.existing(req))
    spec = req.json()
    images.update_definition(body, spec.get("properties") or {})
    body["tags"] = tags_of(spec, body)
    return begin_write(req, IMAGES, body, False, "gallery_image.update")


def delete_image(req):
    return begin_delete(req, IMAGES, "gallery_image.delete", child_type=VERSION_TYPE)


# -- image versions -----------------------------------------------------------------------------------
def _begin_version(req, body, created, new_regions, duration_key):
    """Store the version, start replicating ``new_regions`` and answer 201/200 with a capsOperations monitor."""
    sim = req.sim
    duration = sim.settings.duration(duration_key)
    replication.start(body, new_regions, sim.clock.time(), duration)
    reply = VERSIONS.begin_write(req, body, created, duration, finisher="gallery_version.write")
    op = sim.ops.ops.get(private(body)["operation"])
    if op is not None and not op.done and op.error and new_regions:
        replication.mark_failing(body, new_regions[-1])
        sim.store.touch()
    return reply


def _update_version(req, body, spec):
    raw = spec.get("properties") or {}
    versions.check_source_unchanged(body, raw.get("storageProfile"))
    props = body["properties"]
    before = replication.regions_of(props["publishingProfile"])
    if "publishingProfile" in raw:
        wanted_profile = versions.publishing_profile(req.sim, raw["publishingProfile"] or {},
                                                     versions.normalize_region(body["location"]),
                                                     props["publishingProfile"])
        versions.check_customer_key_regions(req.sim, body, wanted_profile)
        props["publishingProfile"] = wanted_profile
    if "safetyProfile" in raw:
        props["safetyProfile"] = {**props.get("safetyProfile", {}), **(raw["safetyProfile"] or {})}
    after = replication.regions_of(props["publishingProfile"])
    replication.keep_only(body, after)
    body["tags"] = tags_of(spec, body)
    # New regions replicate; so do failed ones, as a repeated PUT/PATCH retries them.
    failed = replication.failed_regions(body)
    added = [region for region in after if region not in before or region in failed]
    return _begin_version(req, body, False, added,
                          "gallery_image_version.create" if added else "gallery_image_version.update")


def put_version(req):
    sim = req.sim
    name = req.params["galleryImageVersionName"]
    check_name("version", name)
    VERSIONS.group(req)
    definition = VERSIONS.require_parent(req)
    spec = req.json()
    location = validate_location(sim, spec.get("location"))
    existing = VERSIONS.existing(req)
    VERSIONS.check_location(existing, location)
    raw = spec.get("properties") or {}
    if not raw.get("storageProfile"):
        raise missing_property("properties.storageProfile")
    if existing is not None:
        return _update_version(req, existing, spec)
    source = inspect(sim, raw["storageProfile"])
    check_region(source, location)
    check_compatible(source, definition, security_type(definition))
    profile = versions.publishing_profile(sim, raw.get("publishingProfile") or {}, location)
    customer_key = encryption_sets.source_customer_key(sim, source.id)
    if customer_key:  # a CMK-encrypted source: a DES for every target region and disk image
        encryption_sets.check_gallery_regions(profile["targetRegions"], [disk["lun"] for disk in source.data_disks])
    body = {
        "id": VERSIONS.id(req),
        "name": name,
        "type": VERSION_TYPE,
        "location": location,
        "tags": tags_of(spec),
        "properties": {
            "publishingProfile": profile,
            "storageProfile": versions.storage_profile(raw["storageProfile"], source),
            "safetyProfile": {"reportedForPolicyViolation": False, **(raw.get("safetyProfile") or {})},
        },
    }
    if source.guest:
        private(body).update(source.guest)
    source_body = sim.store.get(source.id) if source.kind != "vhd" else None
    if source.kind == "virtualMachine":  # a generalized VM's guest is snapshotted (docs/image-filesystems.md)
        filesystems.capture(sim, body, source_body)
    elif source_body is not None:  # a managed image, version, snapshot or disk passes its filesystem on
        filesystems.inherit(body, source_body)
    if customer_key:
        private(body)["customer_key_luns"] = [disk["lun"] for disk in source.data_disks]
    return _begin_version(req, body, True, replication.regions_of(profile), "gallery_image_version.create")


def patch_version(req):
    return _update_version(req, VERSIONS.or_404(req, VERSIONS.existing(req)), req.json())


def get_version(req):
    body = VERSIONS.or_404(req, VERSIONS.existing(req))
    answer = public(body)
    if "replicationstatus" in (req.query.get("$expand") or "").lower():
        answer["properties"]["replicationStatus"] = replication.status(body, req.sim.clock.time())
    return answer


def delete_version(req):
    return begin_delete(req, VERSIONS, "gallery_image_version.delete")


def register(sim):
    add = sim.router.add
    add("PUT", GALLERIES.item_template, put_gallery)
    add("PATCH", GALLERIES.item_template, patch_gallery)
    add("GET", GALLERIES.item_template, get_gallery)
    add("DELETE", GALLERIES.item_template, delete_gallery)
    add("GET", GALLERIES.collection_template, GALLERIES.list_group)
    add("GET", GALLERIES.subscription_template, GALLERIES.list_subscription)
    register_finishers(sim)
    for kind, put, patch, get, delete in ((IMAGES, put_image, patch_image, IMAGES.get, delete_image),
                                          (VERSIONS, put_version, patch_version, get_version, delete_version)):
        add("PUT", kind.item_template, put)
        add("PATCH", kind.item_template, patch)
        add("GET", kind.item_template, get)
        add("DELETE", kind.item_template, delete)
        add("GET", kind.collection_template, kind.list_group)
    sim.ops.register_finisher("gallery_version.write", versions.finish_write)
