"""Finishers shared by every resource whose asynchronous write or delete simply settles.

Registered by name with ``sim.ops.register_finisher`` (so pending operations survive ``--state``):

- ``settle``: a write ends with ``provisioningState`` Succeeded, or Failed when the operation failed.
- ``remove``: a delete removes the resource and every resource below its id (a gallery's images, a
  virtual network's subnets, a resource group's content), telling the deletion hooks about each one
  (e.g. the guest pool frees a public IP's binding); a failed delete leaves the resource Failed.
"""

from __future__ import annotations


def settle(sim, op):
    """Finish a write; returns the resource (None when it has gone meanwhile)."""
    body = sim.store.get(op.args["id"])
    if body is not None:
        body["properties"]["provisioningState"] = "Succeeded" if op.status == "Succeeded" else "Failed"
    return body


def remove(sim, op):
    """Finish a delete; returns the removed resource (None when nothing was removed)."""
    body = sim.store.get(op.args["id"])
    if body is None:
        return None
    if op.status != "Succeeded":
        body["properties"]["provisioningState"] = "Failed"
        return None
    for child in sim.store.list(body["id"].rstrip("/") + "/"):
        sim.notify_deleted(child)
    sim.notify_deleted(body)
    sim.store.delete_tree(body["id"])
    return body
