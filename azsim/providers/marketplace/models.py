"""The Marketplace catalog: which publisher/offer/sku/version images exist, where, with which properties.

The file format (see azsim/docs/marketplace-gallery.md; JSON Schema: azsim/schemas/catalog.schema.json)::

    {"defaults":   {"locations": [...], "properties": {...}},
     "publishers": {"Canonical": {"locations"?, "properties"?, "offers": {
                      "ubuntu-24_04-lts": {"locations"?, "properties"?, "skus": {
                          "server": {"locations"?, "properties"?, "versions": {
                              "24.04.202411030": {"locations"?, "properties"?}}}}}}}}}

``properties`` are deep-merged from the defaults down to the version (dicts merge, lists and scalars
replace); ``locations`` is taken from the nearest level that has it. Names keep the catalog's casing
and are looked up case-insensitively, as ARM does.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field

from ...core.errors import ArmError
from ...core.schema import SchemaError, check, format_path

DEFAULT_CATALOG = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data",
                               "catalog.json")

# How ARM spells a region inside Marketplace ids and "location" fields (wire reference 2.1, 2.3).
LOCATION_ID_NAMES = {
    "eastus": "EastUS", "eastus2": "EastUS2", "westus": "WestUS", "westus2": "WestUS2", "westus3": "WestUS3",
    "centralus": "CentralUS", "northcentralus": "NorthCentralUS", "southcentralus": "SouthCentralUS",
    "westcentralus": "WestCentralUS", "canadacentral": "CanadaCentral", "brazilsouth": "BrazilSouth",
    "northeurope": "NorthEurope", "westeurope": "WestEurope", "uksouth": "UKSouth", "ukwest": "UKWest",
    "francecentral": "FranceCentral", "germanywestcentral": "GermanyWestCentral", "swedencentral": "SwedenCentral",
    "switzerlandnorth": "SwitzerlandNorth", "norwayeast": "NorwayEast", "polandcentral": "PolandCentral",
    "italynorth": "ItalyNorth", "eastasia": "EastAsia", "southeastasia": "SoutheastAsia", "japaneast": "JapanEast",
    "koreacentral": "KoreaCentral", "centralindia": "CentralIndia", "australiaeast": "AustraliaEast",
    "uaenorth": "UAENorth", "southafricanorth": "SouthAfricaNorth",
}

HYPERV_GENERATIONS = ("V1", "V2")
ARCHITECTURES = ("x64", "Arm64")
OPERATING_SYSTEMS = ("Linux", "Windows")


class CatalogError(ValueError):
    """The catalog file is malformed; the message names the offending path."""


class CatalogMiss(LookupError):
    """No such publisher/offer/sku/version in that location."""


def normalize_location(location):
    return (location or "").replace(" ", "").lower()


def location_id_name(location):
    return LOCATION_ID_NAMES.get(normalize_location(location), location)


def numeric_version_key(version):
    """Order versions per dot-separated component as numbers: 8.10.x > 8.9.x (unlike ARM's $orderby)."""
    key = []
    for part in version.split("."):
        key.append((1, int(part), "") if part.isdigit() else (0, 0, part))
    return tuple(key)


def merge_properties(base, update):
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_properties(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass
class Version:
    publisher: str
    offer: str
    sku: str
    name: str
    properties: dict
    locations: frozenset

    @property
    def urn(self):
        return f"{self.publisher}:{self.offer}:{self.sku}:{self.name}"


@dataclass
class Node:
    """A publisher, offer or sku: its catalog-cased name and children keyed by lower-cased name."""

    name: str
    children: dict = field(default_factory=dict)
    versions: list = field(default_factory=list)  # skus only, in catalog order

    def locations(self):
        found = set()
        for version in self.versions:
            found |= version.locations
        for child in self.children.values():
            found |= child.locations()
        return found


class Catalog:
    def __init__(self, data, source="catalog"):
        """``data`` must match azsim/schemas/catalog.schema.json; errors name ``source`` and the bad field."""
        try:
            check("catalog", data, source)
        except SchemaError as err:
            raise CatalogError(str(err)) from None
        self.data = data
        self.root = _build(data, source)

    @classmethod
    def from_file(cls, path=None):
        path = path or DEFAULT_CATALOG
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as err:
            raise CatalogError(f"cannot read catalog {path}: {err}") from None
        return cls(data, source=path)

    # -- lookups (raise CatalogMiss) ------------------------------------------------------------
    def _child(self, node, name, location):
        child = node.children.get((name or "").lower())
        if child is None or normalize_location(location) not in child.locations():
            raise CatalogMiss(name)
        return child

    def publishers(self, location):
        wanted = normalize_location(location)
        return [node.name for node in self.root.children.values() if wanted in node.locations()]

    def offers(self, location, publisher):
        node = self._child(self.root, publisher, location)
        wanted = normalize_location(location)
        return node, [offer.name for offer in node.children.values() if wanted in offer.locations()]

    def skus(self, location, publisher, offer):
        pub = self._child(self.root, publisher, location)
        off = self._child(pub, offer, location)
        return pub, off, [sku.name for sku in off.children.values() if normalize_location(location) in sku.locations()]

    def versions(self, location, publisher, offer, sku):
        """Versions of one SKU available in the location, in catalog (publication) order."""
        pub = self._child(self.root, publisher, location)
        off = self._child(pub, offer, location)
        node = self._child(off, sku, location)
        wanted = normalize_location(location)
        return [version for version in node.versions if wanted in version.locations]

    def version(self, location, publisher, offer, sku, version):
        for item in self.versions(location, publisher, offer, sku):
            if item.name.lower() == (version or "").lower():
                return item
        raise CatalogMiss(version)

    def latest(self, location, publisher, offer, sku):
        """The newest usable version by numeric ordering; Deprecated versions are skipped."""
        usable = [item for item in self.versions(location, publisher, offer, sku)
                  if item.properties.get("imageDeprecationStatus", {}).get("imageState") != "Deprecated"]
        if not usable:
            raise CatalogMiss("latest")
        return max(usable, key=lambda item: numeric_version_key(item.name))


# -- building and validating --------------------------------------------------------------------
def _mapping(value, path):
    if not isinstance(value, dict):
        raise CatalogError(f"{path} must be a JSON object")
    return value


def _level(spec, path, inherited_props, inherited_locations):
    _mapping(spec, path)
    props = merge_properties(inherited_props, _mapping(spec.get("properties", {}), f"{path}.properties"))
    locations = spec.get("locations", inherited_locations)
    if not isinstance(locations, list) or not all(isinstance(item, str) for item in locations):
        raise CatalogError(f"{path}.locations must be a list of location names")
    return props, locations


def _check_version(props, parts, source):
    """What the schema cannot see: the properties a version has after the merge from the defaults down."""
    where = f"{source}: {format_path(parts)}.properties"
    inherited = "(set it on the version or a level above, or in defaults)"
    os_name = props.get("osDiskImage", {}).get("operatingSystem")
    if os_name not in OPERATING_SYSTEMS:
        raise CatalogError(f"{where}.osDiskImage.operatingSystem: expected one of {OPERATING_SYSTEMS}, "
                           f"got {os_name!r} {inherited}")
    if props.get("hyperVGeneration") not in HYPERV_GENERATIONS:
        raise CatalogError(f"{where}.hyperVGeneration: expected one of {HYPERV_GENERATIONS}, "
                           f"got {props.get('hyperVGeneration')!r} {inherited}")
    if props.get("architecture") not in ARCHITECTURES:
        raise CatalogError(f"{where}.architecture: expected one of {ARCHITECTURES}, "
                           f"got {props.get('architecture')!r} {inherited}")


def _build(data, source="catalog"):
    _mapping(data, "catalog")
    defaults = _mapping(data.get("defaults", {}), "defaults")
    base_props, base_locations = _level(defaults, "defaults", {}, [])
    root = Node("")
    for pub_name, pub_spec in _mapping(data.get("publishers"), "publishers").items():
        path = f"publishers.{pub_name}"
        pub_props, pub_locations = _level(pub_spec, path, base_props, base_locations)
        pub = root.children.setdefault(pub_name.lower(), Node(pub_name))
        for offer_name, offer_spec in _mapping(pub_spec.get("offers"), f"{path}.offers").items():
            offer_path = f"{path}.offers.{offer_name}"
            offer_props, offer_locations = _level(offer_spec, offer_path, pub_props, pub_locations)
            offer = pub.children.setdefault(offer_name.lower(), Node(offer_name))
            for sku_name, sku_spec in _mapping(offer_spec.get("skus"), f"{offer_path}.skus").items():
                sku_path = f"{offer_path}.skus.{sku_name}"
                sku_props, sku_locations = _level(sku_spec, sku_path, offer_props, offer_locations)
                sku = offer.children.setdefault(sku_name.lower(), Node(sku_name))
                for version_name, version_spec in _mapping(sku_spec.get("versions"), f"{sku_path}.versions").items():
                    version_path = f"{sku_path}.versions.{version_name}"
                    props, locations = _level(version_spec, version_path, sku_props, sku_locations)
                    _check_version(props, ["publishers", pub_name, "offers", offer_name, "skus", sku_name, "versions",
                                           version_name], source)
                    sku.versions.append(Version(pub_name, offer_name, sku_name, version_name, props,
                                                frozenset(normalize_location(item) for item in locations)))
    return root


# -- what the routes and VM create serve from the catalog -------------------------------------------
def artifact_not_found():
    return ArmError(404, "NotFound", "Artifact: VMImage was not found.")


def platform_image_not_found(publisher, offer, sku, version):
    return ArmError(404, "PlatformImageNotFound",
                    f"The platform image '{publisher}:{offer}:{sku}:{version}' is not available. Verify that all "
                    "fields in the storage profile are correct. For more details about storage profile information, "
                    "please refer to https://aka.ms/storageprofile", target="imageReference")


def image_id(subscription, location, publisher, offer=None, sku=None, version=None):
    rid = (f"/Subscriptions/{subscription}/Providers/Microsoft.Compute/Locations/{location_id_name(location)}"
           f"/Publishers/{publisher}")
    if offer is not None:
        rid += f"/ArtifactTypes/VMImage/Offers/{offer}"
    if sku is not None:
        rid += f"/Skus/{sku}"
    if version is not None:
        rid += f"/Versions/{version}"
    return rid


def image_body(subscription, location, version):
    """The VirtualMachineImage body, exactly as version GET returns it."""
    return {
        "properties": copy.deepcopy(version.properties),
        "location": location_id_name(location),
        "name": version.name,
        "id": image_id(subscription, location, version.publisher, version.offer, version.sku, version.name),
    }


class MarketplaceExtension:
    """The current catalog, the one it started with, and VM create's image resolution."""

    def __init__(self, sim):
        self.sim = sim
        self.startup = Catalog.from_file(sim.catalog_path)
        self.catalog = self.startup
        self.replaced = False

    def replace(self, data):
        self.catalog = Catalog(data)
        self.replaced = True

    def restore(self):
        self.catalog = self.startup
        self.replaced = False

    def resolve(self, location, publisher, offer, sku, version, subscription=None):
        """The image an ``imageReference`` names; ``version`` may be ``latest`` (numeric per-component
        ordering, Deprecated versions skipped). Raises ArmError 404 PlatformImageNotFound."""
        subscription = subscription or self.sim.settings.default_subscription
        try:
            if (version or "").lower() == "latest":
                found = self.catalog.latest(location, publisher, offer, sku)
            else:
                found = self.catalog.version(location, publisher, offer, sku, version)
        except CatalogMiss:
            raise platform_image_not_found(publisher, offer, sku, version) from None
        return image_body(subscription, location, found)

    def plans(self):
        """Every purchase plan the catalog sells ({name, product, publisher}), at whatever level it is set."""
        found, stack = [], [self.catalog.data]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                plan = node.get("plan")
                if isinstance(plan, dict) and plan.get("name"):
                    found.append(plan)
                stack.extend(value for key, value in node.items() if key != "plan")
            elif isinstance(node, list):
                stack.extend(node)
        return found

    # Only a catalog replaced at run time is saved, so --state restarts keep it.
    def dump(self):
        return {"catalog": self.catalog.data} if self.replaced else {}

    def load(self, data):
        if data and data.get("catalog"):
            self.replace(data["catalog"])
