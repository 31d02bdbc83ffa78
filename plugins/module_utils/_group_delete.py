# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: delete a resource group and judge the outcome by its state, not by one request.

"Gone" is a 404 for the group. A lost answer or a 5xx on the DELETE or on a poll says nothing about the group,
so the group is read again (transient failures retried) until it is gone or the delete bound is reached. Only
a group that really still exists at the bound is reported, with what is left inside it.
"""

from __future__ import annotations

import time

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
    azure_call,
    bounded,
    wait_for,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_waits import failure_kind
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_wire import wire as _wire

GONE_CODES = ("ResourceGroupNotFound", "ResourceNotFound", "NotFound")  # NotFound: NRP's child resources
_RECHECK_SECONDS = 2.0
_LISTED = 20  # resources named in the message; the rest are counted


def gone(err):
    """A 404 (or ARM's not-found codes): what a delete was for is gone."""
    return getattr(err, "status_code", None) == 404 or getattr(err, "code", None) in GONE_CODES


def _undecided(err):
    """True when an error leaves the group's fate open: transient, lost, or the wait's own timeout."""
    return failure_kind(err) is not None or err.code == "OperationTimedOut"


def delete_group_until_gone(resources, resource_group, timeout, wait=True):
    """Delete ``resource_group``; with ``wait``, return once a read finds it gone, within ``timeout`` seconds.

    Raises AzureError when ARM refuses the delete (a lock, a permission), or when the group still exists at the
    bound: the message then lists what is left inside and says to delete it by hand.
    """
    operation = f"delete resource group '{resource_group}'"
    deadline = time.monotonic() + float(timeout)
    refusal = None
    with bounded(timeout, operation):
        try:
            poller = azure_call(operation, resources.resource_groups.begin_delete, resource_group)
            if wait:
                wait_for(poller, operation, max(1.0, deadline - time.monotonic()))
        except AzureError as err:
            if gone(err):
                return
            if not _undecided(err):
                refusal = err  # a final answer (a lock, a permission, a failed delete): one look at what is left
        if wait or refusal is not None:
            _until_gone(resources, resource_group, deadline, timeout, operation, refusal)


def _until_gone(resources, resource_group, deadline, timeout, operation, refusal=None):
    last_error = None
    while True:
        try:
            group = _wire(azure_call(f"read resource group '{resource_group}'", resources.resource_groups.get,
                                     resource_group, missing_ok=True))
            if group is None:
                return
            state = (group.get("properties") or {}).get("provisioningState")
            last_error = None
        except AzureError as err:
            if not _undecided(err):
                raise
            state, last_error = None, err
        if refusal is not None or time.monotonic() + _RECHECK_SECONDS > deadline:
            break
        time.sleep(_RECHECK_SECONDS)
    if last_error is not None:
        raise AzureError(f"could not confirm that resource group '{resource_group}' is gone within {timeout} s: "
                         f"{last_error.message}", code=last_error.code, operation=operation)
    why = f"{refusal.message}; it still exists" if refusal is not None else f"still exists after {timeout} s"
    raise AzureError(f"resource group '{resource_group}' {why} (provisioningState {state}); left inside: "
                     f"{_contents(resources, resource_group)}; delete it by hand",
                     code=refusal.code if refusal is not None else "ResourceGroupNotDeleted",
                     status_code=refusal.status_code if refusal is not None else None, operation=operation)


def _contents(resources, resource_group):
    """What a group still holds, as 'name (type)', for the message; a failed listing says so."""
    try:
        items = azure_call(f"list resources of group '{resource_group}'",
                           resources.resources.list_by_resource_group, resource_group)
        named = ["%s (%s)" % (item.name, item.type) for item in items]
    except AzureError as err:
        return f"unknown (listing failed: {err.message})"
    if not named:
        return "nothing"
    more = len(named) - _LISTED
    return ", ".join(named[:_LISTED]) + (f" and {more} more" if more > 0 else "")
