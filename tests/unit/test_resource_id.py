"""The one resource id parser (_resource_id), the float-version candidates (_versions) and what parse_spec keeps."""

from __future__ import annotations

import sys

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import _resource_id  # noqa: E402
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (  # noqa: E402
    AzureError,
    AzureSession,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._image_sources import parse_spec  # noqa: E402
from ansible_collections.goldenimage.azure.plugins.module_utils._versions import (  # noqa: E402
    float_candidates,
    float_prefixes,
)

SUB = "00000000-0000-4000-8000-000000000002"
VM = "/subscriptions/%s/resourceGroups/rg-a/providers/Microsoft.Compute/virtualMachines/vm1" % SUB
VERSION = "/subscriptions/%s/resourceGroups/rg-g/providers/Microsoft.Compute/galleries/gal/images/def/versions/1.2.3" % SUB


def test_parse_top_level_resource():
    parsed = _resource_id.parse(VM, "Microsoft.Compute/virtualMachines", parameter="vm")
    assert parsed["subscription"] == SUB
    assert parsed["resource_group"] == "rg-a"
    assert parsed["namespace"] == "Microsoft.Compute"
    assert parsed["type"] == "Microsoft.Compute/virtualMachines"
    assert (parsed["name"], parsed["children"], parsed["last_name"]) == ("vm1", [], "vm1")


def test_parse_child_resource_and_round_trip():
    parsed = _resource_id.parse(VERSION + "/")
    assert parsed["type"] == "Microsoft.Compute/galleries/images/versions"
    assert parsed["names"] == ["gal", "def", "1.2.3"]
    assert parsed["name"] == "gal" and parsed["children"] == ["def", "1.2.3"]
    assert _resource_id.format_id(SUB, "rg-g", parsed["type"], *parsed["names"]) == VERSION


def test_expected_type_is_case_insensitive_and_refuses_others():
    assert _resource_id.parse(VM.lower(), "Microsoft.Compute/virtualMachines")["name"] == "vm1"
    with pytest.raises(AzureError, match=r"^vm: .* is a Microsoft.Compute/galleries/images/versions id, expected"):
        _resource_id.parse(VERSION, "Microsoft.Compute/virtualMachines", parameter="vm")


@pytest.mark.parametrize("rid", [
    "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Compute/disks/d",
    "/subscriptions/00000000-0000-4000-8000-00000000000/resourceGroups/rg/providers/Microsoft.Compute/disks/d",
    "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/disks/d",
])
def test_subscription_segment_must_be_a_guid(rid):
    with pytest.raises(AzureError) as err:
        _resource_id.parse(rid, parameter="id")
    assert err.value.code == "InvalidSubscriptionId"
    assert str(err.value).startswith("id: ") and "is not a subscription id (a GUID like" in str(err.value)


@pytest.mark.parametrize("rid", [
    None, "", "disk1", "/subscriptions/%s" % SUB, "/subscriptions/%s/resourceGroups/rg" % SUB,
    "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/disks" % SUB,
    "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/disks/d/snapshots" % SUB,
    "/subscriptions/%s/resourceGroups//providers/Microsoft.Compute/disks/d" % SUB,
    "/subscriptions/%s/resourcegroups/rg/foo/Microsoft.Compute/disks/d" % SUB,
])
def test_malformed_ids_name_the_parameter(rid):
    with pytest.raises(AzureError, match=r"^disk: .* is not an Azure resource id"):
        _resource_id.parse(rid, parameter="disk")


def test_check_subscription():
    assert _resource_id.check_subscription(" %s " % SUB.upper()) == SUB.upper()
    with pytest.raises(AzureError, match=r"^subscription_id: 'nope' is not a subscription id \(a GUID like "
                                         r"00000000-0000-0000-0000-000000000000\)$"):
        _resource_id.check_subscription("nope")


def test_session_refuses_a_malformed_subscription_without_a_request():
    with pytest.raises(AzureError, match=r"^subscription_id: 'nope' is not a subscription id"):
        AzureSession({"subscription_id": "nope", "auth_source": "msi"}, environ={"HOME": "/nonexistent"})
    with pytest.raises(AzureError, match=r"^subscription_id \(from AZURE_SUBSCRIPTION_ID\): 'x1'"):
        AzureSession({"auth_source": "msi"}, environ={"HOME": "/nonexistent", "AZURE_SUBSCRIPTION_ID": "x1"})


def test_for_subscription_shares_the_credential_and_checks_the_guid():
    session = AzureSession({"subscription_id": "00000000-0000-4000-8000-000000000001", "auth_source": "msi"},
                           environ={"HOME": "/nonexistent"})
    other = session.for_subscription(SUB)
    assert other.subscription_id == SUB and session.subscription_id != SUB
    assert session.for_subscription(SUB.upper()) is other  # cached per subscription
    assert session.for_subscription("00000000-0000-4000-8000-000000000001") is session
    assert other.credential is session.credential
    assert other.settings.client_id == session.settings.client_id
    with pytest.raises(AzureError, match=r"^vm: 'bad' is not a subscription id"):
        session.for_subscription("bad", parameter="vm")


@pytest.mark.parametrize("number, versions, expected", [
    ("8.1", ["8.1.2024", "8.10.2025", "8.100.1", "8.15.1", "8.9.1", "81.0.1", "9.1.0", "8.1"],
     ["8.100.1", "8.10.2025", "8.1.2024", "8.1"]),
    ("12.2", ["12.20.1", "12.2.5", "12.21.0", "1.22.0"], ["12.20.1", "12.2.5"]),
    ("1.0", ["1.0.0", "1.00.1", "1.01.0", "10.0.0"], ["1.00.1", "1.0.0"]),
    ("latest", ["8.1.0"], []),
    ("8.1.2", ["8.1.2"], []),
])
def test_float_candidates(number, versions, expected):
    assert float_candidates(number, versions) == expected


def test_float_prefixes():
    assert float_prefixes("8.1") == ["8.1", "8.10"]
    assert float_prefixes("22.04.*") == ["22.04.*"]


def test_parse_spec_keeps_a_number_version_to_explain_it():
    parsed = parse_spec({"publisher": "RedHat", "offer": "RHEL", "sku": "8-lvm-gen2", "version": 8.10})
    assert parsed["version_number"] == 8.1 and parsed["version"] == "8.1"
    parsed = parse_spec({"gallery_image": {"resource_group": "rg", "gallery": "g", "name": "i", "version": 1.10}})
    assert parsed["version_number"] == 1.1
    assert "version_number" not in parse_spec({"publisher": "a", "offer": "b", "sku": "c", "version": "8.10"})
    assert "version_number" not in parse_spec({"publisher": "a", "offer": "b", "sku": "c", "version": 8})


@pytest.mark.parametrize("spec", [
    {"urn": "a:b:c:latest", "publisher": "a"},
    {"urn": "a:b:c", "version": "1.0.0"},
    {"urn": "a:b:c:latest", "offer": "b", "sku": "c"},
])
def test_urn_with_parts_is_an_error(spec):
    with pytest.raises(AzureError, match="urn together with") as err:
        parse_spec(spec)
    assert err.value.code == "ConflictingImageParts"
