"""The guest pool's admin routes: ``GET``/``POST /_azsim/guests`` and ``DELETE /_azsim/guests/{name}``
(the pool itself, binding and provisioning are in :mod:`.models`)."""

from __future__ import annotations

from . import filesystems
from .models import GuestPool, pool


def list_guests(req):
    return {"value": list(pool(req.sim).guests.values())}


def add_guest(req):
    return pool(req.sim).register(req.json())


def remove_guest(req):
    return pool(req.sim).remove(req.params["name"])


def register(sim):
    filesystems.register(sim)  # images carrying their guest's filesystem
    guests = GuestPool(sim)
    sim.extensions["guests"] = guests
    sim.deletion_hooks.append(guests.on_deleted)
    sim.router.add("GET", "/_azsim/guests", list_guests, kind="admin")
    sim.router.add("POST", "/_azsim/guests", add_guest, kind="admin")
    sim.router.add("DELETE", "/_azsim/guests/{name}", remove_guest, kind="admin")
