"""The bookkeeping every VM operation shares: one operation at a time, transitional states while it runs,
``Failed`` when it fails, and the stored body kept in step with the instance view."""

from __future__ import annotations

import datetime as dt

from ...core.errors import ArmError
from ...core.resource import GroupResource
from ...core.store import private, public
from . import instance_view as vm_instance_view

VM_TYPE = "Microsoft.Compute/virtualMachines"


def now_iso():
    return dt.datetime.now(dt.timezone.utc).isoformat()


VMS = GroupResource(VM_TYPE, "vmName")  # CRP's monitors; reads check the group first (404 ResourceGroupNotFound)


def vm_id(req):
    return VMS.id(req)


def get_or_404(req):
    return VMS.or_404(req, VMS.existing(req))


def present(vm, expand=False):
    body = public(vm)
    if expand:
        body["properties"]["instanceView"] = vm_instance_view.instance_view(vm)
    return body


def refresh(vm):
    vm["properties"]["provisioningState"] = vm_instance_view.provisioning_state(vm)


def busy(sim, vm):
    record = private(vm)
    if not record.get("action"):
        return False
    op = sim.ops.ops.get(record.get("op") or "")
    return op is None or not op.done


def ensure_idle(sim, vm, operation):
    """CRP refuses a second operation while one runs (our modules retry this 409)."""
    if busy(sim, vm):
        raise ArmError(409, "OperationNotAllowed",
                       f"Operation '{operation}' is not allowed on VM '{vm['name']}' since another operation is in "
                       "progress on this resource. Please retry after the ongoing operation completes.")


def begin(sim, vm, action):
    """Mark ``action`` as running; the caller builds its reply body after this, then calls ``launch``."""
    record = private(vm)
    record["action"] = action
    record.pop("op", None)
    refresh(vm)
    sim.store.touch()


def launch(req, vm, finisher, duration, args=None):
    """Start the operation (it may finish at once when time_scale is 0)."""
    op = req.sim.ops.start(req, finisher, args=dict(args or {}, id=vm["id"]), duration=duration,
                           location=vm["location"], kind="crp")
    if not op.done:
        private(vm)["op"] = op.id
    return op


def end(sim, vm, op, error=None):
    """The action is over: clear the transitional state; record a failure (op's or ``error``)."""
    record = private(vm)
    record.pop("action", None)
    record.pop("op", None)
    failure = error or (op.error if op.status != "Succeeded" else None)
    if failure:
        record["failed"] = failure
    else:
        record.pop("failed", None)
    record["status_time"] = now_iso()
    refresh(vm)
    sim.store.touch()
    return failure


def load_for_finisher(sim, op):
    return sim.store.get(op.args["id"])


def vm_state(sim, vm_body):
    """What other providers may know of a VM (docs/architecture.md): its power state and generalization."""
    return {"power": vm_instance_view.power_state(vm_body), "generalized": bool(private(vm_body).get("generalized"))}
