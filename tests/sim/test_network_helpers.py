"""Builders shared by the network, guest and image tests: what a temporary build VM's network needs,
created through the real azure-mgmt-network SDK. (No tests here.)"""

from __future__ import annotations

import contextlib
import sys

LOCATION = "eastus"
SSH_RULE = {"name": "ssh", "properties": {
    "protocol": "Tcp", "access": "Allow", "direction": "Inbound", "priority": 100, "sourceAddressPrefix": "*",
    "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"}}


def make_group(resources, name):
    return resources.resource_groups.create_or_update(name, {"location": LOCATION})


def make_vnet(network, group, name="vnet", prefix="10.0.0.0/16", subnets=(("default", "10.0.0.0/24"),)):
    body = {"location": LOCATION, "properties": {
        "addressSpace": {"addressPrefixes": [prefix]},
        "subnets": [{"name": subnet, "properties": {"addressPrefix": cidr}} for subnet, cidr in subnets]}}
    return network.virtual_networks.begin_create_or_update(group, name, body).result()


def make_nsg(network, group, name="nsg", rules=(SSH_RULE,)):
    body = {"location": LOCATION, "properties": {"securityRules": list(rules)}}
    return network.network_security_groups.begin_create_or_update(group, name, body).result()


def make_pip(network, group, name="pip", tags=None):
    body = {"location": LOCATION, "sku": {"name": "Standard"}, "tags": tags or {},
            "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"}}
    return network.public_ip_addresses.begin_create_or_update(group, name, body).result()


def make_nic(network, group, name, subnet_id, pip_id=None, nsg_id=None, private_ip=None):
    config = {"subnet": {"id": subnet_id}}
    if pip_id:
        config["publicIPAddress"] = {"id": pip_id}
    if private_ip:
        config.update(privateIPAllocationMethod="Static", privateIPAddress=private_ip)
    props = {"ipConfigurations": [{"name": "ipconfig1", "properties": config}]}
    if nsg_id:
        props["networkSecurityGroup"] = {"id": nsg_id}
    return network.network_interfaces.begin_create_or_update(group, name, {"location": LOCATION,
                                                                          "properties": props}).result()


def build_vm_network(network, resources, group, pip_tags=None):
    """vnet + subnet + NSG + public IP + NIC, as the builder role creates them; returns the SDK results."""
    make_group(resources, group)
    vnet = make_vnet(network, group)
    nsg = make_nsg(network, group)
    pip = make_pip(network, group, tags=pip_tags)
    nic = make_nic(network, group, "nic", vnet.properties.subnets[0].id, pip.id, nsg.id)
    return {"vnet": vnet, "subnet": vnet.properties.subnets[0], "nsg": nsg, "pip": pip, "nic": nic}


def writer_command(path):
    """A provision_command that stores its stdin (the provisioning payload) in ``path``."""
    return [sys.executable, "-c", "import sys; open(sys.argv[1], 'w').write(sys.stdin.read())", str(path)]


def failing_command(message="useradd: cannot lock /etc/passwd", code=3):
    return [sys.executable, "-c", f"import sys; sys.stderr.write({message!r}); sys.exit({code})"]


@contextlib.contextmanager
def guest_pool(admin):
    """Register guests for one test; remove them afterwards (the next test's reset would too)."""
    names = []

    def register(name, address, command=None, os_type="linux"):
        body = {"name": name, "address": address, "ports": {"ssh": 22}, "os": os_type}
        if command is not None:
            body["provision_command"] = command
        if name not in names:
            names.append(name)
        return admin.post("guests", body)

    try:
        yield register
    finally:
        known = {entry["name"] for entry in admin.get("guests")["value"]}
        for name in names:
            if name in known:
                admin.delete(f"guests/{name}")


# -- VMs (through the VM provider, when the simulator has one) -------------------------------------
UBUNTU = {"gen2": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2",
                   "version": "latest"},
          "gen1": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts",
                   "version": "latest"}}
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGuestPoolTestKeyOnlyForTheSimulator builder@test"


def create_vm(compute, group, name, nic_id, generation="gen2", security_type=None, custom_data=None, data_disk_gb=None):
    """A Linux VM from a marketplace image on the given NIC; returns the poller's result."""
    os_profile = {"computerName": f"{name}-host", "adminUsername": "azureuser", "linuxConfiguration": {
        "disablePasswordAuthentication": True,
        "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]}}}
    if custom_data:
        os_profile["customData"] = custom_data
    props = {"hardwareProfile": {"vmSize": "Standard_D2s_v5"},
             "storageProfile": {"imageReference": UBUNTU[generation], "osDisk": {
                 "createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
             "osProfile": os_profile,
             "networkProfile": {"networkInterfaces": [{"id": nic_id, "properties": {"primary": True}}]}}
    if data_disk_gb:
        props["storageProfile"]["dataDisks"] = [{"lun": 0, "createOption": "Empty", "diskSizeGB": data_disk_gb,
                                                 "managedDisk": {"storageAccountType": "Premium_LRS"}}]
    if security_type:
        props["securityProfile"] = {"securityType": security_type,
                                    "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
    return compute.virtual_machines.begin_create_or_update(group, name, {"location": LOCATION,
                                                                         "properties": props}).result()
