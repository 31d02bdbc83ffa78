"""The snapshot model (DiskRP): ``.../providers/Microsoft.Compute/snapshots/{name}`` (routes: ``routes.py``).

- PUT create: 202 + Azure-AsyncOperation (DiskOperations) + Location on the snapshot itself, body
  ``provisioningState: Updating`` - azure-mgmt-compute 39 accepts 200/202 only, like disks.
  ``creationData``: Copy/CopyStart from a disk or snapshot (``sourceResourceId``; OS type, Hyper-V
  generation, size, capabilities come from the source) or Import from a VHD (``sourceUri`` +
  ``storageAccountId``). ``incremental`` snapshots join the source disk's snapshot family.
- PUT on an existing snapshot updates tags/SKU (200); ``creationData`` cannot change (409).
- GET, list per resource group and per subscription, PATCH (tags, SKU, size; 200).
- DELETE: 202 + Azure-AsyncOperation + Location, 204 when absent.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from ...core.errors import ArmError, invalid_parameter, missing_property
from . import rules as disk_rules
from .models import copy_source
from ...core.resource import GroupResource, validate_location

SNAPSHOT_TYPE = "Microsoft.Compute/snapshots"
DISK_TYPE = "Microsoft.Compute/disks"
SKUS = {"standard_lrs": ("Standard_LRS", "Standard"), "premium_lrs": ("Premium_LRS", "Premium"),
        "standard_zrs": ("Standard_ZRS", "Standard")}
VHD_URI = re.compile(r"^https://[a-z0-9]{3,24}\.blob\.core\.windows\.net/[a-z0-9$][a-z0-9-]{1,62}/\S+\.vhd$", re.IGNORECASE)
GIB = 1024 ** 3
DEFAULT_IMPORT_SIZE_GB = 30  # the simulator cannot read a VHD's size; without diskSizeGB this is used
# Facts a copy inherits from its source disk or snapshot.
INHERITED = ("osType", "hyperVGeneration", "supportedCapabilities", "securityProfile", "purchasePlan",
             "supportsHibernation")


SNAPSHOTS = GroupResource(SNAPSHOT_TYPE, "snapshotName", monitor="disk")


def _sku(request_sku):
    name = (request_sku or {}).get("name") or "Standard_LRS"
    found = SKUS.get(str(name).lower())
    if found is None:
        raise invalid_parameter(f"The value '{name}' of parameter 'sku.name' is not allowed. Allowed values are "
                                "Standard_LRS, Premium_LRS, Standard_ZRS.", target="sku.name")
    return {"name": found[0], "tier": found[1]}


def _copy_source(sim, creation, location, option):
    source = copy_source(sim, creation)
    if option == "Copy" and source["location"] != location:
        raise invalid_parameter(f"The source '{source['id']}' is in region '{source['location']}'; a snapshot in "
                                f"'{location}' copies across regions with createOption 'CopyStart'.",
                                target="creationData.sourceResourceId")
    return source


def build(req, request):
    name = req.params["snapshotName"]
    disk_rules.check_name("Snapshot", name, "snapshotName")
    location = validate_location(req.sim, request.get("location"))
    props = request.get("properties") or {}
    creation = props.get("creationData") or {}
    if not creation.get("createOption"):
        raise missing_property("creationData")
    option = {"copy": "Copy", "copystart": "CopyStart", "import": "Import"}.get(str(creation["createOption"]).lower())
    if option is None:
        raise invalid_parameter(f"The createOption '{creation['createOption']}' is not supported for snapshots; use Copy, "
                                "CopyStart or Import.", target="creationData.createOption")
    incremental = bool(props.get("incremental", False))
    built = {}
    if option == "Import":
        uri = creation.get("sourceUri")
        if not uri:
            raise missing_property("creationData.sourceUri")
        if not VHD_URI.match(uri):
            raise invalid_parameter(f"The source URI '{uri}' is not a VHD page blob URI "
                                    "(https://<account>.blob.core.windows.net/<container>/<name>.vhd).",
                                    target="creationData.sourceUri")
        if not creation.get("storageAccountId"):
            raise missing_property("creationData.storageAccountId")
        data = {"createOption": "Import", "sourceUri": uri, "storageAccountId": creation["storageAccountId"]}
        size = props.get("diskSizeGB") or DEFAULT_IMPORT_SIZE_GB
        for key in ("osType", "hyperVGeneration"):
            if props.get(key):
                built[key] = props[key]
    else:
        source = _copy_source(req.sim, creation, location, option)
        source_props = source["properties"]
        data = {"createOption": option, "sourceResourceId": source["id"], "sourceUniqueId": source_props.get("uniqueId")}
        size = source_props.get("diskSizeGB")
        built["_size_bytes"] = source_props.get("diskSizeBytes")  # a snapshot of an upload keeps its exact size
        built.update({key: source_props[key] for key in INHERITED if source_props.get(key) is not None})
        if incremental:
            # Every incremental snapshot of one disk shares the disk's family id.
            family = source_props.get("incrementalSnapshotFamilyId") or source_props.get("uniqueId")
            built["incrementalSnapshotFamilyId"] = family
    built.update({
        "creationData": data,
        "diskSizeGB": size,
        "diskSizeBytes": int(built.pop("_size_bytes", None) or int(size) * GIB),
        "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
        "incremental": incremental,
        "networkAccessPolicy": props.get("networkAccessPolicy", "AllowAll"),
        "publicNetworkAccess": props.get("publicNetworkAccess", "Enabled"),
        "timeCreated": dt.datetime.now(dt.timezone.utc).isoformat(),
        "diskState": "Unattached",
        "uniqueId": str(uuid.uuid4()),
        "provisioningState": "Updating",
    })
    return {
        "id": SNAPSHOTS.id(req),
        "name": name,
        "type": SNAPSHOT_TYPE,
        "location": location,
        "tags": request.get("tags") or {},
        "sku": _sku(request.get("sku")),
        "properties": built,
    }


def update(snapshot, update):
    """Tags, SKU and a larger size: what SnapshotUpdate may change."""
    props = update.get("properties") or {}
    size = props.get("diskSizeGB")
    if size is not None and size < snapshot["properties"]["diskSizeGB"]:
        raise ArmError(400, "BadRequest", f"Disk size reduction is not supported: the snapshot is "
                       f"{snapshot['properties']['diskSizeGB']} GB, the request asks for {size} GB.", target="diskSizeGB")
    if "tags" in update:
        snapshot["tags"] = update["tags"] or {}
    if update.get("sku"):
        snapshot["sku"] = _sku(update["sku"])
    if size is not None:
        snapshot["properties"]["diskSizeGB"] = size
        snapshot["properties"]["diskSizeBytes"] = int(size) * GIB

