# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: a managed disk or snapshot becomes a local fixed VHD (disk_export).

Flow: read the disk or snapshot -> compare with what ``dest`` holds (nothing to do when its size, its digest
(``_vhd.Digest``) and the record next to it, ``<dest>.json``, match this source) -> ``beginGetAccess`` Read -> Get Blob
Properties for the size -> ranged GETs in parallel into ``<dest>.part`` (``_vhd_transfer.receive_file``;
sparse, bounded memory) -> check the result is a fixed VHD -> hash it -> move it to ``dest`` and write the
record -> ``endGetAccess``, also when anything before it failed.

The record (``{"digest", "size_bytes", "source_id", "source_unique_id"}``) is what makes a re-run
``changed: false``; when the source carries disk_upload's ``goldenimage-vhd-digest`` tag the export must match
it, or the task fails (the disk does not hold what was uploaded).
"""

from __future__ import annotations

import json
import os

from ansible_collections.goldenimage.azure.plugins.module_utils import _vmstate as vmstate
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError, retry_action, wait_for
from ansible_collections.goldenimage.azure.plugins.module_utils._vhd import FOOTER_SIZE, file_digest, inspect_vhd
from ansible_collections.goldenimage.azure.plugins.module_utils._vhd_sas import SasBlob
from ansible_collections.goldenimage.azure.plugins.module_utils._vhd_transfer import Progress, receive_file
from ansible_collections.goldenimage.azure.plugins.module_utils._vhd_upload import (
    CHECKSUM_TAG,
    MAX_THREADS,
    UPLOAD_STATES,
    disk_facts,
)

SOURCE_TYPES = ("disk", "snapshot")


def record_path(dest):
    return dest + ".json"


def read_record(dest):
    try:
        with open(record_path(dest), encoding="utf-8") as handle:
            record = json.load(handle)
        return record if isinstance(record, dict) else None
    except (OSError, ValueError):
        return None


def blob_size(source):
    """The VHD size the source exports to: an upload's ``uploadSizeBytes``, else its size plus the footer."""
    p = vmstate.props(source)
    upload = (p.get("creationData") or {}).get("uploadSizeBytes")
    if upload:
        return int(upload)
    size = p.get("diskSizeBytes") or int(p.get("diskSizeGB") or 0) * 1024 ** 3
    return int(size) + FOOTER_SIZE


def _operations(compute, source_type):
    return compute.disks if source_type == "disk" else compute.snapshots


def get_source(compute, source_type, resource_group, name):
    ops = _operations(compute, source_type)
    operation = "get %s '%s' in resource group '%s'" % (source_type, name, resource_group)
    source = vmstate.wire(vmstate.get_or_none(operation, ops.get, resource_group, name))
    if source is None:
        raise AzureError("name: %s '%s' was not found in resource group '%s'" % (source_type, name, resource_group),
                         status_code=404, code="ResourceNotFound", operation=operation)
    return source


def up_to_date(dest, source, size):
    """True when ``dest`` already is this source's export (size, checksum and record agree)."""
    record = read_record(dest)
    if not record or not os.path.isfile(dest) or os.path.getsize(dest) != size:
        return False
    p = vmstate.props(source)
    if record.get("source_unique_id") != p.get("uniqueId") or record.get("size_bytes") != size:
        return False
    tag = (source.get("tags") or {}).get(CHECKSUM_TAG)
    if tag and tag != record.get("digest"):
        return False
    return file_digest(dest) == record.get("digest")


def export_vhd(compute, source_type, resource_group, name, dest, threads=4, check_mode=False, wait_timeout=1800,
               sas_duration=86400, verify=True, report=None):
    """Export the disk or snapshot ``name`` to ``dest``; returns the module result."""
    if source_type not in SOURCE_TYPES:
        raise AzureError("type: '%s' is not one of %s" % (source_type, ", ".join(SOURCE_TYPES)),
                         code="InvalidParameter")
    if not 1 <= int(threads) <= MAX_THREADS:
        raise AzureError("threads: %s is not between 1 and %d" % (threads, MAX_THREADS), code="InvalidParameter")
    folder = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(folder):
        raise AzureError("dest: the folder '%s' does not exist" % folder, code="InvalidParameter")
    source = get_source(compute, source_type, resource_group, name)
    facts = disk_facts(source)
    if facts["disk_state"] in UPLOAD_STATES:
        raise AzureError("name: %s '%s' is still being uploaded (state %s); finish the upload first"
                         % (source_type, name, facts["disk_state"]), code="InvalidParameter")
    size = blob_size(source)
    before = dict(read_record(dest) or {}, path=dest) if os.path.exists(dest) else {}
    result = {"changed": False, "source": facts, "dest": dest, "record": record_path(dest), "actions": []}
    if up_to_date(dest, source, size):
        record = read_record(dest)
        result.update(vhd={"path": dest, "size_bytes": size, "digest": record["digest"]},
                      diff={"before": before, "after": before})
        return result
    after = {"path": dest, "size_bytes": size, "source_id": source["id"],
             "source_unique_id": vmstate.props(source).get("uniqueId"), "digest": None}
    result.update(changed=True, diff={"before": before, "after": after},
                  vhd={"path": dest, "size_bytes": size, "digest": None})
    if check_mode:
        return result
    try:
        _download(compute, source_type, resource_group, name, source, dest, size, threads, wait_timeout,
                  sas_duration, verify, report, result)
    except AzureError as err:
        err.partial = {"changed": False, "actions": result["actions"], "download": result.get("download")}
        raise
    result["diff"]["after"] = dict(after, digest=result["vhd"]["digest"])
    return result


def _download(compute, source_type, resource_group, name, source, dest, size, threads, wait_timeout, sas_duration,
              verify, report, result):
    ops = _operations(compute, source_type)
    part = dest + ".part"
    operation = "grant read access to %s '%s'" % (source_type, name)
    grant = wait_for(retry_action(operation, ops.begin_grant_access, resource_group, name,
                                  {"access": "Read", "durationInSeconds": int(sas_duration)}, timeout=wait_timeout,
                                  repeatable=True),  # DiskRP grants the same access again (a new SAS)
                     operation, wait_timeout)
    result["actions"].append("grant_read")
    try:
        blob = SasBlob(grant.access_sas, verify=verify, pool=threads)
        try:
            remote = blob.properties()["size"]
            if remote != size:
                raise AzureError("the blob of %s '%s' is %d bytes, its properties say %d"
                                 % (source_type, name, remote, size))
            progress = Progress(size, threads, report)
            try:
                receive_file(blob, part, size, threads, progress)
            finally:
                result["download"] = progress.result()
        finally:
            blob.close()
        result["actions"].append("download")
        inspect_vhd(part, "name")  # Azure exports fixed VHDs: anything else is not what the disk holds
        checksum = file_digest(part)
        tag = (source.get("tags") or {}).get(CHECKSUM_TAG)
        if tag and tag != checksum:
            raise AzureError("%s '%s' carries %s %s but its bytes hash to %s: the disk does not hold the uploaded VHD"
                             % (source_type, name, CHECKSUM_TAG, tag, checksum), code="ChecksumMismatch")
        os.replace(part, dest)
        record = {"digest": checksum, "size_bytes": size, "source_id": source["id"],
                  "source_unique_id": vmstate.props(source).get("uniqueId")}
        with open(record_path(dest), "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=2)
        result["vhd"]["digest"] = checksum
    except BaseException:
        if os.path.exists(part):
            os.unlink(part)
        raise
    finally:
        operation = "revoke access to %s '%s'" % (source_type, name)
        wait_for(retry_action(operation, ops.begin_revoke_access, resource_group, name, timeout=wait_timeout,
                              repeatable=True), operation, wait_timeout)
        result["actions"].append("revoke")
