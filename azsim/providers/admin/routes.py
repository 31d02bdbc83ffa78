"""The admin API under ``/_azsim/`` (JSON), for tests, benchmarks and users' own pipelines.

Every request needs the per-start admin token (``Authorization: Bearer $AZSIM_ADMIN_TOKEN`` or
``X-Azsim-Admin-Token``; ``azsim env`` prints it): without it the answer is 401 and nothing changes
(``Sim._check_admin``). Settings answers never carry secrets (``models.redact``). The admin API keeps
no state of its own: it reads and changes the world (store, operations, faults, settings, clock) through
``sim``.

- ``GET  /_azsim/health``                  liveness
- ``GET  /_azsim/resources``               every resource (``?type=`` filters), to assert nothing was left behind
- ``GET  /_azsim/requests``                the request log (``?since=SEQ``); ``DELETE`` clears it
- ``GET/POST/DELETE /_azsim/faults``       fault rules (see ``azsim.core.faults``)
- ``GET/POST /_azsim/settings``            durations, time scale, latency, throttling, Azure rule switches
- ``POST /_azsim/reset``                   forget resources, operations, faults and the log;
                                            ``{"settings": true}`` also restores the starting settings
- ``POST /_azsim/operations/finish``       finish every pending operation now
- ``GET/POST /_azsim/clock``               the simulated clock; ``{"advance": SECONDS}`` moves it forward (due
                                            operations finish, buckets refill), ``{"freeze": true|false}`` stops
                                            or restarts real time flowing into it (see ``azsim.core.clock``)
"""

from __future__ import annotations

from ...core.errors import ArmError
from ...core.settings import check_update, merge
from ...core.store import public
from .models import drop_redacted, redact


def health(req):
    return {"status": "ok", "base_url": req.base_url, "resources": len(req.sim.store.all())}


def resources(req):
    wanted = req.query.get("type")
    items = [public(body) for body in req.sim.store.all()]
    if wanted:
        items = [item for item in items if item.get("type", "").lower() == wanted.lower()]
    items.sort(key=lambda item: item["id"].lower())
    return {"value": items}


def requests_log(req):
    try:
        since = int(req.query.get("since", 0))
    except ValueError:
        raise ArmError(400, "InvalidParameter", "'since' must be a request sequence number.") from None
    return {"value": [entry for entry in req.sim.request_log if entry["seq"] > since], "last_seq": req.sim.request_seq}


def clear_requests(req):
    req.sim.request_log.clear()
    return {"last_seq": req.sim.request_seq}


def get_faults(req):
    return {"rules": req.sim.faults.dump()}


def add_faults(req):
    req.sim.faults.configure(req.json())
    return {"rules": req.sim.faults.dump()}


def clear_faults(req):
    req.sim.faults.clear()
    return {"rules": []}


def get_settings(req):
    return redact(req.sim.settings.values)


def update_settings(req):
    update = drop_redacted(req.json())
    check_update(req.sim.settings.values, update)
    merge(req.sim.settings.values, update)
    req.sim.throttle.reset()
    req.sim.store.touch()
    return redact(req.sim.settings.values)


def reset(req):
    body = req.json(required=False)
    req.sim.reset(settings=bool(body.get("settings")))
    return {"status": "reset"}


def finish_operations(req):
    req.sim.ops.finish_all()
    return {"status": "finished"}


def get_clock(req):
    return req.sim.clock.describe()


def update_clock(req):
    body = req.json()
    if not isinstance(body, dict) or not body or set(body) - {"advance", "freeze"}:
        raise ArmError(400, "InvalidClock", "Post {\"advance\": seconds} and/or {\"freeze\": true|false} to /_azsim/clock.")
    advance = body.get("advance", 0)
    if isinstance(advance, bool) or not isinstance(advance, (int, float)) or advance < 0:
        raise ArmError(400, "InvalidClock", f"'advance' must be a number of seconds >= 0, got {advance!r}.")
    if "freeze" in body and not isinstance(body["freeze"], bool):
        raise ArmError(400, "InvalidClock", f"'freeze' must be true or false, got {body['freeze']!r}.")
    if "freeze" in body:
        req.sim.clock.freeze(body["freeze"])
    req.sim.clock.advance(advance)
    req.sim.ops.tick()  # what became due finishes now, before the caller's next look
    req.sim.store.touch()
    return req.sim.clock.describe()


def register(sim):
    add = sim.router.add
    add("GET", "/_azsim/health", health, kind="admin")
    add("GET", "/_azsim/resources", resources, kind="admin")
    add("GET", "/_azsim/requests", requests_log, kind="admin")
    add("DELETE", "/_azsim/requests", clear_requests, kind="admin")
    add("GET", "/_azsim/faults", get_faults, kind="admin")
    add("POST", "/_azsim/faults", add_faults, kind="admin")
    add("DELETE", "/_azsim/faults", clear_faults, kind="admin")
    add("GET", "/_azsim/settings", get_settings, kind="admin")
    add("POST", "/_azsim/settings", update_settings, kind="admin")
    add("POST", "/_azsim/reset", reset, kind="admin")
    add("POST", "/_azsim/operations/finish", finish_operations, kind="admin")
    add("GET", "/_azsim/clock", get_clock, kind="admin")
    add("POST", "/_azsim/clock", update_clock, kind="admin")
