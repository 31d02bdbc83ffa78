# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: bounded waits for long-running operations and the narrow retry azure-core leaves out.

azure-core retries GET/PUT/DELETE on 408/429/5xx, but POST/PATCH only on 500/503/504 (or when the
response carries Retry-After). A 429 or a 409 "another operation is in progress" on generalize,
deallocate or a disk PATCH would otherwise fail the task at once, so ``retry_action`` retries those,
within a deadline. GETs are never wrapped again.
"""

from __future__ import annotations

import time

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import (
    AzureError,
    azure_call,
    from_sdk,
)

# 409 codes that mean "busy, try again" rather than "not allowed in this state".
RETRYABLE_CONFLICT_CODES = frozenset(code.lower() for code in (
    "Conflict",
    "AnotherOperationInProgress",
    "OperationPreempted",
    "RetryableError",
    "ConcurrentRequestConflict",
    "ConflictingConcurrentWriteNotAllowed",
))

_POLL_SLICE = 5.0  # seconds per poller.wait(); keeps the deadline check responsive
_BACKOFF_FIRST = 1.0
_BACKOFF_MAX = 30.0


def is_retryable(err):
    """429 always; 409 only when ARM says another operation holds the resource."""
    if err.status_code == 429:
        return True
    if err.status_code != 409:
        return False
    code = (err.code or "").lower()
    return code in RETRYABLE_CONFLICT_CODES or "in progress" in err.message.lower()


def retry_action(operation, func, *args, timeout, **kwargs):
    """Call ``func`` (a POST/PATCH or ``begin_*``), retrying throttling and in-progress conflicts until ``timeout`` seconds.

    Honours Retry-After; otherwise backs off 1, 2, 4 ... 30 s. The last error is raised as AzureError
    once the next attempt would pass the deadline.
    """
    deadline = time.monotonic() + float(timeout)
    delay = _BACKOFF_FIRST
    while True:
        try:
            return azure_call(operation, func, *args, **kwargs)
        except AzureError as err:
            if not is_retryable(err):
                raise
            pause = err.retry_after if err.retry_after is not None else delay
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            delay = min(delay * 2, _BACKOFF_MAX)


def wait_for(poller, operation, timeout):
    """Wait for an LROPoller at most ``timeout`` seconds (None: no bound) and return its result.

    A timeout raises AzureError (code ``OperationTimedOut``) naming the operation and the timeout; a failed
    operation raises the translated SDK error.
    """
    deadline = None if timeout is None else time.monotonic() + float(timeout)
    try:
        while not poller.done():
            if deadline is None:
                poller.wait(_POLL_SLICE)
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AzureError("timed out after %s seconds waiting for %s; the operation may still finish in Azure"
                                 % (_seconds(timeout), operation), code="OperationTimedOut", operation=operation)
            poller.wait(min(remaining, _POLL_SLICE))
        return poller.result()
    except AzureError:
        raise
    except Exception as exc:  # pylint: disable=broad-except  # translated below, re-raised otherwise
        err = from_sdk(exc, operation)
        if err is exc:
            raise
        raise err from None


def _seconds(value):
    value = float(value)
    return int(value) if value.is_integer() else round(value, 1)
