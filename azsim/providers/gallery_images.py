"""Gallery image definitions (``galleries/{g}/images/{i}``).

- Required: ``osType``, ``osState``, ``identifier {publisher, offer, sku}``; ``hyperVGeneration``
  defaults to V1 and ``architecture`` to x64, as GalleryRP fills them.
- ``identifier`` is unique within a gallery (409 Conflict otherwise).
- ``osType``, ``osState``, ``hyperVGeneration``, ``architecture`` and ``identifier`` cannot change:
  409 PropertyChangeNotAllowed with the property as target.
- SecurityType features other than Standard, and Arm64, need hyperVGeneration V2.
"""

from __future__ import annotations

from ..core.errors import ArmError, missing_property, property_change_not_allowed
from ..core.store import public
from .gallery_common import (
    IMAGE_PATH,
    IMAGE_TYPE,
    VERSION_TYPE,
    begin_delete,
    begin_write,
    check_name,
    check_same_location,
    get_or_404,
    ids_from,
    list_children,
    require_group,
    require_parent,
    tags_of,
)
from .resources import validate_location

OS_TYPES = ("Windows", "Linux")
OS_STATES = ("Generalized", "Specialized")
GENERATIONS = ("V1", "V2")
ARCHITECTURES = ("x64", "Arm64")
SECURITY_TYPES = ("Standard", "TrustedLaunch", "TrustedLaunchSupported", "ConfidentialVM", "ConfidentialVMSupported",
                  "TrustedLaunchAndConfidentialVmSupported")
IMMUTABLE = ("osType", "osState", "hyperVGeneration", "architecture", "identifier")
MUTABLE = ("description", "eula", "privacyStatementUri", "releaseNoteUri", "endOfLifeDate", "recommended",
           "disallowed", "purchasePlan", "features", "allowUpdateImage")


def security_type(definition):
    """The definition's SecurityType feature value, or 'Standard'."""
    for feature in definition["properties"].get("features") or []:
        if (feature.get("name") or "").lower() == "securitytype":
            return feature.get("value") or "Standard"
    return "Standard"


def _enum(props, key, allowed, default=None):
    value = props.get(key, default)
    if value is None:
        raise missing_property(f"properties.{key}")
    for choice in allowed:
        if str(value).lower() == choice.lower():
            return choice
    raise ArmError(400, "InvalidParameter", f"The value '{value}' of parameter '{key}' is not allowed. Allowed values "
                   f"are {', '.join(allowed)}.", target=key)


def _identifier(props):
    identifier = props.get("identifier")
    if not isinstance(identifier, dict):
        raise missing_property("properties.identifier")
    for key in ("publisher", "offer", "sku"):
        if not identifier.get(key):
            raise missing_property(f"properties.identifier.{key}")
    return {key: identifier[key] for key in ("publisher", "offer", "sku")}


def _features(props, generation):
    features = props.get("features") or []
    for feature in features:
        if (feature.get("name") or "").lower() != "securitytype":
            continue
        value = feature.get("value")
        canonical = next((item for item in SECURITY_TYPES if item.lower() == str(value).lower()), None)
        if canonical is None:
            raise ArmError(400, "InvalidParameter", f"The value '{value}' of feature 'SecurityType' is not allowed. "
                           f"Allowed values are {', '.join(SECURITY_TYPES)}.", target="features")
        feature["value"] = canonical
        if canonical != "Standard" and generation != "V2":
            raise ArmError(400, "InvalidParameter", f"The feature 'SecurityType' with value '{canonical}' is only "
                           "supported for gallery images with hyperVGeneration 'V2'.", target="features")
    return features


def _same(key, old, new):
    if key == "identifier":
        return {k: str(v).lower() for k, v in old.items()} == {k: str(v).lower() for k, v in new.items()}
    return old == new


def _check_identifier_unique(sim, gallery_id, image_id, identifier):
    wanted = tuple(identifier[key].lower() for key in ("publisher", "offer", "sku"))
    for other in sim.store.list(gallery_id + "/images/", IMAGE_TYPE):
        if other["id"].lower() == image_id.lower():
            continue
        theirs = other["properties"]["identifier"]
        if tuple(theirs[key].lower() for key in ("publisher", "offer", "sku")) == wanted:
            raise ArmError(409, "Conflict",
                           f"Gallery image '{other['name']}' in gallery '{gallery_id.rsplit('/', 1)[-1]}' already has "
                           f"the identifier (publisher '{identifier['publisher']}', offer '{identifier['offer']}', "
                           f"sku '{identifier['sku']}'). Image identifiers must be unique within a gallery.",
                           target="identifier")


def _check_immutable(existing, props):
    for key in IMMUTABLE:
        if key in props and not _same(key, existing["properties"].get(key), props[key]):
            raise property_change_not_allowed(key)


def put_image(req):
    name = req.params["galleryImageName"]
    check_name("image", name)
    require_group(req)
    gallery_id, rid, _ = ids_from(req)
    require_parent(req.sim, gallery_id, req.params["galleryName"])
    spec = req.json()
    location = validate_location(req.sim, spec.get("location"))
    existing = req.sim.store.get(rid)
    check_same_location(existing, location)
    raw = spec.get("properties") or {}
    # On an update, omitted defaulted properties keep their value rather than silently reverting to V1/x64.
    current = existing["properties"] if existing is not None else {}
    props = {
        "osType": _enum(raw, "osType", OS_TYPES),
        "osState": _enum(raw, "osState", OS_STATES),
        "hyperVGeneration": _enum(raw, "hyperVGeneration", GENERATIONS, current.get("hyperVGeneration", "V1")),
        "architecture": _enum(raw, "architecture", ARCHITECTURES, current.get("architecture", "x64")),
        "identifier": _identifier(raw),
    }
    if props["architecture"] == "Arm64" and props["hyperVGeneration"] != "V2":
        raise ArmError(400, "InvalidParameter", "Gallery images with architecture 'Arm64' must have hyperVGeneration "
                       "'V2'.", target="hyperVGeneration")
    for key in MUTABLE:
        if key in raw:
            props[key] = raw[key]
    props["features"] = _features(props, props["hyperVGeneration"])
    if not props["features"]:
        props.pop("features")
    if existing is not None:
        _check_immutable(existing, props)
    _check_identifier_unique(req.sim, gallery_id, rid, props["identifier"])
    body = {"id": rid, "name": name, "type": IMAGE_TYPE, "location": location, "tags": tags_of(spec, existing),
            "properties": props}
    duration = "gallery_image.create" if existing is None else "gallery_image.update"
    return begin_write(req, body, existing is None, duration)


def patch_image(req):
    _, rid, _ = ids_from(req)
    body = get_or_404(req, rid)
    spec = req.json()
    raw = spec.get("properties") or {}
    _check_immutable(body, {key: raw[key] for key in IMMUTABLE if raw.get(key) is not None})
    for key in MUTABLE:
        if key in raw:
            body["properties"][key] = raw[key]
    if "features" in raw:
        body["properties"]["features"] = _features(body["properties"], body["properties"]["hyperVGeneration"])
    body["tags"] = tags_of(spec, body)
    return begin_write(req, body, False, "gallery_image.update")


def get_image(req):
    _, rid, _ = ids_from(req)
    return public(get_or_404(req, rid))


def delete_image(req):
    _, rid, _ = ids_from(req)
    return begin_delete(req, rid, "gallery_image.delete", child_type=VERSION_TYPE)


def list_images(req):
    gallery_id, _, _ = ids_from(req)
    return list_children(req, gallery_id, req.params["galleryName"], "images", IMAGE_TYPE)


def register(sim):
    add = sim.router.add
    add("PUT", IMAGE_PATH, put_image)
    add("PATCH", IMAGE_PATH, patch_image)
    add("GET", IMAGE_PATH, get_image)
    add("DELETE", IMAGE_PATH, delete_image)
    add("GET", IMAGE_PATH.rsplit("/", 1)[0], list_images)
