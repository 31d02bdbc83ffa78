"""Shared setup for the VM-to-image lifecycle tests: a resource group, a network and a VM, through the real SDK.

    vm = lifecycle_setup.make_vm(compute, network, resources)               # running Ubuntu 24.04 Gen2 VM
    vm = lifecycle_setup.make_vm(..., security_type="TrustedLaunch")         # Trusted Launch
    lifecycle_setup.generalize(compute, vm)                                  # deallocated + generalized (SDK)

Everything returns wire-format (camelCase) dicts, as the simulator stores them.
"""

from __future__ import annotations

import json

DEFAULT_IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
GEN1_IMAGE = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server-gen1", "version": "latest"}
SSH_KEY = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7s5cWcq0b0m3cbqXk2Sd0x2QmQ8s4nL0o2hY0p0V9b3m9i0nqGxXh0ZtH0n4v2w"
           "1q3hJ8hK9kYw2m9oF3t6Jq1bKp0nZ2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6A7B8C9D0E1F2G3H4I5J6K7L8M9N0"
           "O1P2Q3R4S5T6U7V8W9X0Y1Z2a3b4c5d6e7f8g9h0i1j2k3l4m5n6o7p8q9r0s1t2u3v4w5x6y7z8 test@lifecycle")


def task_play(module, options, name="t", check=False):
    """A one-task play running goldenimage.azure.<module> with ``options`` (optionally in check mode)."""
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: {name}
      goldenimage.azure.{module}: {json.dumps(options)}
      {"check_mode: true" if check else ""}
"""


def wire(model):
    return model.as_dict() if hasattr(model, "as_dict") else dict(model)


def make_group(resources, name="rg-build", location="eastus"):
    resources.resource_groups.create_or_update(name, {"location": location})
    return name


def make_nic(network, rg, name, location="eastus"):
    vnet = wire(network.virtual_networks.begin_create_or_update(rg, f"{name}-vnet", {
        "location": location,
        "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
                       "subnets": [{"name": "default", "properties": {"addressPrefix": "10.10.0.0/24"}}]},
    }).result())
    subnet_id = vnet["properties"]["subnets"][0]["id"]
    nic = wire(network.network_interfaces.begin_create_or_update(rg, f"{name}-nic", {
        "location": location,
        "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
            "subnet": {"id": subnet_id}, "privateIPAllocationMethod": "Dynamic"}}]},
    }).result())
    return nic["id"]


def make_vm(compute, network, resources, rg="rg-build", name="build-vm", location="eastus", image=None,
            size="Standard_D2s_v3", security_type=None, tags=None, os_disk_sku="Standard_LRS", data_disks=(),
            unmanaged_os_vhd=None):
    """A running VM from a Marketplace image. ``data_disks``: list of (lun, size_gb, sku)."""
    make_group(resources, rg, location)
    nic_id = make_nic(network, rg, name, location)
    os_disk = {"name": f"{name}-osdisk", "createOption": "FromImage", "caching": "ReadWrite"}
    if unmanaged_os_vhd:  # attach an existing (specialized) VHD: no image, no OS profile
        os_disk.update({"createOption": "Attach", "osType": "Linux", "vhd": {"uri": unmanaged_os_vhd}})
    else:
        os_disk["managedDisk"] = {"storageAccountType": os_disk_sku}
    props = {
        "hardwareProfile": {"vmSize": size},
        "storageProfile": {
            "imageReference": dict(image or DEFAULT_IMAGE),
            "osDisk": os_disk,
            "dataDisks": [{"lun": lun, "name": f"{name}-data{lun}", "createOption": "Empty", "diskSizeGB": size_gb,
                           "managedDisk": {"storageAccountType": sku}} for lun, size_gb, sku in data_disks],
        },
        "osProfile": {
            "computerName": name, "adminUsername": "azureuser",
            "linuxConfiguration": {"disablePasswordAuthentication": True, "ssh": {"publicKeys": [
                {"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]}},
        },
        "networkProfile": {"networkInterfaces": [{"id": nic_id, "properties": {"primary": True}}]},
    }
    if unmanaged_os_vhd:
        del props["storageProfile"]["imageReference"], props["osProfile"]
    if security_type:
        props["securityProfile"] = {"securityType": security_type,
                                    "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
    body = {"location": location, "tags": dict(tags or {}), "properties": props}
    compute.virtual_machines.begin_create_or_update(rg, name, body).result()
    return get_vm(compute, rg, name)


def get_vm(compute, rg, name):
    return wire(compute.virtual_machines.get(rg, name, expand="instanceView"))


def power_state(vm):
    for status in (vm.get("properties", {}).get("instanceView") or {}).get("statuses") or []:
        if status["code"].lower().startswith("powerstate/"):
            return status["code"].split("/", 1)[1]
    return None


def is_generalized(vm):
    return any(status["code"].lower() == "osstate/generalized"
               for status in (vm.get("properties", {}).get("instanceView") or {}).get("statuses") or [])


def generalize(compute, vm, deprovisioned=True):
    """Deallocate + generalize through the SDK (setup for capture tests)."""
    rg = vm["id"].split("/")[4]
    name = vm["name"]
    if deprovisioned:
        tags = dict(vm.get("tags") or {}, **{"goldenimage-deprovisioned": "2026-11-26T00:00:00Z"})
        compute.virtual_machines.begin_update(rg, name, {"tags": tags}).result()
    compute.virtual_machines.begin_deallocate(rg, name).result()
    compute.virtual_machines.generalize(rg, name)
    return get_vm(compute, rg, name)


def deprovision_tag(compute, vm):
    rg = vm["id"].split("/")[4]
    tags = dict(vm.get("tags") or {}, **{"goldenimage-deprovisioned": "2026-11-26T00:00:00Z"})
    compute.virtual_machines.begin_update(rg, vm["name"], {"tags": tags}).result()
    return get_vm(compute, rg, vm["name"])


def arm_requests(sim, since):
    """ARM requests (not token or admin calls) logged after sequence number ``since``."""
    return [entry for entry in sim.admin.requests(since=since) if entry["kind"] == "arm"]


def ids(sim, type_=None):
    return sorted(item["id"].lower() for item in sim.admin.resources(type_))


def snapshot_state(sim):
    """Every resource minus volatile bookkeeping, to compare before/after a check-mode run."""
    return sim.admin.resources()
