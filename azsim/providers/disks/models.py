"""The managed-disk model (DiskRP), shared with the VM provider.

- :func:`new_disk` builds a Succeeded, Unattached body with every derived value filled in
  (``performance.derive``); :func:`creation_source` reads what a new disk is made from (Empty, Copy of a
  disk or snapshot, FromImage).
- A disk update is checked as a whole (:func:`validated_changes`, rules in ``rules.py``) before anything
  changes, and applied when its operation finishes (:func:`finish_update`), as DiskRP does.
- The VM provider creates and attaches disks through ``new_disk``, ``attach``, ``release`` and
  ``set_attachment_state``; the owning VM's storage profile follows a disk's SKU and size (:func:`sync_owner`).
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid

from ...core import lro_finish
from ...core.errors import ArmError, invalid_parameter, missing_property, property_change_not_allowed
from ...core.resource import GroupResource
from ...core.store import private
from ..compute import image_source as vm_image_source
from . import access
from . import encryption_sets
from . import performance as perf
from . import rules

DISK_TYPE = "Microsoft.Compute/disks"
SNAPSHOT_TYPE = "Microsoft.Compute/snapshots"
DISKS = GroupResource(DISK_TYPE, "diskName", monitor="disk")
# DiskUpdateProperties that the simulator stores as given (no rule attached to them).
PLAIN_PROPERTIES = ("networkAccessPolicy", "publicNetworkAccess", "diskAccessId", "encryption", "maxShares",
                    "supportsHibernation", "dataAccessAuthMode", "optimizedForFrequentAttach", "supportedCapabilities",
                    "purchasePlan", "osType", "diskIOPSReadOnly", "diskMBpsReadOnly", "availabilityPolicy")


def now_iso():
    return dt.datetime.now(dt.timezone.utc).isoformat()


def new_disk(*, disk_id, location, sku, size_gb, creation_data, os_type=None, hyper_v_generation=None,
             architecture=None, tags=None, zones=None, security_type=None, extra=None):
    """A Succeeded, Unattached disk body with every derived value filled in."""
    props = {}
    if os_type:
        props["osType"] = os_type
    if hyper_v_generation:
        props["hyperVGeneration"] = hyper_v_generation
    if architecture:
        props["supportedCapabilities"] = {"architecture": architecture}
    props.update({
        "creationData": creation_data,
        "diskSizeGB": size_gb,
        "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
        "networkAccessPolicy": "AllowAll",
        "publicNetworkAccess": "Enabled",
        "timeCreated": now_iso(),
        "provisioningState": "Succeeded",
        "diskState": "Unattached",
        "uniqueId": str(uuid.uuid4()),
    })
    if security_type:
        props["securityProfile"] = {"securityType": security_type}
    props.update(extra or {})
    body = {
        "id": disk_id,
        "name": disk_id.rsplit("/", 1)[1],
        "type": DISK_TYPE,
        "location": location,
        "tags": tags or {},
        "sku": {"name": sku},
        "properties": props,
    }
    if zones:
        body["zones"] = zones
    return perf.derive(body)


def attach(sim, disk, vm_id, state="Attached"):
    disk["managedBy"] = vm_id
    disk["properties"]["diskState"] = state
    disk["properties"]["LastOwnershipUpdateTime"] = now_iso()
    sim.store.touch()


def release(sim, disk):
    """Detach a disk from its VM: Unattached, no managedBy."""
    disk.pop("managedBy", None)
    disk["properties"]["diskState"] = "Unattached"
    disk["properties"]["LastOwnershipUpdateTime"] = now_iso()
    sim.store.touch()


def set_attachment_state(sim, disk_ids, state):
    """Attached (VM allocated) or Reserved (VM deallocated) for every managed disk of a VM."""
    for disk_id in disk_ids:
        disk = sim.store.get(disk_id)
        if disk is not None and disk.get("managedBy"):
            disk["properties"]["diskState"] = state
    sim.store.touch()


def sync_owner(sim, disk):
    """Keep the owning VM's storage profile in step with the disk's SKU and size."""
    owner = sim.store.get(disk.get("managedBy") or "") if disk.get("managedBy") else None
    if owner is None:
        return
    storage = owner["properties"].get("storageProfile", {})
    for entry in [storage.get("osDisk") or {}] + list(storage.get("dataDisks") or []):
        managed = entry.get("managedDisk") or {}
        if (managed.get("id") or "").lower() == disk["id"].lower():
            managed["storageAccountType"] = disk["sku"]["name"]
            entry["diskSizeGB"] = disk["properties"]["diskSizeGB"]
            des_id = (disk["properties"].get("encryption") or {}).get("diskEncryptionSetId")
            if des_id:  # the VM shows the disk's encryption set, as CRP does
                managed["diskEncryptionSet"] = {"id": des_id}
            else:
                managed.pop("diskEncryptionSet", None)


def busy(sim, disk):
    op_id = private(disk).get("op")
    op = sim.ops.ops.get(op_id) if op_id else None
    return op is not None and not op.done


def in_progress_error(disk):
    return ArmError(409, "OperationNotAllowed", f"Operation on disk '{disk['name']}' is not allowed since another "
                    "operation is in progress on this resource. Retry after the operation completes.")


def copy_source(sim, creation):
    """The disk or snapshot a ``Copy`` names (``creationData.sourceResourceId``), or 404 NotFound."""
    source_id = creation.get("sourceResourceId")
    if not source_id:
        raise missing_property("creationData.sourceResourceId")
    source = sim.store.get(source_id)
    if source is None or source.get("type", "").lower() not in (DISK_TYPE.lower(), SNAPSHOT_TYPE.lower()):
        raise ArmError(404, "NotFound", f"Resource '{source_id}' was not found.", target="sourceResourceId")
    return source


def creation_source(sim, option, creation, location, sku):
    """Size, OS facts and the stored creationData of a new disk, per createOption (``disk_state``: its first state
    when it is not Unattached, as an upload's ReadyToUpload)."""
    lowered = option.lower()
    if sku.lower() == "ultrassd_lrs" and lowered != "empty":
        raise invalid_parameter("The 'UltraSSD_LRS' SKU is only supported for empty disks.", target="creationData")
    if lowered == "empty":
        return {"size_gb": 0, "creation_data": {"createOption": "Empty"}}
    if lowered == "copy":
        source = copy_source(sim, creation)
        props = source["properties"]
        return {"size_gb": int(props.get("diskSizeGB") or 0), "os_type": props.get("osType"),
                "size_bytes": private(source).get("size_bytes") or props.get("diskSizeBytes"),
                "hyper_v_generation": props.get("hyperVGeneration"),
                "architecture": (props.get("supportedCapabilities") or {}).get("architecture"),
                "creation_data": {"createOption": "Copy", "sourceResourceId": source["id"],
                                  "sourceUniqueId": props.get("uniqueId")}}
    if lowered == "fromimage":
        reference = creation.get("galleryImageReference") or creation.get("imageReference") or {}
        key = "galleryImageReference" if creation.get("galleryImageReference") else "imageReference"
        if not reference.get("id"):
            raise missing_property(f"creationData.{key}")
        if sku.lower() == "premiumv2_lrs":
            raise invalid_parameter("PremiumV2_LRS disks can only be created empty or from a snapshot.",
                                    target="creationData")
        image = vm_image_source.from_image_id(sim, reference["id"], location)
        data = {"createOption": "FromImage", key: {"id": reference["id"]}}
        if reference.get("lun") is not None:
            data[key]["lun"] = reference["lun"]
        return {"size_gb": image.size_gb, "os_type": image.os_type, "hyper_v_generation": image.hyper_v_generation,
                "architecture": image.architecture, "creation_data": data}
    if lowered == "upload":
        return dict(access.upload_creation(creation), disk_state="ReadyToUpload")
    raise invalid_parameter(f"The createOption '{option}' is not supported by the simulator; use Empty, Copy, "
                            "FromImage or Upload.", target="creationData.createOption")


def put_as_update(existing, body):
    """A PUT on an existing disk, expressed as the PATCH it amounts to (creationData is immutable)."""
    props = body.get("properties") or {}
    creation = props.get("creationData") or {}
    stored = existing["properties"]["creationData"]
    if creation and creation.get("createOption", "").lower() != stored.get("createOption", "").lower():
        raise property_change_not_allowed("creationData")
    update = {"properties": {key: value for key, value in props.items() if key != "creationData"}}
    if body.get("sku"):
        update["sku"] = body["sku"]
    if "tags" in body:
        update["tags"] = body["tags"]
    return update


def validated_changes(sim, disk, update):
    """The property/SKU changes a DiskUpdate asks for, after every rule; {} for a tags-only update."""
    props = update.get("properties") or {}
    current = disk["properties"]
    changes = {}
    sku = disk["sku"]["name"]
    new_sku = (update.get("sku") or {}).get("name")
    if new_sku:
        new_sku = rules.check_sku(new_sku)
        if new_sku != sku:
            rules.check_sku_change(sim, disk, new_sku)
            changes["sku"] = sku = new_sku
    size = int(current.get("diskSizeGB") or 0)
    if props.get("diskSizeGB") is not None and props["diskSizeGB"] != size:
        rules.check_resize(disk, props["diskSizeGB"])
        changes["diskSizeGB"] = size = props["diskSizeGB"]
    if props.get("tier") and (props["tier"] != current.get("tier") or "sku" in changes):
        changes["tier"] = rules.check_tier_change(sim, disk, sku, size, props["tier"])
    # A PUT of a disk as GET returned it repeats the derived IOPS/MBps: only a different value is a change.
    iops, mbps = (props.get(key) if props.get(key) != current.get(key) else None
                  for key in ("diskIOPSReadWrite", "diskMBpsReadWrite"))
    if iops is not None or mbps is not None:
        rules.check_performance(disk["name"], sku, size, iops, mbps)
        changes.update({key: value for key, value in (("diskIOPSReadWrite", iops), ("diskMBpsReadWrite", mbps))
                        if value is not None})
    if "burstingEnabled" in props and props["burstingEnabled"] != current.get("burstingEnabled"):
        rules.check_bursting(disk["name"], sku, size, props["burstingEnabled"])
        changes["burstingEnabled"] = props["burstingEnabled"]
    if "encryption" in props:  # a DES in the disk's region; changed only when unattached or VM deallocated
        encryption = encryption_sets.disk_encryption(sim, props["encryption"], disk["location"])
        if encryption_sets.check_encryption_change(disk, encryption):
            changes["encryption"] = encryption
    for key in PLAIN_PROPERTIES:
        if key in props and props[key] != current.get(key) and key != "encryption":
            changes[key] = copy.deepcopy(props[key])
    return changes


def finish_update(sim, op):
    disk = sim.store.get(op.args["id"])
    if disk is None:
        return
    props = disk["properties"]
    props.pop("propertyUpdatesInProgress", None)
    private(disk).pop("op", None)
    if op.status != "Succeeded":
        props["provisioningState"] = "Failed"
        return
    _apply(disk, op.args["changes"], sim.clock.time())
    props["provisioningState"] = "Succeeded"
    sync_owner(sim, disk)


def _apply(disk, changes, now):
    props, bookkeeping = disk["properties"], private(disk)
    old_tier = props.get("tier")
    if "sku" in changes:
        bookkeeping.setdefault("sku_changes", []).append(now)
        disk["sku"]["name"] = changes["sku"]
        props.pop("diskIOPSReadWrite", None)  # derived again for the new SKU
        props.pop("diskMBpsReadWrite", None)
        if not perf.is_premium_ssd(changes["sku"]):
            props.pop("tier", None)
            props.pop("burstingEnabled", None)
        elif "tier" not in changes:
            props.pop("tier", None)  # a disk converted to Premium starts at its size's baseline tier
    if "diskSizeGB" in changes:
        bookkeeping.pop("size_bytes", None)  # grown to whole GiB: no longer an upload's exact size
    for key, value in changes.items():
        if key != "sku":
            props[key] = value
    sku = disk["sku"]["name"]
    if perf.is_premium_ssd(sku) and props.get("tier"):
        baseline = perf.tier_for_size(sku, props["diskSizeGB"])
        if perf.tier_rank(props["tier"]) < perf.tier_rank(baseline):
            props["tier"] = baseline  # growing past the tier lifts it to the new baseline
    perf.derive(disk)
    new_tier = props.get("tier")
    if "tier" in changes and old_tier and new_tier and perf.premium_tier(old_tier) \
            and perf.tier_rank(new_tier) < perf.tier_rank(old_tier):
        bookkeeping["last_tier_downgrade"] = now


def _forget_op(sim, op):
    disk = sim.store.get(op.args["id"])
    if disk is not None:
        private(disk).pop("op", None)


def finish_create(sim, op):
    _forget_op(sim, op)
    lro_finish.settle(sim, op)


def finish_delete(sim, op):
    _forget_op(sim, op)
    lro_finish.remove(sim, op)


def register_finishers(sim):
    sim.ops.register_finisher("disk.create", finish_create)
    sim.ops.register_finisher("disk.update", finish_update)
    sim.ops.register_finisher("disk.delete", finish_delete)
