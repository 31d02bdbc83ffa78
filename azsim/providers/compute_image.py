"""Managed images (CRP): ``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/images/{image}``.

- PUT: 201 + Azure-AsyncOperation with ``provisioningState: Creating`` (never 202: the SDK rejects it),
  200 + Azure-AsyncOperation for an update of tags; the source and generation cannot change (409).
- GET, list per resource group and per subscription, PATCH (tags; 200).
- DELETE: 202 + Azure-AsyncOperation + Location, 204 when absent.
Sources and their refusals: ``compute_image_sources``. A ``fail_operation`` fault leaves ``Failed``.
"""

from __future__ import annotations

import re

from ..core.errors import ArmError, property_change_not_allowed
from ..core.request import Reply
from ..core.store import public
from . import compute_image_sources as sources
from . import lro_finish
from .group_resource import GroupResource
from .resources import validate_location

IMAGE_TYPE = "Microsoft.Compute/images"
# CRP's entity name rule, quoted in its own error message.
ENTITY_NAME = re.compile(r"^[^_\W][\w\-._]{0,79}(?<![-.])$")


def check_entity_name(name, target):
    if not ENTITY_NAME.match(name):
        raise ArmError(400, "InvalidParameter", f"The entity name '{name}' is invalid according to its validation rule: "
                       r"^[^_\W][\w-._]{0,79}(?<![-.])$.", target=target)


IMAGES = GroupResource(IMAGE_TYPE, "imageName")


def _build_properties(sim, props, location):
    generation = sources.pick(props.get("hyperVGeneration") or "V1", sources.GENERATIONS, "hyperVGeneration")
    zone_resilient = bool((props.get("storageProfile") or {}).get("zoneResilient", False))
    vm_id = (props.get("sourceVirtualMachine") or {}).get("id")
    built = {}
    if vm_id:
        built["storageProfile"] = sources.from_vm(sim, vm_id, location, generation, zone_resilient)
        built["sourceVirtualMachine"] = {"id": sim.store.get(vm_id)["id"]}  # the id as stored, not as typed
    elif props.get("storageProfile"):
        built["storageProfile"] = sources.from_storage_profile(sim, props["storageProfile"], location, zone_resilient)
    else:
        raise ArmError(400, "InvalidParameter", "Either 'sourceVirtualMachine' or 'storageProfile' must be specified "
                       "for an image.", target="properties")
    built["hyperVGeneration"] = generation
    return built


def _check_unchanged(existing, props):
    """A PUT on an existing image may change tags only; a different source or generation is refused."""
    old = existing["properties"]
    if (props.get("sourceVirtualMachine") or props.get("storageProfile", {}).get("osDisk")) \
            and sources.source_key(props) != sources.source_key(old):
        raise property_change_not_allowed("sourceVirtualMachine" if props.get("sourceVirtualMachine") else "storageProfile")
    if props.get("hyperVGeneration") and props["hyperVGeneration"].upper() != old.get("hyperVGeneration", "V1"):
        raise property_change_not_allowed("hyperVGeneration")


def put_image(req):
    name = req.params["imageName"]
    existing = IMAGES.existing(req)
    check_entity_name(name, "imageName")
    request = req.json()
    location = validate_location(req.sim, request.get("location"))
    props = request.get("properties") or {}
    if existing is not None:
        if existing["location"] != location:
            raise ArmError(409, "InvalidResourceLocation",
                           f"The resource '{name}' already exists in location '{existing['location']}' in resource group "
                           f"'{req.params['resourceGroupName']}'. A resource with the same name cannot be created in "
                           f"location '{location}'. Please select a new resource name.")
        _check_unchanged(existing, props)
        existing["tags"] = request.get("tags") or {}
        existing["properties"]["provisioningState"] = "Updating"
        req.sim.store.touch()
        op = req.sim.ops.start(req, "image.update", args={"id": existing["id"]}, duration="image.update",
                               location=location, kind="crp")
        return Reply(200, public(existing), req.sim.ops.headers(req, op))
    image = {
        "id": IMAGES.id(req),
        "name": name,
        "type": IMAGE_TYPE,
        "location": location,
        "tags": request.get("tags") or {},
        "properties": _build_properties(req.sim, props, location),
    }
    if request.get("extendedLocation"):
        image["extendedLocation"] = request["extendedLocation"]
    image["properties"]["provisioningState"] = "Creating"
    req.sim.store.put(image)
    reply_body = public(image)  # as ARM answers: Creating, whatever the operation does next
    op = req.sim.ops.start(req, "image.create", args={"id": image["id"]}, duration="image.create",
                           location=location, kind="crp")
    return Reply(201, reply_body, req.sim.ops.headers(req, op))


def patch_image(req):
    image = IMAGES.or_404(req, IMAGES.existing(req))
    update = req.json()
    _check_unchanged(image, update.get("properties") or {})
    if "tags" in update:
        image["tags"] = update["tags"] or {}
    req.sim.store.touch()
    return public(image)


def delete_image(req):
    return IMAGES.begin_delete(req, "image.delete", kind="crp")


def register(sim):
    IMAGES.register(sim, put_image, patch_image, delete_image)
    sim.ops.register_finisher("image.create", lro_finish.settle)
    sim.ops.register_finisher("image.update", lro_finish.settle)
    sim.ops.register_finisher("image.delete", lro_finish.remove)
