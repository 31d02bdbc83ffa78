# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the collection's one exception type and the single place SDK errors are translated.

Nothing here imports the Azure SDK at module level, so sanity's import test and modules that fail
early stay cheap. Public names are re-exported by ``_azure_client``.
"""

from __future__ import annotations

import json
import re
import threading
import time

# Secret values registered by AzureSession; scrubbed from every AzureError message so that no
# SDK or Entra error text can carry a secret into a task result.
_SECRETS = set()
_REDACTED = "********"

_AAD_CODE = re.compile(r"\b(AADSTS\d+)\b")


def register_secret(value):
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text):
    text = "" if text is None else str(text)
    for secret in _SECRETS:
        text = text.replace(secret, _REDACTED)
    return text


class AzureError(Exception):
    """A failed Azure call (or invalid Azure configuration), as plain values.

    ``status_code`` is the HTTP status (None when no response came back), ``code`` the ARM/Entra error
    code, ``operation`` what the collection was doing, ``retry_after`` the server's Retry-After in seconds.

    A failure after something was changed says what was: ``partial`` is the module result so far (``changed``
    and what is known, e.g. ``actions``, ``updated``, ``power_state``), ``cleanup`` what became of a resource
    the failed operation left behind (``deleted``, ``deleting``, ``kept`` or ``delete failed: ...``) and
    ``replication`` a gallery version's per-region status. ``failure_result()`` is the one way they reach a
    task result.
    """

    def __init__(self, message, status_code=None, code=None, operation=None, retry_after=None,
                 partial=None, cleanup=None, replication=None):
        self.message = redact(message)
        self.status_code = status_code
        self.code = code
        self.operation = operation
        self.retry_after = retry_after
        self.partial = partial
        self.cleanup = cleanup
        self.replication = replication
        super().__init__(self.message)

    def __str__(self):
        if self.operation and not self.message.startswith(self.operation):
            return "%s: %s" % (self.operation, self.message)
        return self.message

    def to_result(self):
        return {"msg": str(self), "status_code": self.status_code, "error_code": self.code,
                "operation": self.operation}

    def failure_result(self, **result):
        """The failed task's result: ``partial`` (else ``changed: false``), then ``result``, then ``to_result()``."""
        out = dict(self.partial or {"changed": False})
        out.update(result)
        out.update(self.to_result())
        made = retries()
        if made:
            out["retries"] = made  # what was retried before the failure (ansible-playbook -v)
        return out


def _retry_after(response):
    try:
        value = response.headers.get("Retry-After")
        return float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None  # an HTTP-date Retry-After: let the caller back off on its own


def _entra_code(exc, response):
    """Entra (token endpoint) errors: the OAuth 'error' field, else the AADSTS number in the text."""
    if response is not None:
        try:
            body = json.loads(response.text())
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                return body["error"]
        except Exception:  # pylint: disable=broad-except  # any undecodable body just has no code
            pass
    found = _AAD_CODE.search(str(exc))
    return found.group(1) if found else None


def from_sdk(exc, operation=None):
    """Translate an azure-core/azure-identity exception into AzureError; other exceptions are returned unchanged."""
    if isinstance(exc, AzureError):
        if operation and not exc.operation:
            exc.operation = operation
        return exc
    try:
        from azure.core import exceptions as core_errors
    except ImportError:
        return exc
    if isinstance(exc, core_errors.ClientAuthenticationError):
        response = getattr(exc, "response", None)
        status = getattr(exc, "status_code", None)
        code = getattr(getattr(exc, "error", None), "code", None) or _entra_code(exc, response)
        message = getattr(exc, "message", None) or str(exc)
        if "authentication failed" not in message.lower():
            message = "Authentication failed: %s" % message
        return AzureError(message, status_code=status, code=code or type(exc).__name__, operation=operation)
    if isinstance(exc, core_errors.HttpResponseError):
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None)
        message = getattr(error, "message", None) or getattr(exc, "message", None) or str(exc)
        if code is None and isinstance(exc, core_errors.ResourceNotFoundError):
            code = "ResourceNotFound"
        response = getattr(exc, "response", None)
        if code == "SubscriptionNotFound":
            message = ("%s The subscription does not exist or these credentials cannot use it (SubscriptionNotFound): "
                       "check subscription_id, or the subscription in the resource id." % message.rstrip())
        return AzureError(message, status_code=exc.status_code, code=code or type(exc).__name__,
                          operation=operation, retry_after=_retry_after(response) if response is not None else None)
    if isinstance(exc, core_errors.AzureError):
        # ServiceRequestError (DNS, TLS, refused), ServiceResponseError, ...: no HTTP status.
        return AzureError(getattr(exc, "message", None) or str(exc), code=type(exc).__name__, operation=operation)
    return exc


# 404s that say the scope is wrong, not that the resource is absent: never "missing", always an error.
NOT_MISSING_CODES = ("SubscriptionNotFound",)


def is_missing(err):
    return isinstance(err, AzureError) and err.status_code == 404 and err.code not in NOT_MISSING_CODES


# -- what each thread is calling, and the retries made so far -----------------------------------------
# The ARM layer's retry rule (``_azure_waits.arm_retry_policy``) runs inside azure-core's pipeline, where only the
# HTTP request is known. ``azure_call``/``retry_action``/``wait_for`` record here, per thread (an LROPoller polls in a
# thread of its own), the operation and the deadline a request belongs to; every retry is appended to RETRIES, which
# results carry as ``retries`` (shown by ansible-playbook -v and above).
_CALLS = {}
_CALLS_LOCK = threading.Lock()
RETRIES = []
_UNSET = object()


def current_call(thread_id=None):
    """(operation, deadline as time.monotonic() or None) of the call running in a thread."""
    with _CALLS_LOCK:
        return _CALLS.get(thread_id or threading.get_ident(), (None, None))


def enter_call(operation=None, deadline=_UNSET, thread_id=None):
    """Set what a thread is calling (an unset deadline keeps the enclosing one); returns the previous entry."""
    key = thread_id or threading.get_ident()
    with _CALLS_LOCK:
        previous = _CALLS.get(key)
        outer_op, outer_deadline = previous or (None, None)
        if deadline is _UNSET:
            deadline = outer_deadline
        elif outer_deadline is not None and deadline is not None:
            deadline = min(deadline, outer_deadline)  # an inner call never outlasts its phase
        _CALLS[key] = (operation or outer_op, deadline)
        return previous


def leave_call(previous, thread_id=None):
    key = thread_id or threading.get_ident()
    with _CALLS_LOCK:
        if previous is None:
            _CALLS.pop(key, None)
        else:
            _CALLS[key] = previous


def record_retry(operation, attempt, reason, pause):
    """One retry: ``{"operation", "attempt" (the attempt about to be made: 2 is the first retry), "reason", "wait"}``."""
    entry = {"operation": operation, "attempt": attempt, "reason": reason, "wait": round(float(pause), 3)}
    with _CALLS_LOCK:
        RETRIES.append(entry)
    return entry


def retries(clear=False):
    """The retries recorded in this process (a copy); ``clear`` starts a new record (one module run)."""
    with _CALLS_LOCK:
        found = list(RETRIES)
        if clear:
            del RETRIES[:]
    return found


def remaining(deadline):
    return None if deadline is None else deadline - time.monotonic()


def azure_call(operation, func, *args, missing_ok=False, **kwargs):
    """Call ``func``; SDK errors become AzureError naming ``operation``; a 404 is None when ``missing_ok``.

    Only 404 means "absent": throttling (429) and server errors (5xx) always raise. The ARM layer's pipeline
    retries transient failures of the call's requests within the enclosing deadline (``_azure_waits``).
    """
    previous = enter_call(operation)
    try:
        return func(*args, **kwargs)
    except Exception as exc:  # pylint: disable=broad-except  # translated below, re-raised otherwise
        err = from_sdk(exc, operation)
        if not isinstance(err, AzureError):
            raise
        if missing_ok and is_missing(err):
            return None
        if err is exc:
            raise
        raise err from None  # the SDK chain can hold request bodies; keep it out of tracebacks
    finally:
        leave_call(previous)
