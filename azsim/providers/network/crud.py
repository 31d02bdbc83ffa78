"""One top-level Microsoft.Network resource type on the resource base (``core/resource.py``).

Each type (virtual networks, security groups, public IPs, NICs) supplies a :class:`NetworkType`: how to
build the stored body from a request, when a delete must be refused, and how to render back-references.
:class:`NetworkResource` adds what NRP does for all of them on top of the base (lookups, lists, the
async DELETE): names, etags, ``resourceGuid``, the async PUT whose inline children share its provisioning
state, the tags-only PATCH; the finishers settle the resource and its children.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from collections.abc import Callable

from ...core import lro_finish
from ...core.request import Reply
from ...core.resource import GroupResource, validate_location
from ...core.store import public
from .models import new_etag, validate_name


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
    def item_template(self):
        return GroupResource(self.type, self.param).item_template


class NetworkResource(GroupResource):
    """NRP's resource: the base's lookups, lists and DELETE, plus NRP's own PUT (etag, resourceGuid,
    inline children that share the provisioning state) and tags-only PATCH."""

    def __init__(self, kind: NetworkType):
        super().__init__(kind.type, kind.param, monitor="network", render=kind.render)
        self.kind = kind

    def put(self, req):
        name = req.params[self.kind.param]
        existing = self.existing(req)
        validate_name(name)
        request = req.json()
        location = validate_location(req.sim, request.get("location"))
        self.check_location(existing, location, req.params["resourceGroupName"], status=400, name=name)
        rid = self.id(req)
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
        reply_body = self.render(req.sim, body)  # as NRP answers: Updating, whatever the operation does next
        op = self.start(req, "network.put", body, "network.create")
        return Reply(201 if existing is None else 200, reply_body, req.sim.ops.headers(req, op))

    def patch_tags(self, req):
        body = self.or_404(req, self.existing(req))
        request = req.json()
        if "tags" in request:
            body["tags"] = request["tags"] or {}
        body["etag"] = new_etag()
        req.sim.store.touch()
        return self.render(req.sim, body)

    def delete(self, req):
        return self.begin_delete(req, "network.delete", check=self.kind.check_delete)

    def register(self, sim):
        super().register(sim, self.put, self.patch_tags, self.delete)


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
    NetworkResource(kind).register(sim)
    sim.ops.register_finisher("network.put", finish_put)
    sim.ops.register_finisher("network.delete", lro_finish.remove)
