"""The resource base: a resource type that lives in a resource group, under one or more parents.

``.../resourceGroups/{rg}/providers/{namespace}/{segment}/{name}[/{segment}/{name}...]``. Every provider
builds its types on :class:`GroupResource`, which keeps, once, what ARM does the same for all of them:

- the id from the request path, and the resource's own URL (a Location that serves the resource);
- lookups that answer 404 ResourceGroupNotFound, ParentResourceNotFound and ResourceNotFound as ARM does;
- the lists per subscription, per group and per parent (paged);
- writable-field validation (:meth:`GroupResource.writable`) and the location conflict on a re-PUT;
- the asynchronous write (Creating/Updating, 201/200 + Azure-AsyncOperation) and DELETE (204 when absent,
  409 while nested resources remain, else Deleting + 202 + Azure-AsyncOperation + Location), settled by the
  shared finishers in :mod:`core.lro_finish`.

What is really a provider's own (how a body is built, when a delete must be refused, how back-references
render, which monitor the operation uses) stays in the provider's ``models``.
"""

from __future__ import annotations

from .errors import ArmError, not_found, resource_group_not_found
from .paged_list import page
from .request import Reply
from .store import private, public, resource_group_id


def get_group_or_raise(sim, subscription, name):
    group = sim.store.get(resource_group_id(subscription, name))
    if group is None:
        raise resource_group_not_found(name)
    return group


def validate_location(sim, location, target="location"):
    """ARM's answer to a missing or unknown location."""
    if not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.", target=target)
    normalized = location.replace(" ", "").lower()
    if normalized not in sim.settings["locations"]:
        raise ArmError(400, "LocationNotAvailableForResourceType",
                       f"The provided location '{location}' is not available for resource type. List of available "
                       f"regions for the resource type is '{','.join(sim.settings['locations'])}'.", target=target)
    return normalized


def location_conflict(name, existing_location, requested, resource_group=None, status=409):
    """A PUT that would move an existing resource to another region."""
    group = f"resource group '{resource_group}'" if resource_group else "resource group"
    return ArmError(status, "InvalidResourceLocation",
                    f"The resource '{name}' already exists in location '{existing_location}' in {group}. A resource "
                    f"with the same name cannot be created in location '{requested}'. Please select a new resource "
                    "name.")


def tags_of(request, existing=None):
    """The tags a PUT/PATCH leaves: the request's when it names them, else the stored ones."""
    if "tags" in request:
        return request["tags"] or {}
    return (existing or {}).get("tags", {})


def _plain(sim, body):
    return public(body)


class GroupResource:
    """One resource type. ``params`` name the path parameters from the outermost parent to the resource:
    ``GroupResource("Microsoft.Compute/galleries/images", "galleryName", "galleryImageName")``.

    ``monitor`` is the operation kind its asynchronous writes and deletes are polled through (``crp``,
    ``caps``, ``disk``, ``network``); ``render(sim, body)`` is the client view (default: the public body).
    With ``group_lookup=False`` reads and deletes go by id alone, as GalleryRP's do.
    """

    def __init__(self, resource_type, *params, monitor="crp", render=None, group_lookup=True):
        self.type = resource_type  # "Microsoft.Compute/images"
        self.namespace, *self.segments = resource_type.split("/")
        assert len(self.segments) == len(params), (resource_type, params)
        self.params = params
        self.param = params[-1]  # the path parameter that names one resource
        self.segment = self.segments[-1]
        self.monitor = monitor
        self.render = render or _plain
        self.group_lookup = group_lookup  # False: reads and deletes go by id alone (GalleryRP)
        group = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
        path = f"{group}/providers/{self.namespace}"
        for segment, param in zip(self.segments, self.params):
            path += f"/{segment}/{{{param}}}"
        self.item_template = path
        self.collection_template = path.rsplit("/", 1)[0]
        self.subscription_template = f"/subscriptions/{{subscriptionId}}/providers/{self.namespace}/{self.segment}"

    @property
    def top_type(self):
        """The outermost type, as ARM's 404 names nested resources (``galleries`` + ``g/images/i``)."""
        return f"{self.namespace}/{self.segments[0]}"

    # -- ids and lookups ------------------------------------------------------------------------
    def _id(self, req, depth):
        rid = resource_group_id(req.subscription, req.params["resourceGroupName"]) + f"/providers/{self.namespace}"
        for segment, param in zip(self.segments[:depth], self.params[:depth]):
            rid += f"/{segment}/{req.params[param]}"
        return rid

    def id(self, req):
        return self._id(req, len(self.params))

    def parent_id(self, req):
        """A nested type's parent id (the route of a nested list names only the parents)."""
        return self._id(req, len(self.params) - 1)

    def url(self, req):
        """The resource's own URL, as a Location header that serves the resource (wire reference 6.3)."""
        return f"{req.base_url}{self.id(req)}?api-version={req.api_version}"

    def relative_name(self, req):
        """'g', 'g/images/i' or 'g/images/i/versions/v', as ARM's 404 message names nested resources."""
        name = req.params[self.params[0]]
        for segment, param in zip(self.segments[1:], self.params[1:]):
            name += f"/{segment}/{req.params[param]}"
        return name

    def group(self, req):
        return get_group_or_raise(req.sim, req.subscription, req.params["resourceGroupName"])

    def existing(self, req):
        """The stored body or None; 404 ResourceGroupNotFound when the group is missing."""
        if self.group_lookup:
            self.group(req)
        return req.sim.store.get(self.id(req))

    def or_404(self, req, body):
        if body is None:
            raise not_found(self.top_type, self.relative_name(req), req.params["resourceGroupName"])
        return body

    def require_parent(self, req):
        """A nested type's parent, or 404 ParentResourceNotFound."""
        parent = req.sim.store.get(self.parent_id(req))
        if parent is None:
            raise ArmError(404, "ParentResourceNotFound",
                           "Can not perform requested operation on nested resource. Parent resource "
                           f"'{req.params[self.params[-2]]}' not found.")
        return parent

    # -- rules every type shares ----------------------------------------------------------------
    @staticmethod
    def writable(properties, keys):
        """The client-settable ``keys`` of ``properties``; everything else is read-only or unknown."""
        return {key: properties[key] for key in keys if key in properties}

    @staticmethod
    def check_location(existing, location, resource_group=None, status=409, name=None):
        """409 (NRP: 400) InvalidResourceLocation when a PUT would move ``existing`` to another region."""
        if existing is not None and existing["location"].replace(" ", "").lower() != location:
            raise location_conflict(name or existing["name"], existing["location"], location, resource_group, status)

    # -- reads ------------------------------------------------------------------------------------
    def get(self, req):
        return self.render(req.sim, self.or_404(req, self.existing(req)))

    def list_group(self, req):
        group = self.group(req)
        if len(self.segments) > 1:
            return self.list_parent(req)
        return page(req, [self.render(req.sim, body)
                          for body in req.sim.store.list(group["id"] + "/providers/", self.type)])

    def list_parent(self, req):
        """GET of a nested collection (a gallery's images, a definition's versions)."""
        self.require_parent(req)
        prefix = f"{self.parent_id(req)}/{self.segment}/"
        return page(req, [self.render(req.sim, body) for body in req.sim.store.list(prefix, self.type)])

    def list_subscription(self, req):
        bodies = req.sim.store.list(f"/subscriptions/{req.subscription}/", self.type)
        return page(req, [self.render(req.sim, body) for body in bodies])

    # -- asynchronous writes and deletes ----------------------------------------------------------
    def start(self, req, finisher, body, duration=None):
        return req.sim.ops.start(req, finisher, args={"id": body["id"]}, duration=duration or finisher,
                                 location=body["location"], kind=self.monitor)

    def begin_write(self, req, body, created, duration, finisher):
        """Store ``body`` as Creating/Updating and answer 201/200 with an Azure-AsyncOperation monitor."""
        body["properties"]["provisioningState"] = "Creating" if created else "Updating"
        req.sim.store.put(body)
        answer = self.render(req.sim, body)  # as ARM answers, whatever the operation does next
        op = self.start(req, finisher, body, duration)
        stored = req.sim.store.get(body["id"])
        if stored is not None:
            private(stored)["operation"] = op.id
        return Reply(201 if created else 200, answer, req.sim.ops.headers(req, op))

    def begin_delete(self, req, finisher, duration=None, child_type=None, check=None, body=None):
        """DELETE: 204 when absent; 409 while nested resources of ``child_type`` remain; ``check(sim, body)``
        may refuse; else Deleting + 202 with both polling headers. ``finisher`` removes it."""
        body = self.existing(req) if body is None else body
        if body is None:
            return Reply(204)
        if child_type is not None and req.sim.store.list(body["id"] + "/", child_type):
            raise ArmError(409, "CannotDeleteResource", "Can not delete resource before nested resources are deleted.")
        if check is not None:
            check(req.sim, body)
        body["properties"]["provisioningState"] = "Deleting"
        req.sim.store.touch()
        op = self.start(req, finisher, body, duration)
        return Reply(202, None, req.sim.ops.headers(req, op, location=True))

    # -- routes -----------------------------------------------------------------------------------
    def register(self, sim, put, patch, delete, get=None, list_subscription=True, finishers=None):
        """Lists per subscription and group (or parent), then GET/PUT/PATCH/DELETE of one resource, and the
        type's finishers (``{name: func(sim, op)}``, looked up by name so pending operations survive ``--state``)."""
        for name, func in (finishers or {}).items():
            sim.ops.register_finisher(name, func)
        add = sim.router.add
        if list_subscription:
            add("GET", self.subscription_template, self.list_subscription)
        add("GET", self.collection_template, self.list_group)
        add("GET", self.item_template, get or self.get)
        add("PUT", self.item_template, put)
        add("PATCH", self.item_template, patch)
        add("DELETE", self.item_template, delete)
