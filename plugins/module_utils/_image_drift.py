# Copyright: (c) 2026, goldenimage.azure contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image drift: what image a VM runs, the newest version of that image now, and how far behind the VM is.

Used by the ``goldenimage.azure.azure_images`` inventory plugin; plain values in, plain values out.

* :func:`vm_image_source` reads a VM's ``storageProfile`` (no request): a Marketplace URN with the exact
  version the VM was built from (``imageReference.exactVersion``), a managed image id, a gallery image
  version id, or a gallery image definition id (the VM asked for "latest"; ``exactVersion`` says which).
* :class:`DriftResolver` finds the newest version of each distinct source, once per run, reusing the
  lookup's code: Marketplace ``latest`` through ``_marketplace.Marketplace.resolve`` (one versions list,
  one version GET; Deprecated versions are stepped over as ARM does), gallery versions through one
  versions list per definition with the gallery ``latest`` rules of ``_custom_images``
  (``excluded_from_latest``, target region, provisioning state). Managed images have no versions.
* :func:`compare` turns (source, newest) into ``image_outdated``, ``versions_behind`` and ``days_older``.

Publishing dates (``days_older``): gallery versions carry ``publishingProfile.publishedDate``. Marketplace
versions carry no date, but most publishers encode one in the version, which :func:`version_date` reads
(heuristic): scanning the components from the last, the first all-digit component of 8 to 12 digits whose
first 8 form a valid date ``YYYYMMDD`` (Ubuntu ``24.04.202411030``, Debian ``0.20241201.1948``, RHEL
``8.10.2024070513``), or a last component of exactly 6 digits forming ``YYMMDD`` (Windows Server
``20348.2966.241205``). Versions without such a component (``1.1.12``) have no date, so ``days_older`` is
None. ``days_older`` is the newest version's date minus the VM's version's date in days; it can be negative
when a numerically older version was published later (a re-published RHEL 9.4 after 9.8).
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import format_urn, normalize_location
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._custom_images import (
    GALLERY_API,
    _region_entry,
    excluded_from_latest,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._marketplace import (
    Marketplace,
    arm_list,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._versions import compare as compare_versions
from ansible_collections.goldenimage.azure.plugins.module_utils._versions import sort_versions
from ansible_collections.goldenimage.azure.plugins.module_utils._resource_id import IMAGE_ID
from ansible_collections.goldenimage.azure.plugins.module_utils._single_flight import SingleFlight

MARKETPLACE_ID = re.compile(
    r"^/subscriptions/[^/]+/providers/microsoft\.compute/locations/(?P<location>[^/]+)/publishers/(?P<publisher>[^/]+)"
    r"/artifacttypes/vmimage/offers/(?P<offer>[^/]+)/skus/(?P<sku>[^/]+)/versions/(?P<version>[^/]+)$", re.IGNORECASE)

KINDS = ("marketplace", "gallery_image", "managed_image", "shared_gallery_image", "community_gallery_image",
         "specialized_disk", "unknown")
VERSIONED = ("marketplace", "gallery_image")


# -- what a VM runs ---------------------------------------------------------------------------------------

def vm_image_source(vm):
    """The image a VM wire body was built from -> plain dict (``kind`` one of KINDS); makes no request.

    Keys: kind, urn, publisher, offer, sku, id, definition_id, gallery, definition, subscription_id,
    resource_group, requested_version (what the VM's reference asks: an exact version or "latest"),
    version (the concrete version it runs, None when unknown or not versioned).
    """
    props = vm.get("properties") or {}
    storage = props.get("storageProfile") or {}
    reference = storage.get("imageReference") or {}
    source = {key: None for key in ("urn", "publisher", "offer", "sku", "id", "definition_id", "gallery",
                                    "definition", "subscription_id", "resource_group", "requested_version",
                                    "version")}
    exact = reference.get("exactVersion")
    rid = reference.get("id")
    if rid:
        market = MARKETPLACE_ID.match(rid)
        if market:
            reference = dict(market.groupdict(), exactVersion=exact or market.group("version"))
        else:
            match = IMAGE_ID.match(rid)
            if match and match.group("image"):
                source.update(kind="managed_image", id=rid, subscription_id=match.group("sub"),
                              resource_group=match.group("rg"), definition=match.group("image"))
                return source
            if match:
                definition_id = rid.split("/versions/")[0] if match.group("version") else rid.rstrip("/")
                pinned = match.group("version")
                source.update(kind="gallery_image", id=rid, definition_id=definition_id,
                              subscription_id=match.group("sub"), resource_group=match.group("rg"),
                              gallery=match.group("gallery"), definition=match.group("definition"),
                              requested_version=pinned or "latest", version=pinned or exact)
                return source
            source.update(kind="unknown", id=rid)
            return source
    if reference.get("sharedGalleryImageId"):
        source.update(kind="shared_gallery_image", id=reference["sharedGalleryImageId"], version=exact)
        return source
    if reference.get("communityGalleryImageId"):
        source.update(kind="community_gallery_image", id=reference["communityGalleryImageId"], version=exact)
        return source
    if reference.get("publisher") and reference.get("offer") and reference.get("sku"):
        requested = reference.get("version") or "latest"
        version = exact or (requested if requested.lower() != "latest" else None)
        source.update(kind="marketplace", publisher=reference["publisher"], offer=reference["offer"],
                      sku=reference["sku"], requested_version=requested, version=version,
                      urn=format_urn(reference["publisher"], reference["offer"], reference["sku"],
                                     version or requested))
        return source
    os_disk = storage.get("osDisk") or {}
    if str(os_disk.get("createOption") or "").lower() == "attach":
        source.update(kind="specialized_disk", id=(os_disk.get("managedDisk") or {}).get("id"))
        return source
    source["kind"] = "unknown"
    return source


def source_key(source, location):
    """The distinct source to resolve once: Marketplace per location/publisher/offer/SKU; gallery per definition."""
    if source["kind"] == "marketplace":
        return ("marketplace", normalize_location(location), source["publisher"].lower(), source["offer"].lower(),
                source["sku"].lower())
    if source["kind"] == "gallery_image":
        return ("gallery_image", source["definition_id"].lower())
    return None


def group_label(source):
    """The words of the default image group: publisher/offer/SKU, gallery/definition or the image name."""
    if source["kind"] == "marketplace":
        return "_".join((source["publisher"], source["offer"], source["sku"]))
    if source["kind"] == "gallery_image":
        return "_".join((source["gallery"], source["definition"]))
    if source["kind"] == "managed_image":
        return source["definition"]
    return None


# -- dates ------------------------------------------------------------------------------------------------

def _date(year, month, day):
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def version_date(version):
    """The publishing date a Marketplace version encodes (see the module docs), or None."""
    parts = str(version or "").split(".")
    for index in range(len(parts) - 1, -1, -1):
        part = parts[index]
        if not (part.isdigit() and part.isascii()):
            continue
        if 8 <= len(part) <= 12:
            year, month, day = int(part[:4]), int(part[4:6]), int(part[6:8])
            if 1990 <= year <= 2099:
                found = _date(year, month, day)
                if found:
                    return found
        elif len(part) == 6 and index == len(parts) - 1:
            found = _date(2000 + int(part[:2]), int(part[2:4]), int(part[4:6]))
            if found:
                return found
    return None


def parse_timestamp(value):
    """An ARM ISO-8601 timestamp -> date, or None."""
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", text)
    return _date(int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


# -- the newest versions ----------------------------------------------------------------------------------

class DriftResolver:
    """Newest versions of distinct image sources, each read once (thread-safe single flight).

    ``client`` is an ``AzureSession`` (or anything ``_marketplace.arm_get`` accepts) with a subscription id
    for the Marketplace paths.
    """

    def __init__(self, client):
        self.client = client
        self.marketplace = Marketplace(client)
        self._flight = SingleFlight()

    def newest(self, source, location):
        """``{"versions": [...], "newest": {version, urn|id, published_date}, ...}`` for one VM's source.

        Raises AzureError when the source cannot be read (deleted gallery definition, retired SKU).
        """
        if source["kind"] == "marketplace":
            return self._marketplace(source, location)
        if source["kind"] == "gallery_image":
            return self._gallery_newest(source, location)
        return None

    def _marketplace(self, source, location):
        details = self.marketplace.resolve(location, source["publisher"], source["offer"], source["sku"], "latest")
        # the versions list was just read by resolve(): served from the Marketplace cache, no request
        names = self.marketplace.versions(location, source["publisher"], source["offer"], source["sku"]) or []
        dates = {name: version_date(name) for name in names}
        return {
            "versions": sort_versions(names),
            "dates": dates,
            "newest": {"version": details["version"], "urn": details["urn"], "id": None,
                       "published_date": _iso(dates.get(details["version"]))},
            "deprecation": details.get("deprecation"),
        }

    def _gallery_items(self, definition_id):
        return self._flight.run(definition_id.lower(), lambda: arm_list(
            self.client, definition_id + "/versions", GALLERY_API,
            "list versions of gallery image %s" % definition_id.split("/galleries/")[-1]), operation="read gallery")

    def _gallery_newest(self, source, location):
        items = self._gallery_items(source["definition_id"])
        by_name = {item.get("name"): item for item in items if item.get("name")}
        dates = {name: parse_timestamp(((item.get("properties") or {}).get("publishingProfile") or {})
                                       .get("publishedDate")) for name, item in by_name.items()}
        usable = []
        for name, item in by_name.items():
            props = item.get("properties") or {}
            if props.get("provisioningState") != "Succeeded" or excluded_from_latest(item, location):
                continue
            if location and _region_entry(props.get("publishingProfile") or {}, location) is None:
                continue
            usable.append(name)
        newest = sort_versions(usable, reverse=True)[0] if usable else None
        if newest is None:
            raise AzureError("Gallery image %s has no version usable in %s (all are excluded from latest, not "
                             "replicated there or not provisioned)." % (source["definition_id"], location),
                             status_code=404, code="ResourceNotFound", operation="find the newest gallery version")
        return {
            # versions that count when saying how far behind a VM is: the ones "latest" could pick
            "versions": sort_versions(usable),
            "all_versions": sort_versions(by_name),
            "dates": dates,
            "newest": {"version": newest, "urn": None, "id": by_name[newest].get("id"),
                       "published_date": _iso(dates.get(newest))},
            "deprecation": None,
        }


def _iso(value):
    return value.isoformat() if value else None


# -- the verdict ------------------------------------------------------------------------------------------

def compare(source, found):
    """(source, DriftResolver.newest result or None) -> the drift hostvars.

    ``image_status``: ``current``, ``outdated``, ``unversioned`` (managed images, specialized disks,
    shared/community gallery images) or ``unknown`` (a versioned source whose newest version or whose own
    version could not be determined).
    """
    result = {"image_status": "unknown", "image_outdated": False, "versions_behind": None, "days_older": None,
              "image_latest": None, "image_published_date": None}
    if source["kind"] not in VERSIONED:
        result["image_status"] = "unversioned" if source["kind"] != "unknown" else "unknown"
        return result
    if not found:
        return result
    newest = found["newest"]
    result["image_latest"] = dict(newest)
    current = source.get("version")
    if not current:
        return result
    dates = found.get("dates") or {}
    current_date = dates.get(current)
    if current_date is None and current not in dates and source["kind"] == "marketplace":
        current_date = version_date(current)
    result["image_published_date"] = _iso(current_date)
    # newer than the VM's version, up to the newest one "latest" picks (a Deprecated newest is stepped over)
    newer = [name for name in found["versions"]
             if compare_versions(name, current) > 0 and compare_versions(name, newest["version"]) <= 0]
    result["versions_behind"] = len(newer)
    outdated = compare_versions(newest["version"], current) > 0
    result["image_outdated"] = outdated
    result["image_status"] = "outdated" if outdated else "current"
    newest_date = dates.get(newest["version"])
    if newest_date and current_date:
        result["days_older"] = (newest_date - current_date).days
    return result
