"""Microsoft.Network: what a temporary build VM needs.

- virtualNetworks (inline subnets) and virtualNetworks/{vnet}/subnets   -> network_vnet.py
- networkSecurityGroups (security rules, default rules)                 -> network_nsg.py
- publicIPAddresses (address from the guest pool or 127.100.0.0/16)     -> network_pip.py
- networkInterfaces (IP configurations, private address allocation)     -> network_nic.py
Shared CRUD and async shapes: network_crud.py, network_lro.py; shared lookups: network_common.py.
- GET /_azsim/myip: the caller's address as the simulator sees it, ``{"ip": ...}`` as
  ``https://api.ipify.org?format=json`` answers (the builder role's discovery of the controller's public address)
See azsim/docs/network-images.md.
"""

from __future__ import annotations

from . import network_lro, network_nic, network_nsg, network_pip, network_vnet


def my_ip(req):
    """What a "what is my IP" service answers: the address the request came from."""
    return {"ip": getattr(req, "remote", None) or "127.0.0.1"}


def register(sim):
    sim.router.add("GET", "/_azsim/myip", my_ip, kind="public")
    network_lro.register(sim)
    network_vnet.register(sim)
    network_nsg.register(sim)
    network_pip.register(sim)
    network_nic.register(sim)
