"""The whole golden-image flow through the real SDKs, asserting on the simulator's state after each step:
token, Marketplace listing down to versions, resource group, network, VM from a Marketplace image,
deallocate, generalize, managed image, gallery version with replication, disk SKU/tier change, delete."""

from __future__ import annotations

from tests.sim.test_vm_helpers import SSH_KEY

LOCATION = "eastus"
PUBLISHER, OFFER, SKU = "Canonical", "ubuntu-24_04-lts", "server"


def _power(compute, group, name):
    view = compute.virtual_machines.instance_view(group, name)
    return {status.code.lower() for status in view.statuses}


def test_golden_image_flow(credential, compute, network, resources, fresh_sim):
    admin = fresh_sim.admin
    sub = fresh_sim.subscription_id

    # token: exactly one token request for the whole flow
    credential.get_token(fresh_sim.url + "/.default")

    # Marketplace: publishers -> offers -> SKUs -> versions -> details
    assert PUBLISHER in {item.name for item in compute.virtual_machine_images.list_publishers(LOCATION)}
    assert OFFER in {item.name for item in compute.virtual_machine_images.list_offers(LOCATION, PUBLISHER)}
    assert SKU in {item.name for item in compute.virtual_machine_images.list_skus(LOCATION, PUBLISHER, OFFER)}
    versions = [item.name for item in compute.virtual_machine_images.list(LOCATION, PUBLISHER, OFFER, SKU)]
    newest = max(versions, key=lambda name: tuple(int(part) for part in name.split(".")))
    image = compute.virtual_machine_images.get(LOCATION, PUBLISHER, OFFER, SKU, newest)
    generation = image.properties.hyper_v_generation
    assert generation in ("V1", "V2")

    # resource group and network
    resources.resource_groups.create_or_update("rg-golden", {"location": LOCATION, "tags": {"goldenimage-temporary": "true"}})
    vnet = network.virtual_networks.begin_create_or_update("rg-golden", "vnet", {
        "location": LOCATION, "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
                                             "subnets": [{"name": "build", "properties": {"addressPrefix": "10.10.1.0/24"}}]}}).result()
    pip = network.public_ip_addresses.begin_create_or_update("rg-golden", "pip", {
        "location": LOCATION, "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}}).result()
    nic = network.network_interfaces.begin_create_or_update("rg-golden", "nic", {
        "location": LOCATION, "properties": {"ipConfigurations": [{"name": "ip", "properties": {
            "subnet": {"id": vnet.subnets[0].id}, "publicIPAddress": {"id": pip.id}}}]}}).result()
    assert pip.ip_address
    assert admin.resource(nic.id)["properties"]["ipConfigurations"][0]["properties"]["publicIPAddress"]["id"] == pip.id

    # VM from the Marketplace image, pinned to the concrete version
    vm = compute.virtual_machines.begin_create_or_update("rg-golden", "build", {
        "location": LOCATION, "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {"imageReference": {"publisher": PUBLISHER, "offer": OFFER, "sku": SKU, "version": newest},
                               "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "StandardSSD_LRS"}}},
            "osProfile": {"computerName": "build", "adminUsername": "azureuser", "linuxConfiguration": {
                "disablePasswordAuthentication": True,
                "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]}}},
            "networkProfile": {"networkInterfaces": [{"id": nic.id, "properties": {"primary": True}}]}}}).result()
    os_disk_id = vm.storage_profile.os_disk.managed_disk.id
    assert admin.resource(vm.id)["properties"]["provisioningState"] == "Succeeded"
    assert admin.resource(os_disk_id)["properties"]["diskState"] == "Attached"
    assert "powerstate/running" in _power(compute, "rg-golden", "build")

    # deallocate, generalize
    compute.virtual_machines.begin_deallocate("rg-golden", "build").result()
    assert "powerstate/deallocated" in _power(compute, "rg-golden", "build")
    assert admin.resource(os_disk_id)["properties"]["diskState"] == "Reserved"
    compute.virtual_machines.generalize("rg-golden", "build")
    assert "osstate/generalized" in _power(compute, "rg-golden", "build")

    # managed image
    managed = compute.images.begin_create_or_update("rg-golden", "golden", {
        "location": LOCATION, "properties": {"sourceVirtualMachine": {"id": vm.id}, "hyperVGeneration": generation}}).result()
    assert admin.resource(managed.id)["properties"]["provisioningState"] == "Succeeded"
    assert admin.resource(managed.id)["properties"]["storageProfile"]["osDisk"]["osState"] == "Generalized"

    # gallery version with replication to two regions
    resources.resource_groups.create_or_update("rg-images", {"location": LOCATION})
    compute.galleries.begin_create_or_update("rg-images", "gallery", {"location": LOCATION}).result()
    compute.gallery_images.begin_create_or_update("rg-images", "gallery", "ubuntu", {
        "location": LOCATION, "properties": {"osType": "Linux", "osState": "Generalized", "hyperVGeneration": generation,
                                             "identifier": {"publisher": "contoso", "offer": "golden", "sku": "ubuntu-24"}}}).result()
    version = compute.gallery_image_versions.begin_create_or_update("rg-images", "gallery", "ubuntu", "1.0.0", {
        "location": LOCATION, "properties": {
            "storageProfile": {"source": {"id": managed.id}},
            "publishingProfile": {"targetRegions": [{"name": LOCATION, "regionalReplicaCount": 1},
                                                    {"name": "westeurope", "regionalReplicaCount": 1}]}}}).result()
    status = compute.gallery_image_versions.get("rg-images", "gallery", "ubuntu", "1.0.0", expand="ReplicationStatus")
    assert status.replication_status.aggregated_state == "Completed"
    assert {item.region.replace(" ", "").lower() for item in status.replication_status.summary} == {"eastus", "westeurope"}
    assert admin.resource(version.id)["properties"]["provisioningState"] == "Succeeded"

    # disk SKU and tier on the deallocated VM's OS disk
    compute.disks.begin_update("rg-golden", os_disk_id.rsplit("/", 1)[1], {"sku": {"name": "Premium_LRS"}}).result()
    compute.disks.begin_update("rg-golden", os_disk_id.rsplit("/", 1)[1], {"properties": {"tier": "P30"}}).result()
    disk = admin.resource(os_disk_id)
    assert (disk["sku"]["name"], disk["properties"]["tier"]) == ("Premium_LRS", "P30")

    # delete the build group: only the images group and its contents stay
    resources.resource_groups.begin_delete("rg-golden").result()
    left = {item["id"].lower() for item in admin.resources()}
    assert not [rid for rid in left if "/resourcegroups/rg-golden" in rid]
    assert managed.id.lower() not in left  # the managed image lived in the build group
    assert version.id.lower() in left

    tokens = [entry for entry in admin.requests() if entry["kind"] == "entra" and entry["method"] == "POST"]
    assert len(tokens) == 1
    assert sub in vm.id
