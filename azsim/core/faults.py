"""Throttling (ARM token buckets) and seeded fault injection.

Fault rules are JSON objects posted to ``/_azsim/faults``::

    {"seed": 7, "rules": [
      {"method": "POST", "path": "/generalize$", "action": "status", "status": 429, "times": 2},
      {"path": "virtualMachines/[^/]+$", "method": "PUT", "action": "fail_operation",
       "code": "AllocationFailed", "message": "Allocation failed."},
      {"path": "/versions$", "action": "drop", "probability": 0.5},
      {"method": "POST", "path": "/deallocate$", "action": "drop_after", "times": 1},
      {"path": ".", "action": "delay", "delay_ms": 200}]}

``path`` is a case-insensitive regular expression searched in the request path. ``times`` limits how
often a rule fires (absent = always), ``after`` skips the first N matches, ``probability`` draws from
the seeded generator.

``drop`` closes the connection before the handler runs (ARM never saw the request); ``drop_after`` runs the
handler, keeps its effect (a resource stored, an operation started) and then closes the connection without
an answer: the response is lost after ARM acted, which only a client that retries safely survives.
"""

from __future__ import annotations

import math
import random
import re
import time

from .errors import ArmError

STATUS_CODES = {
    429: ("SubscriptionRequestsThrottled", "Number of requests for subscription exceeded the limit. Please try again later."),
    500: ("InternalServerError", "Encountered internal server error. Diagnostic information: timestamp, request id."),
    502: ("BadGateway", "The gateway did not receive a response in time."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable. Please try again later."),
    409: ("OperationNotAllowed", "Operation is not allowed since another operation is in progress on this resource."),
}


ACTIONS = ("status", "drop", "drop_after", "fail_operation", "delay")


def _invalid(message):
    return ArmError(400, "InvalidFaultRule", message)


def _number(spec, key, default, kind):
    """``spec[key]`` as ``kind`` (int or float), 400 InvalidFaultRule when it is not a number."""
    value = spec.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _invalid(f"Fault rule field '{key}' must be a number, got {value!r}.")
    try:
        return kind(value)
    except ValueError:
        raise _invalid(f"Fault rule field '{key}' must be a number, got {value!r}.") from None


class FaultRule:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise _invalid(f"A fault rule is a JSON object, got {spec!r}.")
        self.spec = spec
        self.method = str(spec.get("method") or "").upper() or None
        try:
            self.path = re.compile(str(spec.get("path", ".")), re.IGNORECASE)
        except re.error as err:
            raise _invalid(f"Fault rule path {spec.get('path')!r} is not a regular expression: {err}.") from None
        self.action = spec.get("action", "status")
        if self.action not in ACTIONS:
            raise _invalid(f"Unknown fault action '{self.action}'.")
        self.times = _number(spec, "times", None, int)
        self.after = _number(spec, "after", 0, int)
        self.probability = _number(spec, "probability", 1.0, float)
        for key, kind in (("status", int), ("delay_ms", float), ("retry_after", int)):
            _number(spec, key, 0, kind)
        self.seen = 0
        self.fired = 0

    def matches(self, method, path, rng):
        if self.method and self.method != method:
            return False
        if not self.path.search(path):
            return False
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.times is not None and self.fired >= int(self.times):
            return False
        if self.probability < 1.0 and rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def describe(self):
        return dict(self.spec, seen=self.seen, fired=self.fired)


class Faults:
    def __init__(self):
        self.rules: list[FaultRule] = []
        self.rng = random.Random(0)

    def configure(self, spec):
        """Add the rules of ``{"seed": ..., "rules": [...]}``; nothing changes when any rule is invalid."""
        rules = spec.get("rules", [])
        if not isinstance(rules, list):
            raise _invalid("'rules' must be a list of fault rules.")
        built = [FaultRule(rule) for rule in rules]
        if "seed" in spec and (isinstance(spec["seed"], bool) or not isinstance(spec["seed"], (int, str))):
            raise _invalid(f"'seed' must be an integer or a string, got {spec['seed']!r}.")
        if "seed" in spec:
            self.rng = random.Random(spec["seed"])
        self.rules.extend(built)

    def clear(self):
        self.rules = []
        self.rng = random.Random(0)

    def for_request(self, method, path, actions=("status", "drop", "drop_after", "delay")):
        """Rules of the given actions that fire for this request (each rule counted once)."""
        return [rule for rule in self.rules if rule.action in actions and rule.matches(method, path, self.rng)]

    def operation_failure(self, req):
        """The error an operation started by this request should end with, or None."""
        for rule in self.rules:
            if rule.action == "fail_operation" and rule.matches(req.method, req.path, self.rng):
                return {
                    "code": rule.spec.get("code", "InternalOperationError"),
                    "message": rule.spec.get("message", "The operation failed part-way through (injected)."),
                }
        return None

    @staticmethod
    def status_error(rule, subscription):
        status = int(rule.spec.get("status", 503))
        code, message = STATUS_CODES.get(status, ("InternalServerError", "Injected failure."))
        code = rule.spec.get("code", code)
        message = rule.spec.get("message", message)
        if status == 429 and "message" not in rule.spec:
            message = (
                f"Number of 'write' requests for subscription '{subscription}' actor 'azsim' exceeded. Please try again "
                "after '1' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling "
                "for additional information."
            )
        headers = {}
        # Retry-After only on throttling and unavailability: azure-core retries anything that carries it.
        if status in (429, 503) or "retry_after" in rule.spec:
            headers["Retry-After"] = str(max(1, int(rule.spec.get("retry_after", 1))))
        return ArmError(status, code, message, headers=headers)

    def dump(self):
        return [rule.describe() for rule in self.rules]


class Bucket:
    """Refills on the simulator's clock (``clock()``): advancing the clock refills, a frozen clock does not."""

    def __init__(self, capacity, refill_per_s, clock=time.monotonic):
        self.capacity = float(capacity)
        self.refill = float(refill_per_s)
        self.tokens = float(capacity)
        self.clock = clock
        self.stamp = clock()

    def take(self):
        """Take one token; return (ok, remaining, seconds_until_next_token)."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.refill)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True, int(self.tokens), 0
        wait = (1 - self.tokens) / self.refill if self.refill > 0 else 60
        return False, 0, wait


class Throttle:
    """ARM's per-subscription token buckets for reads, writes and deletes."""

    def __init__(self, settings, clock=None):
        self.settings = settings
        self.clock = clock
        self.buckets = {}

    @staticmethod
    def kind_of(method):
        if method in ("GET", "HEAD"):
            return "reads"
        if method == "DELETE":
            return "deletes"
        return "writes"

    def take(self, subscription, method):
        """Return (remaining, header_name); raise ArmError 429 when the bucket is empty."""
        config = self.settings["throttling"]
        kind = self.kind_of(method)
        header = f"x-ms-ratelimit-remaining-subscription-{kind}"
        if not config.get("enabled", True):
            return header, None
        key = (subscription.lower(), kind)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(config[kind]["capacity"], config[kind]["refill_per_s"],
                                                clock=self.clock.monotonic if self.clock else time.monotonic)
        ok, remaining, wait = bucket.take()
        if ok:
            return header, remaining
        retry_after = max(1, math.ceil(wait))
        raise ArmError(
            429,
            "SubscriptionRequestsThrottled",
            f"Number of '{kind[:-1]}' requests for subscription '{subscription}' actor 'azsim' exceeded. Please try "
            f"again after '{retry_after}' seconds after additional tokens are available. Refer to "
            "https://aka.ms/arm-throttling for additional information.",
            headers={"Retry-After": str(retry_after), header: "0"},
        )

    def reset(self):
        self.buckets = {}
