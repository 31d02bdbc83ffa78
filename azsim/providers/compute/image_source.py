"""What a VM (or a disk created FromImage) is built from: one ``ImageSource`` for every kind of source.

Sources: a marketplace ``imageReference {publisher, offer, sku, version}`` (resolved by the
``marketplace`` extension, ``latest`` included), or an id of a managed image, a gallery image version or
a gallery image (its latest version). Attached OS disks and VHDs are described by the VM provider.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...core.errors import ArmError

MARKETPLACE_ID = re.compile(
    r"/subscriptions/[^/]+/providers/microsoft\.compute/locations/(?P<location>[^/]+)/publishers/(?P<publisher>[^/]+)"
    r"/artifacttypes/vmimage/offers/(?P<offer>[^/]+)/skus/(?P<sku>[^/]+)/versions/(?P<version>[^/]+)$", re.IGNORECASE)
MANAGED_IMAGE_ID = re.compile(r"/providers/microsoft\.compute/images/[^/]+$", re.IGNORECASE)
GALLERY_IMAGE_ID = re.compile(r"/providers/microsoft\.compute/galleries/[^/]+/images/[^/]+$", re.IGNORECASE)
GALLERY_VERSION_ID = re.compile(r"/providers/microsoft\.compute/galleries/[^/]+/images/[^/]+/versions/[^/]+$",
                                re.IGNORECASE)
GALLERY_VERSION_TYPE = "Microsoft.Compute/galleries/images/versions"


@dataclass
class ImageSource:
    kind: str  # marketplace | image | gallery | disk | vhd
    os_type: str
    os_state: str = "Generalized"
    hyper_v_generation: str = "V1"
    architecture: str = "x64"
    size_gb: int = 30
    features: list = field(default_factory=list)
    image_id: str | None = None  # what a disk's creationData points at
    exact_version: str | None = None
    plan: dict | None = None
    disallows_unmanaged: bool = False
    os_name: str | None = None
    os_version: str | None = None

    @property
    def generalized(self):
        return self.os_state.lower() == "generalized"

    def feature(self, name):
        for item in self.features or []:
            if str(item.get("name", "")).lower() == name.lower():
                return str(item.get("value", ""))
        return None


def _location(name):
    return (name or "").replace(" ", "").lower()


def from_marketplace(sim, location, reference):
    publisher, offer, sku = reference.get("publisher"), reference.get("offer"), reference.get("sku")
    version = reference.get("version") or "latest"
    image = sim.extensions["marketplace"].resolve(location, publisher, offer, sku, version)
    props = image.get("properties", {})
    os_disk = props.get("osDiskImage", {})
    os_name, os_version = _marketplace_os(publisher, offer, sku, image.get("name", ""))
    return ImageSource(
        kind="marketplace",
        os_type=os_disk.get("operatingSystem", "Linux"),
        hyper_v_generation=props.get("hyperVGeneration", "V1"),
        architecture=props.get("architecture", "x64"),
        size_gb=int(os_disk.get("sizeInGb") or os_disk.get("sizeInGB") or 30),
        features=props.get("features") or [],
        image_id=image.get("id"),
        exact_version=image.get("name"),
        plan=props.get("plan"),
        disallows_unmanaged=(props.get("disallowed") or {}).get("vmDiskType") == "Unmanaged",
        os_name=os_name,
        os_version=os_version,
    )


def from_image_id(sim, image_id, location):
    """A managed image, gallery image version, gallery image (latest version) or marketplace version id."""
    found = MARKETPLACE_ID.search(image_id)
    if found:
        parts = found.groupdict()
        return from_marketplace(sim, location, parts)
    if MANAGED_IMAGE_ID.search(image_id):
        return _managed_image(sim, image_id, location)
    if GALLERY_VERSION_ID.search(image_id):
        version = sim.store.get(image_id)
        if not _usable_version(version, location):
            raise gallery_image_not_found(image_id, location)
        return _gallery_version(sim, version)
    if GALLERY_IMAGE_ID.search(image_id):
        return _gallery_version(sim, _latest_version(sim, image_id, location))
    raise ArmError(400, "InvalidParameter", f"The value of parameter imageReference.id '{image_id}' is invalid.",
                   target="imageReference.id")


def _managed_image(sim, image_id, location):
    image = sim.store.get(image_id)
    if image is None or _location(image.get("location")) != location:
        raise ArmError(404, "NotFound", f"The Image '{image_id}' cannot be found in '{location}' region.",
                       target="imageReference")
    props = image.get("properties", {})
    os_disk = (props.get("storageProfile") or {}).get("osDisk") or {}
    size = os_disk.get("diskSizeGB")
    source_disk = sim.store.get(((os_disk.get("managedDisk") or {}).get("id")) or "")
    if not size and source_disk is not None:
        size = source_disk["properties"].get("diskSizeGB")
    extra = image.get("_sim", {})
    return ImageSource(
        kind="image",
        os_type=os_disk.get("osType", "Linux"),
        os_state=os_disk.get("osState", "Generalized"),
        hyper_v_generation=props.get("hyperVGeneration") or "V1",
        architecture=extra.get("architecture", "x64"),
        size_gb=int(size or 30),
        image_id=image["id"],
        os_name=extra.get("os_name"),
        os_version=extra.get("os_version"),
    )


def _usable_version(version, location):
    if version is None or version.get("properties", {}).get("provisioningState", "Succeeded") != "Succeeded":
        return False
    regions = [_location(item.get("name")) for item in
               ((version["properties"].get("publishingProfile") or {}).get("targetRegions") or [])]
    return location in (regions or [_location(version.get("location"))])


def _version_key(version):
    try:
        return tuple(int(part) for part in version["name"].split("."))
    except ValueError:
        return (0,)


def _latest_version(sim, definition_id, location):
    if sim.store.get(definition_id) is None:
        raise gallery_image_not_found(definition_id, location)
    versions = [item for item in sim.store.list(definition_id.rstrip("/") + "/versions/", GALLERY_VERSION_TYPE)
                if _usable_version(item, location)
                and not (item["properties"].get("publishingProfile") or {}).get("excludeFromLatest")]
    if not versions:
        raise gallery_image_not_found(definition_id, location)
    return max(versions, key=_version_key)


def _gallery_version(sim, version):
    definition = sim.store.get(version["id"].rsplit("/versions/", 1)[0]) or {"properties": {}}
    defn = definition["properties"]
    storage = version["properties"].get("storageProfile") or {}
    size = (storage.get("osDiskImage") or {}).get("sizeInGB")
    extra = version.get("_sim", {})
    return ImageSource(
        kind="gallery",
        os_type=defn.get("osType", "Linux"),
        os_state=defn.get("osState", "Generalized"),
        hyper_v_generation=defn.get("hyperVGeneration") or "V1",
        architecture=defn.get("architecture") or "x64",
        size_gb=int(size or 30),
        features=defn.get("features") or [],
        image_id=version["id"],
        exact_version=version["name"],
        plan=defn.get("purchasePlan"),
        os_name=extra.get("os_name"),
        os_version=extra.get("os_version"),
    )


def gallery_image_not_found(image_id, location):
    return ArmError(404, "GalleryImageNotFound",
                    f"The gallery image {image_id} is not available in {location} region. Please contact image owner "
                    "to replicate to this region, or change your requested region.", target="imageReference")


def _marketplace_os(publisher, offer, sku, version):
    """(osName, osVersion) the guest agent would report, guessed from the image name."""
    text = f"{offer} {sku}".lower()
    numbers = re.search(r"(\d+)[_.](\d+)", text) or re.search(r"(\d+)", text)
    release = ".".join(numbers.groups()) if numbers else version
    publisher = (publisher or "").lower()
    if publisher == "canonical" or "ubuntu" in text:
        return "ubuntu", release
    if "debian" in publisher or "debian" in text:
        return "debian", release
    if publisher == "redhat" or "rhel" in text:
        return "redhat", release
    if "suse" in publisher or "sles" in text:
        return "sles", release
    if "windows" in publisher or "windows" in text:
        year = re.search(r"(20\d\d)", text)
        return f"Windows Server {year.group(1) if year else ''} Datacenter".replace("  ", " "), "10.0"
    return (offer or "linux").lower(), release
