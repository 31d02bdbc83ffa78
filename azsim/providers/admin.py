"""The admin API under ``/_azsim/`` (JSON), for tests, benchmarks and users' own pipelines.

- ``GET  /_azsim/health``                  liveness
- ``GET  /_azsim/resources``               every resource (``?type=`` filters), to assert nothing was left behind
- ``GET  /_azsim/requests``                the request log (``?since=SEQ``); ``DELETE`` clears it
- ``GET/POST/DELETE /_azsim/faults``       fault rules (see ``azsim.core.faults``)
- ``GET/POST /_azsim/settings``            durations, time scale, latency, throttling, Azure rule switches
- ``POST /_azsim/reset``                   forget resources, operations, faults and the log;
                                            ``{"settings": true}`` also restores the starting settings
- ``POST /_azsim/operations/finish``       finish every pending operation now
"""

from __future__ import annotations

from ..core.errors import ArmError
from ..core.settings import check_update, merge
from ..core.store import public


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
    return req.sim.settings.values


def update_settings(req):
    update = req.json()
    check_update(req.sim.settings.values, update)
    merge(req.sim.settings.values, update)
    req.sim.throttle.reset()
    req.sim.store.touch()
    return req.sim.settings.values


def reset(req):
    body = req.json(required=False)
    req.sim.reset(settings=bool(body.get("settings")))
    return {"status": "reset"}


def finish_operations(req):
    req.sim.ops.finish_all()
    return {"status": "finished"}


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
