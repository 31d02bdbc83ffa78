"""The request bodies and checks of plugins/module_utils/_build_vm.py, without a simulator."""

from __future__ import annotations

import sys

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())  # ansible_collections.goldenimage.azure -> this repository

from ansible_collections.goldenimage.azure.plugins.module_utils import _build_vm as bv  # noqa: E402
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError  # noqa: E402


COMPUTE = "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/"


@pytest.mark.parametrize("image, expected", [
    ("Canonical:ubuntu-24_04-lts:server:24.04.202411200",
     {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "24.04.202411200"}),
    ({"urn": "Debian:debian-12:12-gen2:0.20241004.1890"},
     {"publisher": "Debian", "offer": "debian-12", "sku": "12-gen2", "version": "0.20241004.1890"}),
    (COMPUTE + "images/img",
     {"id": COMPUTE + "images/img"}),
    ({"id": COMPUTE + "galleries/g/images/d/versions/1.0.0",
      "publisher": None},
     {"id": COMPUTE + "galleries/g/images/d/versions/1.0.0"}),
])
def test_image_reference_forms(image, expected):
    assert bv.image_reference(image) == expected


@pytest.mark.parametrize("image", ["Canonical:ubuntu-24_04-lts:server:latest", "not-a-urn",
                                   {"publisher": "Canonical", "offer": "o"}])
def test_image_reference_refuses_latest_and_incomplete(image):
    with pytest.raises(AzureError):
        bv.image_reference(image)


def test_nsg_admits_only_the_build_port_from_the_given_sources():
    linux = bv.nsg_body("westeurope", {}, "linux", ["203.0.113.7/32"])["properties"]["securityRules"]
    assert [r["properties"]["destinationPortRange"] for r in linux] == ["22"]
    assert linux[0]["properties"]["sourceAddressPrefix"] == "203.0.113.7/32"
    windows = bv.nsg_body("westeurope", {}, "windows", ["203.0.113.0/24", "198.51.100.9"])
    rule = windows["properties"]["securityRules"][0]["properties"]
    assert rule["destinationPortRange"] == "5986"
    assert rule["sourceAddressPrefixes"] == ["203.0.113.0/24", "198.51.100.9"]


def test_group_is_marked_temporary_and_tagged_with_the_build():
    body = bv.group_body("westeurope", "b1", {"team": "images", "goldenimage-build-id": "spoofed"})
    assert body["tags"] == {"team": "images", "goldenimage-build-id": "b1", "goldenimage-temporary": "true"}


def test_vm_body_for_trusted_launch_linux():
    ids = bv.resource_ids("sub", "rg", "vm1")
    spec = {"vm_name": "vm1", "computer_name": "vm1", "admin_username": "azureuser", "os_type": "linux",
            "ssh_public_key": "ssh-ed25519 AAAA test\n", "os_disk_type": "Premium_LRS", "os_disk_size_gb": 64,
            "vm_size": "Standard_D2s_v5", "location": "westeurope", "security_type": "TrustedLaunch",
            "image_reference": {"id": "/x"}}
    body = bv.vm_body(spec, {"goldenimage-build-id": "b1"}, ids)
    props = body["properties"]
    assert props["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"] == [
        {"path": "/home/azureuser/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAA test"}]
    assert props["storageProfile"]["osDisk"]["diskSizeGB"] == 64
    assert props["storageProfile"]["osDisk"]["deleteOption"] == "Delete"
    assert props["securityProfile"]["securityType"] == "TrustedLaunch"
    assert props["networkProfile"]["networkInterfaces"][0]["id"] == ids["network_interface"]


def test_windows_winrm_listener_from_key_vault():
    """On real Azure the WinRM HTTPS listener comes from a Key Vault certificate: listener + osProfile.secrets."""
    ids = bv.resource_ids("sub", "rg", "vm1")
    url = "https://kv-build.vault.azure.net/secrets/winrm/0123456789abcdef"
    vault = "/subscriptions/sub/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-build"
    spec = {"vm_name": "vm1", "computer_name": "vm1", "admin_username": "gi", "os_type": "windows",
            "admin_password": "x", "os_disk_type": "Premium_LRS", "vm_size": "Standard_D2s_v5",
            "location": "westeurope", "image_reference": {"id": "/x"}, "winrm_certificate_url": url,
            "key_vault_id": vault}
    profile = bv.vm_body(spec, {}, ids)["properties"]["osProfile"]
    assert profile["windowsConfiguration"]["winRM"] == {"listeners": [{"protocol": "Https", "certificateUrl": url}]}
    assert profile["secrets"] == [{"sourceVault": {"id": vault},
                                   "vaultCertificates": [{"certificateUrl": url, "certificateStore": "My"}]}]


@pytest.mark.parametrize("build_id", ["ok", "web-2404.1", "A_b-9"])
def test_safe_build_ids(build_id):
    bv.check_build_id(build_id)


@pytest.mark.parametrize("build_id", ["", None, ".", "..", "../../victim", "a/b", "a..b", "x.", "-x", "x" * 61])
def test_unsafe_build_ids(build_id):
    with pytest.raises(AzureError, match="build_id"):
        bv.check_build_id(build_id)


def test_any_source_needs_opt_in():
    with pytest.raises(AzureError, match="allow_any_source"):
        bv.check_sources(["203.0.113.7/32", "*"])
    with pytest.raises(AzureError, match="empty"):
        bv.check_sources([])
    assert bv.check_sources(["*"], allow_any=True) == ["*"]


@pytest.mark.parametrize("image, parameter", [
    ("/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Compute/images/img", "image"),
    ({"id": "/subscriptions/nope/resourceGroups/rg/providers/Microsoft.Compute/images/img"}, "image.id"),
])
def test_image_ids_go_through_the_shared_parser(image, parameter):
    with pytest.raises(AzureError) as err:
        bv.image_reference(image)
    assert err.value.message.startswith(parameter + ": ") and "is not a subscription id" in err.value.message


def test_image_id_of_another_type_is_refused():
    with pytest.raises(AzureError) as err:
        bv.image_reference(COMPUTE + "disks/d1")
    assert "Microsoft.Compute/disks" in err.value.message
