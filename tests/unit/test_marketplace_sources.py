"""Managed images and gallery image versions (plugins/module_utils/_image_sources.py) against the simulator.

The images are created through the real SDK (``compute`` fixture), as a user's earlier pipeline would have.
"""

from __future__ import annotations

import sys

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (  # noqa: E402
    AzureError,
    AzureSession,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._custom_images import (  # noqa: E402
    excluded_from_latest,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._image_sources import (  # noqa: E402
    Resolver,
    parse_spec,
)

RG = "rg-images"
GALLERY = "golden"
DEFINITION = "ubuntu-2404"
VHD = "https://goldenstore.blob.core.windows.net/vhds/ubuntu-2404.vhd"


def make_image_fixtures(compute, resources, location="eastus"):
    """A resource group with a managed image (from a VHD blob) and a gallery definition with versions.

    Versions: 1.0.9, 1.0.10 (newest that counts), 1.0.11 (excluded from latest), 1.1.0 (only in westus2),
    so ``latest`` in eastus is 1.0.10 (numerically above 1.0.9), and 1.1.0 in westus2.
    Returns the managed image id.
    """
    resources.resource_groups.create_or_update(RG, {"location": location})
    image = compute.images.begin_create_or_update(RG, "ubuntu-2404-base", {
        "location": location,
        "tags": {"goldenimage-build-id": "b-1"},
        "properties": {
            "hyperVGeneration": "V2",
            "storageProfile": {"osDisk": {"osType": "Linux", "osState": "Generalized", "blobUri": VHD,
                                          "diskSizeGB": 30}},
        },
    }).result()
    compute.galleries.begin_create_or_update(RG, GALLERY, {"location": location}).result()
    compute.gallery_images.begin_create_or_update(RG, GALLERY, DEFINITION, {
        "location": location,
        "properties": {
            "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2", "architecture": "x64",
            "identifier": {"publisher": "contoso", "offer": "golden", "sku": DEFINITION},
        },
    }).result()
    for version, regions, exclude in (("1.0.9", [location], False), ("1.0.10", [location], False),
                                      ("1.0.11", [location], True), ("1.1.0", ["westus2"], False)):
        targets = [{"name": region, "regionalReplicaCount": 1} for region in regions]
        if location not in regions:
            targets.append({"name": location, "regionalReplicaCount": 1, "excludeFromLatest": True})
        compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, DEFINITION, version, {
            "location": location,
            "properties": {
                "publishingProfile": {"targetRegions": targets, "excludeFromLatest": exclude},
                "storageProfile": {"source": {"id": image.id}},
            },
        }).result()
    return image.id


@pytest.fixture
def session(fresh_sim):
    return AzureSession({}, environ=fresh_sim.env)


@pytest.fixture
def image_id(compute, resources):
    return make_image_fixtures(compute, resources)


def arm_requests(sim, since):
    return [item for item in sim.admin.requests(since) if item["kind"] == "arm"]


# -- managed images ----------------------------------------------------------------------------------------

def test_managed_image_by_name_and_id(session, image_id, fresh_sim):
    since = fresh_sim.admin.last_seq()
    by_name = Resolver(session, "eastus").resolve({"managed_image": {"resource_group": RG, "name": "ubuntu-2404-base"}})
    assert len(arm_requests(fresh_sim, since)) == 1
    by_id = Resolver(session).resolve(image_id)
    for details in (by_name, by_id):
        assert details["source"] == "managed_image"
        assert details["id"].lower() == image_id.lower()
        assert details["image_reference"] == {"id": details["id"]}
        assert details["os_type"] == "Linux" and details["os_state"] == "Generalized"
        assert details["hyper_v_generation"] == "V2"
        assert details["os_disk_blob_uri"] == VHD
        assert details["resource_group"].lower() == RG
        assert details["tags"] == {"goldenimage-build-id": "b-1"}
        assert details["provisioning_state"] == "Succeeded"
    assert by_name["warnings"] == []
    elsewhere = Resolver(session, "westeurope").resolve(image_id)
    assert "not in westeurope" in elsewhere["warnings"][0]


def test_managed_image_bad_names(session, image_id):
    with pytest.raises(AzureError) as err:
        Resolver(session).resolve({"managed_image": {"resource_group": RG, "name": "ubuntu-2404-bse"}})
    assert "Managed image 'ubuntu-2404-bse'" in str(err.value) and "ubuntu-2404-base" in str(err.value)
    with pytest.raises(AzureError) as err:
        Resolver(session).resolve({"managed_image": {"resource_group": "rg-imags", "name": "ubuntu-2404-base"}})
    assert "Resource group 'rg-imags' does not exist" in str(err.value) and RG in str(err.value)


# -- gallery images ----------------------------------------------------------------------------------------

def test_gallery_latest_is_numeric_and_respects_exclusions(session, image_id, fresh_sim):
    since = fresh_sim.admin.last_seq()
    details = Resolver(session, "eastus").resolve(
        {"gallery_image": {"resource_group": RG, "gallery": GALLERY, "name": DEFINITION}})
    assert details["version"] == "1.0.10"  # 1.0.11 excluded, 1.1.0 excluded in eastus, 1.0.10 > 1.0.9
    assert len(arm_requests(fresh_sim, since)) == 3  # definition, versions list, version (+replication)
    assert details["source"] == "gallery_image"
    assert details["id"].endswith("/versions/1.0.10")
    assert details["image_reference"] == {"id": details["id"]}
    assert details["identifier"] == {"publisher": "contoso", "offer": "golden", "sku": DEFINITION}
    assert details["hyper_v_generation"] == "V2" and details["os_type"] == "Linux"
    assert details["replication"]["aggregated_state"] == "Completed"
    assert details["exclude_from_latest"] is False
    westus2 = Resolver(session, "westus2").resolve(
        {"gallery_image": {"resource_group": RG, "gallery": GALLERY, "name": DEFINITION}})
    assert westus2["version"] == "1.1.0"
    anywhere = Resolver(session).resolve(
        "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s/images/%s"
        % (fresh_sim.subscription_id, RG, GALLERY, DEFINITION))
    assert anywhere["version"] == "1.1.0"  # no location: only the version-wide flag counts


def test_gallery_exact_prefix_and_excluded_by_name(session, image_id):
    resolver = Resolver(session, "eastus")
    spec = {"resource_group": RG, "gallery": GALLERY, "name": DEFINITION}
    assert resolver.resolve({"gallery_image": dict(spec, version="1.0.*")})["version"] == "1.0.10"
    exact = resolver.resolve({"gallery_image": dict(spec, version="1.0.11")})
    assert exact["version"] == "1.0.11" and exact["exclude_from_latest"] is True


def test_gallery_version_still_replicating_is_skipped(session, image_id, compute, fresh_sim):
    fresh_sim.admin.freeze_clock()  # simulated time moves only when the test says so
    fresh_sim.admin.settings(time_scale=1.0)  # the next version stays Creating for minutes
    compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, DEFINITION, "1.0.12", {
        "location": "eastus",
        "properties": {"publishingProfile": {"targetRegions": [{"name": "eastus"}]},
                       "storageProfile": {"source": {"id": image_id}}},
    })
    assert Resolver(session, "eastus").resolve(
        {"gallery_image": dict(resource_group=RG, gallery=GALLERY, name=DEFINITION)})["version"] == "1.0.10"


def test_gallery_bad_names(session, image_id):
    resolver = Resolver(session, "eastus")
    cases = [
        (dict(resource_group=RG, gallery="goldn", name=DEFINITION), "Gallery 'goldn'", GALLERY),
        (dict(resource_group=RG, gallery=GALLERY, name="ubuntu-2204"), "no image definition 'ubuntu-2204'", DEFINITION),
        (dict(resource_group=RG, gallery=GALLERY, name=DEFINITION, version="1.0.13"), "no version '1.0.13'", "1.0.11"),
        (dict(resource_group=RG, gallery=GALLERY, name=DEFINITION, version="2.*"), "no version matching '2.*'", ""),
        (dict(resource_group="rg-image", gallery=GALLERY, name=DEFINITION), "Resource group 'rg-image'", RG),
    ]
    for spec, fragment, suggestion in cases:
        with pytest.raises(AzureError) as err:
            resolver.resolve({"gallery_image": spec})
        assert fragment in str(err.value)
        assert suggestion in str(err.value)


def test_excluded_from_latest_rule():
    body = {"properties": {"publishingProfile": {"excludeFromLatest": False, "targetRegions": [
        {"name": "East US", "excludeFromLatest": True}, {"name": "westus2"}]}}}
    assert excluded_from_latest(body, "eastus") is True
    assert excluded_from_latest(body, "West US 2") is False
    assert excluded_from_latest(body) is False


def test_id_parsing():
    sub = "00000000-0000-4000-8000-000000000002"
    gid = "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.2.3" % sub
    assert parse_spec(gid)["kind"] == "gallery_image" and parse_spec(gid)["version"] == "1.2.3"
    assert parse_spec(gid)["subscription_id"] == sub
    mid = "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/images/img" % sub
    assert parse_spec({"managed_image": mid})["name"] == "img"
    with pytest.raises(AzureError, match="is not a managed image id"):
        parse_spec({"managed_image": {"id": gid}})
