"""Public IP addresses: Standard SKU, static IPv4, an address assigned at create time.

The address is a registered guest's (see ``guests.py``) when one is free, so that SSH to the VM's
public IP reaches a real guest; otherwise a unique address from 127.100.0.0/16, where nothing listens.
"""

from __future__ import annotations

import ipaddress

from ...core.errors import ArmError
from ...core.store import public
from ..guests import models as guests
from .models import PIP_TYPE, ip_configs_using
from .crud import NetworkType

UNBOUND_RANGE = ipaddress.ip_network("127.100.0.0/16")
SKUS = {"standard": "Standard", "basic": "Basic"}


def top_level(request, existing):
    if existing is not None:  # NRP keeps the SKU and zones a public IP was created with
        return {key: existing[key] for key in ("sku", "zones") if key in existing}
    sku = request.get("sku") or {}
    name = SKUS.get(str(sku.get("name", "Standard")).lower())
    if name is None:
        raise ArmError(400, "InvalidRequestFormat", f"Cannot parse the request: unknown public IP SKU '{sku.get('name')}'.")
    extra = {"sku": {"name": name, "tier": sku.get("tier", "Regional")}}
    if request.get("zones"):
        extra["zones"] = list(request["zones"])
    return extra


def build_pip(req, rid, name, request, existing):
    props = request.get("properties") or {}
    sku = (existing or {}).get("sku") or top_level(request, None)["sku"]
    default_method = "Static" if sku["name"] == "Standard" else "Dynamic"
    method = str(props.get("publicIPAllocationMethod") or default_method).capitalize()
    if method not in ("Static", "Dynamic"):
        raise ArmError(400, "InvalidRequestFormat", f"Cannot parse the request: unknown allocation method '{method}'.")
    if sku["name"] == "Standard" and method != "Static":
        raise ArmError(400, "StandardSkuPublicIPAddressesMustBeStatic",
                       f"Standard sku publicIp {rid} must have AllocationMethod set to Static.")
    version = props.get("publicIPAddressVersion") or "IPv4"
    if version != "IPv4":
        raise ArmError(400, "InvalidRequestFormat",
                       f"Cannot parse the request: the simulator serves IPv4 public IPs only, not '{version}'.")
    built = {
        "publicIPAddressVersion": version,
        "publicIPAllocationMethod": method,
        "idleTimeoutInMinutes": int(props.get("idleTimeoutInMinutes") or 4),
        "ipTags": props.get("ipTags") or [],
        "ddosSettings": props.get("ddosSettings") or {"protectionMode": "VirtualNetworkInherited"},
    }
    if existing is not None and existing["properties"].get("ipAddress"):
        built["ipAddress"] = existing["properties"]["ipAddress"]
    label = (props.get("dnsSettings") or {}).get("domainNameLabel")
    if label:
        location = request["location"].replace(" ", "").lower()
        built["dnsSettings"] = {"domainNameLabel": label, "fqdn": f"{label}.{location}.cloudapp.azure.com"}
    return built


def _taken_addresses(sim):
    taken = {body["properties"].get("ipAddress") for body in sim.store.list("", PIP_TYPE)}
    return taken | guests.pool(sim).addresses()


def assign_address(sim, body):
    """Bind a guest (its address becomes the public IP) or take a free address nobody listens on."""
    address = guests.bind_public_ip(sim, body)
    if address is None:
        taken = _taken_addresses(sim)
        address = next((str(host) for host in UNBOUND_RANGE.hosts() if str(host) not in taken), None)
        if address is None:
            raise ArmError(400, "PublicIPCountLimitReached", "Cannot create more than 65534 public IP addresses.")
    body["properties"]["ipAddress"] = address


def render_pip(sim, body):
    view = public(body)
    users = ip_configs_using(sim, "publicIPAddress", body["id"])
    if users:
        view["properties"]["ipConfiguration"] = {"id": users[0]}
    return view


def check_pip_delete(sim, body):
    users = ip_configs_using(sim, "publicIPAddress", body["id"])
    if users:
        raise ArmError(400, "PublicIPAddressCannotBeDeleted",
                       f"Public IP address {body['id']} can not be deleted since it is still allocated to resource "
                       f"{users[0]}. In order to delete the public IP, disassociate/detach the Public IP address from "
                       "the resource.  To learn how to do this, see aka.ms/deletepublicip.")


PIPS = NetworkType(
    segment="publicIPAddresses",
    param="publicIpAddressName",
    build=build_pip,
    check_delete=check_pip_delete,
    render=render_pip,
    on_created=assign_address,
    top_level=top_level,
)
