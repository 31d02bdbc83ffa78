# Copyright: (c) 2026, goldenimage.azure contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Managed (custom) images and Azure Compute Gallery image versions: read, pick a version, describe.

Imported by ``_image_sources.Resolver`` only when such an image is asked for, so a Marketplace-only
task does not load (or, inside an AnsiballZ payload, compile) this code.

Gallery ``latest`` follows Azure: the numerically highest version that is not excluded from latest
(``publishingProfile.excludeFromLatest`` or the target region's ``excludeFromLatest``), whose
provisioning succeeded and, when a location is given, that is replicated there (``Completed``).
A prefix or glob picks the same way among matching versions; an exact version is taken as it is.
"""

from __future__ import annotations

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils import _encryption
from ansible_collections.goldenimage.azure.plugins.module_utils._resource_id import IMAGE_ID
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import normalize_location
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_wire import replication_state as _replication_state
from ansible_collections.goldenimage.azure.plugins.module_utils._marketplace import (
    _suggestion,
    arm_get,
    arm_list,
    features_from_wire,
    float_hint,
    float_message,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._versions import VersionSpec, sort_versions

IMAGES_API = "2024-11-01"
GALLERY_API = "2024-03-03"
GROUPS_API = "2021-04-01"
# Gallery candidates whose replication is checked before giving up on "latest".
_GALLERY_CANDIDATES = 5


# -- managed images ---------------------------------------------------------------------------------------

def _group_path(sub, rg):
    return "/subscriptions/%s/resourceGroups/%s" % (sub, rg)


def _missing_parent(client, sub, rg, operation):
    """Raise a clear error when the resource group itself does not exist (suggesting close names)."""
    group = arm_get(client, _group_path(sub, rg), GROUPS_API, "get resource group %s" % rg, missing_ok=True)
    if group is None:
        groups = arm_list(client, "/subscriptions/%s/resourcegroups" % sub, GROUPS_API, "list resource groups")
        names = [item.get("name") for item in groups if item.get("name")]
        raise AzureError("Resource group '%s' does not exist. %s" % (rg, _suggestion("resource groups", rg, names)),
                         status_code=404, code="ResourceGroupNotFound", operation=operation)


def _by_lun(items):
    return sorted(items, key=lambda item: item["lun"] if isinstance(item.get("lun"), int) else -1)


def managed_image_data_disks(storage):
    """A managed image's ``storageProfile.dataDisks`` as image_facts reports them (by LUN)."""
    out = []
    for item in storage.get("dataDisks") or []:
        source = ((item.get("managedDisk") or {}).get("id") or (item.get("snapshot") or {}).get("id")
                  or item.get("blobUri"))
        out.append({"lun": item.get("lun"), "size_gb": item.get("diskSizeGB"), "caching": item.get("caching"),
                    "storage_account_type": item.get("storageAccountType"), "source": source})
    return _by_lun(out)


def gallery_data_disks(version_body):
    """A gallery version's ``storageProfile.dataDiskImages`` as image_facts reports them (by LUN).

    A gallery keeps one storage type per replica, not per disk: ``storage_account_type`` is the version's region's
    (``publishingProfile.targetRegions``), else the version-wide one."""
    props = version_body.get("properties") or {}
    storage = props.get("storageProfile") or {}
    profile = props.get("publishingProfile") or {}
    region = _region_entry(profile, version_body.get("location")) if version_body.get("location") else None
    account = (region or {}).get("storageAccountType") or profile.get("storageAccountType")
    out = []
    for item in storage.get("dataDiskImages") or []:
        source = item.get("source") or {}
        out.append({"lun": item.get("lun"), "size_gb": item.get("sizeInGB"), "caching": item.get("hostCaching"),
                    "storage_account_type": account, "source": source.get("id") or source.get("uri")})
    return _by_lun(out)


def managed_image_details(body, requested=None):
    props = body.get("properties") or {}
    storage = props.get("storageProfile") or {}
    os_disk = storage.get("osDisk") or {}
    rid = body.get("id") or ""
    match = IMAGE_ID.match(rid)
    return {
        "source": "managed_image",
        "requested": requested or rid,
        "id": rid,
        "name": body.get("name"),
        "resource_group": match.group("rg") if match else None,
        "location": body.get("location"),
        "image_reference": {"id": rid},
        "os_type": os_disk.get("osType"),
        "os_state": os_disk.get("osState"),
        "hyper_v_generation": props.get("hyperVGeneration") or "V1",
        "architecture": "x64",  # managed images cannot be Arm64
        "os_disk_size_gb": os_disk.get("diskSizeGB"),
        "os_disk_blob_uri": os_disk.get("blobUri"),
        "data_disk_images": managed_image_data_disks(storage),
        "zone_resilient": storage.get("zoneResilient"),
        "source_virtual_machine_id": (props.get("sourceVirtualMachine") or {}).get("id"),
        "provisioning_state": props.get("provisioningState"),
        "tags": body.get("tags") or {},
    }


def resolve_managed_image(client, subscription_id, resource_group, name, location=None, requested=None):
    operation = "get managed image %s/%s" % (resource_group, name)
    path = _group_path(subscription_id, resource_group) + "/providers/Microsoft.Compute/images/%s" % name
    body = arm_get(client, path, IMAGES_API, operation, missing_ok=True)
    if body is None:
        _missing_parent(client, subscription_id, resource_group, operation)
        names = [item.get("name") for item in arm_list(
            client, _group_path(subscription_id, resource_group) + "/providers/Microsoft.Compute/images",
            IMAGES_API, "list managed images in %s" % resource_group) if item.get("name")]
        raise AzureError("Managed image '%s' does not exist in resource group '%s'. %s"
                         % (name, resource_group, _suggestion("managed images", name, names)),
                         status_code=404, code="ResourceNotFound", operation=operation)
    details = managed_image_details(body, requested)
    details["encryption"] = _encryption.managed_image_encryption(body)  # customer-managed keys or platform keys
    details["warnings"] = _location_warnings(details, location)
    state = details["provisioning_state"]
    if state and state != "Succeeded":
        details["warnings"].append("Managed image %s is in provisioning state %s." % (details["id"], state))
    return details


def _location_warnings(details, location):
    if location and details.get("location") and normalize_location(details["location"]) != normalize_location(location):
        return ["Image %s is in %s, not in %s: a VM in %s cannot use it."
                % (details["id"], details["location"], location, location)]
    return []


# -- gallery images ---------------------------------------------------------------------------------------

def _region_entry(profile, location):
    for region in profile.get("targetRegions") or []:
        if normalize_location(region.get("name")) == normalize_location(location):
            return region
    return None


def excluded_from_latest(version_body, location=None):
    """Azure's rule: the version-wide flag, or the flag of the target region being deployed to."""
    profile = (version_body.get("properties") or {}).get("publishingProfile") or {}
    if profile.get("excludeFromLatest"):
        return True
    if location:
        region = _region_entry(profile, location)
        if region is not None and region.get("excludeFromLatest"):
            return True
    return False


def gallery_details(definition, version_body, requested=None):
    dprops = definition.get("properties") or {}
    vprops = version_body.get("properties") or {}
    profile = vprops.get("publishingProfile") or {}
    storage = vprops.get("storageProfile") or {}
    os_disk = storage.get("osDiskImage") or {}
    identifier = dprops.get("identifier") or {}
    replication = vprops.get("replicationStatus") or {}
    plan = dprops.get("purchasePlan")
    rid = version_body.get("id") or ""
    match = IMAGE_ID.match(rid)
    return {
        "source": "gallery_image",
        "requested": requested or rid,
        "id": rid,
        "definition_id": definition.get("id"),
        "resource_group": match.group("rg") if match else None,
        "gallery": match.group("gallery") if match else None,
        "name": definition.get("name"),
        "version": version_body.get("name"),
        "location": version_body.get("location"),
        "image_reference": {"id": rid},
        "os_type": dprops.get("osType"),
        "os_state": dprops.get("osState"),
        "hyper_v_generation": dprops.get("hyperVGeneration") or "V1",
        "architecture": dprops.get("architecture") or "x64",
        "features": features_from_wire(dprops.get("features")),
        "identifier": {"publisher": identifier.get("publisher"), "offer": identifier.get("offer"),
                       "sku": identifier.get("sku")},
        "plan": ({"name": plan.get("name"), "publisher": plan.get("publisher"), "product": plan.get("product"),
                  "terms_required": True,
                  "terms_note": "This image carries a purchase plan: VMs need it and accepted Marketplace terms."}
                 if plan else None),
        "os_disk_size_gb": os_disk.get("sizeInGB"),
        "data_disk_images": gallery_data_disks(version_body),
        "exclude_from_latest": bool(profile.get("excludeFromLatest")),
        "end_of_life_date": profile.get("endOfLifeDate"),
        "published_date": profile.get("publishedDate"),
        "target_regions": [
            {"name": region.get("name"), "regional_replica_count": region.get("regionalReplicaCount"),
             "storage_account_type": region.get("storageAccountType"),
             "exclude_from_latest": bool(region.get("excludeFromLatest"))}
            for region in profile.get("targetRegions") or []],
        "replication": {
            "aggregated_state": replication.get("aggregatedState"),
            "regions": {item.get("region"): item.get("state") for item in replication.get("summary") or []},
        } if replication else None,
        "provisioning_state": vprops.get("provisioningState"),
        "tags": version_body.get("tags") or {},
    }


def resolve_gallery_image(client, subscription_id, resource_group, gallery, name, version="latest", location=None,
                          requested=None):
    spec = VersionSpec(version)
    base = _group_path(subscription_id, resource_group) + "/providers/Microsoft.Compute/galleries/%s" % gallery
    shown = requested or "%s/%s/%s/%s" % (resource_group, gallery, name, spec.text)
    operation = "resolve gallery image %s" % shown
    definition = arm_get(client, base + "/images/%s" % name, GALLERY_API, "get gallery image %s/%s" % (gallery, name),
                         missing_ok=True)
    if definition is None:
        _gallery_not_found(client, subscription_id, resource_group, gallery, name, operation)
    versions_path = base + "/images/%s/versions" % name
    expand = {"$expand": "ReplicationStatus"}
    if spec.is_exact:
        body = arm_get(client, versions_path + "/" + spec.text, GALLERY_API, operation, query=expand, missing_ok=True)
        if body is None:
            names = [item.get("name") for item in arm_list(client, versions_path, GALLERY_API, operation)]
            raise AzureError("Gallery image %s/%s has no version '%s'. %s%s Newest: %s."
                             % (gallery, name, spec.text, _suggestion("versions", spec.text, names),
                                float_hint(spec.text, names),
                                ", ".join(sort_versions(names, reverse=True)[:3]) or "none"),
                             status_code=404, code="ResourceNotFound", operation=operation)
    else:
        items = arm_list(client, versions_path, GALLERY_API, operation)
        by_name = {item.get("name"): item for item in items if item.get("name")}
        skipped = {}
        candidates = []
        for vname in sort_versions(by_name, reverse=True):
            item = by_name[vname]
            if not spec.matches(vname):
                continue
            state = (item.get("properties") or {}).get("provisioningState")
            if state != "Succeeded":
                skipped[vname] = "provisioning state %s" % state
            elif excluded_from_latest(item, location):
                skipped[vname] = "excluded from latest"
            elif location and _region_entry((item.get("properties") or {}).get("publishingProfile") or {},
                                            location) is None:
                skipped[vname] = "not replicated to %s" % location
            else:
                candidates.append(vname)
        body = None
        for vname in candidates[:_GALLERY_CANDIDATES]:
            full = arm_get(client, versions_path + "/" + vname, GALLERY_API, operation, query=expand, missing_ok=True)
            if full is None:
                skipped[vname] = "deleted while reading"
                continue
            if location:
                state = _replication_state(full, location)
                if state is not None and state != "Completed":
                    skipped[vname] = "replication to %s is %s" % (location, state)
                    continue
            body = full
            break
        if body is None:
            why = "; ".join("%s: %s" % (key, skipped[key]) for key in sort_versions(skipped, reverse=True)[:5])
            raise AzureError("Gallery image %s/%s has no version matching '%s'%s. %s"
                             % (gallery, name, spec.text, " usable in %s" % location if location else "",
                                ("Skipped: %s." % why) if why else "It has no versions."),
                             status_code=404, code="ResourceNotFound", operation=operation)
    details = gallery_details(definition, body, requested=shown)
    details["encryption"] = _encryption.gallery_version_encryption(body)  # per target region
    details["version_spec"] = spec.text
    details["warnings"] = []
    if location and _region_entry((body.get("properties") or {}).get("publishingProfile") or {}, location) is None:
        details["warnings"].append("Gallery image version %s is not replicated to %s." % (details["id"], location))
    return details


def gallery_float_versions(client, subscription_id, resource_group, gallery, name, number):
    """Raise the AzureError for a gallery version that YAML read as a number, naming the versions it could mean."""
    base = _group_path(subscription_id, resource_group) + "/providers/Microsoft.Compute/galleries/%s" % gallery
    operation = "resolve gallery image %s/%s/%s/%s" % (resource_group, gallery, name, number)
    definition = arm_get(client, base + "/images/%s" % name, GALLERY_API, "get gallery image %s/%s" % (gallery, name),
                         missing_ok=True)
    if definition is None:
        _gallery_not_found(client, subscription_id, resource_group, gallery, name, operation)
    names = [item.get("name") for item in arm_list(client, base + "/images/%s/versions" % name, GALLERY_API, operation)
             if item.get("name")]
    raise AzureError(float_message(number, names, "gallery image %s/%s" % (gallery, name), "gallery_image.version"),
                     code="VersionIsNumber")  # the message names the parameter


def _gallery_not_found(client, sub, rg, gallery, name, operation):
    _missing_parent(client, sub, rg, operation)
    galleries_path = _group_path(sub, rg) + "/providers/Microsoft.Compute/galleries"
    found = arm_get(client, galleries_path + "/" + gallery, GALLERY_API, "get gallery %s" % gallery, missing_ok=True)
    if found is None:
        names = [item.get("name") for item in arm_list(client, galleries_path, GALLERY_API, "list galleries")]
        raise AzureError("Gallery '%s' does not exist in resource group '%s'. %s"
                         % (gallery, rg, _suggestion("galleries", gallery, names)),
                         status_code=404, code="ResourceNotFound", operation=operation)
    names = [item.get("name") for item in arm_list(client, galleries_path + "/" + gallery + "/images", GALLERY_API,
                                                   "list gallery images")]
    raise AzureError("Gallery '%s' has no image definition '%s'. %s"
                     % (gallery, name, _suggestion("image definitions", name, names)),
                     status_code=404, code="ResourceNotFound", operation=operation)
