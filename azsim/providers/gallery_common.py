"""What galleries, image definitions and image versions share: ids, names, parents, CAPS operations.

Every write is asynchronous like GalleryRP (wire reference section 9): PUT answers 201 (create) or
200 (update) with ``provisioningState`` Creating/Updating and an ``Azure-AsyncOperation`` on
``capsOperations``; PATCH answers 200 the same way; DELETE answers 202 with ``Azure-AsyncOperation``
and ``Location``. The finisher then sets ``Succeeded`` (or ``Failed`` under a ``fail_operation`` fault).
"""

from __future__ import annotations

import re

from ..core.errors import ArmError, not_found
from ..core.request import Reply
from ..core.store import private, public
from . import lro_finish
from .paged_list import page
from .resources import get_group_or_raise

GALLERY_TYPE = "Microsoft.Compute/galleries"
IMAGE_TYPE = "Microsoft.Compute/galleries/images"
VERSION_TYPE = "Microsoft.Compute/galleries/images/versions"

GALLERY_PATH = ("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute"
                "/galleries/{galleryName}")
IMAGE_PATH = GALLERY_PATH + "/images/{galleryImageName}"
VERSION_PATH = IMAGE_PATH + "/versions/{galleryImageVersionName}"

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


def gallery_id(subscription, resource_group, gallery, image=None, version=None):
    rid = (f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Compute"
           f"/galleries/{gallery}")
    if image is not None:
        rid += f"/images/{image}"
    if version is not None:
        rid += f"/versions/{version}"
    return rid


def ids_from(req):
    """(gallery id, image id or None, version id or None) of the request's path."""
    params = req.params
    args = (req.subscription, params["resourceGroupName"], params["galleryName"])
    image = params.get("galleryImageName")
    version = params.get("galleryImageVersionName")
    return (gallery_id(*args),
            gallery_id(*args, image) if image else None,
            gallery_id(*args, image, version) if version else None)


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


def require_group(req):
    return get_group_or_raise(req.sim, req.subscription, req.params["resourceGroupName"])


def require_parent(sim, parent_id, parent_name):
    parent = sim.store.get(parent_id)
    if parent is None:
        raise ArmError(404, "ParentResourceNotFound",
                       f"Can not perform requested operation on nested resource. Parent resource '{parent_name}' "
                       "not found.")
    return parent


def relative_name(req):
    """'g', 'g/images/i' or 'g/images/i/versions/v', as ARM's 404 message names nested resources."""
    params = req.params
    name = params["galleryName"]
    if params.get("galleryImageName"):
        name += f"/images/{params['galleryImageName']}"
    if params.get("galleryImageVersionName"):
        name += f"/versions/{params['galleryImageVersionName']}"
    return name


def get_or_404(req, rid):
    body = req.sim.store.get(rid)
    if body is None:
        raise not_found(GALLERY_TYPE, relative_name(req), req.params["resourceGroupName"])
    return body


def check_same_location(existing, location):
    if existing is not None and normalize_region(existing["location"]) != location:
        raise ArmError(409, "InvalidResourceLocation",
                       f"The resource '{existing['name']}' already exists in location '{existing['location']}' in "
                       f"resource group. A resource with the same name cannot be created in location '{location}'. "
                       "Please select a new resource name.")


def list_children(req, parent_id, parent_name, segment, child_type):
    """GET of a nested collection (a gallery's images, a definition's versions)."""
    require_group(req)
    require_parent(req.sim, parent_id, parent_name)
    return page(req, [public(body) for body in req.sim.store.list(f"{parent_id}/{segment}/", child_type)])


# -- asynchronous writes and deletes ------------------------------------------------------------
def begin_write(req, body, created, duration, finisher="gallery.write"):
    """Store ``body`` as Creating/Updating and answer 201/200 with a capsOperations monitor."""
    body["properties"]["provisioningState"] = "Creating" if created else "Updating"
    req.sim.store.put(body)
    answer = public(body)
    op = req.sim.ops.start(req, finisher, args={"id": body["id"]}, duration=duration, location=body["location"],
                           kind="caps")
    stored = req.sim.store.get(body["id"])
    if stored is not None:
        private(stored)["operation"] = op.id
    return Reply(201 if created else 200, answer, req.sim.ops.headers(req, op))


def begin_delete(req, rid, duration, child_type=None):
    """DELETE: 204 when absent; 409 while nested resources of ``child_type`` remain; else Deleting + 202."""
    body = req.sim.store.get(rid)
    if body is None:
        return Reply(204)
    if child_type is not None and req.sim.store.list(rid + "/", child_type):
        raise ArmError(409, "CannotDeleteResource", "Can not delete resource before nested resources are deleted.")
    body["properties"]["provisioningState"] = "Deleting"
    req.sim.store.touch()
    op = req.sim.ops.start(req, "gallery.delete", args={"id": body["id"]}, duration=duration,
                           location=body["location"], kind="caps")
    return Reply(202, None, req.sim.ops.headers(req, op, location=True))


def register_finishers(sim):
    sim.ops.register_finisher("gallery.write", lro_finish.settle)
    sim.ops.register_finisher("gallery.delete", lro_finish.remove)


def tags_of(body, existing=None):
    if "tags" in body:
        return body["tags"] or {}
    return (existing or {}).get("tags", {})
