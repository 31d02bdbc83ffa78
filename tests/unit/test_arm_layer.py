"""The one ARM layer: names, locations, tags, URNs, power states (_arm_names), bodies (_arm_wire), AzureError's
typed partial results (_azure_errors), and the image modules' import order (no cycle)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import (  # noqa: E402
    _arm_names,
    _arm_wire,
    _capture,
    _gallery,
    _marketplace,
    _vmstate,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError  # noqa: E402

PREFIX = "ansible_collections.goldenimage.azure.plugins.module_utils."


@pytest.mark.parametrize("given", ["East US", "eastus", "EASTUS", " East \tUS "])
def test_one_location_normalisation(given):
    assert _arm_names.normalize_location(given) == "eastus"
    assert _marketplace.normalize_location is _arm_names.normalize_location


def test_location_normalisation_keeps_what_arm_would_refuse():
    assert _arm_names.normalize_location("east_us") == "east_us"
    assert _arm_names.normalize_location(None) == ""


def test_urn_parser_is_shared_and_defaults_to_latest():
    assert _marketplace.parse_urn is _arm_names.parse_urn
    assert _arm_names.parse_urn(" Canonical : ubuntu : 22_04-lts ") == {
        "publisher": "Canonical", "offer": "ubuntu", "sku": "22_04-lts", "version": "latest"}
    for bad in ("a:b", "a::c:d", "a:b:c:d:e", 7):
        with pytest.raises(AzureError, match="URN"):
            _arm_names.parse_urn(bad)
    assert _arm_names.format_urn("p", "o", "s", "1.0.0") == "p:o:s:1.0.0"


def test_tags_and_power_states_are_written_once():
    assert _capture.BUILD_ID_TAG == _arm_names.TAG_BUILD_ID == "goldenimage-build-id"
    assert _vmstate.POWER_STATES is _arm_names.POWER_STATES
    assert "deallocated" in _arm_names.POWER_STATES and "unknown" in _arm_names.POWER_STATES


def test_names_are_checked_in_one_place():
    assert _capture.check_names is _arm_names.check_names
    assert _gallery.validate_version_name is _arm_names.validate_version_name
    _arm_names.check_names({"managed_image": {"name": "img_1", "resource_group": "rg"},
                            "gallery": {"name": "g.1", "image": "def-1", "resource_group": "rg", "version": "1.0.0"}})
    with pytest.raises(AzureError, match="gallery.name: 'my-gallery'") as err:
        _arm_names.check_names({"gallery": {"name": "my-gallery", "image": "d", "resource_group": "rg"}})
    assert err.value.code == "InvalidName"
    with pytest.raises(AzureError, match="32-bit"):
        _arm_names.check_names({"gallery": {"name": "g", "image": "d", "resource_group": "rg",
                                            "version": "1.0.4294967296"}})


def test_power_and_os_state_from_one_reader():
    vm = {"properties": {"instanceView": {"statuses": [{"code": "ProvisioningState/succeeded"},
                                                       {"code": "OSState/generalized"},
                                                       {"code": "PowerState/deallocated"}]}}}
    assert _arm_wire.power_state(vm) == "deallocated"
    assert _arm_wire.os_state(vm) == "generalized"
    assert _arm_wire.power_state({}) == "unknown" and _arm_wire.os_state({}) == "specialized"
    from ansible_collections.goldenimage.azure.plugins.module_utils._inventory_vms import vm_status
    assert vm_status(vm) == ("deallocated", True)


def test_replication_status_read_once():
    version = {"properties": {"replicationStatus": {"aggregatedState": "InProgress", "summary": [
        {"region": "East US", "state": "Completed", "progress": 100},
        {"region": "westeurope", "state": "Replicating", "progress": 40}]}}}
    assert _gallery.replication is _arm_wire.replication
    assert _arm_wire.replication(version)["regions"][1] == {
        "region": "westeurope", "state": "Replicating", "progress": 40, "details": None}
    assert _arm_wire.replication_state(version, "eastus") == "Completed"
    assert _arm_wire.replication_state(version, "West Europe") == "Replicating"
    assert _arm_wire.replication_state(version, "northeurope") is None


def test_wire_and_snake():
    class Model:
        def as_dict(self):
            return {"hyperVGeneration": "V2", "tags": {"KeepCase": "x"}}
    assert _arm_wire.wire(Model()) == {"hyperVGeneration": "V2", "tags": {"KeepCase": "x"}}
    assert _arm_wire.to_snake(Model()) == {"hyper_v_generation": "V2", "tags": {"KeepCase": "x"}}
    assert _vmstate.wire is _arm_wire.wire and _arm_wire.wire(None) is None


def test_azure_error_typed_partial_result():
    plain = AzureError("boom", status_code=500, code="InternalError", operation="deallocate VM 'v'")
    assert (plain.partial, plain.cleanup, plain.replication) == (None, None, None)
    assert plain.failure_result() == {"changed": False, "msg": "deallocate VM 'v': boom", "status_code": 500,
                                      "error_code": "InternalError", "operation": "deallocate VM 'v'"}
    partial = AzureError("boom", code="X", cleanup="deleted", partial={"changed": True, "cleanup": "deleted"})
    result = partial.failure_result(extra=1)
    assert result["changed"] is True and result["cleanup"] == "deleted" and result["extra"] == 1
    assert result["error_code"] == "X"


def test_no_import_cycle_between_image_sources_and_custom_images():
    # importing _custom_images alone must not need _image_sources (it used to import its id regex from there)
    code = ("import sys; sys.path.insert(0, %r); import %s_custom_images; "
            "print(%r in sys.modules)" % (ensure_collection_path(), PREFIX, PREFIX + "_image_sources"))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"
