# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: encryption at rest of a build VM's disks - a disk encryption set (customer-managed keys) and
encryption at host - checked before any request that creates something.

Rules (Azure refuses the same, but only after the group and the network exist; azsim/docs/disk-encryption.md):
- ``disk_encryption_set`` is a ``Microsoft.Compute/diskEncryptionSets`` id (the shared ``_resource_id.parse``), in
  the build's subscription, existing, and in the VM's region ("Encryption key sets are regional resources").
- The set encrypts the OS disk and every data disk (``managedDisk.diskEncryptionSet.id``); the disks then take the
  set's ``encryptionType`` (customer key, or platform and customer keys).
- ``encryption_at_host`` sets ``securityProfile.encryptionAtHost``; the subscription needs the
  ``Microsoft.Compute/EncryptionAtHost`` feature registered (Azure answers 400 otherwise).
"""

from __future__ import annotations

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError, azure_call
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import normalize_location
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_wire import wire as _wire
from ansible_collections.goldenimage.azure.plugins.module_utils._resource_id import parse as parse_id

DES_TYPE = "Microsoft.Compute/diskEncryptionSets"
PLATFORM_KEY = "EncryptionAtRestWithPlatformKey"
CUSTOMER_KEY_TYPES = ("EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys",
                      "ConfidentialVmEncryptedWithCustomerKey")


def parse_des(des_id, parameter="disk_encryption_set"):
    """The parsed id of a disk encryption set; AzureError naming ``parameter`` otherwise."""
    return parse_id(des_id, DES_TYPE, parameter=parameter)


def read_des(compute, des_id, location, subscription_id=None, parameter="disk_encryption_set"):
    """The disk encryption set ``des_id`` names, checked to exist, in ``subscription_id`` and in ``location``."""
    parsed = parse_des(des_id, parameter)
    if subscription_id and parsed["subscription"].lower() != str(subscription_id).lower():
        raise AzureError(f"{parameter}: disk encryption set '{parsed['id']}' is in subscription "
                         f"{parsed['subscription']}; it must be in the build's subscription {subscription_id}.",
                         code="InvalidEncryption", operation=f"check {parameter}")
    body = _wire(azure_call(f"read disk encryption set '{parsed['last_name']}'", compute.disk_encryption_sets.get,
                            parsed["resource_group"], parsed["last_name"], missing_ok=True))
    if not body:
        raise AzureError(f"{parameter}: disk encryption set '{parsed['id']}' does not exist; create it (with its Key "
                         "Vault key) before the build.", operation=f"check {parameter}")
    wanted = normalize_location(location)
    if normalize_location(body.get("location")) != wanted:
        raise AzureError(f"{parameter}: disk encryption set '{parsed['last_name']}' is in region "
                         f"'{body.get('location')}'; it must be in the same region as what it encrypts ('{wanted}').",
                         code="InvalidEncryption", operation=f"check {parameter}")
    return body


def check(compute, params, subscription_id=None):
    """build_vm: the DES exists and is in the VM's region (a read, also in check mode). Returns its id or None."""
    des_id = params.get("disk_encryption_set")
    if not des_id:
        return None
    return read_des(compute, des_id, params["location"], subscription_id)["id"]


def apply(properties, spec):
    """Put the encryption options in the VM body: every managed disk's ``managedDisk.diskEncryptionSet`` and
    ``securityProfile.encryptionAtHost``."""
    storage = properties.get("storageProfile") or {}
    des_id = spec.get("disk_encryption_set")
    if des_id:
        for entry in [storage.get("osDisk") or {}] + list(storage.get("dataDisks") or []):
            entry.setdefault("managedDisk", {})["diskEncryptionSet"] = {"id": des_id}
    if spec.get("encryption_at_host"):
        properties.setdefault("securityProfile", {})["encryptionAtHost"] = True


def describe(encryption):
    """A disk's (or image's) ``encryption`` as snake_case facts: type, disk_encryption_set, customer_key."""
    encryption = encryption or {}
    kind = encryption.get("type") or PLATFORM_KEY
    des_id = encryption.get("diskEncryptionSetId") or (encryption.get("diskEncryptionSet") or {}).get("id")
    return {"type": kind, "disk_encryption_set": des_id, "customer_key": bool(des_id) or kind in CUSTOMER_KEY_TYPES}


# -- disk_tier: change a disk's encryption ---------------------------------------------------------------
DISK_ENCRYPTION_TYPES = (PLATFORM_KEY, "EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys")
CONFIDENTIAL_TYPES = ("ConfidentialVmEncryptedWithCustomerKey",)


def validate_disk_request(des_id=None, encryption_type=None):
    """disk_tier's encryption options, checked before any call. Raises AzureError naming the parameter."""
    if encryption_type is not None and encryption_type not in DISK_ENCRYPTION_TYPES:
        raise AzureError("encryption_type: '%s' is not a disk encryption type; use one of %s"
                         % (encryption_type, ", ".join(DISK_ENCRYPTION_TYPES)))
    if des_id and encryption_type == PLATFORM_KEY:
        raise AzureError("disk_encryption_set: a disk encryption set means a customer-managed key; it cannot be given "
                         "with encryption_type %s (leave disk_encryption_set out to go back to platform keys)"
                         % PLATFORM_KEY)
    if encryption_type not in (None, PLATFORM_KEY) and not des_id:
        raise AzureError("encryption_type: %s needs disk_encryption_set (a disk encryption set in the disk's region)"
                         % encryption_type)
    if des_id:
        parse_des(des_id)


def disk_target_encryption(compute, disk, des_id=None, encryption_type=None, cache=None):
    """The ``encryption`` a disk PATCH needs to reach what was asked, or None when the disk already has it.

    The set must exist in the disk's subscription and region, and its ``encryptionType`` (customer key, or platform
    and customer keys: double encryption) is what the disk gets; an ``encryption_type`` naming another fails."""
    if des_id is None and encryption_type is None:
        return None
    props = disk.get("properties") or {}
    name = disk.get("name")
    current = props.get("encryption") or {"type": PLATFORM_KEY}
    security = ((props.get("securityProfile") or {}).get("securityType") or "")
    if current.get("type") in CONFIDENTIAL_TYPES or security.startswith("ConfidentialVM"):
        raise AzureError("disk_encryption_set: disk '%s' is a Confidential VM disk (%s); its encryption is set when "
                         "it is created and cannot be changed" % (name, security or current.get("type")))
    if des_id:
        cache = {} if cache is None else cache
        key = (des_id.lower(), normalize_location(disk.get("location")))
        if key not in cache:
            cache[key] = read_des(compute, des_id, disk.get("location"), parse_id(disk["id"])["subscription"])
        des = cache[key]
        kind = (des.get("properties") or {}).get("encryptionType") or "EncryptionAtRestWithCustomerKey"
        if encryption_type and encryption_type != kind:
            raise AzureError("encryption_type: %s does not match disk encryption set '%s', whose type is %s (a set's "
                             "type is fixed; use a set of the type you want)" % (encryption_type, des.get("name"), kind))
        wanted = {"type": kind, "diskEncryptionSetId": des["id"]}
    else:
        wanted = {"type": PLATFORM_KEY}
    same = (current.get("type") == wanted["type"] and (current.get("diskEncryptionSetId") or "").lower()
            == (wanted.get("diskEncryptionSetId") or "").lower())
    return None if same else wanted


# -- image_capture: managed images and gallery versions ----------------------------------------------------
def source_des(facts):
    """The disk encryption set a capture source's disks name (a VM's ``managedDisk.diskEncryptionSet``, a managed
    image's ``diskEncryptionSet``, a disk's or snapshot's ``encryption.diskEncryptionSetId``), or None."""
    body = facts.get("body") or {}
    props = body.get("properties") or {}
    if facts.get("type") in ("disk", "snapshot"):
        return (props.get("encryption") or {}).get("diskEncryptionSetId")
    storage = props.get("storageProfile") or {}
    for entry in [storage.get("osDisk") or {}] + list(storage.get("dataDisks") or []):
        des = ((entry.get("managedDisk") or {}).get("diskEncryptionSet") or entry.get("diskEncryptionSet") or {})
        if des.get("id"):
            return des["id"]
    return None


def region_encryption(des_id, data_luns):
    """A gallery target region's ``encryption``: the set for the OS disk image and every data disk image."""
    encryption = {"osDiskImage": {"diskEncryptionSetId": des_id}}
    if data_luns:
        encryption["dataDiskImages"] = [{"lun": lun, "diskEncryptionSetId": des_id} for lun in data_luns]
    return encryption


def missing_regions(regions, cmk_source):
    """The target regions without a disk_encryption_set when the source is customer-key encrypted."""
    if not cmk_source:
        return []
    return [region.get("name") for region in regions if not region.get("disk_encryption_set")]


def cmk_refusal(source_label, missing):
    return AzureError("gallery.target_regions: the source %s is encrypted with a customer-managed key, so every target "
                      "region needs a disk_encryption_set (a disk encryption set in that region); missing for: %s. "
                      "Nothing was created." % (source_label, ", ".join(missing)),
                      code="InvalidEncryption", operation="check gallery.target_regions")


def check_capture(compute, params, facts, image_location=None, gallery_location=None, subscription_id=None):
    """image_capture: every disk_encryption_set exists in its region; a customer-key source has a set in every
    gallery target region. Reads only; raises AzureError naming the parameter."""
    image_opts = params.get("managed_image") or {}
    if image_opts.get("disk_encryption_set"):
        read_des(compute, image_opts["disk_encryption_set"], image_location or facts.get("location"),
                 subscription_id, parameter="managed_image.disk_encryption_set")
    gallery_opts = params.get("gallery") or {}
    if not gallery_opts:
        return
    regions = gallery_opts.get("target_regions") or [{"name": gallery_location}]
    for index, region in enumerate(regions):
        if region.get("disk_encryption_set"):
            read_des(compute, region["disk_encryption_set"], region.get("name"), subscription_id,
                     parameter="gallery.target_regions[%d].disk_encryption_set" % index)
    missing = missing_regions(regions, bool(source_des(facts)))
    if missing:
        raise cmk_refusal(facts.get("id") or facts.get("uri"), missing)


def check_build(compute, build, subscription_id=None, gallery_regions=None, image_location=None):
    """The main job's plan: the build VM's set, the managed image's and the gallery regions' sets exist in their
    regions, and a build VM on a customer key has a set for every gallery target region (before any VM exists)."""
    if build.get("disk_encryption_set"):
        read_des(compute, build["disk_encryption_set"], build.get("location"), subscription_id)
    image_opts = build.get("managed_image") or {}
    if image_opts.get("disk_encryption_set"):
        read_des(compute, image_opts["disk_encryption_set"], image_location or image_opts.get("location")
                 or build.get("location"), subscription_id, parameter="managed_image.disk_encryption_set")
    gallery_opts = build.get("gallery") or {}
    if not gallery_opts:
        return
    regions = gallery_opts.get("target_regions") or [{"name": name} for name in gallery_regions or []]
    for index, region in enumerate(regions):
        if region.get("disk_encryption_set"):
            read_des(compute, region["disk_encryption_set"], region.get("name"), subscription_id,
                     parameter="gallery.target_regions[%d].disk_encryption_set" % index)
    missing = missing_regions(regions, bool(build.get("disk_encryption_set")))
    if missing:
        raise cmk_refusal("(the build VM, disk_encryption_set %s)" % build["disk_encryption_set"], missing)


def apply_image(body, des_id, facts):
    """A managed image body's ``storageProfile.osDisk.diskEncryptionSet`` (and each data disk's)."""
    props = body.setdefault("properties", {})
    storage = props.setdefault("storageProfile", {})
    os_disk = storage.setdefault("osDisk", {})
    os_disk.setdefault("osType", facts.get("os_type"))
    os_disk.setdefault("osState", facts.get("os_state") or "Generalized")
    os_disk["diskEncryptionSet"] = {"id": des_id}
    luns = [disk["lun"] for disk in facts.get("data_disks") or [] if disk.get("lun") is not None]
    if luns:
        storage["dataDisks"] = [{"lun": lun, "diskEncryptionSet": {"id": des_id}} for lun in luns]
    return body


# -- image_facts: how an image is encrypted -----------------------------------------------------------------
def managed_image_encryption(body):
    """A managed image's encryption: its OS disk's and data disks' disk encryption sets (none: platform keys)."""
    storage = ((body or {}).get("properties") or {}).get("storageProfile") or {}
    os_des = ((storage.get("osDisk") or {}).get("diskEncryptionSet") or {}).get("id")
    data = [{"lun": item.get("lun"), "disk_encryption_set": (item.get("diskEncryptionSet") or {}).get("id")}
            for item in storage.get("dataDisks") or []]
    customer = bool(os_des) or any(item["disk_encryption_set"] for item in data)
    return {"customer_key": customer, "type": "CustomerKey" if customer else "PlatformKey",
            "disk_encryption_set": os_des, "data_disks": [item for item in data if item["disk_encryption_set"]]}


def gallery_version_encryption(body):
    """A gallery version's encryption per target region (``publishingProfile.targetRegions[].encryption``)."""
    profile = ((body or {}).get("properties") or {}).get("publishingProfile") or {}
    regions = {}
    for region in profile.get("targetRegions") or []:
        encryption = region.get("encryption") or {}
        os_des = (encryption.get("osDiskImage") or {}).get("diskEncryptionSetId")
        data = [{"lun": item.get("lun"), "disk_encryption_set": item.get("diskEncryptionSetId")}
                for item in encryption.get("dataDiskImages") or [] if item.get("diskEncryptionSetId")]
        regions[normalize_location(region.get("name"))] = {
            "customer_key": bool(os_des or data), "type": "CustomerKey" if (os_des or data) else "PlatformKey",
            "os_disk_image": os_des, "data_disk_images": data}
    return {"customer_key": any(item["customer_key"] for item in regions.values()),
            "all_regions_customer_key": bool(regions) and all(item["customer_key"] for item in regions.values()),
            "regions": regions}
