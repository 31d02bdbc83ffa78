"""Network interfaces: IP configurations in a subnet, with an optional public IP and security group.

References must exist in the NIC's region (400 InvalidResourceReference). A private address is taken
from the subnet (Dynamic: the first free one after Azure's four reserved addresses) and kept across
updates. A NIC is in use while a VM's networkProfile lists it.
"""

from __future__ import annotations

from ...core.errors import ArmError
from ...core.store import public
from .models import (IPCONFIG_TYPE, NSG_TYPE, PIP_TYPE, find_subnet, get_typed, invalid_reference,
                             ip_configs_using, new_etag, ref_id, same_id, validate_name, vms_using_nic)
from .crud import NetworkType
from .vnet import allocate_private_ip


def _old_config(existing, name):
    for config in (existing or {}).get("properties", {}).get("ipConfigurations", []):
        if config["name"].lower() == name.lower():
            return config
    return None


def build_ip_configuration(sim, nic_id, location, item, primary, existing, reserved):
    name = item.get("name") or ""
    validate_name(name)
    cid = f"{nic_id}/ipConfigurations/{name}"
    props = item.get("properties") or {}
    subnet_id = ref_id(props, "subnet")
    if not subnet_id:
        raise ArmError(400, "InvalidRequestFormat",
                       f"Cannot parse the request: IP configuration {cid} must reference a subnet.")
    vnet, subnet = find_subnet(sim, subnet_id)
    if subnet is None or vnet["location"] != location:
        raise invalid_reference(subnet_id, nic_id)
    stored = {"privateIPAddressVersion": "IPv4", "subnet": {"id": subnet["id"]}, "primary": primary}
    pip_id = ref_id(props, "publicIPAddress")
    if pip_id:
        pip = get_typed(sim, pip_id, PIP_TYPE)
        if pip is None or pip["location"] != location:
            raise invalid_reference(pip_id, nic_id)
        holders = [user for user in ip_configs_using(sim, "publicIPAddress", pip["id"]) if not same_id(user, cid)]
        if holders:
            raise ArmError(400, "PublicIPAddressInUse",
                           f"Resource {pip['id']} is referenced by resource {holders[0]} and cannot be used by "
                           f"resource {cid}.")
        stored["publicIPAddress"] = {"id": pip["id"]}
    method = str(props.get("privateIPAllocationMethod") or "Dynamic").capitalize()
    if method not in ("Dynamic", "Static"):
        raise ArmError(400, "InvalidRequestFormat", f"Cannot parse the request: unknown allocation method '{method}'.")
    old = _old_config(existing, name)
    keep = (old or {}).get("properties", {})
    if method == "Static":
        address = allocate_private_ip(sim, subnet, cid, requested=props.get("privateIPAddress"), reserved=reserved)
    elif keep.get("privateIPAddress") and same_id(ref_id(keep, "subnet"), subnet["id"]):
        address = keep["privateIPAddress"]  # a dynamic address stays while the configuration stays in its subnet
    else:
        address = allocate_private_ip(sim, subnet, cid, reserved=reserved)
    stored.update(privateIPAddress=address, privateIPAllocationMethod=method)
    return {"name": name, "id": cid, "etag": new_etag(), "type": IPCONFIG_TYPE, "properties": stored}


def build_nic(req, rid, name, request, existing):
    props = request.get("properties") or {}
    location = request["location"].replace(" ", "").lower()
    items = props.get("ipConfigurations") or []
    if not items:
        raise ArmError(400, "InvalidRequestFormat",
                       f"Cannot parse the request: network interface {rid} must have at least one IP configuration.")
    flagged = [index for index, item in enumerate(items) if (item.get("properties") or {}).get("primary")]
    primary_index = flagged[0] if flagged else 0
    configs = []
    for index, item in enumerate(items):
        chosen = [config["properties"]["privateIPAddress"] for config in configs]
        configs.append(build_ip_configuration(req.sim, rid, location, item, index == primary_index, existing, chosen))
    built = {
        "ipConfigurations": configs,
        "dnsSettings": {"dnsServers": list((props.get("dnsSettings") or {}).get("dnsServers") or []),
                        "appliedDnsServers": []},
        "enableAcceleratedNetworking": bool(props.get("enableAcceleratedNetworking", False)),
        "enableIPForwarding": bool(props.get("enableIPForwarding", False)),
        "disableTcpStateTracking": False,
        "nicType": "Standard",
        "auxiliaryMode": "None",
        "auxiliarySku": "None",
        "vnetEncryptionSupported": False,
    }
    nsg_id = ref_id(props, "networkSecurityGroup")
    if nsg_id:
        nsg = get_typed(req.sim, nsg_id, NSG_TYPE)
        if nsg is None or nsg["location"] != location:
            raise invalid_reference(nsg_id, rid)
        built["networkSecurityGroup"] = {"id": nsg["id"]}
    return built


def _mac_address(nic):
    """A stable address in Microsoft's 00-0D-3A block, as Azure shows once a VM uses the NIC."""
    tail = nic["properties"]["resourceGuid"].replace("-", "")[-6:].upper()
    return "00-0D-3A-" + "-".join(tail[index:index + 2] for index in range(0, 6, 2))


def render_nic(sim, body):
    view = public(body)
    vms = vms_using_nic(sim, body["id"])
    if vms:
        vm = sim.store.get(vms[0])
        refs = vm["properties"]["networkProfile"]["networkInterfaces"]
        ref = next(item for item in refs if same_id(item.get("id"), body["id"]))
        view["properties"].update(virtualMachine={"id": vms[0]}, macAddress=_mac_address(body),
                                  primary=bool((ref.get("properties") or {}).get("primary", len(refs) == 1)))
    return view


def check_nic_delete(sim, body):
    vms = vms_using_nic(sim, body["id"])
    if vms:
        raise ArmError(400, "NicInUse",
                       f"Network Interface {body['id']} is used by existing resource {vms[0]}. In order to delete the "
                       "network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.")


NICS = NetworkType(
    segment="networkInterfaces",
    param="networkInterfaceName",
    build=build_nic,
    check_delete=check_nic_delete,
    render=render_nic,
    children=lambda body: body["properties"].get("ipConfigurations", []),
)
