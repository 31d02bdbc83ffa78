"""Seeding for the azure_images inventory tests and benchmark (no tests here).

``Seeder`` drives the simulator's ARM API directly (plain HTTPS with a real Entra token from the simulator),
so hundreds of VMs can be created concurrently; every resource is a normal simulator resource made through
the same PUT/POST requests the SDKs send (resource group, VNet, NIC, public IP, VM, managed image, gallery,
definition, versions, deallocate, generalize).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.harness import ROOT, ansible_env

COMPUTE = "2024-07-01"
NETWORK = "2024-05-01"
GALLERY = "2024-03-03"
GROUPS = "2021-04-01"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldenImageTestKeyOnlyForTheSimulator builder@test"
VHD = "https://goldenstore01.blob.core.windows.net/vhds/ubuntu-os.vhd"


class Seeder:
    def __init__(self, sim, subscription_id=None):
        self.sim = sim
        self.sub = subscription_id or sim.subscription_id
        env = sim.env
        token = requests.post(f"{env['AZURE_AUTHORITY_HOST']}/{env['AZURE_TENANT_ID']}/oauth2/v2.0/token", data={
            "grant_type": "client_credentials", "client_id": env["AZURE_CLIENT_ID"],
            "client_secret": env["AZURE_CLIENT_SECRET"], "scope": sim.url + "/.default"},
            verify=sim.ca, timeout=30)
        token.raise_for_status()
        self.http = requests.Session()
        self.http.headers["Authorization"] = "Bearer " + token.json()["access_token"]
        adapter = requests.adapters.HTTPAdapter(pool_connections=32, pool_maxsize=32)
        self.http.mount("https://", adapter)

    # -- plumbing ------------------------------------------------------------------------------------
    def rg_path(self, rg, sub=None):
        return f"/subscriptions/{sub or self.sub}/resourceGroups/{rg}"

    def call(self, method, path, api, body=None):
        # verify per request: an inherited REQUESTS_CA_BUNDLE would override session.verify
        response = self.http.request(method, f"{self.sim.url}{path}", params={"api-version": api}, json=body,
                                     timeout=60, verify=self.sim.ca)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def finish(self):
        self.sim.admin.finish_operations()

    # -- resources -----------------------------------------------------------------------------------
    def group(self, rg, location="eastus", sub=None):
        return self.call("PUT", self.rg_path(rg, sub), GROUPS, {"location": location})

    def vnet(self, rg, name, location="eastus", prefix="10.0", sub=None):
        path = f"{self.rg_path(rg, sub)}/providers/Microsoft.Network/virtualNetworks/{name}"
        body = self.call("PUT", path, NETWORK, {
            "location": location, "properties": {
                "addressSpace": {"addressPrefixes": [f"{prefix}.0.0/16"]},
                "subnets": [{"name": "default", "properties": {"addressPrefix": f"{prefix}.0.0/20"}}]}})
        return body["properties"]["subnets"][0]["id"]

    def public_ip(self, rg, name, location="eastus", sub=None):
        return self.call("PUT", f"{self.rg_path(rg, sub)}/providers/Microsoft.Network/publicIPAddresses/{name}",
                         NETWORK, {"location": location, "sku": {"name": "Standard"},
                                   "properties": {"publicIPAllocationMethod": "Static",
                                                  "dnsSettings": {"domainNameLabel": name}}})["id"]

    def nic(self, rg, name, subnet_id, location="eastus", public_ip_id=None, sub=None):
        config = {"subnet": {"id": subnet_id}}
        if public_ip_id:
            config["publicIPAddress"] = {"id": public_ip_id}
        return self.call("PUT", f"{self.rg_path(rg, sub)}/providers/Microsoft.Network/networkInterfaces/{name}",
                         NETWORK, {"location": location, "properties": {
                             "ipConfigurations": [{"name": "ipconfig1", "properties": config}]}})["id"]

    def vm(self, rg, name, nic_id, image, location="eastus", size="Standard_D2s_v5", tags=None,
           storage_type="Premium_LRS", sub=None):
        """``image``: a URN 'P:O:S:V' or a resource id (managed image, gallery definition or version)."""
        if image.startswith("/"):
            reference = {"id": image}
        else:
            publisher, offer, sku, version = image.split(":")
            reference = {"publisher": publisher, "offer": offer, "sku": sku, "version": version}
        body = {"location": location, "tags": tags or {}, "properties": {
            "hardwareProfile": {"vmSize": size},
            "storageProfile": {"imageReference": reference, "osDisk": {
                "createOption": "FromImage", "managedDisk": {"storageAccountType": storage_type}}},
            "osProfile": {"computerName": name.replace("_", "-")[:15], "adminUsername": "azureuser",
                          "linuxConfiguration": {"disablePasswordAuthentication": True, "ssh": {"publicKeys": [
                              {"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]}}},
            "networkProfile": {"networkInterfaces": [{"id": nic_id, "properties": {"primary": True}}]}}}
        return self.call("PUT", f"{self.rg_path(rg, sub)}/providers/Microsoft.Compute/virtualMachines/{name}",
                         COMPUTE, body)["id"]

    def vm_action(self, rg, name, action, sub=None):
        self.call("POST", f"{self.rg_path(rg, sub)}/providers/Microsoft.Compute/virtualMachines/{name}/{action}",
                  COMPUTE)
        self.finish()

    def managed_image(self, rg, name, location="eastus", generation="V2"):
        rid = self.call("PUT", f"{self.rg_path(rg)}/providers/Microsoft.Compute/images/{name}", COMPUTE, {
            "location": location, "properties": {"hyperVGeneration": generation, "storageProfile": {"osDisk": {
                "osType": "Linux", "osState": "Generalized", "blobUri": VHD, "diskSizeGB": 30,
                "caching": "ReadWrite"}}}})["id"]
        self.finish()
        return rid

    def gallery(self, rg, gallery, definition, location="eastus"):
        base = f"{self.rg_path(rg)}/providers/Microsoft.Compute/galleries/{gallery}"
        self.call("PUT", base, GALLERY, {"location": location, "properties": {"description": "golden"}})
        self.finish()
        rid = self.call("PUT", f"{base}/images/{definition}", GALLERY, {"location": location, "properties": {
            "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
            "identifier": {"publisher": "contoso", "offer": "golden", "sku": definition}}})["id"]
        self.finish()
        return rid

    def gallery_version(self, definition_id, version, source_id, regions=("eastus",), exclude_from_latest=False):
        rid = self.call("PUT", f"{definition_id}/versions/{version}", GALLERY, {
            "location": regions[0], "properties": {
                "publishingProfile": {"targetRegions": [{"name": region} for region in regions],
                                      "excludeFromLatest": exclude_from_latest},
                "storageProfile": {"source": {"id": source_id}}}})["id"]
        self.finish()
        return rid

    def many(self, func, items, workers=16):
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda args: func(*args), items))


def ansible_inventory(sim_env, source, *args, env=None, timeout=600):
    """Run ``ansible-inventory -i source <args>``; (rc, parsed JSON or None, stdout, stderr)."""
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(source), *args]
    extra = {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True"}
    extra.update(env or {})
    proc = subprocess.run(command, env=ansible_env(sim_env, extra), capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, check=False)
    data = None
    if proc.returncode == 0 and "--graph" not in args:
        data = json.loads(proc.stdout)
    return proc.returncode, data, proc.stdout, proc.stderr
