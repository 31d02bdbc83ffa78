"""One resource type that lives directly in a resource group (``.../providers/{namespace}/{segment}/{name}``).

What the Compute providers for images and snapshots share: the id from the request path, lookups that
answer ResourceGroupNotFound / ResourceNotFound as ARM does, the group and subscription lists, and the
asynchronous DELETE (``provisioningState: Deleting``, 202 + Azure-AsyncOperation + monitor Location).
"""

from __future__ import annotations

from ..core.errors import not_found
from ..core.request import Reply
from ..core.store import provider_id, public
from .paged_list import page
from .resources import get_group_or_raise


class GroupResource:
    def __init__(self, resource_type, param, namespace="Microsoft.Compute"):
        self.type = resource_type  # "Microsoft.Compute/images"
        self.segment = resource_type.split("/", 1)[1]
        self.param = param  # the path parameter that names one resource
        self.namespace = namespace
        self.collection_template = ("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
                                    f"{namespace}/{self.segment}")
        self.item_template = self.collection_template + "/{" + param + "}"
        self.subscription_template = f"/subscriptions/{{subscriptionId}}/providers/{namespace}/{self.segment}"

    def id(self, req):
        return provider_id(req.subscription, req.params["resourceGroupName"], self.namespace, self.segment,
                           req.params[self.param])

    def url(self, req):
        """The resource's own URL, as a Location header that serves the resource (wire reference 6.3)."""
        return f"{req.base_url}{self.id(req)}?api-version={req.api_version}"

    def existing(self, req):
        """The stored body or None; 404 ResourceGroupNotFound when the group is missing."""
        get_group_or_raise(req.sim, req.subscription, req.params["resourceGroupName"])
        return req.sim.store.get(self.id(req))

    def or_404(self, req, body):
        if body is None:
            raise not_found(self.type, req.params[self.param], req.params["resourceGroupName"])
        return body

    def get(self, req):
        return public(self.or_404(req, self.existing(req)))

    def list_group(self, req):
        group = get_group_or_raise(req.sim, req.subscription, req.params["resourceGroupName"])
        return page(req, [public(body) for body in req.sim.store.list(group["id"] + "/providers/", self.type)])

    def list_subscription(self, req):
        return page(req, [public(body) for body in req.sim.store.list(f"/subscriptions/{req.subscription}/", self.type)])

    def begin_delete(self, req, finisher, kind):
        """DELETE: 204 when absent, else Deleting + 202 with both polling headers; ``finisher`` removes it."""
        body = self.existing(req)
        if body is None:
            return Reply(204)
        body["properties"]["provisioningState"] = "Deleting"
        req.sim.store.touch()
        op = req.sim.ops.start(req, finisher, args={"id": body["id"]}, duration=finisher, location=body["location"],
                               kind=kind)
        return Reply(202, None, req.sim.ops.headers(req, op, location=True))

    def register(self, sim, put, patch, delete, get=None):
        """The six routes: lists per subscription and group, then GET/PUT/PATCH/DELETE of one resource."""
        add = sim.router.add
        add("GET", self.subscription_template, self.list_subscription)
        add("GET", self.collection_template, self.list_group)
        add("GET", self.item_template, get or self.get)
        add("PUT", self.item_template, put)
        add("PATCH", self.item_template, patch)
        add("DELETE", self.item_template, delete)
