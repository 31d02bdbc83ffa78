"""A VM whose primary NIC has a guest-bound public IP provisions that guest when its create finishes."""

import base64
import json

import pytest
from azure.core.exceptions import HttpResponseError

from tests.sim.test_network_helpers import (SSH_KEY, build_vm_network, create_vm, failing_command, guest_pool,
                                            writer_command)

GROUP = "rg-provision"


def _guest(admin, name):
    return next(entry for entry in admin.get("guests")["value"] if entry["name"] == name)


def test_vm_create_runs_the_provision_command(compute, network, resources, fresh_sim, tmp_path):
    payload_file = tmp_path / "payload.json"
    custom_data = base64.b64encode(b"#cloud-config\n").decode()
    with guest_pool(fresh_sim.admin) as register:
        register("g1", "127.77.0.5", command=writer_command(payload_file))
        built = build_vm_network(network, resources, GROUP)
        assert built["pip"].properties.ip_address == "127.77.0.5"
        vm = create_vm(compute, GROUP, "vm1", built["nic"].id, custom_data=custom_data)

        assert vm.properties.provisioning_state == "Succeeded"
        payload = json.loads(payload_file.read_text())
        assert payload == {"vm_name": "vm1", "computer_name": "vm1-host", "admin_username": "azureuser",
                           "ssh_public_keys": [SSH_KEY], "custom_data": custom_data, "vm_id": vm.properties.vm_id,
                           "os_type": "Linux"}
        assert _guest(fresh_sim.admin, "g1")["vm"] == vm.id

        compute.virtual_machines.begin_delete(GROUP, "vm1").result()
        assert _guest(fresh_sim.admin, "g1")["vm"] is None
        assert _guest(fresh_sim.admin, "g1")["bound_to"] == built["pip"].id  # the public IP still holds it


def test_failing_provision_command_fails_the_create(compute, network, resources, fresh_sim):
    with guest_pool(fresh_sim.admin) as register:
        register("g1", "127.77.0.5", command=failing_command("useradd: cannot lock /etc/passwd"))
        built = build_vm_network(network, resources, GROUP)
        with pytest.raises(HttpResponseError) as info:
            create_vm(compute, GROUP, "vm1", built["nic"].id)
        assert info.value.error.code == "OSProvisioningClientError"
        assert "useradd: cannot lock /etc/passwd" in info.value.error.message
        vm = fresh_sim.admin.resources("Microsoft.Compute/virtualMachines")[0]
        assert vm["properties"]["provisioningState"] == "Failed"


def test_vm_without_a_guest_needs_no_provisioning(compute, network, resources, fresh_sim):
    built = build_vm_network(network, resources, GROUP)
    assert built["pip"].properties.ip_address.startswith("127.100.")
    vm = create_vm(compute, GROUP, "vm1", built["nic"].id)
    assert vm.properties.provisioning_state == "Succeeded"


def test_windows_vm_hands_the_admin_password_to_the_guest(compute, network, resources, fresh_sim, tmp_path):
    payload_file = tmp_path / "payload.json"
    with guest_pool(fresh_sim.admin) as register:
        register("w1", "127.77.0.9", command=writer_command(payload_file), os_type="windows")
        built = build_vm_network(network, resources, GROUP)
        image = {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-g2",
                 "version": "latest"}
        body = {"location": "eastus", "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {"imageReference": image, "osDisk": {
                "createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
            "osProfile": {"computerName": "win-build", "adminUsername": "builder",
                          "adminPassword": "Golden-Image-Pa55!"},
            "networkProfile": {"networkInterfaces": [{"id": built["nic"].id, "properties": {"primary": True}}]}}}
        vm = compute.virtual_machines.begin_create_or_update(GROUP, "win1", body).result()
        payload = json.loads(payload_file.read_text())
        assert payload["admin_password"] == "Golden-Image-Pa55!"
        assert (payload["os_type"], payload["ssh_public_keys"], payload["vm_id"]) == ("Windows", [], vm.properties.vm_id)
        assert "adminPassword" not in json.dumps(fresh_sim.admin.resource(vm.id))  # the secret never leaves the server
