"""Microsoft.Network routes: what a temporary build VM needs (see azsim/docs/network-images.md).

The models, one module per type (how a body is built from a request, when a delete is refused, how
back-references render):

- virtualNetworks (inline subnets) and virtualNetworks/{vnet}/subnets   -> ``vnet.py``
- networkSecurityGroups (security rules, default rules)                 -> ``nsg.py``
- publicIPAddresses (address from the guest pool or 127.100.0.0/16)     -> ``pip.py``
- networkInterfaces (IP configurations, private address allocation)     -> ``nic.py``

NRP's resource on the resource base: ``crud.py`` (top-level types) and ``children.py`` (inline children
with their own URL); shared names, lookups and errors: ``models.py``. NRP's operation monitors are in
``core/monitors.py``.

- GET /_azsim/myip: the caller's address as the simulator sees it, ``{"ip": ...}`` as
  ``https://api.ipify.org?format=json`` answers (the builder role's discovery of the controller's public address)
"""

from __future__ import annotations

from ...core import monitors
from .children import register_child
from .crud import register_type
from .nic import NICS
from .nsg import NSGS, RULES
from .pip import PIPS
from .vnet import SUBNETS, VNETS


def my_ip(req):
    """What a "what is my IP" service answers: the address the request came from."""
    return {"ip": getattr(req, "remote", None) or "127.0.0.1"}


def register(sim):
    sim.router.add("GET", "/_azsim/myip", my_ip, kind="public")
    monitors.register_network(sim)
    register_type(sim, VNETS)
    register_child(sim, SUBNETS)
    register_type(sim, NSGS)
    register_child(sim, RULES)
    register_type(sim, PIPS)
    register_type(sim, NICS)
