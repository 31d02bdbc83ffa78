"""The network of a temporary build VM, created with the real azure-mgmt-network SDK."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.sim.test_network_helpers import (LOCATION, build_vm_network, make_group, make_nic, make_nsg, make_pip,
                                            make_vnet)

GROUP = "rg-net"


def test_build_out_for_a_vm(network, resources, fresh_sim):
    built = build_vm_network(network, resources, GROUP)
    nic = built["nic"]
    config = nic.properties.ip_configurations[0]
    assert nic.properties.provisioning_state == "Succeeded"
    assert config.properties.private_ip_address == "10.0.0.4"  # Azure keeps .0-.3 for itself
    assert config.properties.public_ip_address.id == built["pip"].id
    assert nic.properties.network_security_group.id == built["nsg"].id

    stored_pip = fresh_sim.admin.resource(built["pip"].id)
    assert stored_pip["sku"] == {"name": "Standard", "tier": "Regional"}
    assert stored_pip["properties"]["publicIPAllocationMethod"] == "Static"
    assert stored_pip["properties"]["ipAddress"].startswith("127.100.")
    assert stored_pip["properties"]["provisioningState"] == "Succeeded"

    # Back-references, as NRP shows them on GET.
    subnet = network.subnets.get(GROUP, "vnet", "default")
    assert [ref.id for ref in subnet.properties.ip_configurations] == [config.id]
    assert network.public_ip_addresses.get(GROUP, "pip").properties.ip_configuration.id == config.id
    nsg = network.network_security_groups.get(GROUP, "nsg")
    assert [ref.id for ref in nsg.properties.network_interfaces] == [nic.id]


def test_nsg_has_default_rules(network, resources, fresh_sim):
    make_group(resources, GROUP)
    nsg = make_nsg(network, GROUP)
    names = {rule.name for rule in nsg.properties.default_security_rules}
    assert names == {"AllowVnetInBound", "AllowAzureLoadBalancerInBound", "DenyAllInBound", "AllowVnetOutBound",
                     "AllowInternetOutBound", "DenyAllOutBound"}
    assert [rule.properties.destination_port_range for rule in nsg.properties.security_rules] == ["22"]


def test_private_addresses_are_allocated_in_order_and_static_ones_checked(network, resources, fresh_sim):
    make_group(resources, GROUP)
    subnet_id = make_vnet(network, GROUP).properties.subnets[0].id
    first = make_nic(network, GROUP, "nic1", subnet_id)
    second = make_nic(network, GROUP, "nic2", subnet_id)
    fixed = make_nic(network, GROUP, "nic3", subnet_id, private_ip="10.0.0.50")
    assert [nic.properties.ip_configurations[0].properties.private_ip_address for nic in (first, second, fixed)] == \
        ["10.0.0.4", "10.0.0.5", "10.0.0.50"]
    with pytest.raises(HttpResponseError) as taken:
        make_nic(network, GROUP, "nic4", subnet_id, private_ip="10.0.0.50")
    assert taken.value.error.code == "PrivateIPAddressInUse"
    with pytest.raises(HttpResponseError) as outside:
        make_nic(network, GROUP, "nic5", subnet_id, private_ip="10.0.9.9")
    assert outside.value.error.code == "PrivateIPAddressNotInSubnet"
    # An update keeps a dynamic address.
    again = make_nic(network, GROUP, "nic1", subnet_id)
    assert again.properties.ip_configurations[0].properties.private_ip_address == "10.0.0.4"
    # Two configurations of one NIC get two addresses.
    double = network.network_interfaces.begin_create_or_update(GROUP, "nic6", {"location": LOCATION, "properties": {
        "ipConfigurations": [{"name": name, "properties": {"subnet": {"id": subnet_id}}} for name in ("a", "b")]}})
    configs = double.result().properties.ip_configurations
    assert [config.properties.private_ip_address for config in configs] == ["10.0.0.6", "10.0.0.7"]
    assert [config.properties.primary for config in configs] == [True, False]


def test_references_must_exist(network, resources, fresh_sim):
    make_group(resources, GROUP)
    subnet_id = make_vnet(network, GROUP).properties.subnets[0].id
    missing_pip = subnet_id.split("/providers/")[0] + "/providers/Microsoft.Network/publicIPAddresses/nope"
    with pytest.raises(HttpResponseError) as info:
        make_nic(network, GROUP, "nic", subnet_id, pip_id=missing_pip)
    assert info.value.status_code == 400
    assert info.value.error.code == "InvalidResourceReference"
    assert missing_pip in info.value.error.message
    with pytest.raises(HttpResponseError) as subnet_info:
        make_nic(network, GROUP, "nic", subnet_id.replace("/default", "/other"))
    assert subnet_info.value.error.code == "InvalidResourceReference"
    assert fresh_sim.admin.resources("Microsoft.Network/networkInterfaces") == []


def test_public_ip_cannot_serve_two_nics(network, resources, fresh_sim):
    make_group(resources, GROUP)
    subnet_id = make_vnet(network, GROUP).properties.subnets[0].id
    pip = make_pip(network, GROUP)
    make_nic(network, GROUP, "nic1", subnet_id, pip_id=pip.id)
    with pytest.raises(HttpResponseError) as info:
        make_nic(network, GROUP, "nic2", subnet_id, pip_id=pip.id)
    assert info.value.error.code == "PublicIPAddressInUse"


@pytest.mark.parametrize("subnets, code", [
    ((("a", "10.1.0.0/24"),), "NetcfgSubnetRangeOutsideVnet"),
    ((("a", "10.0.0.0/24"), ("b", "10.0.0.128/25")), "NetcfgSubnetRangesOverlap"),
    ((("a", "10.0.0.1/24"),), "InvalidAddressPrefixFormat"),
])
def test_subnet_ranges_are_validated(network, resources, fresh_sim, subnets, code):
    make_group(resources, GROUP)
    with pytest.raises(HttpResponseError) as info:
        make_vnet(network, GROUP, subnets=subnets)
    assert info.value.status_code == 400
    assert info.value.error.code == code
    assert fresh_sim.admin.resources("Microsoft.Network/virtualNetworks") == []


def test_invalid_names_and_rules(network, resources, fresh_sim):
    make_group(resources, GROUP)
    with pytest.raises(HttpResponseError) as name:
        make_pip(network, GROUP, name="bad-")
    assert name.value.error.code == "InvalidResourceName"
    with pytest.raises(HttpResponseError) as dynamic:
        network.public_ip_addresses.begin_create_or_update(GROUP, "pip", {
            "location": LOCATION, "sku": {"name": "Standard"},
            "properties": {"publicIPAllocationMethod": "Dynamic"}}).result()
    assert dynamic.value.error.code == "StandardSkuPublicIPAddressesMustBeStatic"
    rule = {"name": "low", "properties": dict(protocol="Tcp", access="Allow", direction="Inbound", priority=50,
                                              sourceAddressPrefix="*", sourcePortRange="*",
                                              destinationAddressPrefix="*", destinationPortRange="22")}
    with pytest.raises(HttpResponseError) as priority:
        make_nsg(network, GROUP, rules=[rule])
    assert priority.value.error.code == "SecurityRuleInvalidPriority"


def test_subnet_child_api(network, resources, fresh_sim):
    make_group(resources, GROUP)
    vnet = make_vnet(network, GROUP)
    nsg = make_nsg(network, GROUP)
    created = network.subnets.begin_create_or_update(GROUP, "vnet", "build", {"properties": {
        "addressPrefix": "10.0.1.0/24", "networkSecurityGroup": {"id": nsg.id}}}).result()
    assert created.id == vnet.id + "/subnets/build"
    assert sorted(subnet.name for subnet in network.subnets.list(GROUP, "vnet")) == ["build", "default"]
    stored = fresh_sim.admin.resource(vnet.id)
    assert [subnet["name"] for subnet in stored["properties"]["subnets"]] == ["default", "build"]
    network.subnets.begin_delete(GROUP, "vnet", "build").result()
    with pytest.raises(ResourceNotFoundError):
        network.subnets.get(GROUP, "vnet", "build")


def test_get_list_tags_and_missing(network, resources, fresh_sim):
    make_group(resources, GROUP)
    pip = make_pip(network, GROUP)
    network.public_ip_addresses.update_tags(GROUP, "pip", {"tags": {"purpose": "build"}})
    assert fresh_sim.admin.resource(pip.id)["tags"] == {"purpose": "build"}
    assert [item.name for item in network.public_ip_addresses.list(GROUP)] == ["pip"]
    assert [item.name for item in network.public_ip_addresses.list_all()] == ["pip"]
    with pytest.raises(ResourceNotFoundError) as info:
        network.network_interfaces.get(GROUP, "absent")
    assert info.value.error.code == "ResourceNotFound"
    network.network_interfaces.begin_delete(GROUP, "absent").result()  # 204: nothing to delete


def test_resource_group_delete_removes_the_network(network, resources, fresh_sim):
    build_vm_network(network, resources, GROUP)
    resources.resource_groups.begin_delete(GROUP).result()
    assert fresh_sim.admin.resources() == []


def test_failed_create_shows_failed(network, resources, fresh_sim):
    make_group(resources, GROUP)
    fresh_sim.admin.faults([{"method": "PUT", "path": "publicIPAddresses/pip$", "action": "fail_operation",
                             "code": "InternalServerError", "message": "Allocation of the address failed."}])
    with pytest.raises(HttpResponseError) as info:
        make_pip(network, GROUP)
    assert info.value.error.code == "InternalServerError"
    pips = fresh_sim.admin.resources("Microsoft.Network/publicIPAddresses")
    assert [pip["properties"]["provisioningState"] for pip in pips] == ["Failed"]


def test_security_rule_child_api(network, resources, fresh_sim):
    make_group(resources, GROUP)
    nsg = make_nsg(network, GROUP)
    rule = {"protocol": "Tcp", "access": "Allow", "direction": "Inbound", "priority": 110,
            "sourceAddressPrefix": "203.0.113.7/32", "sourcePortRange": "*", "destinationAddressPrefix": "*",
            "destinationPortRange": "22"}
    created = network.security_rules.begin_create_or_update(GROUP, "nsg", "ssh-controller",
                                                            {"properties": rule}).result()
    assert created.id == nsg.id + "/securityRules/ssh-controller"
    assert sorted(item.name for item in network.security_rules.list(GROUP, "nsg")) == ["ssh", "ssh-controller"]
    with pytest.raises(HttpResponseError) as info:
        network.security_rules.begin_create_or_update(GROUP, "nsg", "clash", {"properties": dict(rule, priority=100)})
    assert info.value.error.code == "SecurityRuleConflict"
    network.security_rules.begin_delete(GROUP, "nsg", "ssh-controller").result()
    stored = fresh_sim.admin.resource(nsg.id)["properties"]["securityRules"]
    assert [item["name"] for item in stored] == ["ssh"]
    with pytest.raises(ResourceNotFoundError):
        network.security_rules.get(GROUP, "nsg", "ssh-controller")


def test_wire_statuses(network, resources, fresh_sim):
    make_group(resources, GROUP)
    since = fresh_sim.admin.last_seq()
    make_pip(network, GROUP)
    make_pip(network, GROUP)
    network.public_ip_addresses.begin_delete(GROUP, "pip").result()
    answered = [(entry["method"], entry["status"]) for entry in fresh_sim.admin.requests(since)
                if entry["path"].lower().endswith("/publicipaddresses/pip")]
    assert answered == [("PUT", 201), ("GET", 200), ("PUT", 200), ("GET", 200), ("DELETE", 202)]
    monitors = [entry["path"] for entry in fresh_sim.admin.requests(since) if "/locations/" in entry["path"]]
    assert monitors and all("/providers/Microsoft.Network/locations/eastus/operations/" in path for path in monitors)
