"""Resource providers. Each module keeps one provider's routes and rules together and exposes
``register(sim)``, which adds its routes to ``sim.router`` and its finishers to ``sim.ops``.
Provider modules that do not exist yet are skipped, so the simulator grows one provider at a time."""

from __future__ import annotations

import importlib

from . import entra

# Order matters only for readability of the route table.
PROVIDER_MODULES = [
    "entra",
    "resources",
    "operations",
    "admin",
    "guests",
    "marketplace",
    "compute_vm",
    "compute_disk",
    "compute_image",
    "compute_snapshot",
    "gallery",
    "network",
]

# Namespaces ARM knows; anything else is InvalidResourceNamespace.
NAMESPACES = {"microsoft.compute", "microsoft.network", "microsoft.resources", "microsoft.storage"}


def register_all(sim):
    for name in PROVIDER_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"{__name__}.{name}":
                continue
            raise
        module.register(sim)


__all__ = ["entra", "register_all", "NAMESPACES"]
