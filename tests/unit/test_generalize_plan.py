"""vm_generalize's planning (plugins/module_utils/_generalize.py): which steps a VM needs, when it refuses."""

from __future__ import annotations

import sys

import pytest

from tests.harness import ensure_collection_path

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import (
    _generalize,
    _vmstate,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
)


def vm(power="running", generalized=False, tags=None):
    codes = ["ProvisioningState/succeeded", "PowerState/%s" % power] + (["OSState/generalized"] if generalized else [])
    return {"name": "vm1", "tags": tags or {}, "properties": {"instanceView": {"statuses": [{"code": c} for c in codes]}}}


TAG = {"goldenimage-deprovisioned": "2026-11-26T00:00:00Z"}


@pytest.mark.parametrize("power, generalized, actions", [
    ("running", False, ["deallocate", "generalize"]),
    ("stopped", False, ["deallocate", "generalize"]),   # never powerOff-only: a stopped VM is still billed
    ("deallocated", False, ["generalize"]),
    ("stopped", True, ["deallocate"]),
    ("deallocated", True, []),
])
def test_plan(power, generalized, actions):
    assert _generalize.plan(vm(power, generalized, TAG)) == (actions, None)


def test_refuses_without_deprovision_tag_unless_forced():
    _actions, refusal = _generalize.plan(vm())
    assert refusal and "cannot be undone" in refusal and "deprovision" in refusal
    assert _generalize.plan(vm(), force=True) == (["deallocate", "generalize"], None)


def test_generalized_vm_needs_no_tag():
    assert _generalize.plan(vm("deallocated", True)) == ([], None)


def test_states_from_instance_view():
    assert _vmstate.power_state(vm("deallocating")) == "deallocating"
    assert _vmstate.os_state(vm(generalized=True)) == "generalized"
    assert _vmstate.power_state({"properties": {}}) == "unknown"


def test_resolve_vm_by_id():
    sub = "00000000-0000-4000-8000-000000000002"
    rid = "/subscriptions/%s/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm9" % sub
    assert _generalize.resolve_vm(vm_id=rid) == (sub, "rg1", "vm9")  # acted on in the id's subscription
    assert _generalize.resolve_vm("vm9", "rg1") == (None, "rg1", "vm9")  # the configured one
    with pytest.raises(AzureError, match=r"^id: "):
        _generalize.resolve_vm(vm_id="/subscriptions/%s/resourceGroups/rg1/providers/Microsoft.Compute/disks/d" % sub)
    with pytest.raises(AzureError, match=r"^id: .*not a subscription id"):
        _generalize.resolve_vm(vm_id=rid.replace(sub, "s"))


def test_utc_now_is_iso8601_z():
    stamp = _generalize.utc_now()
    assert stamp.endswith("Z") and "T" in stamp and len(stamp) == 20
