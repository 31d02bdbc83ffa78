"""Replacing the Marketplace catalog (admin API, --catalog, --state) and VM create's `latest` resolution."""

import json

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError

from azsim.core.errors import ArmError
from azsim.server import Sim
from azsim.testing import SimServer

CUSTOM = {
    "defaults": {
        "locations": ["eastus"],
        "properties": {
            "hyperVGeneration": "V2",
            "architecture": "x64",
            "osDiskImage": {"operatingSystem": "Linux", "sizeInGb": 30},
        },
    },
    "publishers": {
        "Contoso": {
            "offers": {
                "hardened-linux": {
                    "skus": {
                        "base": {
                            "locations": ["eastus", "westeurope"],
                            "versions": {
                                "1.9.0": {},
                                "1.10.0": {"properties": {"osDiskImage": {"sizeInGb": 64}}},
                                "1.2.0": {"locations": ["westeurope"]},
                            },
                        }
                    }
                }
            }
        }
    },
}


@pytest.fixture
def custom_catalog(fresh_sim):
    fresh_sim.admin.post("catalog", CUSTOM)
    yield CUSTOM
    fresh_sim.admin.delete("catalog")


@pytest.fixture(scope="module")
def local_sim():
    """A simulator object in this process, to call the marketplace extension's Python contract directly."""
    return Sim()


def test_admin_catalog_replaces_and_restores(compute, fresh_sim, custom_catalog):
    assert fresh_sim.admin.get("catalog")["publishers"].keys() == {"Contoso"}
    assert [item.name for item in compute.virtual_machine_images.list_publishers("eastus")] == ["Contoso"]
    image = compute.virtual_machine_images.get("eastus", "contoso", "hardened-linux", "base", "1.10.0")
    assert image.hyper_v_generation == "V2" and image.as_dict()["properties"]["osDiskImage"]["sizeInGb"] == 64
    raw = fresh_sim.admin.get("catalog")
    assert raw == CUSTOM
    assert [v.name for v in compute.virtual_machine_images.list("westeurope", "Contoso", "hardened-linux", "base")] == [
        "1.9.0",
        "1.10.0",
        "1.2.0",
    ]
    assert [v.name for v in compute.virtual_machine_images.list("eastus", "Contoso", "hardened-linux", "base")] == [
        "1.9.0",
        "1.10.0",
    ]
    fresh_sim.admin.delete("catalog")
    assert "Canonical" in {item.name for item in compute.virtual_machine_images.list_publishers("eastus")}


def test_reset_keeps_the_catalog(compute, fresh_sim, custom_catalog):
    fresh_sim.admin.reset()
    assert [item.name for item in compute.virtual_machine_images.list_publishers("eastus")] == ["Contoso"]


def test_invalid_catalog_is_refused(fresh_sim):
    broken = {"publishers": {"Contoso": {"offers": {"x": {"skus": {"y": {"versions": {"1.0.0": {}}}}}}}}}
    with pytest.raises(requests.HTTPError) as info:
        fresh_sim.admin.post("catalog", broken)
    assert info.value.response.status_code == 400
    assert "osDiskImage.operatingSystem" in info.value.response.json()["error"]["message"]
    assert "Canonical" in fresh_sim.admin.get("catalog")["publishers"]


def test_latest_is_numeric(local_sim):
    resolve = local_sim.extensions["marketplace"].resolve
    assert resolve("eastus", "RedHat", "RHEL", "8-lvm-gen2", "latest")["name"] == "8.10.2025010210"
    assert (
        resolve("eastus", "RedHat", "RHEL", "9-lvm-gen2", "latest")["name"] == "9.8.2026052008"
    )  # not the re-published 9.4
    assert (
        resolve(
            "eastus", "center-for-internet-security-inc", "cis-ubuntu-linux-2204-l1", "cis-ubuntu2204-l1-gen2", "LATEST"
        )["name"]
        == "1.1.12"
    )


def test_resolve_returns_the_version_get_body(local_sim):
    body = local_sim.extensions["marketplace"].resolve(
        "West US 3", "canonical", "0001-com-ubuntu-server-jammy", "22_04-LTS-GEN2", "22.04.202411190"
    )
    assert body["name"] == "22.04.202411190" and body["location"] == "WestUS3"
    assert body["id"].startswith(
        f"/Subscriptions/{local_sim.settings.default_subscription}/Providers/Microsoft.Compute/"
        "Locations/WestUS3/Publishers/Canonical/ArtifactTypes/VMImage/Offers/"
    )
    assert body["properties"]["hyperVGeneration"] == "V2"


def test_latest_skips_deprecated_versions(local_sim):
    marketplace = local_sim.extensions["marketplace"]
    marketplace.replace(
        {
            "defaults": {
                "locations": ["eastus"],
                "properties": {
                    "hyperVGeneration": "V1",
                    "architecture": "x64",
                    "osDiskImage": {"operatingSystem": "Linux"},
                },
            },
            "publishers": {
                "P": {
                    "offers": {
                        "O": {
                            "skus": {
                                "S": {
                                    "versions": {
                                        "1.0.0": {},
                                        "2.0.0": {
                                            "properties": {"imageDeprecationStatus": {"imageState": "Deprecated"}}
                                        },
                                    }
                                }
                            }
                        }
                    }
                }
            },
        }
    )
    try:
        assert marketplace.resolve("eastus", "P", "O", "S", "latest")["name"] == "1.0.0"
        assert marketplace.resolve("eastus", "P", "O", "S", "2.0.0")["name"] == "2.0.0"
    finally:
        marketplace.restore()


@pytest.mark.parametrize(
    "args",
    [
        ("eastus", "Canonical", "ubuntu-24_04-lts", "server", "24.04.000000000"),
        ("eastus", "Canonical", "ubuntu-24_04-lts", "no-such-sku", "latest"),
        ("westus3", "center-for-internet-security-inc", "cis-ubuntu-linux-2204-l1", "cis-ubuntu2204-l1-gen2", "latest"),
        ("atlantis", "Canonical", "ubuntu-24_04-lts", "server", "latest"),
    ],
)
def test_resolve_refusal_is_platform_image_not_found(local_sim, args):
    with pytest.raises(ArmError) as info:
        local_sim.extensions["marketplace"].resolve(*args)
    error = info.value
    assert (error.status, error.code, error.target) == (404, "PlatformImageNotFound", "imageReference")
    assert error.message.startswith(
        f"The platform image '{':'.join(args[1:])}' is not available. Verify that all "
        "fields in the storage profile are correct."
    )


def test_catalog_file_and_state_restart(tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CUSTOM))
    with SimServer(catalog=str(catalog)) as server:
        assert server.admin.get("catalog")["publishers"].keys() == {"Contoso"}
    state = str(tmp_path / "state")
    with SimServer(state_dir=state) as server:
        server.admin.post("catalog", CUSTOM)
    with SimServer(state_dir=state) as server:  # a catalog replaced at run time survives the restart
        assert server.admin.get("catalog")["publishers"].keys() == {"Contoso"}
        server.admin.delete("catalog")
    with SimServer(state_dir=state) as server:
        assert "Canonical" in server.admin.get("catalog")["publishers"]


def test_get_never_resolves_latest_even_with_custom_catalog(compute, custom_catalog):
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machine_images.get("eastus", "Contoso", "hardened-linux", "base", "latest")
