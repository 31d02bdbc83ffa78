"""NRP refuses to delete what is still in use (400), and deletes in dependency order."""

import pytest
from azure.core.exceptions import HttpResponseError

from tests.sim.test_network_helpers import LOCATION, build_vm_network, make_group, make_nsg, make_vnet

GROUP = "rg-inuse"


def _refused(poller_factory):
    with pytest.raises(HttpResponseError) as info:
        poller_factory().result()
    assert info.value.status_code == 400
    return info.value.error


def test_in_use_resources_cannot_be_deleted(network, resources, fresh_sim):
    built = build_vm_network(network, resources, GROUP)
    nic_config = built["nic"].properties.ip_configurations[0].id

    error = _refused(lambda: network.public_ip_addresses.begin_delete(GROUP, "pip"))
    assert error.code == "PublicIPAddressCannotBeDeleted"
    assert nic_config in error.message
    error = _refused(lambda: network.subnets.begin_delete(GROUP, "vnet", "default"))
    assert error.code == "InUseSubnetCannotBeDeleted"
    error = _refused(lambda: network.virtual_networks.begin_delete(GROUP, "vnet"))
    assert error.code == "InUseSubnetCannotBeDeleted"
    error = _refused(lambda: network.network_security_groups.begin_delete(GROUP, "nsg"))
    assert error.code == "InUseNetworkSecurityGroupCannotBeDeleted"
    assert built["nic"].id in error.message
    assert len(fresh_sim.admin.resources()) == 5  # group, vnet, nsg, pip, nic: nothing was touched

    # In dependency order everything goes.
    network.network_interfaces.begin_delete(GROUP, "nic").result()
    for poller in (network.public_ip_addresses.begin_delete(GROUP, "pip"),
                   network.network_security_groups.begin_delete(GROUP, "nsg"),
                   network.virtual_networks.begin_delete(GROUP, "vnet")):
        poller.result()
    assert [item["type"] for item in fresh_sim.admin.resources()] == ["Microsoft.Resources/resourceGroups"]


def test_nsg_on_a_subnet_is_in_use(network, resources, fresh_sim):
    make_group(resources, GROUP)
    nsg = make_nsg(network, GROUP)
    make_vnet(network, GROUP)
    network.subnets.begin_create_or_update(GROUP, "vnet", "default", {"properties": {
        "addressPrefix": "10.0.0.0/24", "networkSecurityGroup": {"id": nsg.id}}}).result()
    error = _refused(lambda: network.network_security_groups.begin_delete(GROUP, "nsg"))
    assert error.code == "InUseNetworkSecurityGroupCannotBeDeleted"
    assert network.network_security_groups.get(GROUP, "nsg").properties.subnets[0].id.endswith("/subnets/default")


def test_vnet_put_cannot_drop_a_subnet_in_use(network, resources, fresh_sim):
    built = build_vm_network(network, resources, GROUP)
    body = {"location": LOCATION, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": []}}
    error = _refused(lambda: network.virtual_networks.begin_create_or_update(GROUP, "vnet", body))
    assert error.code == "InUseSubnetCannotBeDeleted"
    assert fresh_sim.admin.resource(built["vnet"].id)["properties"]["subnets"][0]["name"] == "default"


def test_vnet_put_without_subnets_drops_unused_ones(network, resources, fresh_sim):
    make_group(resources, GROUP)
    make_vnet(network, GROUP, subnets=(("a", "10.0.0.0/24"), ("b", "10.0.1.0/24")))
    kept = [{"name": "a", "properties": {"addressPrefix": "10.0.0.0/24"}}]
    body = {"location": LOCATION, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": kept}}
    vnet = network.virtual_networks.begin_create_or_update(GROUP, "vnet", body).result()
    assert [subnet.name for subnet in vnet.properties.subnets] == ["a"]


def test_nic_used_by_a_vm_cannot_be_deleted(network, resources, compute, fresh_sim):
    from tests.sim.test_network_helpers import create_vm

    built = build_vm_network(network, resources, GROUP)
    create_vm(compute, GROUP, "vm1", built["nic"].id)
    error = _refused(lambda: network.network_interfaces.begin_delete(GROUP, "nic"))
    assert error.code == "NicInUse"
    attached = network.network_interfaces.get(GROUP, "nic").properties
    assert attached.virtual_machine.id.endswith("/virtualMachines/vm1")
    assert attached.primary is True
    assert attached.mac_address.startswith("00-0D-3A-")
