"""The managed-image model (CRP): ``.../providers/Microsoft.Compute/images/{image}`` (routes: ``routes.py``).

- PUT: 201 + Azure-AsyncOperation with ``provisioningState: Creating`` (never 202: the SDK rejects it),
  200 + Azure-AsyncOperation for an update of tags; the source and generation cannot change (409).
- GET, list per resource group and per subscription, PATCH (tags; 200).
- DELETE: 202 + Azure-AsyncOperation + Location, 204 when absent.
Sources and their refusals: ``image_sources.py``. A ``fail_operation`` fault leaves ``Failed``.
"""

from __future__ import annotations

import re

from ...core.errors import ArmError, property_change_not_allowed
from ..disks import encryption_sets
from . import image_sources as sources
from ...core.resource import GroupResource

IMAGE_TYPE = "Microsoft.Compute/images"
# CRP's entity name rule, quoted in its own error message.
ENTITY_NAME = re.compile(r"^[^_\W][\w\-._]{0,79}(?<![-.])$")


def check_entity_name(name, target):
    if not ENTITY_NAME.match(name):
        raise ArmError(400, "InvalidParameter", f"The entity name '{name}' is invalid according to its validation rule: "
                       r"^[^_\W][\w-._]{0,79}(?<![-.])$.", target=target)


IMAGES = GroupResource(IMAGE_TYPE, "imageName")


def build_properties(sim, props, location):
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
    _encryption(sim, props.get("storageProfile") or {}, built["storageProfile"], location)
    return built


def _encryption(sim, wanted, storage, location):
    """``osDisk.diskEncryptionSet`` / ``dataDisks[].diskEncryptionSet``: a DES in the image's region."""
    des_id = ((wanted.get("osDisk") or {}).get("diskEncryptionSet") or {}).get("id")
    if des_id:
        des = encryption_sets.resolve(sim, des_id, location, "storageProfile.osDisk.diskEncryptionSet.id")
        storage["osDisk"]["diskEncryptionSet"] = {"id": des["id"]}
    by_lun = {entry.get("lun"): entry for entry in storage.get("dataDisks") or []}
    for entry in wanted.get("dataDisks") or []:
        des_id = (entry.get("diskEncryptionSet") or {}).get("id")
        if des_id and entry.get("lun") in by_lun:
            des = encryption_sets.resolve(sim, des_id, location,
                                          f"storageProfile.dataDisks[{entry.get('lun')}].diskEncryptionSet.id")
            by_lun[entry["lun"]]["diskEncryptionSet"] = {"id": des["id"]}


def check_unchanged(existing, props):
    """A PUT on an existing image may change tags only; a different source or generation is refused."""
    old = existing["properties"]
    if (props.get("sourceVirtualMachine") or props.get("storageProfile", {}).get("osDisk")) \
            and sources.source_key(props) != sources.source_key(old):
        raise property_change_not_allowed("sourceVirtualMachine" if props.get("sourceVirtualMachine") else "storageProfile")
    if props.get("hyperVGeneration") and props["hyperVGeneration"].upper() != old.get("hyperVGeneration", "V1"):
        raise property_change_not_allowed("hyperVGeneration")

