"""What an image version is made from, and whether its definition accepts it.

A source is named by ``storageProfile.source.virtualMachineId`` (a VM), ``storageProfile.source.id``
(a managed image, snapshot, disk, another gallery image version, or a VM on older api-versions) or
``storageProfile.osDiskImage.source.{id|uri}`` (a snapshot/disk, or a VHD blob). The facts read from it
(OS type and state, Hyper-V generation, security type, size) are checked against the definition with
GalleryRP's wording (wire reference 9.5; peers 7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...core.errors import ArmError
from ..compute.models import vm_state
from .images import security_type

VM_SOURCES_REFUSED_BY = ("TrustedLaunchSupported", "ConfidentialVMSupported", "TrustedLaunchAndConfidentialVmSupported")
ACCEPTS_TRUSTED_LAUNCH = ("TrustedLaunch", "TrustedLaunchSupported", "TrustedLaunchAndConfidentialVmSupported")
ACCEPTS_CONFIDENTIAL = ("ConfidentialVM", "ConfidentialVMSupported", "TrustedLaunchAndConfidentialVmSupported")

GUEST_KEYS = ("os_name", "os_version", "architecture")

_KIND = re.compile(r"/providers/microsoft\.compute/(virtualmachines|images|snapshots|disks|galleries)/", re.IGNORECASE)


@dataclass
class Source:
    id: str
    kind: str  # virtualMachine | image | snapshot | disk | galleryImageVersion | vhd
    os_type: str | None = None
    os_state: str | None = None
    hyper_v: str | None = None
    security_type: str = "Standard"
    size_gb: int | None = None
    host_caching: str = "ReadWrite"
    data_disks: list = field(default_factory=list)
    guest: dict = field(default_factory=dict)  # what VMs built from the version report (os_name, os_version...)
    location: str | None = None  # the source's region, when it must match the version's


def source_reference(storage_profile):
    """The one id/uri that names the source (the order GalleryRP gives precedence)."""
    source = storage_profile.get("source") or {}
    os_source = (storage_profile.get("osDiskImage") or {}).get("source") or {}
    for value in (source.get("virtualMachineId"), source.get("id"), os_source.get("id"), os_source.get("uri")):
        if value:
            return value
    if source.get("communityGalleryImageId"):
        raise ArmError(400, "InvalidParameter", "Community gallery image sources are not supported by azsim.",
                       target="storageProfile.source.communityGalleryImageId")
    raise ArmError(400, "InvalidParameter", "Required parameter 'storageProfile.source' is missing (null). Specify "
                   "storageProfile.source or storageProfile.osDiskImage.source.", target="storageProfile.source")


def inspect(sim, storage_profile):
    ref = source_reference(storage_profile)
    if ref.lower().startswith(("http://", "https://")):
        return Source(ref, "vhd")
    match = _KIND.search(ref)
    body = sim.store.get(ref) if match else None
    if body is None:
        raise ArmError(404, "NotFound", f"The resource with id '{ref}' could not be found.",
                       target="storageProfile.source.id")
    kind = match.group(1).lower()
    source = None
    if kind == "virtualmachines":
        source = _from_vm(sim, body)
    elif kind == "images":
        source = _from_managed_image(body)
    elif kind in ("snapshots", "disks"):
        source = _from_disk(body, "snapshot" if kind == "snapshots" else "disk")
    elif body.get("type", "").lower() == "microsoft.compute/galleries/images/versions":
        source = _from_gallery_version(sim, body)
    if source is not None:
        extra = body.get("_sim", {})
        source.guest = {key: extra[key] for key in GUEST_KEYS if extra.get(key)}
        if source.kind != "galleryImageVersion":  # another version is read from its replica in the region
            source.location = body.get("location")
        return source
    raise ArmError(400, "InvalidParameter", f"The resource with id '{ref}' cannot be used as an image version source.",
                   target="storageProfile.source.id")


def _vm_generalized(sim, vm):
    return bool(vm_state(sim, vm).get("generalized"))


def _vm_generation(sim, vm):
    props = vm.get("properties", {})
    record = vm.get("_sim", {})
    for candidate in (record.get("hyper_v_generation"), (props.get("instanceView") or {}).get("hyperVGeneration")):
        if candidate:
            return candidate
    os_disk = props.get("storageProfile", {}).get("osDisk", {})
    disk = sim.store.get((os_disk.get("managedDisk") or {}).get("id") or "/none")
    if disk and disk.get("properties", {}).get("hyperVGeneration"):
        return disk["properties"]["hyperVGeneration"]
    reference = props.get("storageProfile", {}).get("imageReference") or {}
    if reference.get("publisher"):
        try:
            version = reference.get("exactVersion") or reference.get("version") or "latest"
            image = sim.extensions["marketplace"].resolve(vm["location"], reference["publisher"],
                                                          reference.get("offer"), reference.get("sku"), version)
            return image["properties"]["hyperVGeneration"]
        except ArmError:
            return None
    if reference.get("id"):
        image = sim.store.get(reference["id"])
        if image is not None:
            return image.get("properties", {}).get("hyperVGeneration")
    return None


def _from_vm(sim, vm):
    props = vm.get("properties", {})
    storage = props.get("storageProfile", {})
    os_disk = storage.get("osDisk", {})
    disk = sim.store.get((os_disk.get("managedDisk") or {}).get("id") or "/none") or {}
    return Source(
        id=vm["id"],
        kind="virtualMachine",
        os_type=os_disk.get("osType"),
        os_state="Generalized" if _vm_generalized(sim, vm) else "Specialized",
        hyper_v=_vm_generation(sim, vm),
        security_type=(props.get("securityProfile") or {}).get("securityType") or "Standard",
        size_gb=os_disk.get("diskSizeGB") or disk.get("properties", {}).get("diskSizeGB"),
        host_caching=os_disk.get("caching") or "ReadWrite",
        data_disks=[{"lun": item.get("lun", index), "sizeInGB": item.get("diskSizeGB"),
                     "hostCaching": item.get("caching") or "None"}
                    for index, item in enumerate(storage.get("dataDisks") or [])],
    )


def _from_managed_image(image):
    props = image.get("properties", {})
    storage = props.get("storageProfile", {})
    os_disk = storage.get("osDisk", {})
    return Source(
        id=image["id"],
        kind="image",
        os_type=os_disk.get("osType"),
        os_state=os_disk.get("osState"),
        hyper_v=props.get("hyperVGeneration") or "V1",
        size_gb=os_disk.get("diskSizeGB"),
        host_caching=os_disk.get("caching") or "ReadWrite",
        data_disks=[{"lun": item["lun"], "sizeInGB": item.get("diskSizeGB"),
                     "hostCaching": item.get("caching") or "None"}
                    for item in storage.get("dataDisks") or [] if "lun" in item],
    )


def _from_disk(disk, kind):
    props = disk.get("properties", {})
    return Source(
        id=disk["id"],
        kind=kind,
        os_type=props.get("osType"),
        hyper_v=props.get("hyperVGeneration"),
        security_type=(props.get("securityProfile") or {}).get("securityType") or "Standard",
        size_gb=props.get("diskSizeGB"),
    )


def _from_gallery_version(sim, version):
    definition = sim.store.get(version["id"].rsplit("/versions/", 1)[0]) or {"properties": {}}
    defined = definition["properties"]
    os_image = version["properties"].get("storageProfile", {}).get("osDiskImage", {})
    return Source(
        id=version["id"],
        kind="galleryImageVersion",
        os_type=defined.get("osType"),
        os_state=defined.get("osState"),
        hyper_v=defined.get("hyperVGeneration"),
        security_type=security_type(definition) if definition.get("id") else "Standard",
        size_gb=os_image.get("sizeInGB"),
        host_caching=os_image.get("hostCaching") or "ReadWrite",
        data_disks=list(version["properties"].get("storageProfile", {}).get("dataDiskImages") or []),
    )


def check_region(source, location):
    """A VM, managed image, disk or snapshot is captured in its own region only."""
    if source.location and source.location.replace(" ", "").lower() != location:
        raise ArmError(400, "InvalidParameter",
                       f"The source resource '{source.id}' is in region '{source.location}', but the gallery image "
                       f"version is being created in region '{location}'. The source must be in the same region as the "
                       "gallery image version.", target="storageProfile.source.id")


def check_compatible(source, definition, definition_security):
    """GalleryRP's refusals when the source does not fit the parent image definition (400 BadRequest)."""
    defined = definition["properties"]
    name = definition["name"]

    def refuse(message):
        raise ArmError(400, "BadRequest", message)

    if source.os_type and source.os_type.lower() != defined["osType"].lower():
        refuse(f"The resource with id '{source.id}' has a different OS type ['{source.os_type}'] than the parent "
               f"gallery image OS type ['{defined['osType']}'].")
    if source.os_state and source.os_state.lower() != defined["osState"].lower():
        refuse(f"The resource with id '{source.id}' has a different OS state ['{source.os_state}'] than the parent "
               f"gallery image OS state ['{defined['osState']}'].")
    if source.hyper_v and source.hyper_v.upper() != defined["hyperVGeneration"].upper():
        refuse(f"The resource with id '{source.id}' has a different Hypervisor generation ['{source.hyper_v}'] than "
               f"the parent gallery image ['{defined['hyperVGeneration']}'].")
    architecture = source.guest.get("architecture")
    if architecture and architecture.lower() != defined.get("architecture", "x64").lower():
        refuse(f"The resource with id '{source.id}' has a different architecture ['{architecture}'] than the parent "
               f"gallery image ['{defined.get('architecture', 'x64')}'].")
    if source.kind == "virtualMachine" and definition_security in VM_SOURCES_REFUSED_BY:
        refuse(f"The gallery image '{name}' has SecurityType ['{definition_security}']; versions of such images can be "
               f"created from a VHD, a managed image or another gallery image version, not from the virtual machine "
               f"'{source.id}'.")
    if source.security_type == "TrustedLaunch" and definition_security not in ACCEPTS_TRUSTED_LAUNCH:
        refuse(f"The resource with id '{source.id}' has security type ['TrustedLaunch'], which requires the parent "
               f"gallery image to have the feature SecurityType ['TrustedLaunch'], but gallery image '{name}' has "
               f"['{definition_security}'].")
    if source.security_type == "ConfidentialVM" and definition_security not in ACCEPTS_CONFIDENTIAL:
        refuse(f"The resource with id '{source.id}' has security type ['ConfidentialVM'], which requires the parent "
               f"gallery image to have the feature SecurityType ['ConfidentialVM'], but gallery image '{name}' has "
               f"['{definition_security}'].")
