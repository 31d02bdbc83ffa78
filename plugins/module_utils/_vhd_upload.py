# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: a local fixed VHD becomes a managed disk through Azure's direct upload (disk_upload).

Flow: check the VHD file (footer, type, checksum, 1 MiB alignment: ``_vhd.inspect_vhd``) -> read the disk ->
decide (nothing to do / create / resume an unfinished upload / refuse) -> PUT the disk with
``createOption: Upload`` and ``uploadSizeBytes`` -> ``beginGetAccess`` Write for a SAS -> Put Page the file in
parallel (``_vhd_transfer.send_file``) -> ``endGetAccess`` (also after a failed transfer, so no write SAS stays
open) -> tag the disk with the file's digest (``goldenimage-vhd-digest``, ``_vhd.Digest``).

The tag is written last: a disk carrying it holds that file completely, so a re-run with the same file is
``changed: false``. A disk that is still ReadyToUpload/ActiveUpload with the same upload size is resumed (zero
ranges are cleared rather than skipped, since an earlier attempt may have written there). Anything else with
the name is refused unless ``force``, which deletes it and uploads anew. Nothing is written before the VHD
checks pass, and nothing at all in check mode.
"""

from __future__ import annotations

from ansible_collections.goldenimage.azure.plugins.module_utils import _vmstate as vmstate
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
    azure_call,
    retry_action,
    wait_for,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._vhd import file_digest, inspect_vhd
from ansible_collections.goldenimage.azure.plugins.module_utils._vhd_sas import SasBlob
from ansible_collections.goldenimage.azure.plugins.module_utils._vhd_transfer import Progress, send_file

CHECKSUM_TAG = "goldenimage-vhd-digest"
UPLOAD_STATES = ("ReadyToUpload", "ActiveUpload")
SKUS = ("Standard_LRS", "StandardSSD_LRS", "StandardSSD_ZRS", "Premium_LRS", "Premium_ZRS")
MAX_THREADS = 32


def disk_facts(disk):
    """What the modules report about a disk or snapshot (wire dict in, snake_case out)."""
    if not disk:
        return {}
    p = vmstate.props(disk)
    creation = p.get("creationData") or {}
    parsed = vmstate.parse_resource_id(disk["id"])
    return {
        "id": disk["id"], "name": disk["name"], "resource_group": parsed["resource_group"],
        "location": disk.get("location"), "sku": (disk.get("sku") or {}).get("name"),
        "size_gb": p.get("diskSizeGB"), "size_bytes": p.get("diskSizeBytes"), "disk_state": p.get("diskState"),
        "create_option": creation.get("createOption"), "upload_size_bytes": creation.get("uploadSizeBytes"),
        "os_type": p.get("osType"), "hyper_v_generation": p.get("hyperVGeneration"),
        "provisioning_state": p.get("provisioningState"), "tags": dict(disk.get("tags") or {}),
    }


def check_options(threads, sku, os_type, hyper_v_generation):
    if not 1 <= int(threads) <= MAX_THREADS:
        raise AzureError("threads: %s is not between 1 and %d" % (threads, MAX_THREADS), code="InvalidParameter")
    if sku not in SKUS:
        raise AzureError("sku: '%s' is not one of %s" % (sku, ", ".join(SKUS)), code="InvalidParameter")
    if os_type not in (None, "Linux", "Windows"):
        raise AzureError("os_type: '%s' is not Linux or Windows" % os_type, code="InvalidParameter")
    if hyper_v_generation not in ("V1", "V2"):
        raise AzureError("hyper_v_generation: '%s' is not V1 or V2" % hyper_v_generation, code="InvalidParameter")


def _get_disk(compute, resource_group, name):
    return vmstate.wire(vmstate.get_or_none("get disk '%s' in resource group '%s'" % (name, resource_group),
                                            compute.disks.get, resource_group, name))


def decide(disk, vhd, checksum, force):
    """'none' | 'create' | 'resume' | 'replace' for this disk and file; AzureError when it may not go on."""
    if disk is None:
        return "create"
    facts = disk_facts(disk)
    if facts["tags"].get(CHECKSUM_TAG) == checksum and facts["disk_state"] not in UPLOAD_STATES:
        return "none"
    if facts["disk_state"] in UPLOAD_STATES and facts["upload_size_bytes"] == vhd["upload_size_bytes"]:
        return "resume"
    if force:
        return "replace"
    recorded = facts["tags"].get(CHECKSUM_TAG)
    why = ("holds another VHD (%s %s, this file %s)" % (CHECKSUM_TAG, recorded, checksum) if recorded else
           "was not made by a finished disk_upload of this file (state %s, no %s tag)"
           % (facts["disk_state"], CHECKSUM_TAG))
    raise AzureError("name: disk '%s' in resource group '%s' exists and %s; choose another name, or set force=true "
                     "to delete it and upload this file" % (facts["name"], facts["resource_group"], why),
                     code="InvalidParameter")


def create_body(vhd, location, sku, os_type, hyper_v_generation, tags):
    props = {"creationData": {"createOption": "Upload", "uploadSizeBytes": vhd["upload_size_bytes"]},
             "hyperVGeneration": hyper_v_generation}
    if os_type:
        props["osType"] = os_type
    return {"location": location, "sku": {"name": sku}, "tags": dict(tags or {}), "properties": props}


def predicted(disk, vhd, checksum, body, resource_group, name):
    """The disk as it will be after the upload (for check and diff mode)."""
    if body is None:
        return disk_facts(disk)
    props = body["properties"]
    tags = dict(body["tags"], **{CHECKSUM_TAG: checksum}) if checksum else dict(body["tags"])
    return {"id": None, "name": name, "resource_group": resource_group, "location": body["location"],
            "sku": body["sku"]["name"], "size_gb": -(-vhd["virtual_size"] // (1024 ** 3)),
            "size_bytes": None, "disk_state": "Unattached", "create_option": "Upload",
            "upload_size_bytes": vhd["upload_size_bytes"], "os_type": props.get("osType"),
            "hyper_v_generation": props.get("hyperVGeneration"), "provisioning_state": "Succeeded", "tags": tags}


def upload_vhd(compute, resource_group, name, src, location=None, sku="Standard_LRS", os_type=None,
               hyper_v_generation="V2", tags=None, threads=4, force=False, check_mode=False, wait_timeout=1800,
               sas_duration=86400, verify=True, report=None):
    """Upload ``src`` as disk ``name``; returns the module result (changed, disk, vhd, upload, actions, diff)."""
    check_options(threads, sku, os_type, hyper_v_generation)
    vhd = inspect_vhd(src, "src")  # before any request: a bad file never reaches Azure
    disk = _get_disk(compute, resource_group, name)
    # The checksum is needed first only to compare with an existing disk; a new upload hashes as it reads.
    checksum = file_digest(src) if disk is not None else None
    action = decide(disk, vhd, checksum, force)
    vhd_facts = {"path": src, "size_bytes": vhd["file_size"], "virtual_size_bytes": vhd["virtual_size"],
                 "digest": checksum}
    result = {"changed": action != "none", "action": action, "vhd": vhd_facts, "actions": []}
    before = disk_facts(disk)
    if action == "none":
        result.update(disk=before, diff={"before": before, "after": before})
        return result
    body = None
    if action in ("create", "replace"):
        if not location:
            raise AzureError("location: required to create disk '%s' (e.g. the resource group's region)" % name,
                             code="InvalidParameter")
        body = create_body(vhd, location, sku, os_type, hyper_v_generation, tags)
    after = predicted(disk if action == "resume" else None, vhd, checksum, body, resource_group, name)
    if action == "resume":
        after = dict(after, disk_state="Unattached", tags=dict(after["tags"], **{CHECKSUM_TAG: checksum}))
    result["diff"] = {"before": before, "after": after}
    if check_mode:
        result["disk"] = after
        return result
    try:
        _write(compute, resource_group, name, src, vhd, action, body, threads, wait_timeout, sas_duration, verify,
               report, result)
    except AzureError as err:
        err.partial = {"changed": bool(result["actions"]), "actions": result["actions"], "vhd": vhd_facts,
                       "upload": result.get("upload")}
        raise
    return result


def _write(compute, resource_group, name, src, vhd, action, body, threads, wait_timeout, sas_duration, verify,
           report, result):
    actions = result["actions"]
    if action == "replace":
        operation = "delete disk '%s' to upload it again (force)" % name
        wait_for(retry_action(operation, compute.disks.begin_delete, resource_group, name, timeout=wait_timeout),
                 operation, wait_timeout)
        actions.append("delete")
    if body is not None:
        operation = "create upload disk '%s' (%d bytes)" % (name, vhd["upload_size_bytes"])
        wait_for(azure_call(operation, compute.disks.begin_create_or_update, resource_group, name, body),
                 operation, wait_timeout)
        actions.append("create")
    operation = "grant write access to disk '%s'" % name
    grant = wait_for(retry_action(operation, compute.disks.begin_grant_access, resource_group, name,
                                  {"access": "Write", "durationInSeconds": int(sas_duration)}, timeout=wait_timeout,
                                  repeatable=True),  # DiskRP grants the same access again (a new SAS)
                     operation, wait_timeout)
    actions.append("grant_write")
    blob = SasBlob(grant.access_sas, verify=verify, pool=threads)
    progress = Progress(vhd["file_size"], threads, report)
    try:
        digest = send_file(blob, src, threads, progress, clear_zeros=action == "resume",
                           want_digest=result["vhd"]["digest"] is None)
        actions.append("upload")
    finally:
        result["upload"] = progress.result()
        blob.close()
        operation = "revoke access to disk '%s' (finish the upload)" % name
        wait_for(retry_action(operation, compute.disks.begin_revoke_access, resource_group, name,
                              timeout=wait_timeout, repeatable=True), operation, wait_timeout)
        actions.append("revoke")
    checksum = result["vhd"]["digest"] = result["vhd"]["digest"] or digest
    current = _get_disk(compute, resource_group, name) or {}
    tags = dict(current.get("tags") or {}, **{CHECKSUM_TAG: checksum})
    operation = "tag disk '%s' with the VHD's checksum" % name
    updated = wait_for(retry_action(operation, compute.disks.begin_update, resource_group, name, {"tags": tags},
                                    timeout=wait_timeout), operation, wait_timeout)
    actions.append("tag")
    result["disk"] = disk_facts(vmstate.wire(updated) or _get_disk(compute, resource_group, name))
    result["diff"]["after"] = result["disk"]
