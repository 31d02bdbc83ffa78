"""What galleries, image definitions and image versions share: ids, names, parents, CAPS operations.

Every write is asynchronous like GalleryRP (wire reference section 9): PUT answers 201 (create) or
200 (update) with ``provisioningState`` Creating/Updating and an ``Azure-AsyncOperation`` on
``capsOperations``; PATCH answers 200 the same way; DELETE answers 202 with ``Azure-AsyncOperation``
and ``Location``. The finisher then sets ``Succeeded`` (or ``Failed`` under a ``fail_operation`` fault).
"""

from __future__ import annotations

import re

from ...core import lro_finish
from ...core.errors import ArmError
from ...core.resource import GroupResource

GALLERY_TYPE = "Microsoft.Compute/galleries"
IMAGE_TYPE = "Microsoft.Compute/galleries/images"
VERSION_TYPE = "Microsoft.Compute/galleries/images/versions"


# Region names as GalleryRP echoes them in targetRegions and replicationStatus ("East US").
REGION_NAMES = {
    "eastus": "East US", "eastus2": "East US 2", "westus": "West US", "westus2": "West US 2", "westus3": "West US 3",
    "centralus": "Central US", "northcentralus": "North Central US", "southcentralus": "South Central US",
    "northeurope": "North Europe", "westeurope": "West Europe", "uksouth": "UK South", "ukwest": "UK West",
    "swedencentral": "Sweden Central", "francecentral": "France Central", "germanywestcentral": "Germany West Central",
}

GALLERY_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._]{0,78}[A-Za-z0-9_])?$")
IMAGE_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9_])?$")
VERSION_NAME = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
INT32_MAX = 2**31 - 1


def normalize_region(name):
    return (name or "").replace(" ", "").lower()


def region_name(name):
    return REGION_NAMES.get(normalize_region(name), name)


def check_name(kind, name):
    """ARM's 400 for names GalleryRP refuses."""
    if kind == "gallery" and not GALLERY_NAME.match(name):
        raise ArmError(400, "InvalidParameter",
                       f"The gallery name '{name}' is invalid. The gallery name can contain only alphanumerics, "
                       "underscores and periods, cannot begin or end with a period, and can be up to 80 characters "
                       "long.", target="galleryName")
    if kind == "image" and not IMAGE_NAME.match(name):
        raise ArmError(400, "InvalidParameter",
                       f"The gallery image name '{name}' is invalid. The gallery image name can contain only "
                       "alphanumerics, underscores, hyphens and periods, cannot begin or end with a period or "
                       "hyphen, and can be up to 80 characters long.", target="galleryImageName")
    if kind == "version":
        match = VERSION_NAME.match(name)
        if not match or any(int(part) > INT32_MAX for part in match.groups()):
            raise ArmError(400, "InvalidParameter",
                           f"The gallery image version name '{name}' is invalid. The version name should follow "
                           "Major(int32).Minor(int32).Patch(int32) format, e.g. 1.0.0, 2018.12.1 etc.",
                           target="galleryImageVersionName")


# -- the three types, on the resource base ------------------------------------------------------
# GalleryRP reads and deletes by id without looking at the group first (a GET in a missing group is
# ResourceNotFound, a DELETE 204); its writes check the group, then the parent.
GALLERIES = GroupResource(GALLERY_TYPE, "galleryName", monitor="caps", group_lookup=False)
IMAGES = GroupResource(IMAGE_TYPE, "galleryName", "galleryImageName", monitor="caps", group_lookup=False)
VERSIONS = GroupResource(VERSION_TYPE, "galleryName", "galleryImageName", "galleryImageVersionName", monitor="caps",
                         group_lookup=False)


def begin_write(req, resource, body, created, duration):
    """Store ``body`` as Creating/Updating and answer 201/200 with a capsOperations monitor."""
    return resource.begin_write(req, body, created, duration, finisher="gallery.write")


def begin_delete(req, resource, duration, child_type=None):
    """DELETE: 204 when absent; 409 while nested resources of ``child_type`` remain; else Deleting + 202."""
    return resource.begin_delete(req, "gallery.delete", duration=duration, child_type=child_type)


def register_finishers(sim):
    sim.ops.register_finisher("gallery.write", lro_finish.settle)
    sim.ops.register_finisher("gallery.delete", lro_finish.remove)
