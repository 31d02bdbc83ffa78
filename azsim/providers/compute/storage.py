"""A VM's disks: the OS source, the OS disk and the data disks, checked and planned before anything is stored.

- OS disk FromImage: a new ``Microsoft.Compute/disks`` resource (managedBy = VM, diskState Attached), unless
  ``osDisk.vhd.uri`` makes it an unmanaged disk (no resource; the profile keeps the VHD URI).
- OS disk Attach: an existing unattached managed disk, or a VHD (``vhd.uri`` + ``osType``); specialized.
- Data disks: Empty creates a disk resource, Attach takes an existing unattached one.
- ``deleteOption`` defaults to Detach (what the API does when the client does not say).
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field

from ...core.errors import ArmError, invalid_parameter, missing_property
from ...core.store import provider_id
from ..disks import models as compute_disk
from ..disks import performance as perf
from ..disks import rules as disk_rules
from ..disks import encryption_sets
from . import image_source as vm_image_source
from .validation import check_data_disk_count
from .image_source import ImageSource


@dataclass
class VmTarget:
    """Where a VM lives and what it runs on; what every disk decision needs."""
    subscription: str
    resource_group: str
    name: str
    vm_id: str
    location: str
    size: object  # vm_sizes.VmSize


@dataclass
class StoragePlan:
    profile: dict
    new_disks: list = field(default_factory=list)  # bodies to store, then attach
    attach_ids: list = field(default_factory=list)  # existing disks to attach
    detach_ids: list = field(default_factory=list)  # disks a PUT/PATCH update removed


def _disk_id(target, name):
    return provider_id(target.subscription, target.resource_group, "Microsoft.Compute", "disks", name)


def _existing_free_disk(sim, target, disk_id, label):
    disk = sim.store.get(disk_id or "")
    if disk is None:
        raise ArmError(404, "NotFound", f"Disk {disk_id.rsplit('/', 1)[-1] if disk_id else label} was not found.",
                       target=label)
    owner = disk.get("managedBy")
    if owner and owner.lower() != target.vm_id.lower():
        raise ArmError(409, "ConflictingUserInput", f"Disk '{disk['id']}' cannot be attached as the disk is already "
                       f"owned by VM '{owner}'.")
    return disk


def _check_premium(target, sku, disk_name):
    if perf.needs_premium_vm(sku) and not target.size.premium_io:
        raise disk_rules.premium_not_supported(target.size.name, sku, disk_name)


# -- the OS source ---------------------------------------------------------------------------------
def os_source(sim, target, storage):
    """Resolve what the OS disk comes from into an ``ImageSource``."""
    os_disk = storage.get("osDisk") or {}
    option = (os_disk.get("createOption") or "FromImage").lower()
    vhd = (os_disk.get("vhd") or {}).get("uri")
    if option == "attach":
        if vhd:
            if not os_disk.get("osType"):
                raise missing_property("osDisk.osType")
            return ImageSource(kind="vhd", os_type=os_disk["osType"], os_state="Specialized",
                               size_gb=int(os_disk.get("diskSizeGB") or 30))
        managed_id = (os_disk.get("managedDisk") or {}).get("id")
        if not managed_id:
            raise missing_property("osDisk.managedDisk.id")
        disk = _existing_free_disk(sim, target, managed_id, "osDisk.managedDisk.id")
        os_type = os_disk.get("osType") or disk["properties"].get("osType")
        if not os_type:
            raise missing_property("osDisk.osType")
        props = disk["properties"]
        return ImageSource(kind="disk", os_type=os_type, os_state="Specialized",
                           hyper_v_generation=props.get("hyperVGeneration") or "V1",
                           architecture=(props.get("supportedCapabilities") or {}).get("architecture", "x64"),
                           size_gb=int(props.get("diskSizeGB") or 30), image_id=disk["id"])
    if option != "fromimage":
        raise invalid_parameter(f"The value '{os_disk.get('createOption')}' of parameter 'osDisk.createOption' is not "
                                "valid. Use FromImage or Attach.", target="osDisk.createOption")
    reference = storage.get("imageReference")
    if not reference:
        raise missing_property("imageReference")
    if reference.get("sharedGalleryImageId") or reference.get("communityGalleryImageId"):
        raise invalid_parameter("Shared and community gallery images are not supported by the simulator.",
                                target="imageReference")
    if reference.get("id"):
        source = vm_image_source.from_image_id(sim, reference["id"], target.location)
    else:
        for key in ("publisher", "offer", "sku"):
            if not reference.get(key):
                raise missing_property(f"imageReference.{key}")
        source = vm_image_source.from_marketplace(sim, target.location, reference)
    if vhd and (source.kind != "marketplace" or source.disallows_unmanaged):
        raise invalid_parameter("The image cannot be used to create a virtual machine with unmanaged disks. Use "
                                "managed disks (remove osDisk.vhd) instead.", target="osDisk.vhd")
    return source


# -- the OS disk -----------------------------------------------------------------------------------
def plan_os_disk(sim, target, storage, source, security_type=None):
    """The stored ``storageProfile`` (image reference + OS disk) and the disk to create or attach."""
    plan = StoragePlan(profile=copy.deepcopy(storage))
    profile = plan.profile
    os_disk = profile.setdefault("osDisk", {})
    os_disk.setdefault("createOption", "FromImage")
    os_disk["osType"] = source.os_type
    os_disk.setdefault("caching", "ReadWrite")
    if source.kind in ("disk", "vhd"):
        profile.pop("imageReference", None)
    elif source.kind == "marketplace":
        profile["imageReference"]["exactVersion"] = source.exact_version
    elif source.kind == "gallery" and source.exact_version:
        profile["imageReference"]["exactVersion"] = source.exact_version
    size = os_disk.get("diskSizeGB")
    if size is not None and size < source.size_gb:
        raise invalid_parameter(f"The specified disk size {size} GB is smaller than the size of the corresponding disk "
                                f"in the VM image: {source.size_gb} GB. This is not allowed. Please choose equal or "
                                "greater size or do not specify an explicit size.", target="osDisk.diskSizeGB")
    os_disk["diskSizeGB"] = size = int(size or source.size_gb)
    if (os_disk.get("vhd") or {}).get("uri"):
        os_disk.setdefault("name", f"{target.name}_OsDisk_1_{uuid.uuid4().hex}")
        return plan
    managed = os_disk.setdefault("managedDisk", {})
    if source.kind == "disk":
        disk = sim.store.get(source.image_id)
        sku = disk["sku"]["name"]
        os_disk["name"] = disk["name"]
        os_disk["diskSizeGB"] = disk["properties"]["diskSizeGB"]
        plan.attach_ids.append(disk["id"])
    else:
        sku = disk_rules.check_sku(managed.get("storageAccountType") or "Standard_LRS",
                                   target="osDisk.managedDisk.storageAccountType")
        name = os_disk.setdefault("name", f"{target.name}_OsDisk_1_{uuid.uuid4().hex}")
        disk_id = _disk_id(target, name)
        if sim.store.get(disk_id) is not None:
            raise ArmError(409, "ConflictingUserInput", f"Disk {name} already exists in resource group "
                           f"{target.resource_group.upper()}. Only CreateOption.Attach is supported.",
                           target="osDisk.name")
        disk_rules.check_size(sku, size)
        reference_key = "galleryImageReference" if source.kind == "gallery" else "imageReference"
        plan.new_disks.append(compute_disk.new_disk(
            disk_id=disk_id, location=target.location, sku=sku, size_gb=size,
            creation_data={"createOption": "FromImage", reference_key: {"id": source.image_id}},
            os_type=source.os_type, hyper_v_generation=source.hyper_v_generation, architecture=source.architecture,
            security_type=security_type))
        managed["id"] = disk_id
    disk_rules.check_data_disk_only(os_disk["name"], sku, source.os_type)
    _check_premium(target, sku, os_disk["name"])
    managed["storageAccountType"] = sku
    os_disk.setdefault("deleteOption", "Detach")
    return plan


# -- data disks ------------------------------------------------------------------------------------
def plan_data_disks(sim, target, plan, wanted, current=()):
    """Add the data disks of ``wanted`` to ``plan``: new ones created or attached, missing ones detached."""
    check_data_disk_count(target.size, wanted)
    known = {disk.get("lun"): disk for disk in current}
    result = []
    for entry in copy.deepcopy(wanted):
        lun = entry["lun"]
        previous = known.get(lun)
        if previous is not None and _same_disk(previous, entry):
            merged = copy.deepcopy(previous)
            merged.update({key: value for key, value in entry.items() if key in ("caching", "deleteOption",
                                                                                 "writeAcceleratorEnabled")})
            result.append(merged)
            continue
        result.append(_new_data_disk(sim, target, plan, entry))
    kept = {(disk.get("managedDisk") or {}).get("id", "").lower() for disk in result}
    for disk in current:
        disk_id = (disk.get("managedDisk") or {}).get("id")
        if disk_id and disk_id.lower() not in kept:
            plan.detach_ids.append(disk_id)
    plan.profile["dataDisks"] = result
    encryption_sets.apply_vm_disks(sim, plan, target.location)  # managedDisk.diskEncryptionSet: a DES in the region
    return plan


def _same_disk(previous, entry):
    old_id = ((previous.get("managedDisk") or {}).get("id") or "").lower()
    new_id = ((entry.get("managedDisk") or {}).get("id") or "").lower()
    if new_id:
        return new_id == old_id
    return (entry.get("name") or previous.get("name")) == previous.get("name")


def _new_data_disk(sim, target, plan, entry):
    option = (entry.get("createOption") or "").lower()
    lun = entry["lun"]
    entry.setdefault("caching", "None")
    entry.setdefault("deleteOption", "Detach")
    if (entry.get("vhd") or {}).get("uri"):
        entry.setdefault("name", f"{target.name}-lun{lun}")
        if option == "empty" and not entry.get("diskSizeGB"):
            raise missing_property("dataDisk.diskSizeGB")
        return entry
    managed = entry.setdefault("managedDisk", {})
    if option == "empty":
        if not entry.get("diskSizeGB"):
            raise missing_property("dataDisk.diskSizeGB")
        sku = disk_rules.check_sku(managed.get("storageAccountType") or "Standard_LRS",
                                   target=f"dataDisks[{lun}].managedDisk.storageAccountType")
        name = entry.setdefault("name", f"{target.name}_lun_{lun}_{uuid.uuid4().hex[:32]}")
        disk_id = _disk_id(target, name)
        if sim.store.get(disk_id) is not None:
            raise ArmError(409, "ConflictingUserInput", f"Disk {name} already exists in resource group "
                           f"{target.resource_group.upper()}. Only CreateOption.Attach is supported.")
        disk_rules.check_size(sku, entry["diskSizeGB"])
        _check_premium(target, sku, name)
        plan.new_disks.append(compute_disk.new_disk(disk_id=disk_id, location=target.location, sku=sku,
                                                    size_gb=entry["diskSizeGB"],
                                                    creation_data={"createOption": "Empty"}))
        managed.update({"id": disk_id, "storageAccountType": sku})
        return entry
    if option == "attach":
        disk = _existing_free_disk(sim, target, managed.get("id"), f"dataDisks[{lun}].managedDisk.id")
        _check_premium(target, disk["sku"]["name"], disk["name"])
        entry["name"] = disk["name"]
        entry["diskSizeGB"] = disk["properties"]["diskSizeGB"]
        managed.update({"id": disk["id"], "storageAccountType": disk["sku"]["name"]})
        plan.attach_ids.append(disk["id"])
        return entry
    raise invalid_parameter(f"The value '{entry.get('createOption')}' of parameter 'dataDisk.createOption' is not "
                            "supported by the simulator. Use Empty or Attach.", target="dataDisk.createOption")


def managed_disk_ids(vm):
    storage = vm["properties"].get("storageProfile", {})
    entries = [storage.get("osDisk") or {}] + list(storage.get("dataDisks") or [])
    return [entry["managedDisk"]["id"] for entry in entries if (entry.get("managedDisk") or {}).get("id")]


def apply(sim, plan, vm_id, state="Attached"):
    """Store the new disks and attach (or detach) everything the plan names."""
    for body in plan.new_disks:
        sim.store.put(body)
        compute_disk.attach(sim, body, vm_id, state)
    for disk_id in plan.attach_ids:
        disk = sim.store.get(disk_id)
        if disk is not None:
            compute_disk.attach(sim, disk, vm_id, state)
    for disk_id in plan.detach_ids:
        disk = sim.store.get(disk_id)
        if disk is not None and (disk.get("managedBy") or "").lower() == vm_id.lower():
            compute_disk.release(sim, disk)


def release_on_delete(sim, vm):
    """VM deleted: each managed disk is deleted (deleteOption Delete) or detached (Detach, the default)."""
    storage = vm["properties"].get("storageProfile", {})
    for entry in [storage.get("osDisk") or {}] + list(storage.get("dataDisks") or []):
        disk = sim.store.get((entry.get("managedDisk") or {}).get("id") or "")
        if disk is None:
            continue
        if (entry.get("deleteOption") or "Detach").lower() == "delete":
            sim.notify_deleted(disk)
            sim.store.delete(disk["id"])
        else:
            compute_disk.release(sim, disk)
