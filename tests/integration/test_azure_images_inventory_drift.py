"""The pure parts of the azure_images inventory: dates in Marketplace versions, what a VM body says it runs,
the drift verdict, tag filters. No simulator needed; the plugin runs are in test_azure_images_inventory.py."""

from __future__ import annotations

import datetime
import sys

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils._image_drift import (  # noqa: E402
    compare,
    group_label,
    source_key,
    version_date,
    vm_image_source,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._inventory_vms import (  # noqa: E402
    keep_vm,
    tag_matches,
    vm_status,
)

SUB = "00000000-0000-4000-8000-000000000001"
GALLERY = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1/images/web"


@pytest.mark.parametrize("version, expected", [
    ("24.04.202411030", (2024, 11, 3)),       # Ubuntu: YYYYMMDD + serial
    ("22.04.202404090", (2024, 4, 9)),
    ("0.20241201.1948", (2024, 12, 1)),       # Debian: YYYYMMDD, then a build number
    ("8.10.2024070513", (2024, 7, 5)),        # RHEL: YYYYMMDDHH
    ("9.4.2026092611", (2026, 9, 26)),
    ("20348.2966.241205", (2024, 12, 5)),     # Windows Server: YYMMDD last
    ("17763.6414.241004", (2024, 10, 4)),
    ("1.1.12", None),                         # no date
    ("1.0.0", None),
    ("2024.13.40", None),
    ("1.0.202413990", None),                  # not a valid date
    ("latest", None),
    (None, None),
])
def test_version_date_heuristic(version, expected):
    assert version_date(version) == (datetime.date(*expected) if expected else None)


def vm(reference, os_disk=None):
    return {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
            "location": "eastus",
            "properties": {"storageProfile": {"imageReference": reference, "osDisk": os_disk or {}}}}


def test_marketplace_source_with_exact_version():
    source = vm_image_source(vm({"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server",
                                 "version": "latest", "exactVersion": "24.04.202410170"}))
    assert source["kind"] == "marketplace"
    assert source["urn"] == "Canonical:ubuntu-24_04-lts:server:24.04.202410170"
    assert (source["requested_version"], source["version"]) == ("latest", "24.04.202410170")
    assert source_key(source, "East US") == ("marketplace", "eastus", "canonical", "ubuntu-24_04-lts", "server")
    assert group_label(source) == "Canonical_ubuntu-24_04-lts_server"


def test_marketplace_version_id_source():
    rid = (f"/Subscriptions/{SUB}/Providers/Microsoft.Compute/Locations/eastus/Publishers/Debian/ArtifactTypes/"
           "VMImage/Offers/debian-12/Skus/12-gen2/Versions/0.20241111.1927")
    source = vm_image_source(vm({"id": rid}))
    assert (source["kind"], source["version"], source["sku"]) == ("marketplace", "0.20241111.1927", "12-gen2")


def test_gallery_sources():
    latest = vm_image_source(vm({"id": GALLERY, "exactVersion": "1.1.0"}))
    assert (latest["kind"], latest["requested_version"], latest["version"]) == ("gallery_image", "latest", "1.1.0")
    assert latest["definition_id"] == GALLERY
    pinned = vm_image_source(vm({"id": GALLERY + "/versions/1.0.0", "exactVersion": "1.0.0"}))
    assert (pinned["requested_version"], pinned["version"], pinned["definition_id"]) == ("1.0.0", "1.0.0", GALLERY)
    assert source_key(latest, "eastus") == source_key(pinned, "westus2")  # one versions list per definition


def test_unversioned_sources():
    managed = vm_image_source(vm({"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/"
                                        "images/img-a"}))
    assert (managed["kind"], source_key(managed, "eastus")) == ("managed_image", None)
    disk = vm_image_source(vm({}, {"createOption": "Attach", "managedDisk": {"id": "/subscriptions/x/disk"}}))
    assert disk["kind"] == "specialized_disk"
    assert compare(managed, None)["image_status"] == "unversioned"
    assert compare(disk, None)["image_status"] == "unversioned"


def found(versions, newest, dates=None):
    return {"versions": versions, "dates": dates or {}, "newest": {"version": newest, "urn": None, "id": None,
                                                                   "published_date": None}}


def test_compare_counts_only_versions_up_to_the_newest():
    source = {"kind": "marketplace", "version": "8.9.2024022012"}
    versions = ["8.8.2023121916", "8.9.2024022012", "8.10.2024070513", "8.10.2025010210", "8.11.2099010100"]
    # the highest one was stepped over (Deprecated): it is not "behind"
    result = compare(source, found(versions, "8.10.2025010210",
                                   {name: version_date(name) for name in versions}))
    assert (result["image_status"], result["image_outdated"], result["versions_behind"]) == ("outdated", True, 2)
    assert result["days_older"] == (datetime.date(2025, 1, 2) - datetime.date(2024, 2, 20)).days


def test_compare_current_and_unknown():
    source = {"kind": "gallery_image", "version": "1.1.0"}
    assert compare(source, found(["1.0.0", "1.1.0"], "1.1.0"))["image_status"] == "current"
    assert compare(source, None)["image_status"] == "unknown"
    assert compare(dict(source, version=None), found(["1.1.0"], "1.1.0"))["image_status"] == "unknown"


def test_tags_power_and_location_filters():
    body = {"location": "eastus", "tags": {"Environment": "prod"},
            "properties": {"instanceView": {"statuses": [{"code": "ProvisioningState/succeeded"},
                                                         {"code": "OSState/generalized"},
                                                         {"code": "PowerState/deallocated"}]}}}
    assert vm_status(body) == ("deallocated", True)
    assert tag_matches(body["tags"], "environment", "prod")
    assert tag_matches(body["tags"], "ENVIRONMENT", None)
    assert not tag_matches(body["tags"], "environment", "Prod")  # values compare exactly
    assert tag_matches(body["tags"], "environment", ["staging", "prod"])
    assert keep_vm(body, locations=["East US"], tags={"environment": None}, power_states=["deallocated"])
    assert not keep_vm(body, power_states=["running"])
    assert not keep_vm(body, exclude_tags={"environment": ["prod"]})
    assert not keep_vm(body, locations=["westus2"])
    assert vm_status({"properties": {}}) == ("unknown", False)
