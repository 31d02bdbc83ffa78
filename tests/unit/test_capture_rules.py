"""image_capture's source parsing, definition checks and version choice (_capture.py, _gallery.py)."""

from __future__ import annotations

import sys

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import (
    _capture,
    _gallery,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
)

SUB = "00000000-0000-4000-8000-000000000001"
VM_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"


def source(kind="vm", os_type="Linux", os_state="Generalized", gen="V2", security="Standard"):
    return {"type": kind, "id": VM_ID, "uri": None, "os_type": os_type, "os_state": os_state,
            "hyper_v_generation": gen, "security_type": security}


def definition(os_type="Linux", os_state="Generalized", gen="V2", security="Standard"):
    return {"os_type": os_type, "os_state": os_state, "hyper_v_generation": gen, "security_type": security}


def test_parse_source_forms():
    assert _capture.parse_source(VM_ID, SUB)["type"] == "vm"
    assert _capture.parse_source({"type": "snapshot", "name": "s1", "resource_group": "rg"}, SUB)["id"].endswith(
        "/providers/Microsoft.Compute/snapshots/s1")
    assert _capture.parse_source("https://sa.blob.core.windows.net/vhds/os.vhd", SUB) == {
        "type": "vhd", "uri": "https://sa.blob.core.windows.net/vhds/os.vhd"}
    with pytest.raises(AzureError, match=r"^source"):
        _capture.parse_source(f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v", SUB)
    with pytest.raises(AzureError, match=r"^source"):
        _capture.parse_source("https://example.com/file.txt", SUB)


def test_urn_prefers_exact_version_and_parses_marketplace_ids():
    ref = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest",
           "exactVersion": "24.04.202411200"}
    assert _capture.urn_from_image_reference(ref) == "Canonical:ubuntu-24_04-lts:server:24.04.202411200"
    marketplace = {"id": f"/Subscriptions/{SUB}/Providers/Microsoft.Compute/Locations/eastus/Publishers/Canonical/"
                         "ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/Versions/24.04.202411200"}
    assert _capture.urn_from_image_reference(marketplace) == "Canonical:ubuntu-24_04-lts:server:24.04.202411200"


@pytest.mark.parametrize("existing, expected", [([], "1.0.0"), (["1.0.9", "1.0.10", "1.0.2"], "1.0.11"),
                                                (["2.0.0", "10.0.0", "9.9.9"], "10.0.1"), (["latest-ish"], "1.0.0")])
def test_next_version_is_numeric(existing, expected):
    assert _gallery.next_version(existing) == expected


def test_version_names_are_validated():
    _gallery.validate_version_name("1.2.3")
    for bad in ("1.2", "1.2.3.4", "v1.2.3", "1.2.x", "1.2.99999999999"):
        with pytest.raises(AzureError, match=r"^gallery.version"):
            _gallery.validate_version_name(bad)


def test_matching_definition_passes():
    _gallery.check_definition(definition(), source(), "definition")
    _gallery.check_definition(definition(security="TrustedLaunch"), source(security="TrustedLaunch"), "definition")


@pytest.mark.parametrize("defn, src, fragment", [
    (definition(gen="V1"), source(gen="V2"), "Hyper-V generation"),
    (definition(os_type="Windows"), source(), "OS type"),
    (definition(), source(os_state="Specialized"), "OS state"),
    (definition(), source(security="TrustedLaunch"), "security type"),
    (definition(security="TrustedLaunch"), source(), "security type"),
    (definition(security="TrustedLaunchSupported"), source(kind="vm"), "security type"),
])
def test_mismatches_are_refused(defn, src, fragment):
    with pytest.raises(AzureError) as caught:
        _gallery.check_definition(defn, src, "The definition")
    assert fragment in str(caught.value)
    assert caught.value.code == "DefinitionMismatch"


def test_supported_definitions_refuse_vms_and_gen1():
    _gallery.check_definition(definition(security="TrustedLaunchSupported"), source(kind="image"), "definition")
    with pytest.raises(AzureError, match="V2"):
        _gallery.check_definition(definition(gen="V1", security="TrustedLaunchSupported"), source(kind="vhd", gen="V1"),
                                  "definition")


def test_trusted_launch_managed_image_refused():
    facts = dict(source(security="TrustedLaunch"))
    with pytest.raises(AzureError) as caught:
        _capture.check_image_source(facts)
    assert "gallery" in str(caught.value) and caught.value.code == "TrustedLaunchNotSupported"
