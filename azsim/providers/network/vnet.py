"""Virtual networks with inline subnets, the subnets child API, and private IP allocation.

A subnet lives inside its virtual network's body (NRP keeps it there too): a virtual network PUT
replaces the whole subnet set, so a subnet missing from the body is deleted - unless something uses it.
"""

from __future__ import annotations

import ipaddress

from ...core.errors import ArmError
from ...core.store import public
from .children import InlineChild
from .models import (NSG_TYPE, SUBNET_TYPE, get_typed, invalid_reference, ip_configs_using, new_etag,
                             nic_ip_configurations, ref_id, same_id, validate_name)
from .crud import NetworkType

AZURE_RESERVED_HEAD = 4  # .0 network, .1 gateway, .2 and .3 Azure DNS; the last address is broadcast


def parse_prefix(prefix, rid):
    try:
        return ipaddress.ip_network(prefix, strict=True)
    except (ValueError, TypeError):
        raise ArmError(400, "InvalidAddressPrefixFormat",
                       f"Address prefix {prefix} of resource {rid} is not formatted correctly. It should follow CIDR "
                       "notation, for example 10.0.0.0/24.") from None


def subnet_prefixes(subnet):
    props = subnet.get("properties") or {}
    if props.get("addressPrefix"):
        return [props["addressPrefix"]]
    return list(props.get("addressPrefixes") or [])


def subnet_in_use_error(subnet_name, users):
    return ArmError(400, "InUseSubnetCannotBeDeleted",
                    f"Subnet {subnet_name} is in use by {users[0]} and cannot be deleted. In order to delete the subnet, "
                    "delete all the resources within the subnet. See aka.ms/deletesubnet.")


def build_subnet(sim, vnet_id, vnet_name, location, item, vnet_networks, old=None):
    """A validated subnet dict for the virtual network's body."""
    name = item.get("name") or ""
    validate_name(name)
    sid = f"{vnet_id}/subnets/{name}"
    props = item.get("properties") or {}
    prefixes = [props["addressPrefix"]] if props.get("addressPrefix") else list(props.get("addressPrefixes") or [])
    if not prefixes:
        raise ArmError(400, "NoAddressPrefixOrPoolProvided",
                       f"No address prefix or pool is provided for subnet '{name}' in virtual network '{vnet_name}'.")
    for prefix in prefixes:
        network = parse_prefix(prefix, sid)
        if not any(network.version == space.version and network.subnet_of(space) for space in vnet_networks):
            raise ArmError(400, "NetcfgSubnetRangeOutsideVnet",
                           f"Subnet '{name}' is not valid because its IP address range is outside the IP address range "
                           f"of virtual network '{vnet_name}'.")
    if old is not None and sorted(subnet_prefixes(old)) != sorted(prefixes):
        users = ip_configs_using(sim, "subnet", sid)
        if users:
            raise ArmError(400, "InUseSubnetCannotBeUpdated",
                           f"Subnet {name} is in use by {users[0]} and its address prefix cannot be changed.")
    nsg_id = ref_id(props, "networkSecurityGroup")
    if nsg_id:
        nsg = get_typed(sim, nsg_id, NSG_TYPE)
        if nsg is None or nsg["location"] != location:
            raise invalid_reference(nsg_id, sid)
    stored = {
        "addressPrefix" if props.get("addressPrefix") else "addressPrefixes": props.get("addressPrefix") or prefixes,
        "delegations": props.get("delegations") or [],
        "privateEndpointNetworkPolicies": props.get("privateEndpointNetworkPolicies", "Disabled"),
        "privateLinkServiceNetworkPolicies": props.get("privateLinkServiceNetworkPolicies", "Enabled"),
    }
    if nsg_id:
        stored["networkSecurityGroup"] = {"id": nsg_id}
    for key in ("serviceEndpoints", "defaultOutboundAccess", "routeTable", "natGateway"):
        if key in props:
            stored[key] = props[key]
    return {"name": name, "id": sid, "etag": new_etag(), "type": SUBNET_TYPE, "properties": stored}


def check_no_overlap(vnet_name, subnets):
    seen = []
    for subnet in subnets:
        for prefix in subnet_prefixes(subnet):
            network = ipaddress.ip_network(prefix)
            for other_name, other in seen:
                if other_name.lower() != subnet["name"].lower() and network.version == other.version \
                        and network.overlaps(other):
                    raise ArmError(400, "NetcfgSubnetRangesOverlap",
                                   f"Subnet '{subnet['name']}' is not valid in virtual network '{vnet_name}' because its "
                                   f"IP address range overlaps with that of subnet '{other_name}'.")
            seen.append((subnet["name"], network))


def _vnet_networks(rid, request_props):
    prefixes = (request_props.get("addressSpace") or {}).get("addressPrefixes") or []
    if not prefixes:
        raise ArmError(400, "InvalidRequestFormat",
                       f"Cannot parse the request. Virtual network {rid} must have at least one address prefix in "
                       "properties.addressSpace.addressPrefixes.")
    return prefixes, [parse_prefix(prefix, rid) for prefix in prefixes]


def build_vnet(req, rid, name, request, existing):
    props = request.get("properties") or {}
    location = request["location"].replace(" ", "").lower()
    prefixes, networks = _vnet_networks(rid, props)
    old = {item["name"].lower(): item for item in (existing or {}).get("properties", {}).get("subnets", [])}
    subnets = [build_subnet(req.sim, rid, name, location, item, networks, old.get((item.get("name") or "").lower()))
               for item in props.get("subnets") or []]
    check_no_overlap(name, subnets)
    kept = {subnet["name"].lower() for subnet in subnets}
    for old_name, old_subnet in old.items():
        users = ip_configs_using(req.sim, "subnet", old_subnet["id"])
        if old_name not in kept and users:
            raise subnet_in_use_error(old_subnet["name"], users)
    built = {
        "addressSpace": {"addressPrefixes": prefixes},
        "subnets": subnets,
        "virtualNetworkPeerings": [],
        "enableDdosProtection": bool(props.get("enableDdosProtection", False)),
    }
    if props.get("dhcpOptions"):
        built["dhcpOptions"] = props["dhcpOptions"]
    return built


def render_subnet(sim, subnet):
    view = public(subnet)
    users = ip_configs_using(sim, "subnet", subnet["id"])
    if users:
        view["properties"]["ipConfigurations"] = [{"id": user} for user in users]
    return view


def render_vnet(sim, body):
    view = public(body)
    view["properties"]["subnets"] = [render_subnet(sim, subnet) for subnet in body["properties"].get("subnets", [])]
    return view


def check_vnet_delete(sim, body):
    for subnet in body["properties"].get("subnets", []):
        check_subnet_delete(sim, subnet)


VNETS = NetworkType(
    segment="virtualNetworks",
    param="virtualNetworkName",
    build=build_vnet,
    check_delete=check_vnet_delete,
    render=render_vnet,
    children=lambda body: body["properties"].get("subnets", []),
)


# -- private IP addresses -------------------------------------------------------------------------
def allocate_private_ip(sim, subnet, owner_config_id, requested=None, reserved=()):
    """A free IPv4 address of the subnet (Azure keeps the first four and the last), or check ``requested``.

    ``reserved``: addresses already given to other IP configurations of the same request.
    """
    network = ipaddress.ip_network(subnet_prefixes(subnet)[0])
    taken = {config["properties"].get("privateIPAddress") for _, config in nic_ip_configurations(sim)
             if same_id(ref_id(config["properties"], "subnet"), subnet["id"])
             and not same_id(config["id"], owner_config_id)} | set(reserved)
    if requested:
        try:
            address = ipaddress.ip_address(requested)
        except ValueError:
            address = None
        usable = (address is not None and address.version == network.version and address in network
                  and int(address) - int(network.network_address) >= AZURE_RESERVED_HEAD
                  and address != network.broadcast_address)
        if not usable:
            raise ArmError(400, "PrivateIPAddressNotInSubnet",
                           f"IP configuration {owner_config_id} is referencing subnet {subnet['id']} with a private IP "
                           f"address {requested} that is not in the subnet's address range or is reserved.")
        if requested in taken:
            raise ArmError(400, "PrivateIPAddressInUse",
                           f"IP configuration {owner_config_id} is using the private IP address {requested} which is "
                           f"already allocated to resource in subnet {subnet['id']}.")
        return requested
    for offset in range(AZURE_RESERVED_HEAD, network.num_addresses - 1):
        candidate = str(network.network_address + offset)
        if candidate not in taken:
            return candidate
    raise ArmError(400, "SubnetIsFull", f"Subnet {subnet['name']} with address prefix {network} does not have enough "
                   "capacity for 1 IP addresses.")


# -- the subnets child API ------------------------------------------------------------------------
def build_subnet_child(sim, vnet, name, request, old):
    networks = [ipaddress.ip_network(prefix) for prefix in vnet["properties"]["addressSpace"]["addressPrefixes"]]
    subnet = build_subnet(sim, vnet["id"], vnet["name"], vnet["location"], dict(request, name=name), networks, old)
    siblings = [item for item in vnet["properties"]["subnets"] if item["name"].lower() != name.lower()]
    check_no_overlap(vnet["name"], siblings + [subnet])
    return subnet


def check_subnet_delete(sim, subnet):
    users = ip_configs_using(sim, "subnet", subnet["id"])
    if users:
        raise subnet_in_use_error(subnet["name"], users)


SUBNETS = InlineChild(parent=VNETS, key="subnets", param="subnetName", build=build_subnet_child,
                      check_delete=check_subnet_delete, render=render_subnet)
