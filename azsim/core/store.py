"""The simulator's world: every ARM resource, keyed case-insensitively by its id.

A resource is stored as the JSON body ARM returns for it. Simulator-only bookkeeping lives under the
key ``_sim`` inside that body and is stripped by :func:`public` before anything leaves the server.
"""

from __future__ import annotations

import copy

PRIVATE_KEY = "_sim"


def resource_group_id(subscription, resource_group):
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}"


def provider_id(subscription, resource_group, namespace, *type_name_pairs):
    """provider_id(sub, rg, "Microsoft.Compute", "virtualMachines", "vm1") -> full ARM id."""
    rid = f"{resource_group_id(subscription, resource_group)}/providers/{namespace}"
    for part in type_name_pairs:
        rid += f"/{part}"
    return rid


def public(body):
    """The body as clients see it: a deep copy without simulator bookkeeping."""
    if body is None:
        return None
    clean = copy.deepcopy(body)
    clean.pop(PRIVATE_KEY, None)
    return clean


def private(body):
    """The simulator bookkeeping dict of a stored resource (created on first use)."""
    return body.setdefault(PRIVATE_KEY, {})


class Store:
    def __init__(self):
        self._items: dict[str, dict] = {}
        self.version = 0  # bumped on every change; the persister saves when it moves

    # -- basic access -------------------------------------------------------------------------
    def get(self, rid):
        return self._items.get(rid.lower().rstrip("/"))

    def put(self, body):
        """Insert or replace a resource; ``body["id"]`` is its key."""
        self._items[body["id"].lower()] = body
        self.version += 1
        return body

    def touch(self):
        """Record an in-place change to a stored body (so it is persisted)."""
        self.version += 1

    def delete(self, rid):
        removed = self._items.pop(rid.lower().rstrip("/"), None)
        if removed is not None:
            self.version += 1
        return removed

    def delete_tree(self, rid):
        """Delete a resource and everything whose id lies below it (a resource group, a gallery)."""
        prefix = rid.lower().rstrip("/") + "/"
        doomed = [key for key in self._items if key == prefix[:-1] or key.startswith(prefix)]
        for key in doomed:
            del self._items[key]
        if doomed:
            self.version += 1
        return len(doomed)

    # -- queries ------------------------------------------------------------------------------
    def all(self):
        return list(self._items.values())

    def list(self, prefix="", resource_type=None):
        """Resources whose id starts with ``prefix`` and (optionally) have exactly ``resource_type``."""
        prefix = prefix.lower()
        wanted = resource_type.lower() if resource_type else None
        found = []
        for key, body in self._items.items():
            if not key.startswith(prefix):
                continue
            if wanted and body.get("type", "").lower() != wanted:
                continue
            found.append(body)
        found.sort(key=lambda body: body["id"].lower())
        return found

    # -- persistence --------------------------------------------------------------------------
    def dump(self):
        return list(self._items.values())

    def load(self, bodies):
        self._items = {body["id"].lower(): body for body in bodies}
        self.version += 1

    def clear(self):
        self._items.clear()
        self.version += 1
