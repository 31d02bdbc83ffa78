# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the ARM layer's retry rule, one per kind of call, and bounded waits for long-running operations.

- GET, HEAD, PUT, PATCH, DELETE (idempotent by ARM's contract): ``arm_retry_policy()``, the pipeline policy of every
  client the session builds, retries 408/429/5xx, a 409 "another operation is in progress" and lost connections
  (azure-core ``ServiceRequestError`` and ``ServiceResponseError``, e.g. "Connection aborted"), honouring Retry-After.
- POST: the pipeline retries only what ARM refused before acting (429, a request that was never sent).
  ``retry_action(..., done=read)`` handles the rest: after a 5xx, a lost response or a 409 in progress it re-reads the
  resource, and when it already reached the action's target state that counts as done; otherwise it sends the POST
  again. Without ``done`` a lost response is retried only for actions declared ``repeatable``.
- Bounds: every retry is made only when it (and its pause) fits before the call's deadline - the enclosing
  ``retry_action``/``wait_for``/``bounded`` - and within the pipeline's attempt budget; a retry never extends a phase.
- Every retry is recorded (``_azure_errors.retries()``: operation, attempt, reason, wait) for the task result.
"""

from __future__ import annotations

import contextlib
import threading
import time

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import (
    AzureError,
    azure_call,
    current_call,
    enter_call,
    from_sdk,
    leave_call,
    record_retry,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._progress import Ticker

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

IDEMPOTENT_METHODS = frozenset(["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
TRANSIENT_STATUS = frozenset([408, 429, 500, 502, 503, 504])
# The pipeline's attempt budget per request (azure-core's default is 3 per kind: at 25% lost requests one in
# 256 requests would fail); the deadline bounds the time.
PIPELINE_RETRIES = 10
PIPELINE_BACKOFF = 0.5
PIPELINE_BACKOFF_MAX = 15
# Without an enclosing deadline a single call keeps retrying at most this long.
DEFAULT_CALL_BOUND = 300.0
# Lost responses (the server may have acted): azure-core's names for them.
LOST_RESPONSE_CODES = ("ServiceResponseError", "ServiceResponseTimeoutError", "IncompleteReadError")
UNSENT_CODES = ("ServiceRequestError", "ServiceRequestTimeoutError")


def _busy(status, code, message):
    code = (code or "").lower()
    return status == 409 and (code in RETRYABLE_CONFLICT_CODES or "in progress" in (message or "").lower())


def is_retryable(err):
    """429 always; 409 only when ARM says another operation holds the resource."""
    if err.status_code == 429:
        return True
    return _busy(err.status_code, err.code, err.message)


def failure_kind(err):
    """``refused`` (ARM did nothing: throttled, busy, never sent), ``unknown`` (a 5xx or a lost response: ARM may
    have acted) or None (a final answer)."""
    if is_retryable(err) or (err.status_code is None and err.code in UNSENT_CODES):
        return "refused"
    if err.status_code in TRANSIENT_STATUS or (err.status_code is None and err.code in LOST_RESPONSE_CODES):
        return "unknown"
    return None


def _reason(err):
    return str(err.status_code) if err.status_code else (err.code or "error")


@contextlib.contextmanager
def bounded(timeout, operation=None):
    """Calls in this block (this thread) retry only within ``timeout`` seconds (an enclosing bound still applies)."""
    previous = enter_call(operation, time.monotonic() + float(timeout))
    try:
        yield
    finally:
        leave_call(previous)


def retry_action(operation, func, *args, timeout, done=None, repeatable=False, **kwargs):
    """Call ``func`` (a POST action or ``begin_*``) until it is accepted, within ``timeout`` seconds.

    Throttling (429), a 409 "in progress" and a request never sent are retried. After a 5xx or a lost response
    ARM may have acted: with ``done`` (a callable re-reading the resource, True when it reached the action's
    target state) the resource is read first and the action counts as done - the return value is then None,
    there is no poller to wait for; otherwise the POST is sent again. Without ``done`` such a failure is raised,
    unless the action is ``repeatable`` (safe to send twice). Honours Retry-After, else backs off 1, 2, 4 ... 30 s;
    the last error is raised once the next attempt would pass the deadline. Each retry is recorded.
    """
    deadline = time.monotonic() + float(timeout)
    delay = _BACKOFF_FIRST
    attempt = 1
    previous = enter_call(operation, deadline)
    try:
        while True:
            try:
                return azure_call(operation, func, *args, **kwargs)
            except AzureError as err:
                kind = failure_kind(err)
                if kind is None or (kind == "unknown" and done is None and not repeatable):
                    raise
                pause = err.retry_after if err.retry_after is not None else delay
                if kind == "unknown" and err.retry_after is None and attempt == 1:
                    pause = 0  # a lost answer: look (and try) again at once
                if time.monotonic() + pause > deadline:
                    raise
                attempt += 1
                record_retry(operation, attempt, _reason(err), pause)
                time.sleep(pause)
                delay = min(delay * 2, _BACKOFF_MAX)
                if done is not None and _reached(done, operation):
                    return None
    finally:
        leave_call(previous)


def _reached(done, operation):
    """``done()``; a read that fails transiently (after the pipeline's own retries) is "not known yet"."""
    try:
        return bool(done())
    except AzureError as err:
        if failure_kind(err) is None:
            raise
        return False


def arm_retry_policy(**kwargs):
    """The pipeline retry policy of every client the session builds (azure-core is imported here, not at import)."""
    from azure.core.exceptions import ServiceRequestError
    from azure.core.pipeline import PipelineResponse
    from azure.core.pipeline.policies import RetryPolicy

    class ArmRetryPolicy(RetryPolicy):
        """azure-core's RetryPolicy with the ARM layer's rule per method, the call's deadline and a retry record."""

        def configure_retries(self, options):
            settings = super().configure_retries(options)
            settings["methods"] = IDEMPOTENT_METHODS
            operation, deadline = current_call()
            bound = DEFAULT_CALL_BOUND if deadline is None else max(0.0, deadline - time.monotonic())
            settings["timeout"] = min(settings["timeout"], bound)
            settings["gi_operation"] = operation
            settings["gi_deadline"] = time.monotonic() + settings["timeout"]
            return settings

        def _is_method_retryable(self, settings, request, response=None):
            method = request.method.upper()
            if method in IDEMPOTENT_METHODS:
                return True
            if response is not None:  # POST and the like: only what ARM refused before acting
                return response.status_code == 429
            return False

        def is_retry(self, settings, response):
            http = response.http_response
            status = http.status_code
            if status < 400 or not self._is_method_retryable(settings, response.http_request, http):
                return False
            if status in TRANSIENT_STATUS or bool(http.headers.get("Retry-After")):
                return True
            return status == 409 and _busy(status, *_error_of(http))

        def increment(self, settings, response=None, error=None):
            method = response.http_request.method.upper() if response is not None else ""
            if error is not None and method not in IDEMPOTENT_METHODS and not isinstance(error, ServiceRequestError):
                return False  # a POST whose answer was lost: retry_action decides, after reading the resource
            if not super().increment(settings, response=response, error=error):
                return False
            if isinstance(response, PipelineResponse):
                pause = self.get_retry_after(response)
                reason = str(response.http_response.status_code)
            else:
                pause = None
                reason = type(error).__name__ if error is not None else "error"
            if pause is None:
                pause = self.get_backoff_time(settings)
            if time.monotonic() + pause > settings["gi_deadline"]:
                return False  # the retry would pass the call's deadline
            path = response.http_request.url.split("?", 1)[0] if response is not None else ""
            operation = settings.get("gi_operation") or "%s %s" % (method, path.split("/", 3)[-1])
            record_retry(operation, len(settings["history"]) + 1, "%s %s" % (method, reason), pause)
            return True

    options = {"retry_total": PIPELINE_RETRIES, "retry_connect": PIPELINE_RETRIES, "retry_read": PIPELINE_RETRIES,
               "retry_status": PIPELINE_RETRIES, "retry_backoff_factor": PIPELINE_BACKOFF,
               "retry_backoff_max": PIPELINE_BACKOFF_MAX}
    options.update(kwargs)
    return ArmRetryPolicy(**options)


def _error_of(http):
    """(code, message) of an ARM error body, or (None, None)."""
    try:
        body = http.json() if hasattr(http, "json") else None
    except Exception:  # pylint: disable=broad-except  # not JSON: no code
        return None, None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return error.get("code"), error.get("message")
    return None, None


def wait_for(poller, operation, timeout, progress=None):
    """Wait for an LROPoller at most ``timeout`` seconds (None: no bound) and return its result.

    A timeout raises AzureError (code ``OperationTimedOut``) naming the operation and the timeout; a failed
    operation raises the translated SDK error. While waiting, a progress line (``_progress``) names the operation
    every interval, with ``progress()`` (optional: the text of the current state, e.g. replication) appended.
    """
    deadline = None if timeout is None else time.monotonic() + float(timeout)
    ticker = Ticker(operation, progress)
    thread = getattr(poller, "_thread", None)  # the LROPoller's own polling thread: its retries count here too
    poll_id = thread.ident if isinstance(thread, threading.Thread) and thread.ident else None
    previous = enter_call(operation, deadline, thread_id=poll_id) if poll_id else None
    try:
        while not poller.done():
            if deadline is None:
                poller.wait(ticker.slice(_POLL_SLICE))
                ticker.tick()
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AzureError("timed out after %s seconds waiting for %s; the operation may still finish in Azure"
                                 % (_seconds(timeout), operation), code="OperationTimedOut", operation=operation)
            poller.wait(min(remaining, ticker.slice(_POLL_SLICE)))
            ticker.tick()
        return poller.result()
    except AzureError:
        raise
    except Exception as exc:  # pylint: disable=broad-except  # translated below, re-raised otherwise
        err = from_sdk(exc, operation)
        if err is exc:
            raise
        raise err from None
    finally:
        if poll_id:
            leave_call(previous, thread_id=poll_id)


def _seconds(value):
    value = float(value)
    return int(value) if value.is_integer() else round(value, 1)
