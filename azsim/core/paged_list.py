"""ARM list pages: ``{"value": [...], "nextLink": ...}``.

The page size is the ``page_size`` setting. ``nextLink`` repeats the request's own query (the SDK
follows it verbatim) plus ``$skiptoken``, an opaque offset.
"""

from __future__ import annotations

from urllib.parse import quote


def page(req, items):
    size = max(1, int(req.sim.settings.values.get("page_size", 100)))
    try:
        start = max(0, int(req.query.get("$skiptoken", "0")))
    except ValueError:
        start = 0
    body = {"value": items[start:start + size]}
    if start + size < len(items):
        body["nextLink"] = _next_link(req, start + size)
    return body


def _next_link(req, offset):
    params = [("api-version", req.api_version)]
    params += [(key, value) for key, value in req.query.items() if key not in ("api-version", "$skiptoken")]
    params.append(("$skiptoken", str(offset)))
    query = "&".join(f"{_name(key)}={quote(str(value), safe='')}" for key, value in params)
    return f"{req.base_url}{quote(req.path)}?{query}"


def _name(key):
    # The request keys were lower-cased; ARM spells these two in camel case.
    return {"statusonly": "statusOnly", "$expand": "$expand"}.get(key, key)
