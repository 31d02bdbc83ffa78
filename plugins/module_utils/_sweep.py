# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the sweep - delete what killed runs left behind, and nothing else.

A run killed with SIGKILL never reaches its cleanup: its temporary resource group (VM, disk, network) and its
controller directory (the build's private SSH key) stay. Every temporary group carries a lease (_lease); once the
lease expired, the run that made the group is over, whatever became of it. The sweep lists the subscription's
resource groups and deletes exactly those tagged ``goldenimage-temporary=true`` whose lease expired, each through
``_build_vm.delete_group`` (which re-reads the group and checks its build and run ids), then removes the build's
directory ``<build_dir>/<build_id>``. A group without the tag is never looked at; one whose lease still runs is kept;
one without a readable lease (an older version's, or malformed tags) or without a valid build id is left undecided: never
delete on doubt. Plain values and an SDK client in, a result dict out; no AnsibleModule.
"""

from __future__ import annotations

import concurrent.futures

from ansible_collections.goldenimage.azure.plugins.module_utils import _lease
from ansible_collections.goldenimage.azure.plugins.module_utils._build_dir import remove_build_directory
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import (
    TAG_BUILD_ID,
    TAG_LEASE_EXPIRES,
    TAG_RUN_ID,
    TAG_TEMPORARY,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_wire import wire as _wire
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError, azure_call
from ansible_collections.goldenimage.azure.plugins.module_utils._build_vm import check_build_id, check_run_id, delete_group

MAX_CONCURRENT = 8  # deletions at once: each one is a long ARM operation, mostly waiting


def list_groups(resources):
    """Every resource group of the subscription, as plain dicts (name, tags, ...)."""
    return azure_call("list resource groups", lambda: [_wire(item) for item in resources.resource_groups.list()])


def classify(groups, now):
    """(expired, kept, undecided) among ``groups``: only temporary groups appear; ``now`` an aware UTC datetime."""
    expired, kept, undecided = [], [], []
    for group in groups:
        tags = group.get("tags") or {}
        if str(tags.get(TAG_TEMPORARY, "")).lower() != "true":
            continue  # not the collection's: never touched, not even reported
        entry = {"resource_group": group.get("name"), "build_id": tags.get(TAG_BUILD_ID),
                 "run_id": tags.get(TAG_RUN_ID), "lease_expires": tags.get(TAG_LEASE_EXPIRES)}
        expires, problem = _lease.expiry(tags)
        if problem:
            undecided.append(dict(entry, reason=problem))
            continue
        if expires > now:
            kept.append(dict(entry, reason=f"its lease runs until {_lease.format_time(expires)}"))
            continue
        try:  # the ids name what delete_group checks and the directory removed: only safe ones
            check_build_id(entry["build_id"])
            check_run_id(entry["run_id"])
        except AzureError as err:
            undecided.append(dict(entry, reason=f"lease expired, but {err.message}"))
            continue
        expired.append(entry)
    return expired, kept, undecided


def _delete(resources, entry, wait_timeout):
    """True when this call deleted the group; False when it was gone already (another sweep, its own run)."""
    changed, _facts = delete_group(resources, entry["resource_group"], entry["build_id"], wait=True,
                                   wait_timeout=wait_timeout, run_id=entry["run_id"])
    return changed


def sweep(resources, build_dir, now=None, wait_timeout=1800, check_mode=False):
    """Delete the temporary groups whose lease expired before ``now`` and their build directories.

    Returns ``{changed, deleted, kept, undecided, failures}``; each entry names the group, its build and run ids and
    lease, with a ``reason`` (kept, undecided), the ``build_dir`` removed (deleted) or the ``msg`` (failures). In check
    mode ``deleted`` is what would be deleted and nothing changes. Deletions run concurrently, each bounded by
    ``wait_timeout`` (a timeout names the group and what is left in it)."""
    now = now or _lease.utc_now()
    expired, kept, undecided = classify(list_groups(resources), now)
    # A directory is shared by every group of its build id: keep it while any of them is kept or in doubt.
    in_use = {entry["build_id"] for entry in kept + undecided}

    def remove_directory_of(entry):
        """The directory removed (in check mode, to remove), or None; OSError when it cannot be removed."""
        return remove_build_directory(build_dir, entry["build_id"], check_mode) if entry["build_id"] not in in_use else None

    deleted, failures = [], []
    if check_mode:
        deleted = [dict(entry, build_dir=remove_directory_of(entry)) for entry in expired]
        return {"changed": bool(deleted), "deleted": deleted, "kept": kept, "undecided": undecided, "failures": failures}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(MAX_CONCURRENT, len(expired)))) as pool:
        futures = [(entry, pool.submit(_delete, resources, entry, wait_timeout)) for entry in expired]
        for entry, future in futures:
            try:
                group_deleted = future.result()
            except AzureError as err:
                failures.append(dict(entry, msg=err.message))
                continue
            try:
                directory = remove_directory_of(entry)
            except OSError as err:
                failures.append(dict(entry, msg=f"the group is deleted, but its build directory is not: {err}"))
                continue
            if group_deleted or directory:
                deleted.append(dict(entry, build_dir=directory))
    return {"changed": bool(deleted), "deleted": deleted, "kept": kept, "undecided": undecided, "failures": failures}
