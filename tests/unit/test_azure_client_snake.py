"""to_snake() on what the SDKs really return: SDK 39 hybrid models, msrest-style models, plain wire dicts."""

from __future__ import annotations

import sys

from hypothesis import given
from hypothesis import strategies as st

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import to_snake  # noqa: E402


def test_compute_model_nested_wire_names_become_snake_case():
    from azure.mgmt.compute import models

    image = models.Image(location="eastus", tags={"BuildId": "b-1", "camelKey": "v"},
                         properties=models.ImageProperties(
                             hyper_v_generation="V2",
                             storage_profile=models.ImageStorageProfile(os_disk=models.ImageOSDisk(
                                 os_type="Linux", os_state="Generalized"))))

    assert to_snake(image) == {
        "location": "eastus",
        "tags": {"BuildId": "b-1", "camelKey": "v"},
        "properties": {"hyper_v_generation": "V2",
                       "storage_profile": {"os_disk": {"os_type": "Linux", "os_state": "Generalized"}}},
    }


def test_resource_group_from_the_simulator(fresh_sim, resources):
    group = resources.resource_groups.create_or_update("rg-snake", {"location": "eastus", "tags": {"OwnerTeam": "x"}})

    data = to_snake(group)

    assert data["tags"] == {"OwnerTeam": "x"}
    assert data["properties"] == {"provisioning_state": "Succeeded"}


def test_network_model():
    from azure.mgmt.network import models

    subnet = models.Subnet(name="default", address_prefix="10.0.0.0/24")

    assert to_snake(subnet) == {"name": "default", "properties": {"address_prefix": "10.0.0.0/24"}}


def test_snake_case_keys_pass_through():
    assert to_snake({"os_disk": {"size_gb": 30}}) == {"os_disk": {"size_gb": 30}}


def test_tags_of_listed_resources_are_kept():
    page = {"value": [{"name": "rg", "tags": {"CostCenter": "42"}}], "nextLink": None}

    assert to_snake(page) == {"value": [{"name": "rg", "tags": {"CostCenter": "42"}}], "next_link": None}


def test_lists_none_and_wire_dicts():
    assert to_snake(None) is None
    assert to_snake([{"osDiskImage": {"sizeInGb": 30}}]) == [{"os_disk_image": {"size_in_gb": 30}}]
    assert to_snake({"identity": {"userAssignedIdentities": {"/subscriptions/s/x/MyId": {"principalId": "p"}}}}) == {
        "identity": {"user_assigned_identities": {"/subscriptions/s/x/MyId": {"principalId": "p"}}}}


@given(st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=20), max_size=8))
def test_tags_are_never_renamed(tags):
    assert to_snake({"tags": tags, "properties": {"provisioningState": "Succeeded", "tags": tags}}) == {
        "tags": tags, "properties": {"provisioning_state": "Succeeded", "tags": tags}}
