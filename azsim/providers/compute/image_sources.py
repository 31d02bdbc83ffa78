"""What a managed image is made from: a generalized VM, or an OS disk given as a managed disk, a
snapshot or a VHD blob URI. Each source becomes the image's ``storageProfile`` (wire reference 5).

CRP's refusals, checked in this order for a VM source: the VM must exist (404), must not be a
Trusted Launch or Confidential VM (400 OperationNotAllowed), must be generalized (409
OperationNotAllowed), must be in the image's region and of the requested Hyper-V generation (400
InvalidParameter).
"""

from __future__ import annotations

import re

from ...core.errors import ArmError, invalid_parameter, missing_property, not_found
from ...core.store import private
from .models import vm_state

VM_TYPE = "Microsoft.Compute/virtualMachines"
DISK_TYPE = "Microsoft.Compute/disks"
SNAPSHOT_TYPE = "Microsoft.Compute/snapshots"
SECURITY_TYPES_WITHOUT_IMAGES = ("trustedlaunch", "confidentialvm")
OS_TYPES = {"linux": "Linux", "windows": "Windows"}
OS_STATES = {"generalized": "Generalized", "specialized": "Specialized"}
GENERATIONS = {"v1": "V1", "v2": "V2"}
BLOB_URI = re.compile(r"^https://[a-z0-9]{3,24}\.blob\.core\.windows\.net/[a-z0-9$][a-z0-9-]{1,62}/\S+$", re.IGNORECASE)


def _name_and_group(rid):
    parts = rid.rstrip("/").split("/")
    lowered = [part.lower() for part in parts]
    group = parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""
    return parts[-1], group


def _existing(sim, rid, resource_type):
    body = sim.store.get(rid) if rid else None
    if body is None or body.get("type", "").lower() != resource_type.lower():
        name, group = _name_and_group(rid or "")
        raise not_found(resource_type, name, group)
    return body


def pick(value, allowed, target):
    """Normalise an enum value case-insensitively, or 400 InvalidParameter."""
    found = allowed.get(str(value).lower()) if value is not None else None
    if found is None:
        raise invalid_parameter(f"The value '{value}' of parameter '{target}' is not allowed. Allowed values are "
                                f"{', '.join(allowed.values())}.", target=target)
    return found


# -- VM facts (the VM provider owns them: compute.models.vm_state) ---------------------------------
def vm_generation(sim, vm):
    """The VM's Hyper-V generation: the VM provider's record, else its OS disk's, else V1."""
    recorded = private(vm).get("hyper_v_generation")
    if recorded:
        return recorded
    os_disk = ((vm.get("properties") or {}).get("storageProfile") or {}).get("osDisk") or {}
    disk = sim.store.get((os_disk.get("managedDisk") or {}).get("id") or "/none")
    return ((disk or {}).get("properties") or {}).get("hyperVGeneration") or "V1"


def _disk_facts(sim, entry):
    """managedDisk/vhd of a VM disk entry -> the image disk fields that describe it."""
    found = {"caching": entry.get("caching") or "None"}
    managed_id = (entry.get("managedDisk") or {}).get("id")
    vhd_uri = (entry.get("vhd") or {}).get("uri")
    disk = sim.store.get(managed_id) if managed_id else None
    if managed_id:
        found["managedDisk"] = {"id": disk["id"] if disk else managed_id}
    elif vhd_uri:
        found["blobUri"] = vhd_uri
    size = ((disk or {}).get("properties") or {}).get("diskSizeGB") or entry.get("diskSizeGB")
    if size:
        found["diskSizeGB"] = size
    account = ((disk or {}).get("sku") or {}).get("name") or (entry.get("managedDisk") or {}).get("storageAccountType")
    if account:
        found["storageAccountType"] = account
    return found, disk


def from_vm(sim, vm_id, location, generation, zone_resilient):
    vm = _existing(sim, vm_id, VM_TYPE)
    props = vm.get("properties") or {}
    security = ((props.get("securityProfile") or {}).get("securityType") or "")
    if security.lower() in SECURITY_TYPES_WITHOUT_IMAGES:
        raise ArmError(400, "OperationNotAllowed",
                       f"Creation of managed images are not supported for virtual machine with {security} security type.")
    if not vm_state(sim, vm)["generalized"]:
        raise ArmError(409, "OperationNotAllowed",
                       f"The operation 'Create Image' requires the Virtual Machine '{vm['name']}' to be Generalized.")
    if vm["location"] != location:
        raise invalid_parameter(f"The source virtual machine '{vm['id']}' is in region '{vm['location']}'. An image "
                                f"can only be created from a virtual machine in the same region ('{location}').",
                                target="sourceVirtualMachine")
    vm_gen = vm_generation(sim, vm)
    if vm_gen.upper() != generation:
        raise invalid_parameter(f"Input HyperVGeneration {generation} does not match the source VM's generation "
                                f"{vm_gen.upper()}. Please specify hyperVGeneration '{vm_gen.upper()}'.",
                                target="hyperVGeneration")
    storage = props.get("storageProfile") or {}
    os_entry = storage.get("osDisk") or {}
    os_disk, disk = _disk_facts(sim, os_entry)
    os_type = os_entry.get("osType") or ((disk or {}).get("properties") or {}).get("osType") or "Linux"
    os_disk = {"osType": os_type, "osState": "Generalized", **os_disk}
    os_disk["caching"] = os_entry.get("caching") or "ReadWrite"
    data_disks = []
    for entry in storage.get("dataDisks") or []:
        facts, _ = _disk_facts(sim, entry)
        data_disks.append({"lun": entry.get("lun"), **facts})
    return {"osDisk": os_disk, "dataDisks": data_disks, "zoneResilient": zone_resilient}


# -- explicit storage profiles --------------------------------------------------------------------
def _image_disk(sim, item, target, location):
    """managedDisk.id | snapshot.id | blobUri of one image disk, checked, plus the size it implies."""
    named = [key for key in ("managedDisk", "snapshot", "blobUri") if item.get(key)]
    if not named:
        raise invalid_parameter(f"One of '{target}.managedDisk', '{target}.snapshot' or '{target}.blobUri' must be "
                                "specified.", target=target)
    if len(named) > 1:
        raise invalid_parameter(f"Only one of '{target}.managedDisk', '{target}.snapshot' or '{target}.blobUri' can be "
                                "specified.", target=target)
    key = named[0]
    found = {"caching": item.get("caching") or ("ReadWrite" if target.endswith("osDisk") else "None")}
    if key == "blobUri":
        uri = item["blobUri"]
        if not uri.lower().endswith(".vhd"):
            raise invalid_parameter(f"Blob name in URL {uri} must end with '.vhd' extension.", target=f"{target}.blobUri")
        if not BLOB_URI.match(uri):
            raise invalid_parameter(f"The blob URI '{uri}' of '{target}.blobUri' is not a valid Azure Storage page blob "
                                    "URI (https://<account>.blob.core.windows.net/<container>/<name>.vhd).",
                                    target=f"{target}.blobUri")
        found["blobUri"] = uri
        source = None
    else:
        ref = item[key].get("id") if isinstance(item[key], dict) else None
        if not ref:
            raise missing_property(f"{target}.{key}.id")
        source = _existing(sim, ref, DISK_TYPE if key == "managedDisk" else SNAPSHOT_TYPE)
        if source["location"] != location:
            raise invalid_parameter(f"The source '{source['id']}' is in region '{source['location']}'. An image can "
                                    f"only be created from a source in the same region ('{location}').",
                                    target=f"{target}.{key}")
        found[key] = {"id": source["id"]}
    size = item.get("diskSizeGB") or ((source or {}).get("properties") or {}).get("diskSizeGB")
    if size:
        found["diskSizeGB"] = size
    account = item.get("storageAccountType") or ((source or {}).get("sku") or {}).get("name")
    if account:
        found["storageAccountType"] = account
    return found


def from_storage_profile(sim, profile, location, zone_resilient):
    os_item = profile.get("osDisk")
    if not os_item:
        raise missing_property("storageProfile.osDisk")
    if not os_item.get("osType"):
        raise missing_property("storageProfile.osDisk.osType")
    if not os_item.get("osState"):
        raise missing_property("storageProfile.osDisk.osState")
    os_disk = {"osType": pick(os_item["osType"], OS_TYPES, "storageProfile.osDisk.osType"),
               "osState": pick(os_item["osState"], OS_STATES, "storageProfile.osDisk.osState"),
               **_image_disk(sim, os_item, "storageProfile.osDisk", location)}
    data_disks, luns = [], set()
    for index, item in enumerate(profile.get("dataDisks") or []):
        target = f"storageProfile.dataDisks[{index}]"
        lun = item.get("lun")
        if not isinstance(lun, int) or not 0 <= lun <= 63:
            raise missing_property(f"{target}.lun") if lun is None else invalid_parameter(
                f"The value '{lun}' of parameter '{target}.lun' is not allowed. Allowed values are 0-63.",
                target=f"{target}.lun")
        if lun in luns:
            raise invalid_parameter(f"The data disks of the image use LUN {lun} more than once.", target=f"{target}.lun")
        luns.add(lun)
        data_disks.append({"lun": lun, **_image_disk(sim, item, target, location)})
    return {"osDisk": os_disk, "dataDisks": data_disks, "zoneResilient": zone_resilient}


def source_key(properties):
    """What names an image's source, to refuse a PUT that would change it."""
    vm_id = (properties.get("sourceVirtualMachine") or {}).get("id")
    if vm_id:
        return ("vm", vm_id.lower())
    os_disk = (properties.get("storageProfile") or {}).get("osDisk") or {}
    for key in ("managedDisk", "snapshot"):
        ref = (os_disk.get(key) or {}).get("id")
        if ref:
            return (key, ref.lower())
    return ("blobUri", (os_disk.get("blobUri") or "").lower())
