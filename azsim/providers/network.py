"""Microsoft.Network: what a temporary build VM needs.

- virtualNetworks (inline subnets) and virtualNetworks/{vnet}/subnets   -> network_vnet.py
- networkSecurityGroups (security rules, default rules)                 -> network_nsg.py
- publicIPAddresses (address from the guest pool or 127.100.0.0/16)     -> network_pip.py
- networkInterfaces (IP configurations, private address allocation)     -> network_nic.py
Shared CRUD and async shapes: network_crud.py, network_lro.py; shared lookups: network_common.py.
See azsim/docs/network-images.md.
"""

from __future__ import annotations

from . import network_lro, network_nic, network_nsg, network_pip, network_vnet


def register(sim):
    network_lro.register(sim)
    network_vnet.register(sim)
    network_nsg.register(sim)
    network_pip.register(sim)
    network_nic.register(sim)
