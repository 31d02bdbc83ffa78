"""Disk encryption sets (DiskRP): ``.../providers/Microsoft.Compute/diskEncryptionSets/{name}``, and the
encryption rules other resources follow (azsim/docs/disk-encryption.md lists each rule with its source).

- A DES has a region, an identity (``SystemAssigned``, ``UserAssigned`` or both) and an active key
  (``activeKey.keyUrl``: ``https://<vault>.vault.azure.net/keys/<name>/<version>``); its ``encryptionType`` is
  ``EncryptionAtRestWithCustomerKey`` (default), ``EncryptionAtRestWithPlatformAndCustomerKeys`` or
  ``ConfidentialVmEncryptedWithCustomerKey``.
- :func:`resolve` is how a disk, a VM disk, a managed image or a gallery target region names a DES: it must exist
  and be in the resource's region (400 otherwise); the disk's ``encryption.type`` is then the DES's type.
- :func:`check_encryption_change`: a disk's encryption changes only when it is unattached or its VM deallocated.
- :func:`check_encryption_at_host`: ``securityProfile.encryptionAtHost`` needs the subscription feature
  ``Microsoft.Compute/EncryptionAtHost`` (``settings["features"]``).
- :func:`check_gallery_regions`: a version from a customer-key source needs a DES for every target region.
"""

from __future__ import annotations

import copy
import re
import uuid

from ...core.errors import ArmError, invalid_parameter, missing_property, operation_not_allowed
from ...core.resource import GroupResource

DES_TYPE = "Microsoft.Compute/diskEncryptionSets"
ENCRYPTION_SETS = GroupResource(DES_TYPE, "diskEncryptionSetName", monitor="disk")
ENCRYPTION_TYPES = ("EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys",
                    "ConfidentialVmEncryptedWithCustomerKey")
PLATFORM_KEY = "EncryptionAtRestWithPlatformKey"
IDENTITY_TYPES = ("SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned")
KEY_URL = re.compile(r"^https://[A-Za-z0-9-]{3,24}\.vault\.azure\.net/keys/[A-Za-z0-9-]{1,127}/[0-9A-Fa-f]{32}$")
HOST_FEATURE = "Microsoft.Compute/EncryptionAtHost"
DES_ID = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/diskEncryptionSets/"
                    r"[^/]+$", re.IGNORECASE)


def _choice(value, allowed, target):
    for item in allowed:
        if str(value).replace(" ", "").lower() == item.replace(" ", "").lower():
            return item
    raise invalid_parameter(f"The value '{value}' of parameter '{target}' is not allowed. Allowed values are "
                            f"{', '.join(allowed)}.", target=target)


# -- the DES itself --------------------------------------------------------------------------------
def check_key_url(key_url):
    if not key_url:
        raise missing_property("properties.activeKey.keyUrl")
    if not KEY_URL.match(str(key_url)):
        raise invalid_parameter(f"The key URL '{key_url}' is not valid. A key URL has the form "
                                "https://<vault>.vault.azure.net/keys/<key name>/<key version>.",
                                target="properties.activeKey.keyUrl")
    return key_url


def _identity(sim, raw, existing=None):
    if not raw:
        raise missing_property("identity")
    kind = _choice(raw.get("type") or "", IDENTITY_TYPES, "identity.type")
    shown = {"type": kind}
    if "SystemAssigned" in kind:
        old = (existing or {}).get("identity") or {}
        shown["principalId"] = old.get("principalId") or str(uuid.uuid4())
        shown["tenantId"] = sim.settings["auth"]["tenant_id"]
    if "UserAssigned" in kind:
        users = raw.get("userAssignedIdentities") or {}
        if not users:
            raise invalid_parameter("An identity of type UserAssigned needs at least one entry in "
                                    "identity.userAssignedIdentities.", target="identity.userAssignedIdentities")
        shown["userAssignedIdentities"] = {key: {"principalId": str(uuid.uuid4()), "clientId": str(uuid.uuid4())}
                                           for key in users}
    return shown


def build(sim, des_id, location, body, existing=None):
    """The stored DES body of a PUT (create or replace); every rule checked first."""
    props = body.get("properties") or {}
    key = props.get("activeKey") or {}
    check_key_url(key.get("keyUrl"))
    encryption_type = _choice(props.get("encryptionType") or ENCRYPTION_TYPES[0], ENCRYPTION_TYPES,
                              "properties.encryptionType")
    if existing is not None and existing["properties"]["encryptionType"] != encryption_type:
        raise ArmError(409, "PropertyChangeNotAllowed", "Changing property 'encryptionType' is not allowed.",
                       target="properties.encryptionType")
    active = {"keyUrl": key["keyUrl"]}
    if (key.get("sourceVault") or {}).get("id"):
        active["sourceVault"] = {"id": key["sourceVault"]["id"]}
    return {
        "id": des_id,
        "name": des_id.rsplit("/", 1)[1],
        "type": DES_TYPE,
        "location": location,
        "tags": body.get("tags") or {},
        "identity": _identity(sim, body.get("identity"), existing),
        "properties": {
            "activeKey": active,
            "encryptionType": encryption_type,
            "rotationToLatestKeyVersionEnabled": bool(props.get("rotationToLatestKeyVersionEnabled", False)),
            "provisioningState": "Succeeded",
        },
    }


def check_delete(sim, des):
    """A DES still used by a disk cannot be deleted (409)."""
    for disk in sim.store.list("/subscriptions/", "Microsoft.Compute/disks"):
        if ((disk["properties"].get("encryption") or {}).get("diskEncryptionSetId") or "").lower() == des["id"].lower():
            raise operation_not_allowed(f"Disk encryption set '{des['name']}' is in use by disk '{disk['name']}'. "
                                        "Change the encryption of every disk that uses it first.")


# -- rules other resources follow ------------------------------------------------------------------
def resolve(sim, des_id, location, target):
    """The DES ``des_id`` names, if it exists and is in ``location``; else 400 (or 404 when absent)."""
    if not des_id or not DES_ID.match(str(des_id)):
        raise invalid_parameter(f"The value '{des_id}' of parameter '{target}' is not a disk encryption set id "
                                "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/"
                                "diskEncryptionSets/<name>).", target=target)
    des = sim.store.get(des_id)
    if des is None or des.get("type", "").lower() != DES_TYPE.lower():
        raise ArmError(404, "NotFound", f"Disk encryption set '{des_id}' was not found.", target=target)
    wanted = str(location).replace(" ", "").lower()
    if des["location"].replace(" ", "").lower() != wanted:
        raise invalid_parameter(f"The disk encryption set '{des['name']}' is in region '{des['location']}'; a disk "
                                f"encryption set must be in the same region as the resource that uses it "
                                f"('{wanted}').", target=target)
    return des


def disk_encryption(sim, raw, location, target="properties.encryption"):
    """The ``encryption`` a disk stores for a request's ``encryption`` (None: platform key)."""
    raw = raw or {}
    des_id = raw.get("diskEncryptionSetId")
    if not des_id:
        if raw.get("type") and raw["type"] != PLATFORM_KEY:
            raise invalid_parameter(f"Encryption type '{raw['type']}' needs a diskEncryptionSetId.",
                                    target=f"{target}.diskEncryptionSetId")
        return {"type": PLATFORM_KEY}
    des = resolve(sim, des_id, location, f"{target}.diskEncryptionSetId")
    kind = des["properties"]["encryptionType"]
    if raw.get("type") and raw["type"] != kind:
        raise invalid_parameter(f"Encryption type '{raw['type']}' does not match the type '{kind}' of disk "
                                f"encryption set '{des['name']}'.", target=f"{target}.type")
    return {"type": kind, "diskEncryptionSetId": des["id"]}


def is_customer_key(encryption):
    return bool((encryption or {}).get("diskEncryptionSetId")) or \
        (encryption or {}).get("type", PLATFORM_KEY) not in (PLATFORM_KEY, None)


def check_encryption_change(disk, new):
    """A disk's encryption changes only when it is unattached or its VM deallocated (409 OperationNotAllowed)."""
    current = disk["properties"].get("encryption") or {"type": PLATFORM_KEY}
    same = (current.get("type") == new.get("type") and (current.get("diskEncryptionSetId") or "").lower()
            == (new.get("diskEncryptionSetId") or "").lower())
    if same:
        return False
    if disk["properties"].get("diskState") not in ("Unattached", "Reserved"):
        raise operation_not_allowed(
            f"Changing the encryption of disk '{disk['name']}' is not allowed while it is attached to the running "
            f"virtual machine '{disk.get('managedBy')}'. Deallocate the virtual machine or detach the disk first.")
    return True


def host_feature_registered(sim):
    return bool((sim.settings.values.get("features") or {}).get(HOST_FEATURE, False))


def check_encryption_at_host(sim, props):
    if not (props.get("securityProfile") or {}).get("encryptionAtHost"):
        return
    if not host_feature_registered(sim):
        raise ArmError(400, "InvalidParameter", "The property 'securityProfile.encryptionAtHost' is not valid "
                       f"because the '{HOST_FEATURE}' feature is not enabled for this subscription.",
                       target="securityProfile.encryptionAtHost")


def vm_disk_encryption(sim, entry, location, target):
    """A VM disk's ``managedDisk.diskEncryptionSet``: (encryption for the new disk, or None)."""
    des_id = ((entry.get("managedDisk") or {}).get("diskEncryptionSet") or {}).get("id")
    if not des_id:
        return None
    des = resolve(sim, des_id, location, f"{target}.managedDisk.diskEncryptionSet.id")
    return {"type": des["properties"]["encryptionType"], "diskEncryptionSetId": des["id"]}


def apply_vm_disks(sim, plan, location):
    """Every new disk of a VM's storage plan takes the DES its profile entry names (checked first)."""
    profile = plan.profile
    entries = [("osDisk", profile.get("osDisk") or {})] + [
        (f"dataDisks[{entry.get('lun')}]", entry) for entry in profile.get("dataDisks") or []]
    wanted = {}
    for target, entry in entries:
        encryption = vm_disk_encryption(sim, entry, location, target)
        disk_id = ((entry.get("managedDisk") or {}).get("id") or "").lower()
        if encryption is not None and disk_id:
            wanted[disk_id] = encryption
    for body in plan.new_disks:
        if body["id"].lower() in wanted:
            body["properties"]["encryption"] = copy.deepcopy(wanted[body["id"].lower()])


# -- gallery versions ------------------------------------------------------------------------------
def source_customer_key(sim, source_id):
    """True when a gallery version's source (VM, managed image, disk, snapshot) is customer-key encrypted."""
    body = sim.store.get(source_id or "") if source_id else None
    if body is None:
        return False
    kind = body.get("type", "").lower()
    props = body.get("properties") or {}
    if kind in ("microsoft.compute/disks", "microsoft.compute/snapshots"):
        return is_customer_key(props.get("encryption"))
    storage = props.get("storageProfile") or {}
    entries = [storage.get("osDisk") or {}] + list(storage.get("dataDisks") or [])
    if kind == "microsoft.compute/images":
        return any((entry.get("diskEncryptionSet") or {}).get("id") for entry in entries)
    if kind == "microsoft.compute/virtualmachines":
        for entry in entries:
            disk = sim.store.get((entry.get("managedDisk") or {}).get("id") or "") or {}
            if is_customer_key((disk.get("properties") or {}).get("encryption")):
                return True
    return False


def region_encryption(sim, item, region, target):
    """A target region's ``encryption`` as stored, each DES checked to exist in that region; None if absent."""
    raw = item.get("encryption")
    if not raw:
        return None
    shown = {}
    os_image = raw.get("osDiskImage") or {}
    if os_image.get("diskEncryptionSetId"):
        resolve(sim, os_image["diskEncryptionSetId"], region, f"{target}.encryption.osDiskImage.diskEncryptionSetId")
        shown["osDiskImage"] = copy.deepcopy(os_image)
    data = []
    for index, entry in enumerate(raw.get("dataDiskImages") or []):
        if entry.get("lun") is None:
            raise missing_property(f"{target}.encryption.dataDiskImages[{index}].lun")
        if entry.get("diskEncryptionSetId"):
            resolve(sim, entry["diskEncryptionSetId"], region,
                    f"{target}.encryption.dataDiskImages[{index}].diskEncryptionSetId")
        data.append(copy.deepcopy(entry))
    if data:
        shown["dataDiskImages"] = data
    return shown or None


def check_gallery_regions(regions, data_luns, target="publishingProfile.targetRegions"):
    """A customer-key source: every target region names a DES for the OS disk image and each data disk (400)."""
    for region in regions:
        encryption = region.get("encryption") or {}
        if not (encryption.get("osDiskImage") or {}).get("diskEncryptionSetId"):
            raise invalid_parameter(
                f"The source is encrypted with a customer-managed key: target region '{region['name']}' needs "
                "encryption.osDiskImage.diskEncryptionSetId, a disk encryption set in that region.", target=target)
        covered = {entry.get("lun") for entry in encryption.get("dataDiskImages") or []
                   if entry.get("diskEncryptionSetId")}
        missing = [lun for lun in data_luns if lun not in covered]
        if missing:
            raise invalid_parameter(
                f"The source is encrypted with a customer-managed key: target region '{region['name']}' needs "
                f"encryption.dataDiskImages entries with a diskEncryptionSetId for LUN(s) "
                f"{', '.join(str(lun) for lun in missing)}.", target=target)
