"""Gallery image definitions (``galleries/{g}/images/{i}``).

- Required: ``osType``, ``osState``, ``identifier {publisher, offer, sku}``; ``hyperVGeneration``
  defaults to V1 and ``architecture`` to x64, as GalleryRP fills them.
- ``identifier`` is unique within a gallery (409 Conflict otherwise).
- ``osType``, ``osState``, ``hyperVGeneration``, ``architecture`` and ``identifier`` cannot change:
  409 PropertyChangeNotAllowed with the property as target.
- SecurityType features other than Standard, and Arm64, need hyperVGeneration V2.
"""

from __future__ import annotations

from ...core.errors import ArmError, missing_property, property_change_not_allowed
from .models import IMAGE_TYPE

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


def features(props, generation):
    found = props.get("features") or []
    for feature in found:
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
    return found


def _same(key, old, new):
    if key == "identifier":
        return {k: str(v).lower() for k, v in old.items()} == {k: str(v).lower() for k, v in new.items()}
    return old == new


def check_identifier_unique(sim, gallery_id, image_id, identifier):
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


def check_immutable(existing, props):
    for key in IMMUTABLE:
        if key in props and not _same(key, existing["properties"].get(key), props[key]):
            raise property_change_not_allowed(key)


def definition_properties(raw, current):
    """The properties of a definition PUT: checked, defaulted, and the client-settable ones copied.

    On an update (``current`` is the stored properties) omitted defaulted properties keep their value rather
    than silently reverting to V1/x64."""
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
    props["features"] = features(props, props["hyperVGeneration"])
    if not props["features"]:
        props.pop("features")
    return props


def update_definition(body, raw):
    """A PATCH: the immutable properties must not change; the mutable ones are copied."""
    check_immutable(body, {key: raw[key] for key in IMMUTABLE if raw.get(key) is not None})
    for key in MUTABLE:
        if key in raw:
            body["properties"][key] = raw[key]
    if "features" in raw:
        body["properties"]["features"] = features(body["properties"], body["properties"]["hyperVGeneration"])
