"""GET / PUT / PATCH (tags) / DELETE / list for one top-level Microsoft.Network resource type.

Each type (virtual networks, security groups, public IPs, NICs) supplies a :class:`NetworkType`: how to
build the stored body from a request, when a delete must be refused, and how to render back-references.
Everything else - resource-group checks, names, locations, etags, the async PUT/DELETE shape - is
NRP's common behaviour and lives here once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from collections.abc import Callable

from ..core.errors import not_found
from ..core.request import Reply
from ..core.store import provider_id, public
from . import lro_finish, network_lro
from .network_common import location_conflict, new_etag, validate_name
from .paged_list import page
from .resources import get_group_or_raise, validate_location


def _no_check(sim, body):
    return None


def _plain(sim, body):
    return public(body)


def _no_children(body):
    return []


@dataclass
class NetworkType:
    segment: str  # URL segment and type name: "publicIPAddresses"
    param: str  # route parameter holding the name
    # build(req, rid, name, request_body, existing_body_or_None) -> the new "properties" dict
    build: Callable
    check_delete: Callable = _no_check  # raises ArmError when the resource is in use
    render: Callable = _plain  # stored body -> client view (adds back-references)
    children: Callable = _no_children  # inline children that share the provisioningState
    on_created: Callable = None  # (sim, new body) just before it is first stored (e.g. bind a guest)
    top_level: Callable = None  # (request_body, existing_or_None) -> extra top-level keys ("sku", "zones")

    @property
    def type(self):
        return f"Microsoft.Network/{self.segment}"

    @property
    def collection_template(self):
        group = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
        return f"{group}/providers/Microsoft.Network/{self.segment}"

    @property
    def item_template(self):
        return self.collection_template + "/{" + self.param + "}"


class NetworkHandlers:
    def __init__(self, kind: NetworkType):
        self.kind = kind

    def _rid(self, req):
        return provider_id(req.subscription, req.params["resourceGroupName"], "Microsoft.Network", self.kind.segment,
                           req.params[self.kind.param])

    def _existing(self, req):
        get_group_or_raise(req.sim, req.subscription, req.params["resourceGroupName"])
        return req.sim.store.get(self._rid(req))

    def _or_404(self, req, body):
        if body is None:
            raise not_found(self.kind.type, req.params[self.kind.param], req.params["resourceGroupName"])
        return body

    def get(self, req):
        return self.kind.render(req.sim, self._or_404(req, self._existing(req)))

    def list_group(self, req):
        group = get_group_or_raise(req.sim, req.subscription, req.params["resourceGroupName"])
        prefix = group["id"] + "/providers/Microsoft.Network/"
        return page(req, [self.kind.render(req.sim, body) for body in req.sim.store.list(prefix, self.kind.type)])

    def list_subscription(self, req):
        bodies = req.sim.store.list(f"/subscriptions/{req.subscription}/", self.kind.type)
        return page(req, [self.kind.render(req.sim, body) for body in bodies])

    def put(self, req):
        name = req.params[self.kind.param]
        existing = self._existing(req)
        validate_name(name)
        request = req.json()
        location = validate_location(req.sim, request.get("location"))
        if existing is not None and existing["location"] != location:
            raise location_conflict(name, existing["location"], req.params["resourceGroupName"], location)
        rid = self._rid(req)
        properties = self.kind.build(req, rid, name, request, existing)  # validates; raises before anything changes
        body = {
            "name": name,
            "id": rid,
            "etag": new_etag(),
            "type": self.kind.type,
            "location": location,
            "tags": request.get("tags") or {},
            "properties": properties,
        }
        if self.kind.top_level is not None:
            body.update(self.kind.top_level(request, existing))
        properties["resourceGuid"] = (existing or {}).get("properties", {}).get("resourceGuid") or str(uuid.uuid4())
        properties["provisioningState"] = "Updating"
        for child in self.kind.children(body):
            child.setdefault("properties", {})["provisioningState"] = "Updating"
        if existing is not None and "_sim" in existing:
            body["_sim"] = existing["_sim"]
        if existing is None and self.kind.on_created is not None:
            self.kind.on_created(req.sim, body)  # last step that may refuse, so a refusal leaves nothing behind
        req.sim.store.put(body)
        reply_body = self.kind.render(req.sim, body)  # as NRP answers: Updating, whatever the operation does next
        op = network_lro.start(req, "network.put", rid, "network.create", location)
        return Reply(201 if existing is None else 200, reply_body, network_lro.headers(req, op))

    def patch_tags(self, req):
        body = self._or_404(req, self._existing(req))
        request = req.json()
        if "tags" in request:
            body["tags"] = request["tags"] or {}
        body["etag"] = new_etag()
        req.sim.store.touch()
        return self.kind.render(req.sim, body)

    def delete(self, req):
        body = self._existing(req)
        if body is None:
            return Reply(204)
        self.kind.check_delete(req.sim, body)
        body["properties"]["provisioningState"] = "Deleting"
        req.sim.store.touch()
        op = network_lro.start(req, "network.delete", body["id"], "network.delete", body["location"])
        return Reply(202, None, network_lro.headers(req, op, location=True))

    def register(self, sim):
        add = sim.router.add
        add("GET", self.kind.collection_template, self.list_group)
        subscription_wide = "/subscriptions/{subscriptionId}/providers/Microsoft.Network/" + self.kind.segment
        add("GET", subscription_wide, self.list_subscription)
        add("GET", self.kind.item_template, self.get)
        add("PUT", self.kind.item_template, self.put)
        add("PATCH", self.kind.item_template, self.patch_tags)
        add("DELETE", self.kind.item_template, self.delete)


# -- finishers, shared by every type (looked up by name so pending operations survive a restart) --
CHILDREN = {}  # resource type (lower) -> children(body)


def finish_put(sim, op):
    body = lro_finish.settle(sim, op)
    children = CHILDREN.get(body["type"].lower()) if body is not None else None
    if children is not None:
        for child in children(body):
            child.setdefault("properties", {})["provisioningState"] = body["properties"]["provisioningState"]


def register_type(sim, kind: NetworkType):
    CHILDREN[kind.type.lower()] = kind.children
    NetworkHandlers(kind).register(sim)
    sim.ops.register_finisher("network.put", finish_put)
    sim.ops.register_finisher("network.delete", lro_finish.remove)
