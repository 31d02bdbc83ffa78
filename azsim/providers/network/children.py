"""The child APIs of inline network children: ``virtualNetworks/{vnet}/subnets/{subnet}`` and
``networkSecurityGroups/{nsg}/securityRules/{rule}``.

The child lives in a list inside its parent's ``properties`` (as NRP stores it); these routes read and
change that list with NRP's usual async shapes (PUT 201/200 + Azure-AsyncOperation, DELETE 202 + both
monitors or 204).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...core.errors import not_found
from ...core.request import Reply
from ...core.store import provider_id, public
from .models import child_not_found, get_typed, new_etag
from .crud import NetworkType
from ...core.paged_list import page
from ...core.resource import get_group_or_raise


def _no_check(sim, child):
    return None


def _plain(sim, child):
    return public(child)


@dataclass
class InlineChild:
    parent: NetworkType
    key: str  # list in the parent's properties and URL segment: "subnets", "securityRules"
    param: str  # route parameter holding the child's name
    # build(sim, parent_body, name, request_body, old_child_or_None) -> the new child (checked against siblings)
    build: Callable
    check_delete: Callable = _no_check
    render: Callable = _plain

    @property
    def item_template(self):
        return f"{self.parent.item_template}/{self.key}/{{{self.param}}}"


def find_child(parent, key, name):
    for child in parent["properties"].get(key, []):
        if child["name"].lower() == name.lower():
            return child
    return None


class ChildHandlers:
    def __init__(self, kind: InlineChild):
        self.kind = kind

    def _parent(self, req):
        group = req.params["resourceGroupName"]
        get_group_or_raise(req.sim, req.subscription, group)
        name = req.params[self.kind.parent.param]
        rid = provider_id(req.subscription, group, "Microsoft.Network", self.kind.parent.segment, name)
        parent = get_typed(req.sim, rid, self.kind.parent.type)
        if parent is None:
            raise not_found(self.kind.parent.type, name, group)
        return parent

    def _child_id(self, parent, req):
        return f"{parent['id']}/{self.kind.key}/{req.params[self.kind.param]}"

    def get(self, req):
        parent = self._parent(req)
        child = find_child(parent, self.kind.key, req.params[self.kind.param])
        if child is None:
            raise child_not_found(self._child_id(parent, req))
        return self.kind.render(req.sim, child)

    def list(self, req):
        parent = self._parent(req)
        return page(req, [self.kind.render(req.sim, child) for child in parent["properties"].get(self.kind.key, [])])

    def put(self, req):
        parent = self._parent(req)
        name = req.params[self.kind.param]
        old = find_child(parent, self.kind.key, name)
        child = self.kind.build(req.sim, parent, name, req.json(), old)  # validates; raises before any change
        child["properties"]["provisioningState"] = "Updating"
        if old is not None:
            old.clear()
            old.update(child)
            child = old
        else:
            parent["properties"].setdefault(self.kind.key, []).append(child)
        parent["etag"] = child["etag"]
        req.sim.store.touch()
        reply_body = self.kind.render(req.sim, child)
        args = {"parent": parent["id"], "key": self.kind.key, "name": child["name"]}
        op = req.sim.ops.start(req, "network.child_put", args=args, duration="network.create",
                               location=parent["location"], kind="network")
        return Reply(200 if old is not None else 201, reply_body, req.sim.ops.headers(req, op))

    def delete(self, req):
        parent = self._parent(req)
        child = find_child(parent, self.kind.key, req.params[self.kind.param])
        if child is None:
            return Reply(204)
        self.kind.check_delete(req.sim, child)
        child["properties"]["provisioningState"] = "Deleting"
        req.sim.store.touch()
        args = {"parent": parent["id"], "key": self.kind.key, "name": child["name"]}
        op = req.sim.ops.start(req, "network.child_delete", args=args, duration="network.delete",
                               location=parent["location"], kind="network")
        return Reply(202, None, req.sim.ops.headers(req, op, location=True))


def _located(sim, op):
    parent = sim.store.get(op.args["parent"])
    return parent, (find_child(parent, op.args["key"], op.args["name"]) if parent else None)


def finish_child_put(sim, op):
    _, child = _located(sim, op)
    if child is not None:
        child["properties"]["provisioningState"] = "Succeeded" if op.status == "Succeeded" else "Failed"


def finish_child_delete(sim, op):
    parent, child = _located(sim, op)
    if child is None:
        return
    if op.status != "Succeeded":
        child["properties"]["provisioningState"] = "Failed"
        return
    parent["properties"][op.args["key"]] = [item for item in parent["properties"][op.args["key"]] if item is not child]
    parent["etag"] = new_etag()


def register_child(sim, kind: InlineChild):
    handlers = ChildHandlers(kind)
    sim.router.add("GET", f"{kind.parent.item_template}/{kind.key}", handlers.list)
    sim.router.add("GET", kind.item_template, handlers.get)
    sim.router.add("PUT", kind.item_template, handlers.put)
    sim.router.add("DELETE", kind.item_template, handlers.delete)
    sim.ops.register_finisher("network.child_put", finish_child_put)
    sim.ops.register_finisher("network.child_delete", finish_child_delete)
