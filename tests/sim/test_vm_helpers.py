"""Builders shared by the VM and disk tests (no tests here): a NIC to attach, VM bodies, and a check that the
marketplace answers (a failure there is a failure of every VM test, never a skip)."""

from __future__ import annotations

import contextlib
import copy

LOCATION = "eastus"
UBUNTU_GEN2 = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2",
               "version": "latest"}
UBUNTU_GEN1 = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts",
               "version": "latest"}
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldenImageTestKeyOnlyForTheSimulator builder@test"


def require_marketplace(compute):
    """The marketplace answers: an error here fails the test that needs it."""
    assert compute.virtual_machine_images.list_publishers(LOCATION)


def make_group(resources, name="rg-vm"):
    resources.resource_groups.create_or_update(name, {"location": LOCATION})
    return name


def make_nic(network, group, name="nic"):
    """A NIC in its own vnet (no public IP), through the real network SDK."""
    vnet = network.virtual_networks.begin_create_or_update(group, f"{name}-vnet", {
        "location": LOCATION, "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}]}}).result()
    subnet_id = vnet.subnets[0].id
    nic = network.network_interfaces.begin_create_or_update(group, name, {
        "location": LOCATION, "properties": {"ipConfigurations": [
            {"name": "ipconfig1", "properties": {"subnet": {"id": subnet_id}}}]}}).result()
    return nic.id


def vm_network(compute, network, resources, group="rg-vm"):
    """The marketplace check, the resource group and a NIC in it: what every VM test needs first."""
    require_marketplace(compute)
    make_group(resources, group)
    return make_nic(network, group)


def linux_os_profile(computer_name="build"):
    return {"computerName": computer_name, "adminUsername": "azureuser", "linuxConfiguration": {
        "disablePasswordAuthentication": True,
        "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]}}}


def vm_body(nic_id, size="Standard_D2s_v5", image=None, os_profile="linux", storage_type="Premium_LRS", **props):
    """A VirtualMachine wire body: marketplace image (or ``image`` dict/None), managed OS disk, one NIC."""
    storage = {"osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": storage_type}}}
    reference = UBUNTU_GEN2 if image is None else image
    if reference:
        storage["imageReference"] = reference
    properties = {"hardwareProfile": {"vmSize": size}, "storageProfile": storage,
                  "networkProfile": {"networkInterfaces": [{"id": nic_id, "properties": {"primary": True}}]}}
    if os_profile == "linux":
        properties["osProfile"] = linux_os_profile()
    elif os_profile:
        properties["osProfile"] = os_profile
    properties.update(props)
    return {"location": LOCATION, "properties": properties}


def create_vm(compute, group, name, body):
    return compute.virtual_machines.begin_create_or_update(group, name, body).result()


def statuses(view):
    """Instance-view status codes, lower-cased (clients compare case-insensitively)."""
    return [status.code.lower() for status in view.statuses]


def power_state(view):
    return next(code for code in statuses(view) if code.startswith("powerstate/"))


def stored(fresh_sim, resource_id):
    return fresh_sim.admin.resource(resource_id)


@contextlib.contextmanager
def changed_settings(admin, **values):
    """Change simulator settings for one test; restore them after (a reset keeps settings)."""
    before = copy.deepcopy(admin.settings())
    admin.post("settings", values)
    try:
        yield
    finally:
        admin.post("settings", {key: before[key] for key in values if key in before})
