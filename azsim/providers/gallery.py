"""Azure Compute Gallery (GalleryRP): galleries here; image definitions in ``gallery_images``, image
versions and their replication in ``gallery_versions`` / ``gallery_replication``.

A gallery's ``identifier.uniqueName`` is ``{subscription}-{NAME}`` (upper-cased), as GalleryRP sets it.
Deleting a gallery that still holds image definitions is refused (409 CannotDeleteResource).
"""

from __future__ import annotations

from ..core.store import public
from . import gallery_images, gallery_versions
from .gallery_common import (
    GALLERY_PATH,
    GALLERY_TYPE,
    IMAGE_TYPE,
    begin_delete,
    begin_write,
    check_name,
    check_same_location,
    get_or_404,
    ids_from,
    register_finishers,
    require_group,
    tags_of,
)
from .paged_list import page
from .resources import validate_location

# Properties a client may set; everything else in the body is read-only or unknown to the simulator.
WRITABLE = ("description", "softDeletePolicy", "sharingProfile")


def _view(req, body):
    answer = public(body)
    if (req.query.get("$select") or "").lower() == "permissions":
        answer["properties"].setdefault("sharingProfile", {"permissions": "Private"})
    return answer


def put_gallery(req):
    name = req.params["galleryName"]
    check_name("gallery", name)
    require_group(req)
    spec = req.json()
    location = validate_location(req.sim, spec.get("location"))
    rid, _, _ = ids_from(req)
    existing = req.sim.store.get(rid)
    check_same_location(existing, location)
    props = spec.get("properties") or {}
    body = {
        "id": rid,
        "name": name,
        "type": GALLERY_TYPE,
        "location": location,
        "tags": tags_of(spec, existing),
        "properties": {key: props[key] for key in WRITABLE if key in props},
    }
    body["properties"]["identifier"] = {"uniqueName": f"{req.subscription}-{name.upper()}"}
    duration = "gallery.create" if existing is None else "gallery.update"
    return begin_write(req, body, existing is None, duration)


def patch_gallery(req):
    rid, _, _ = ids_from(req)
    body = get_or_404(req, rid)
    spec = req.json()
    body["tags"] = tags_of(spec, body)
    for key in WRITABLE:
        if key in (spec.get("properties") or {}):
            body["properties"][key] = spec["properties"][key]
    return begin_write(req, body, False, "gallery.update")


def get_gallery(req):
    rid, _, _ = ids_from(req)
    return _view(req, get_or_404(req, rid))


def delete_gallery(req):
    rid, _, _ = ids_from(req)
    return begin_delete(req, rid, "gallery.delete", child_type=IMAGE_TYPE)


def list_by_group(req):
    require_group(req)
    prefix = f"/subscriptions/{req.subscription}/resourceGroups/{req.params['resourceGroupName']}/providers/"
    return page(req, [public(body) for body in req.sim.store.list(prefix, GALLERY_TYPE)])


def list_by_subscription(req):
    prefix = f"/subscriptions/{req.subscription}/"
    return page(req, [public(body) for body in req.sim.store.list(prefix, GALLERY_TYPE)])


def register(sim):
    add = sim.router.add
    add("PUT", GALLERY_PATH, put_gallery)
    add("PATCH", GALLERY_PATH, patch_gallery)
    add("GET", GALLERY_PATH, get_gallery)
    add("DELETE", GALLERY_PATH, delete_gallery)
    add("GET", GALLERY_PATH.rsplit("/", 1)[0], list_by_group)
    add("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/galleries", list_by_subscription)
    register_finishers(sim)
    gallery_images.register(sim)
    gallery_versions.register(sim)
