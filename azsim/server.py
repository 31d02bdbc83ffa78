"""The simulator: one aiohttp application serving Entra ID, ARM and the admin API over HTTPS.

Each request goes through the same steps, in the order real ARM applies them:
finish due operations -> route -> api-version -> authentication -> subscription -> throttling ->
injected faults -> the provider's handler -> persistence -> ARM response headers -> request log.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import hmac
import json
import os
import secrets
import tempfile
import time
import uuid
from collections import deque

from aiohttp import web

from .core.clock import Clock
from .core.errors import ArmError
from .core.faults import Faults, Throttle
from .core.lro import OperationEngine
from .core.request import Reply, SimRequest
from .core.routing import Router
from .core.settings import Settings
from .core.store import Store
from . import providers

REQUEST_LOG_LIMIT = 200_000


class Sim:
    def __init__(self, settings=None, state_dir=None, catalog_path=None, admin_token=None):
        self.settings = Settings(settings)
        self.initial_settings = copy.deepcopy(self.settings.values)  # what `reset` with settings restores
        self.clock = Clock()  # simulated time: real time plus what /_azsim/clock advanced
        self.store = Store()
        self.router = Router()
        self.faults = Faults()
        self.throttle = Throttle(self.settings, clock=self.clock)
        self.ops = OperationEngine(self)
        self.request_log = deque(maxlen=REQUEST_LOG_LIMIT)
        self.request_seq = 0
        self.state_dir = state_dir
        self.catalog_path = catalog_path
        self.base_url = "https://127.0.0.1"
        self.token_key = uuid.uuid4().hex
        # Every /_azsim/ admin request needs this (per start, never saved; `azsim env` prints it as
        # AZSIM_ADMIN_TOKEN): the admin API changes the world, reads the request log and registers guests whose
        # provision_command runs as the simulator's user.
        self.admin_token = admin_token or secrets.token_urlsafe(32)
        self.extensions = {}  # per-provider state that is not an ARM resource (catalog, guest pool...)
        self.deletion_hooks = []  # callables(body) told about every resource that disappears
        self._saved_version = -1
        providers.register_all(self)
        self._load_state()

    def notify_deleted(self, body):
        """Tell providers a resource is going away (e.g. release a public IP's guest binding)."""
        for hook in self.deletion_hooks:
            hook(body)

    # -- persistence --------------------------------------------------------------------------
    def _state_file(self):
        return os.path.join(self.state_dir, "state.json") if self.state_dir else None

    def snapshot(self):
        return {
            "resources": self.store.dump(),
            "operations": self.ops.dump(),
            "settings": self.settings.values,
            "extensions": {name: ext.dump() for name, ext in self.extensions.items() if hasattr(ext, "dump")},
            "token_key": self.token_key,
            "clock": self.clock.dump(),
        }

    def _load_state(self):
        path = self._state_file()
        if not path or not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
        self.settings.values = state.get("settings", self.settings.values)
        self.store.load(state.get("resources", []))
        self.ops.load(state.get("operations", []))
        self.token_key = state.get("token_key", self.token_key)
        self.clock.load(state.get("clock", {}))
        for name, data in state.get("extensions", {}).items():
            ext = self.extensions.get(name)
            if ext is not None and hasattr(ext, "load"):
                ext.load(data)
        self._saved_version = self.store.version

    def save(self, force=False):
        path = self._state_file()
        if not path or (not force and self.store.version == self._saved_version):
            return
        os.makedirs(self.state_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".state-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.snapshot(), handle)
        os.replace(tmp, path)
        self._saved_version = self.store.version

    def reset(self, settings=False):
        """Forget every resource, operation, fault, logged request, guest and clock advance; keep the catalog.

        With ``settings`` the settings go back to what the server started with."""
        if settings:
            self.settings.values = copy.deepcopy(self.initial_settings)
        self.store.clear()
        self.ops.clear()
        self.clock.reset()
        self.faults.clear()
        self.throttle.reset()
        self.request_log.clear()
        for ext in self.extensions.values():
            if hasattr(ext, "reset"):
                ext.reset()
        self.save(force=True)

    # -- request handling ---------------------------------------------------------------------
    def log_request(self, entry):
        self.request_seq += 1
        entry["seq"] = self.request_seq
        self.request_log.append(entry)

    async def handle(self, request: web.Request):
        started = time.perf_counter()
        raw_path = request.rel_url.raw_path
        path = "/" + raw_path.lstrip("/")  # az CLI sends '//metadata/endpoints'
        from urllib.parse import unquote

        path = unquote(path)
        query = {key.lower(): value for key, value in request.rel_url.query.items()}
        method = request.method.upper()
        body = await request.read()

        route, params = self.router.match(method, path)
        kind = route.kind if route else ("admin" if path.lower().startswith("/_azsim") else "arm")
        correlation = request.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
        request_id = str(uuid.uuid4())
        headers = {}
        dropped = False
        lose_rules = []  # drop_after: the handler runs and its effect stays; only the answer is lost
        handled = False  # the handler ran (a status fault answers before it: nothing to lose then)
        fault = None  # the injected fault action, for the request log
        try:
            if kind == "admin":
                self._check_admin(request.headers)  # before anything else: a refused request changes nothing
            self.ops.tick()
            if kind in ("arm", "entra") and self.settings["latency_ms"]:
                await asyncio.sleep(self.settings["latency_ms"] / 1000.0)
            if route is None:
                raise self._no_route(method, path, params)
            sim_request = SimRequest(self, method, path, query, request.headers, body, params, self._base_url(request))
            sim_request.remote = request.remote  # the client's address (GET /_azsim/myip)
            if kind == "arm":
                self._check_arm(sim_request, headers)
            if kind in ("arm", "entra"):
                for rule in self.faults.for_request(method, path):
                    if rule.action == "delay":
                        await asyncio.sleep(float(rule.spec.get("delay_ms", 100)) / 1000.0)
                    elif rule.action == "drop":
                        dropped, fault = True, "drop"
                    elif rule.action == "drop_after":
                        lose_rules.append(rule)
                    elif rule.action == "status":
                        fault = "status"
                        raise Faults.status_error(rule, sim_request.subscription or self.settings.default_subscription)
            if dropped:
                reply = None
            else:
                handled = True
                reply = route.handler(sim_request)
                if asyncio.iscoroutine(reply):
                    reply = await reply
                if not isinstance(reply, Reply):
                    reply = Reply(200, reply)
        except ArmError as err:
            reply = Reply(err.status, err.body(), err.headers)
        except Exception as err:  # a simulator bug must still look like ARM, never a traceback page
            reply = Reply(500, {"error": {"code": "InternalServerError", "message": f"azsim internal error: {err!r}"}})
        self.save()
        lose_response = bool(lose_rules) and handled and not dropped
        if lose_response:
            fault = "drop_after"
        else:
            for rule in lose_rules:  # pre-empted by a status or drop fault: nothing was lost, the rule fires later
                rule.fired -= 1

        status = reply.status if reply else 0
        if kind != "admin":
            self.log_request({
                "time": dt.datetime.now(dt.timezone.utc).isoformat(),
                "method": method,
                "path": path,
                "query": dict(request.rel_url.query),
                "status": status,
                "kind": kind,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "client_request_id": request.headers.get("x-ms-client-request-id") or request.headers.get("client-request-id"),
                "dropped": dropped,
                "dropped_after": lose_response,
                "fault": fault,
            })
        if dropped or lose_response:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError()

        headers.update(reply.headers)
        headers.setdefault("x-ms-request-id", request_id)
        headers["x-ms-correlation-request-id"] = correlation
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        headers["x-ms-routing-request-id"] = f"EASTUS:{stamp}:{correlation}"
        headers["Cache-Control"] = "no-cache"
        headers["Pragma"] = "no-cache"
        headers["Expires"] = "-1"
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        headers["X-Content-Type-Options"] = "nosniff"
        if reply.body is None:
            return web.Response(status=reply.status, headers=headers)
        return web.Response(
            status=reply.status,
            body=json.dumps(reply.body).encode("utf-8"),
            headers=headers,
            content_type="application/json",
            charset="utf-8",
        )

    def _check_admin(self, headers):
        offered = headers.get("X-Azsim-Admin-Token") or ""
        scheme, _, value = (headers.get("Authorization") or "").partition(" ")
        if not offered and scheme.lower() == "bearer":
            offered = value.strip()
        if not offered or not hmac.compare_digest(offered.encode("utf-8"), self.admin_token.encode("utf-8")):
            raise ArmError(401, "AdminTokenRequired" if not offered else "InvalidAdminToken",
                           "The azsim admin API needs the token this simulator printed at start: "
                           "'Authorization: Bearer $AZSIM_ADMIN_TOKEN' (see `azsim env`).",
                           headers={"WWW-Authenticate": 'Bearer realm="azsim-admin"'})

    def _base_url(self, request):
        host = request.headers.get("Host") or request.host
        return f"https://{host}"

    def _check_arm(self, req, headers):
        if not req.api_version:
            raise ArmError(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.")
        if not _looks_like_api_version(req.api_version):
            raise ArmError(400, "InvalidApiVersionParameter",
                           f"The api-version '{req.api_version}' is invalid. The supported versions are "
                           "'2026-04-01,2025-04-01,2024-11-01'.")
        providers.entra.authenticate(self, req)
        subscription = req.subscription
        if subscription and subscription.lower() not in self.settings.subscription_ids():
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")
        header, remaining = self.throttle.take(subscription or "tenant", req.method)
        if remaining is not None:
            headers[header] = str(remaining)

    def _no_route(self, method, path, allowed):
        if allowed:
            return ArmError(405, "MethodNotAllowed", f"The requested resource does not support http method '{method}'.")
        parts = path.strip("/").split("/")
        lowered = [part.lower() for part in parts]
        if "providers" in lowered:
            index = lowered.index("providers")
            namespace = parts[index + 1] if len(parts) > index + 1 else ""
            if namespace.lower() not in providers.NAMESPACES:
                return ArmError(400, "InvalidResourceNamespace",
                                f"The resource namespace '{namespace}' is invalid.")
            resource_type = parts[index + 2] if len(parts) > index + 2 else ""
            return ArmError(400, "InvalidResourceType",
                            f"The resource type '{resource_type}' could not be found in the namespace '{namespace}' "
                            "for api version.")
        return ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{path}'.")


def _looks_like_api_version(value):
    head = value[:10]
    try:
        dt.date.fromisoformat(head)
    except ValueError:
        return False
    return value[10:] in ("", "-preview") or value[10:].startswith("-")


def build_app(sim):
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", sim.handle)
    return app
