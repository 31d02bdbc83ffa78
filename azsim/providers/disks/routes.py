"""Managed disks (DiskRP): ``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{disk}``.

- PUT creates (Empty, Copy from a disk or snapshot, FromImage) or updates: always 202 + Azure-AsyncOperation
  + Location on the disk itself; the SDK rejects 201 for disks (wire reference 0.2, 4).
- PATCH: 200 for a tags-only change, otherwise 202 with ``provisioningState: Updating`` and
  ``propertyUpdatesInProgress`` until the operation finishes (wire reference 4.2). Rules: ``rules.py``.
- DELETE: only an unattached disk without an active SAS (409 OperationNotAllowed otherwise); 202 + monitors, 204
  if absent.
- POST ``beginGetAccess`` / ``endGetAccess`` on disks and snapshots: 202 + Azure-AsyncOperation + Location; the
  Location's final 200 is the AccessUri ``{"accessSAS": ...}``. State rules: ``access.py``; the SAS URL's data plane
  (Put Page, Get Blob): ``dataplane.py``, its bytes ``blobdata.py``. A Copy (disk or snapshot) copies the bytes.
- Every body carries the derived read-only values (``performance.derive``).

The disk model (bodies, rules, finishers) is in ``models.py``, ``rules.py`` and ``performance.py``.
"""

from __future__ import annotations

from ...core import lro_finish
from ...core.errors import ArmError, missing_property, property_change_not_allowed
from ...core.request import Reply
from ...core.resource import validate_location
from ...core.store import private, public
from . import access, blobdata, dataplane, rules, snapshots
from . import encryption_sets as des
from ..guests import filesystems
from . import performance as perf
from .models import (DISKS, PLAIN_PROPERTIES, busy, creation_source, in_progress_error, new_disk, put_as_update,
                     register_finishers, validated_changes)


# -- handlers --------------------------------------------------------------------------------------
def put_disk(req):
    existing = DISKS.existing(req)
    body = req.json()
    if existing is not None:
        return _update(req, existing, put_as_update(existing, body))
    disk = _build_disk(req, body)
    private(disk)["op"] = "create"
    disk["properties"]["provisioningState"] = "Updating"
    req.sim.store.put(disk)
    _copy_bytes(req.sim, disk)
    _disk_filesystem(req.sim, disk)
    reply_body = public(disk)
    op = DISKS.start(req, "disk.create", disk)
    if not op.done:
        private(disk)["op"] = op.id
    return Reply(202, reply_body, req.sim.ops.headers(req, op, location_url=DISKS.url(req)))


def _build_disk(req, body):
    name = req.params["diskName"]
    rules.check_name("Disk", name, "diskName")
    location = validate_location(req.sim, body.get("location"))
    props = body.get("properties") or {}
    sku = rules.check_sku((body.get("sku") or {}).get("name") or "Standard_LRS")
    creation = props.get("creationData")
    if not creation or not creation.get("createOption"):
        raise missing_property("creationData")
    option = creation["createOption"]
    size = props.get("diskSizeGB")
    source = creation_source(req.sim, option, creation, location, sku)
    if option.lower() == "empty":
        if size is None:
            raise missing_property("diskSizeGB")
    elif size is None:
        size = source["size_gb"]
    elif size < source["size_gb"]:
        raise ArmError(400, "BadRequest", f"The specified disk size {size} GB is smaller than the size of the source: "
                       f"{source['size_gb']} GB.", target="diskSizeGB")
    rules.check_size(sku, size)
    os_type = props.get("osType") or source.get("os_type")
    rules.check_data_disk_only(name, sku, os_type)
    if props.get("tier"):
        rules.check_tier(name, sku, size, props["tier"])
    rules.check_performance(name, sku, size, props.get("diskIOPSReadWrite"), props.get("diskMBpsReadWrite"))
    rules.check_bursting(name, sku, size, props.get("burstingEnabled"))
    extra = {key: props[key] for key in PLAIN_PROPERTIES + ("tier", "diskIOPSReadWrite", "diskMBpsReadWrite",
                                                           "burstingEnabled") if key in props and key != "osType"}
    if source.get("disk_state"):
        extra["diskState"] = source["disk_state"]
    extra["encryption"] = des.disk_encryption(req.sim, props.get("encryption"), location)
    disk = new_disk(disk_id=DISKS.id(req), location=location, sku=sku, size_gb=size,
                    creation_data=source["creation_data"], os_type=os_type,
                    hyper_v_generation=props.get("hyperVGeneration") or source.get("hyper_v_generation"),
                    architecture=source.get("architecture"), tags=body.get("tags"), zones=body.get("zones"),
                    security_type=((props.get("securityProfile") or {}).get("securityType")), extra=extra)
    if source.get("size_bytes") and size == source["size_gb"]:
        private(disk)["size_bytes"] = source["size_bytes"]  # an upload's exact size, or its copy's
        perf.derive(disk)
    return disk


def patch_disk(req):
    disk = DISKS.or_404(req, DISKS.existing(req))
    return _update(req, disk, req.json())


def _update(req, disk, update):
    if busy(req.sim, disk):
        raise in_progress_error(disk)
    changes = validated_changes(req.sim, disk, update)
    if "tags" in update:
        disk["tags"] = update["tags"] or {}
    if not changes:  # tags only: applied at once
        req.sim.store.touch()
        return Reply(200, public(disk))
    props = disk["properties"]
    props["provisioningState"] = "Updating"
    if "tier" in changes and changes["tier"] != props.get("tier"):
        props["propertyUpdatesInProgress"] = {"targetTier": changes["tier"]}
    private(disk)["op"] = "update"
    req.sim.store.touch()
    reply_body = public(disk)
    op = req.sim.ops.start(req, "disk.update", args={"id": disk["id"], "changes": changes}, duration="disk.update",
                           location=disk["location"], kind="disk")
    if not op.done:
        private(disk)["op"] = op.id
    return Reply(202, reply_body, req.sim.ops.headers(req, op, location_url=DISKS.url(req)))


def delete_disk(req):
    disk = req.sim.store.get(DISKS.id(req))
    if disk is None:
        return Reply(204)
    if disk.get("managedBy"):
        raise ArmError(409, "OperationNotAllowed", f"Disk {disk['name']} is attached to VM {disk['managedBy']}.")
    if busy(req.sim, disk):
        raise in_progress_error(disk)
    access.check_delete(disk)
    private(disk)["op"] = "delete"
    op = DISKS.start(req, "disk.delete", disk)
    if not op.done:
        private(disk)["op"] = op.id
    return Reply(202, None, req.sim.ops.headers(req, op, location=True))


def register(sim):
    DISKS.register(sim, put_disk, patch_disk, delete_disk)
    register_finishers(sim)
    register_snapshots(sim)
    register_access(sim)
    register_encryption_sets(sim)
    dataplane.install(sim)


# -- access: grant/revoke a SAS (rules: access.py) ---------------------------------------------------
def _copy_bytes(sim, target):
    """A Copy of a disk or snapshot starts with its source's bytes."""
    source_id = (target["properties"].get("creationData") or {}).get("sourceResourceId")
    source = sim.store.get(source_id) if source_id else None
    if source is not None:
        sim.extensions["disk_blobs"].copy(source, target)


def _disk_filesystem(sim, disk):
    """A disk copied from a snapshot or disk, or made from a gallery version, keeps the guest filesystem its source
    carries (azsim/docs/image-filesystems.md): a version or snapshot made from the disk then has it too."""
    creation = disk["properties"].get("creationData") or {}
    source_id = (creation.get("sourceResourceId") or (creation.get("galleryImageReference") or {}).get("id")
                 or (creation.get("imageReference") or {}).get("id"))
    if source_id:
        filesystems.inherit(disk, sim.store.get(source_id))


def _begin_access(req, kind, grant):
    resource = kind.or_404(req, kind.existing(req))
    if kind is DISKS and busy(req.sim, resource):
        raise in_progress_error(resource)
    args = {"id": resource["id"], "base_url": req.base_url}
    if grant:
        args["access"], args["duration"] = access.parse_grant(req.json())
        access.check_grant(resource, args["access"])
    finisher = "disk.grant_access" if grant else "disk.revoke_access"
    op = req.sim.ops.start(req, finisher, args=args, duration=finisher, location=resource["location"], kind="disk")
    return Reply(202, None, req.sim.ops.headers(req, op, location=True))


def grant_access(kind):
    return lambda req: _begin_access(req, kind, grant=True)


def revoke_access(kind):
    return lambda req: _begin_access(req, kind, grant=False)


def finish_grant(sim, op):
    resource = sim.store.get(op.args["id"])
    if resource is None or op.status != "Succeeded":
        return
    access.check_grant(resource, op.args["access"])  # the state may have moved since the request
    record = access.apply_grant(resource, op.args["access"], op.args["duration"], sim.clock.time())
    sim.extensions["disk_blobs"].ensure(resource)
    op.result = {"accessSAS": blobdata.sas_url(op.args["base_url"], sim.token_key, resource, record)}
    sim.store.touch()


def finish_revoke(sim, op):
    resource = sim.store.get(op.args["id"])
    if resource is not None and op.status == "Succeeded":
        access.apply_revoke(resource)
        sim.store.touch()


def register_access(sim):
    for kind in (DISKS, snapshots.SNAPSHOTS):
        sim.router.add("POST", kind.item_template + "/beginGetAccess", grant_access(kind))
        sim.router.add("POST", kind.item_template + "/endGetAccess", revoke_access(kind))
    sim.ops.register_finisher("disk.grant_access", finish_grant)
    sim.ops.register_finisher("disk.revoke_access", finish_revoke)


# -- snapshots (the model: snapshots.py) ------------------------------------------------------------
def put_snapshot(req):
    existing = snapshots.SNAPSHOTS.existing(req)
    request = req.json()
    if existing is not None:
        creation = (request.get("properties") or {}).get("creationData") or {}
        stored = existing["properties"]["creationData"]
        for key in ("createOption", "sourceResourceId", "sourceUri"):
            if creation.get(key) and str(creation[key]).lower() != str(stored.get(key, "")).lower():
                raise property_change_not_allowed("creationData")
        snapshots.update(existing, {"tags": request.get("tags") or {}, "sku": request.get("sku"),
                                    "properties": {"diskSizeGB": (request.get("properties") or {}).get("diskSizeGB")}})
        req.sim.store.touch()
        return Reply(200, public(existing))
    snapshot = snapshots.build(req, request)
    _snapshot_filesystem(req.sim, snapshot)
    req.sim.store.put(snapshot)
    _copy_bytes(req.sim, snapshot)
    reply_body = public(snapshot)
    op = snapshots.SNAPSHOTS.start(req, "snapshot.create", snapshot)
    return Reply(202, reply_body, req.sim.ops.headers(req, op, location_url=snapshots.SNAPSHOTS.url(req)))


def _snapshot_filesystem(sim, snapshot):
    """A snapshot of a generalized VM's OS disk keeps the VM's guest filesystem; a copy of a snapshot (or disk) that
    carries one keeps it too (azsim/docs/image-filesystems.md)."""
    source = sim.store.get(snapshot["properties"]["creationData"].get("sourceResourceId") or "/none")
    if source is None or filesystems.inherit(snapshot, source):
        return
    vm = sim.store.get(source.get("managedBy") or "/none")
    os_disk_id = (((vm or {}).get("properties", {}).get("storageProfile") or {}).get("osDisk") or {}).get(
        "managedDisk", {}).get("id") or ""
    if vm is not None and os_disk_id.lower() == source["id"].lower():
        filesystems.capture(sim, snapshot, vm)


def patch_snapshot(req):
    snapshot = snapshots.SNAPSHOTS.or_404(req, snapshots.SNAPSHOTS.existing(req))
    snapshots.update(snapshot, req.json())
    req.sim.store.touch()
    return public(snapshot)


def delete_snapshot(req):
    return snapshots.SNAPSHOTS.begin_delete(req, "snapshot.delete", check=lambda sim, body: access.check_delete(body))


def register_snapshots(sim):
    snapshots.SNAPSHOTS.register(sim, put_snapshot, patch_snapshot, delete_snapshot,
                                 finishers={"snapshot.create": lro_finish.settle, "snapshot.delete": lro_finish.remove})


# -- disk encryption sets (the model and the rules: encryption_sets.py) ------------------------------
def put_encryption_set(req):
    existing = des.ENCRYPTION_SETS.existing(req)
    body = req.json()
    location = validate_location(req.sim, body.get("location"))
    des.ENCRYPTION_SETS.check_location(existing, location)
    stored = des.build(req.sim, des.ENCRYPTION_SETS.id(req), location, body, existing)
    stored["properties"]["provisioningState"] = "Updating"
    req.sim.store.put(stored)
    reply_body = public(stored)
    op = des.ENCRYPTION_SETS.start(req, "des.write", stored, duration="disk.update")
    return Reply(202, reply_body, req.sim.ops.headers(req, op, location_url=des.ENCRYPTION_SETS.url(req)))


def patch_encryption_set(req):
    existing = des.ENCRYPTION_SETS.or_404(req, des.ENCRYPTION_SETS.existing(req))
    update = req.json()
    merged = {"location": existing["location"], "tags": update.get("tags", existing.get("tags")),
              "identity": update.get("identity") or existing.get("identity"),
              "properties": {**public(existing)["properties"], **(update.get("properties") or {})}}
    stored = des.build(req.sim, existing["id"], existing["location"], merged, existing)
    req.sim.store.put(stored)
    return Reply(200, public(stored))


def delete_encryption_set(req):
    return des.ENCRYPTION_SETS.begin_delete(req, "des.delete", duration="disk.delete", check=des.check_delete)


def register_encryption_sets(sim):
    des.ENCRYPTION_SETS.register(sim, put_encryption_set, patch_encryption_set, delete_encryption_set,
                                 finishers={"des.write": lro_finish.settle, "des.delete": lro_finish.remove})
