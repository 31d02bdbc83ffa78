"""What every Microsoft.Network resource shares: names, ids, references, back-references, errors.

Network resources keep their children inline, as NRP does: subnets in the virtual network, rules in
the security group, IP configurations in the NIC. Back-references (a subnet's ``ipConfigurations``, a
public IP's ``ipConfiguration``, a NIC's ``virtualMachine``...) are not stored; they are computed from
the store when a body is rendered, so they can never go stale when another provider adds or removes
a VM.
"""

from __future__ import annotations

import re
import uuid

from ...core.errors import ArmError

NETWORK = "Microsoft.Network"
VNET_TYPE = "Microsoft.Network/virtualNetworks"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
NSG_TYPE = "Microsoft.Network/networkSecurityGroups"
PIP_TYPE = "Microsoft.Network/publicIPAddresses"
NIC_TYPE = "Microsoft.Network/networkInterfaces"
IPCONFIG_TYPE = "Microsoft.Network/networkInterfaces/ipConfigurations"
VM_TYPE = "Microsoft.Compute/virtualMachines"

# NRP's rule: up to 80 characters, starts with a word character, ends with a word character or '_'.
_NAME = re.compile(r"^\w(?:[\w.-]{0,78}\w)?$")


def validate_name(name):
    if not _NAME.match(name):
        raise ArmError(400, "InvalidResourceName",
                       f"Resource name {name} is invalid. The name can be up to 80 characters long. It must begin with a "
                       "word character, and it must end with a word character or with '_'. The name may contain word "
                       "characters or '.', '-', '_'.")


def new_etag():
    return f'W/"{uuid.uuid4()}"'


def same_id(left, right):
    return bool(left) and bool(right) and left.lower().rstrip("/") == right.lower().rstrip("/")


def ref_id(holder, key):
    """``holder[key]["id"]`` or None: how NRP bodies reference other resources."""
    ref = (holder or {}).get(key) or {}
    return ref.get("id") if isinstance(ref, dict) else None


def resource_group_of(rid):
    parts = rid.split("/")
    lowered = [part.lower() for part in parts]
    return parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""


def invalid_reference(target_id, referrer_id):
    return ArmError(400, "InvalidResourceReference",
                    f"Resource {target_id} referenced by resource {referrer_id} was not found. Please make sure that the "
                    "referenced resource exists, and that both resources are in the same region.",
                    details=[])


def child_not_found(rid):
    """NRP's 404 for a missing child (subnet, rule, IP configuration)."""
    return ArmError(404, "NotFound", f"Resource {rid} not found.")


# -- lookups --------------------------------------------------------------------------------------
def get_typed(sim, rid, resource_type):
    """The stored body with that id, if it exists and has that type."""
    body = sim.store.get(rid) if rid else None
    if body is None or body.get("type", "").lower() != resource_type.lower():
        return None
    return body


def split_subnet_id(subnet_id):
    """``.../virtualNetworks/v/subnets/s`` -> (vnet id, subnet name), or (None, None)."""
    match = re.match(r"^(.*/providers/Microsoft\.Network/virtualNetworks/[^/]+)/subnets/([^/]+)/?$", subnet_id or "",
                     re.IGNORECASE)
    return (match.group(1), match.group(2)) if match else (None, None)


def find_subnet(sim, subnet_id):
    """(vnet body, subnet dict) for a subnet id, or (None, None)."""
    vnet_id, name = split_subnet_id(subnet_id)
    vnet = get_typed(sim, vnet_id, VNET_TYPE)
    if vnet is None:
        return None, None
    for subnet in vnet["properties"].get("subnets", []):
        if subnet["name"].lower() == name.lower():
            return vnet, subnet
    return vnet, None


# -- back-references ------------------------------------------------------------------------------
def nic_ip_configurations(sim):
    """Every (nic body, ip configuration) in the store."""
    for nic in sim.store.list("", NIC_TYPE):
        for config in nic["properties"].get("ipConfigurations", []):
            yield nic, config


def ip_configs_using(sim, key, target_id):
    """Ids of NIC IP configurations whose ``properties[key]`` references ``target_id``."""
    return [config["id"] for _, config in nic_ip_configurations(sim)
            if same_id(ref_id(config.get("properties"), key), target_id)]


def vms_using_nic(sim, nic_id):
    """Ids of VMs whose network profile lists the NIC."""
    found = []
    for vm in sim.store.list("", VM_TYPE):
        for ref in ((vm.get("properties") or {}).get("networkProfile") or {}).get("networkInterfaces") or []:
            if same_id(ref.get("id"), nic_id):
                found.append(vm["id"])
    return found


def set_provisioning_state(items, state):
    """Give each child dict (subnet, rule, IP configuration) the same provisioningState."""
    for item in items:
        item.setdefault("properties", {})["provisioningState"] = state
