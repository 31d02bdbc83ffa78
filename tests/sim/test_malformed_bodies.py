"""Malformed request bodies on every ARM PUT/PATCH route: always ARM's 400, never a 500.

One world (every resource type) is built once for the module over raw HTTPS, in a simulator of its own (no
other test resets it, whichever order xdist runs them in); each route then receives
bodies of the wrong shape. Wrong JSON types are 400 InvalidRequestContent (ARM deserialises into typed
models before the provider runs), a missing location on a create is 400 LocationRequired, and numbers
written as strings (or scalars where a string belongs) are converted, as Json.NET does.
"""

from __future__ import annotations

import pytest

from azsim.server import Sim
from azsim.testing import SimServer
from tests.sim.wire import Wire

RG = "/resourceGroups/rg-fuzz"
C = RG + "/providers/Microsoft.Compute"
N = RG + "/providers/Microsoft.Network"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldenImageTestKeyOnlyForTheSimulator builder@test"
VHD = "https://goldenstore01.blob.core.windows.net/vhds/ubuntu-os.vhd"

# (method, path below the subscription, a valid body, whether the route takes a location on create)
WORLD = [
    ("PUT", "/resourcegroups/rg-fuzz", {"location": "eastus"}, True),
    ("PUT", N + "/virtualNetworks/vnet", {"location": "eastus", "properties": {
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}]}}, True),
    ("PUT", N + "/virtualNetworks/vnet/subnets/s2", {"properties": {"addressPrefix": "10.0.1.0/24"}}, False),
    ("PUT", N + "/networkSecurityGroups/nsg", {"location": "eastus", "properties": {"securityRules": []}}, True),
    ("PUT", N + "/networkSecurityGroups/nsg/securityRules/ssh", {"properties": {
        "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourcePortRange": "*",
        "destinationPortRange": "22", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*"}}, False),
    ("PUT", N + "/publicIPAddresses/pip", {"location": "eastus", "sku": {"name": "Standard"},
                                           "properties": {"publicIPAllocationMethod": "Static"}}, True),
    ("PUT", N + "/networkInterfaces/nic", {"location": "eastus", "properties": {"ipConfigurations": [
        {"name": "ipconfig1", "properties": {"subnet": {"id": "{sub}" + N + "/virtualNetworks/vnet/subnets/default"}}}]}},
     True),
    ("PUT", C + "/virtualMachines/vm", {"location": "eastus", "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {
            "imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                               "sku": "22_04-lts-gen2", "version": "latest"},
            "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
        "osProfile": {"computerName": "vm", "adminUsername": "azureuser", "linuxConfiguration": {
            "disablePasswordAuthentication": True,
            "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]}}},
        "networkProfile": {"networkInterfaces": [{"id": "{sub}" + N + "/networkInterfaces/nic",
                                                  "properties": {"primary": True}}]}}}, True),
    ("PUT", C + "/disks/disk", {"location": "eastus", "sku": {"name": "Premium_LRS"},
                                "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 64}}, True),
    ("PUT", C + "/diskEncryptionSets/des", {"location": "eastus", "identity": {"type": "SystemAssigned"},
                                            "properties": {
        "activeKey": {"keyUrl": "https://kv-fuzz01.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef"}}},
     True),
    ("PUT", C + "/snapshots/snap", {"location": "eastus", "properties": {
        "creationData": {"createOption": "Copy", "sourceResourceId": "{sub}" + C + "/disks/disk"}}}, True),
    ("PUT", C + "/images/img", {"location": "eastus", "properties": {"hyperVGeneration": "V2", "storageProfile": {
        "osDisk": {"osType": "Linux", "osState": "Generalized", "blobUri": VHD, "diskSizeGB": 64}}}}, True),
    ("PUT", C + "/galleries/gal", {"location": "eastus", "properties": {"description": "golden"}}, True),
    ("PUT", C + "/galleries/gal/images/def", {"location": "eastus", "properties": {
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "contoso", "offer": "golden", "sku": "ubuntu"}}}, True),
    ("PUT", C + "/galleries/gal/images/def/versions/1.0.0", {"location": "eastus", "properties": {
        "publishingProfile": {"targetRegions": [{"name": "eastus"}]},
        "storageProfile": {"source": {"id": "{sub}" + C + "/images/img"}}}}, True),
    ("PUT", "/providers/Microsoft.MarketplaceOrdering/offerTypes/virtualmachine/publishers/"
            "center-for-internet-security-inc/offers/cis-ubuntu-linux-2204-l1/plans/cis-ubuntu2204-l1-gen2/agreements"
            "/current", {"properties": {"accepted": True}}, False),
]
PATCHES = [
    ("PATCH", "/resourcegroups/rg-fuzz"),
    ("PATCH", C + "/virtualMachines/vm"),
    ("PATCH", C + "/disks/disk"),
    ("PATCH", C + "/snapshots/snap"),
    ("PATCH", C + "/diskEncryptionSets/des"),
    ("PATCH", C + "/images/img"),
    ("PATCH", C + "/galleries/gal"),
    ("PATCH", C + "/galleries/gal/images/def"),
    ("PATCH", C + "/galleries/gal/images/def/versions/1.0.0"),
    ("PATCH", N + "/virtualNetworks/vnet"),
    ("PATCH", N + "/networkSecurityGroups/nsg"),
    ("PATCH", N + "/publicIPAddresses/pip"),
    ("PATCH", N + "/networkInterfaces/nic"),
]
ROUTES = [(method, path) for method, path, _, _ in WORLD] + PATCHES
MALFORMED = [
    ({"properties": "x"}, "properties"),
    ({"tags": [1]}, "tags"),
    ({"tags": {"owner": {"nested": True}}}, "tags.owner"),
    ({"sku": "Premium_LRS"}, "sku"),
    ({"location": {"name": "eastus"}}, "location"),
    ({"properties": {"storageProfile": [1], "hardwareProfile": "big", "creationData": 7, "addressSpace": "x",
                     "ipConfigurations": {"a": 1}, "securityRules": "x", "publishingProfile": [],
                     "addressPrefix": ["10.0.0.0/24"], "priority": "high", "identifier": "x", "description": 3}},
     "properties."),
]


def _body(body, sub):
    """The body with ``{sub}`` in string values replaced by the subscription path."""
    if isinstance(body, dict):
        return {key: _body(value, sub) for key, value in body.items()}
    if isinstance(body, list):
        return [_body(value, sub) for value in body]
    return body.replace("{sub}", sub) if isinstance(body, str) else body


@pytest.fixture(scope="module")
def world():
    # hundreds of writes in a few seconds: no throttling
    with SimServer(time_scale=0.0, settings={"throttling": {"enabled": False}}) as own:
        wire = Wire(own)
        for method, path, body, _ in WORLD:
            response = wire.request(method, wire.sub(path), _body(body, wire.sub()))
            assert response.status_code in (200, 201, 202), (path, response.text)
        yield wire


def test_every_put_and_patch_route_is_covered():
    templates = {(route.method, route.template.lower()) for route in Sim().router._routes
                 if route.kind == "arm" and route.method in ("PUT", "PATCH")}
    covered = set()
    for method, path in ROUTES:
        route, _ = Sim().router.match(method, "/subscriptions/00000000-0000-4000-8000-000000000001" + path)
        covered.add((method, route.template.lower()))
    assert templates - covered == set()


@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m}:{p.rsplit('/', 2)[-2]}" for m, p in ROUTES])
def test_malformed_bodies_are_400_never_500(world, method, path):
    for body, target in MALFORMED:
        response = world.request(method, world.sub(path), {"location": "eastus", **body})
        assert response.status_code == 400, (body, response.status_code, response.text)
        error = response.json()["error"]
        assert error["code"] == "InvalidRequestContent", (body, error)
        assert error["target"].startswith(target), (body, error)
    for raw in (b"[1]", b'"x"', b"{not json", b"\xff\xfe"):
        response = world.request(method, world.sub(path), data=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and response.json()["error"]["code"] == "InvalidRequestContent", raw


@pytest.mark.parametrize("method,path,body",
                         [(m, p, b) for m, p, b, located in WORLD if located and m == "PUT"],
                         ids=[p.rsplit("/", 2)[-2] for m, p, b, located in WORLD if located])
def test_create_without_location_is_location_required(world, method, path, body):
    fresh = path + "x" if not path.endswith("1.0.0") else path[:-5] + "9.9.9"
    unlocated = {key: value for key, value in _body(body, world.sub()).items() if key != "location"}
    response = world.request(method, world.sub(fresh), unlocated)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "LocationRequired"


def test_numbers_and_booleans_written_as_strings_are_converted(world):
    path = world.sub(C + "/disks/disk-strings")
    response = world.request("PUT", path, {"location": "eastus", "sku": {"name": "Premium_LRS"}, "properties": {
        "creationData": {"createOption": "Empty"}, "diskSizeGB": "128", "burstingEnabled": "false"}})
    assert response.status_code in (200, 202), response.text
    assert response.json()["properties"]["diskSizeGB"] == 128
    rule = world.request("PUT", world.sub(N + "/networkSecurityGroups/nsg/securityRules/https"), {"properties": {
        "priority": "200", "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourcePortRange": "*",
        "destinationPortRange": "443", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*"}})
    assert rule.status_code in (200, 201), rule.text
    assert rule.json()["properties"]["priority"] == 200
    tagged = world.request("PATCH", world.sub(C + "/disks/disk-strings"), {"tags": {"build": 42, "gold": True}})
    assert tagged.status_code in (200, 202) and tagged.json()["tags"] == {"build": "42", "gold": "True"}, tagged.text
    bad = world.request("PUT", world.sub(C + "/disks/disk-bad"), {"location": "eastus", "properties": {
        "creationData": {"createOption": "Empty"}, "diskSizeGB": "sixty-four"}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidRequestContent"
    assert bad.json()["error"]["target"] == "properties.diskSizeGB"
