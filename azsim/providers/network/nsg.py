"""Network security groups with inline security rules and NRP's six default rules."""

from __future__ import annotations

from ...core.errors import ArmError
from ...core.store import public
from .children import InlineChild
from .models import NIC_TYPE, VNET_TYPE, new_etag, ref_id, same_id, validate_name
from .crud import NetworkType

RULE_TYPE = "Microsoft.Network/networkSecurityGroups/securityRules"
DEFAULT_RULE_TYPE = "Microsoft.Network/networkSecurityGroups/defaultSecurityRules"

# name, description, priority, direction, access, source, destination (as Azure creates them)
DEFAULT_RULES = [
    ("AllowVnetInBound", "Allow inbound traffic from all VMs in VNET", 65000, "Inbound", "Allow", "VirtualNetwork",
     "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", "Allow inbound traffic from azure load balancer", 65001, "Inbound", "Allow",
     "AzureLoadBalancer", "*"),
    ("DenyAllInBound", "Deny all inbound traffic", 65500, "Inbound", "Deny", "*", "*"),
    ("AllowVnetOutBound", "Allow outbound traffic from all VMs to all VMs in VNET", 65000, "Outbound", "Allow",
     "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", "Allow outbound traffic from all VMs to Internet", 65001, "Outbound", "Allow", "*",
     "Internet"),
    ("DenyAllOutBound", "Deny all outbound traffic", 65500, "Outbound", "Deny", "*", "*"),
]

PROTOCOLS = {"tcp": "Tcp", "udp": "Udp", "icmp": "Icmp", "esp": "Esp", "ah": "Ah", "*": "*"}


def default_rules(nsg_id):
    return [{
        "name": name,
        "id": f"{nsg_id}/defaultSecurityRules/{name}",
        "etag": new_etag(),
        "type": DEFAULT_RULE_TYPE,
        "properties": {
            "description": description, "protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*",
            "sourceAddressPrefix": source, "destinationAddressPrefix": destination, "access": access,
            "priority": priority, "direction": direction, "sourcePortRanges": [], "destinationPortRanges": [],
            "sourceAddressPrefixes": [], "destinationAddressPrefixes": [],
        },
    } for name, description, priority, direction, access, source, destination in DEFAULT_RULES]


def _one_of(value, allowed, rule_id, prop):
    for candidate in allowed:
        if isinstance(value, str) and value.lower() == candidate.lower():
            return candidate
    raise ArmError(400, "SecurityRuleParameterContainsUnsupportedValue",
                   f"Security rule parameter {prop} for rule with Id {rule_id} cannot specify value {value}. "
                   f"Allowed values are {', '.join(allowed)}.")


def build_rule(nsg_id, item):
    name = item.get("name") or ""
    validate_name(name)
    rid = f"{nsg_id}/securityRules/{name}"
    props = item.get("properties") or {}
    priority = props.get("priority")
    if not isinstance(priority, int) or not 100 <= priority <= 4096:
        raise ArmError(400, "SecurityRuleInvalidPriority",
                       f"Security rule has invalid Priority. Value provided: {priority} Allowed range 100-4096.")
    protocol = PROTOCOLS.get(str(props.get("protocol", "")).lower())
    if protocol is None:
        _one_of(props.get("protocol"), list(PROTOCOLS.values()), rid, "Protocol")
    stored = {
        "protocol": protocol,
        "access": _one_of(props.get("access"), ["Allow", "Deny"], rid, "Access"),
        "direction": _one_of(props.get("direction"), ["Inbound", "Outbound"], rid, "Direction"),
        "priority": priority,
    }
    for single, plural in (("sourcePortRange", "sourcePortRanges"), ("destinationPortRange", "destinationPortRanges"),
                           ("sourceAddressPrefix", "sourceAddressPrefixes"),
                           ("destinationAddressPrefix", "destinationAddressPrefixes")):
        if not props.get(single) and not props.get(plural):
            raise ArmError(400, "SecurityRuleParameterMissing",
                           f"Security rule {rid} must specify {single} or {plural}.")
        if props.get(single):
            stored[single] = props[single]
        stored[plural] = list(props.get(plural) or [])
    if props.get("description"):
        stored["description"] = props["description"]
    return {"name": name, "id": rid, "etag": new_etag(), "type": RULE_TYPE, "properties": stored}


def check_no_conflict(rules):
    seen = {}
    for rule in rules:
        key = (rule["properties"]["priority"], rule["properties"]["direction"])
        if key in seen:
            raise ArmError(400, "SecurityRuleConflict",
                           f"Security rule {rule['name']} conflicts with rule {seen[key]}. Rules cannot have the same "
                           "Priority and Direction.")
        seen[key] = rule["name"]


def build_nsg(req, rid, name, request, existing):
    props = request.get("properties") or {}
    rules = [build_rule(rid, item) for item in props.get("securityRules") or []]
    check_no_conflict(rules)
    built = {"securityRules": rules, "defaultSecurityRules": default_rules(rid)}
    if props.get("flushConnection") is not None:
        built["flushConnection"] = bool(props["flushConnection"])
    return built


def _users(sim, nsg_id):
    nics = [nic["id"] for nic in sim.store.list("", NIC_TYPE)
            if same_id(ref_id(nic["properties"], "networkSecurityGroup"), nsg_id)]
    subnets = [subnet["id"] for vnet in sim.store.list("", VNET_TYPE) for subnet in vnet["properties"].get("subnets", [])
               if same_id(ref_id(subnet.get("properties"), "networkSecurityGroup"), nsg_id)]
    return nics, subnets


def render_nsg(sim, body):
    view = public(body)
    nics, subnets = _users(sim, body["id"])
    if nics:
        view["properties"]["networkInterfaces"] = [{"id": rid} for rid in nics]
    if subnets:
        view["properties"]["subnets"] = [{"id": rid} for rid in subnets]
    return view


def check_nsg_delete(sim, body):
    nics, subnets = _users(sim, body["id"])
    if nics or subnets:
        raise ArmError(400, "InUseNetworkSecurityGroupCannotBeDeleted",
                       f"Network security group {body['id']} cannot be deleted because it is in use by the following "
                       f"resources: {', '.join(nics + subnets)}. In order to delete the Network security group, remove "
                       "the association with the resource(s). To learn how to do this, see aka.ms/deletensg.")


NSGS = NetworkType(
    segment="networkSecurityGroups",
    param="networkSecurityGroupName",
    build=build_nsg,
    check_delete=check_nsg_delete,
    render=render_nsg,
    children=lambda body: body["properties"].get("securityRules", []) + body["properties"].get("defaultSecurityRules", []),
)


def build_rule_child(sim, nsg, name, request, old):
    rule = build_rule(nsg["id"], dict(request, name=name))
    siblings = [item for item in nsg["properties"]["securityRules"] if item["name"].lower() != name.lower()]
    check_no_conflict(siblings + [rule])
    return rule


RULES = InlineChild(parent=NSGS, key="securityRules", param="securityRuleName", build=build_rule_child)
