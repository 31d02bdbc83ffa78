"""Resource providers, one package each (docs/architecture.md, "The simulator").

Every package keeps its state apart from its wire: ``models`` (and the rule modules next to it) build,
check and change stored bodies and hold the finishers; ``routes`` parses requests, answers them and has
``register(sim)``, which adds the routes to ``sim.router`` and the finishers to ``sim.ops``.
"""

from __future__ import annotations

from ..core import monitors
from .admin import routes as admin
from .compute import routes as compute
from .disks import routes as disks
from .entra import models as entra  # server.py checks bearer tokens with entra.authenticate
from .entra import routes as entra_routes
from .gallery import routes as gallery
from .guests import routes as guests
from .marketplace import routes as marketplace
from .network import routes as network
from .resources import routes as resources

# Order matters only for readability of the route table.
REGISTRATIONS = [entra_routes, resources, monitors, admin, guests, marketplace, compute, disks, gallery, network]

# Namespaces ARM knows; anything else is InvalidResourceNamespace.
NAMESPACES = {"microsoft.compute", "microsoft.network", "microsoft.resources", "microsoft.storage",
              "microsoft.marketplaceordering"}


def register_all(sim):
    for module in REGISTRATIONS:
        module.register(sim)


__all__ = ["entra", "register_all", "NAMESPACES"]
