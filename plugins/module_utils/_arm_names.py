# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the ARM names the collection writes and compares, each written once.

Names and their rules, locations, the collection's tag names, image URNs and VM power states. Plain values in,
plain values out; a bad value raises ``AzureError`` naming the parameter. No Azure SDK import.
Resource ids live in ``_resource_id``.
"""

from __future__ import annotations

import re

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import AzureError

# -- tags (docs/architecture.md, "Marks and tags") --------------------------------------------------------
TAG_BUILD_ID = "goldenimage-build-id"
TAG_RUN_ID = "goldenimage-run-id"
TAG_TEMPORARY = "goldenimage-temporary"
TAG_SOURCE_URN = "goldenimage-source-urn"
TAG_DEPROVISIONED = "goldenimage-deprovisioned"
# Rebuild only when needed (_rebuild): what an output was built from - with TAG_SOURCE_URN, the pinned base.
TAG_DEFINITION_HASH = "goldenimage-definition-hash"
TAG_COLLECTION_VERSION = "goldenimage-collection-version"
# passed / failed: the validation phase's verdict on an output (failed: never "up to date").
TAG_VALIDATION = "goldenimage-validation"
# The lease of a temporary resource group (ISO 8601 UTC, e.g. 2026-12-03T11:20:00Z): when it was created and when
# the run that made it is over at the latest; after that the sweep (_sweep, build_sweep) may delete the group.
TAG_LEASE_CREATED = "goldenimage-lease-created"
TAG_LEASE_EXPIRES = "goldenimage-lease-expires"
LEASE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# -- power states (the ``PowerState/<x>`` instance-view codes, lower-cased; ``unknown`` without a view) --------
POWER_STATES = ("running", "stopped", "deallocated", "starting", "stopping", "deallocating", "unknown")


# -- locations ----------------------------------------------------------------------------------------------
def normalize_location(value):
    """'East US', 'eastus', 'EASTUS' -> 'eastus': the name ARM paths use, and the key every comparison uses.

    ARM's own rule (a display name without its spaces, lower-cased); 'east_us' stays 'east_us', which no region is.
    """
    return re.sub(r"\s", "", str(value or "")).lower()


# -- URNs ---------------------------------------------------------------------------------------------------
def parse_urn(urn):
    """``Publisher:Offer:Sku[:Version]`` -> dict of parts (version defaults to ``latest``)."""
    if not isinstance(urn, str):
        raise AzureError("An image URN must be a string 'Publisher:Offer:Sku:Version', got %r." % (urn,),
                         operation="parse image")
    parts = [part.strip() for part in urn.strip().split(":")]
    if len(parts) == 3:
        parts.append("latest")
    if len(parts) != 4 or not all(parts):
        raise AzureError("Invalid image URN %r: expected 'Publisher:Offer:Sku:Version' (Version may be latest, "
                         "a prefix such as 22.04.* or an exact version)." % urn, operation="parse image")
    return dict(zip(("publisher", "offer", "sku", "version"), parts))


def format_urn(publisher, offer, sku, version):
    return ":".join((publisher, offer, sku, version))


# -- names and their rules, checked before any request --------------------------------------------------
# Azure's rules (Learn, "Naming rules and restrictions for Azure resources"; the error texts CRP and GalleryRP
# give): a managed image 1-80 alphanumerics, underscores, periods and hyphens, starting alphanumeric, ending
# alphanumeric or underscore; a gallery 1-80 alphanumerics, underscores and periods, not starting or ending
# with a period; a gallery image definition the same plus hyphens, not starting or ending with a period or
# hyphen; a version MAJOR.MINOR.PATCH of 32-bit integers; a resource group 1-90 letters, digits,
# underscores, hyphens, periods and parentheses, not ending with a period.
NAME_RULES = {
    "managed_image.name": (re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$"),
                           "1-80 letters, digits, underscores, periods and hyphens, starting with a letter or digit "
                           "and ending with a letter, digit or underscore"),
    "gallery.name": (re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.]{0,78}[A-Za-z0-9_])?$"),
                     "1-80 letters, digits, underscores and periods, starting with a letter or digit and not ending "
                     "with a period (no hyphens)"),
    "gallery.image": (re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$"),
                      "1-80 letters, digits, underscores, periods and hyphens, starting with a letter or digit and "
                      "not ending with a period or hyphen"),
}
RESOURCE_GROUP_RULE = (re.compile(r"^[-\w.()]{0,89}[-\w()]$"),
                       "1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending with a period")
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
INT32 = 2 ** 31 - 1


def check_name(parameter, value, rule):
    """Refuse ``value`` (None passes) when it does not match ``rule`` (a (pattern, text) pair of this module)."""
    pattern, text = rule
    if value is not None and not pattern.match(str(value)):
        raise AzureError("%s: '%s' is not a valid name: Azure allows %s. Nothing was changed." % (parameter, value, text),
                         code="InvalidName")


def validate_version_name(version, parameter="gallery.version"):
    """A gallery image version name: MAJOR.MINOR.PATCH, each part a 32-bit integer."""
    if not VERSION_RE.match(version or ""):
        raise AzureError("%s: '%s' is not a gallery image version; use MAJOR.MINOR.PATCH with digits only "
                         "(for example 1.0.0) or 'auto'" % (parameter, version))
    if any(int(part) > INT32 for part in version.split(".")):
        raise AzureError("%s: each part of '%s' must fit a 32-bit integer" % (parameter, version))


def check_names(params):
    """Refuse the image_capture target names Azure would refuse, before any request (so check mode predicts the
    real run). ``params``: ``managed_image`` and ``gallery`` as image_capture takes them."""
    image_opts = params.get("managed_image") or {}
    gallery_opts = params.get("gallery") or {}
    if image_opts:
        check_name("managed_image.name", image_opts.get("name"), NAME_RULES["managed_image.name"])
        check_name("managed_image.resource_group", image_opts.get("resource_group"), RESOURCE_GROUP_RULE)
    if gallery_opts:
        check_name("gallery.name", gallery_opts.get("name"), NAME_RULES["gallery.name"])
        check_name("gallery.image", gallery_opts.get("image"), NAME_RULES["gallery.image"])
        check_name("gallery.resource_group", gallery_opts.get("resource_group"), RESOURCE_GROUP_RULE)
        version = str(gallery_opts.get("version") or "auto")
        if version != "auto":
            validate_version_name(version)


# -- VM sizes -----------------------------------------------------------------------------------------------
# Azure's size names: Standard_<family><vCPUs>[<constrained vCPUs>]<additive features>[_<accelerator>][_<version>];
# the additive feature "p" is an Arm CPU (Ampere Altra, Cobalt): D2ps_v5, E4pds_v5, B2pls_v2, D2pls_v6
# (learn.microsoft.com/azure/virtual-machines/vm-naming-conventions).
SIZE_NAME_RE = re.compile(r"^(?:standard_|basic_)?([a-z]+)(\d+)(?:-\d+)?([a-z]*)(?:_|$)", re.IGNORECASE)


def size_architecture(vm_size):
    """``Arm64`` or ``x64`` from a VM size name (Azure's naming convention); None when the name does not parse."""
    match = SIZE_NAME_RE.match(str(vm_size or ""))
    if not match:
        return None
    return "Arm64" if "p" in match.group(3).lower() else "x64"
