"""The bookkeeping every VM operation shares: one operation at a time, transitional states while it runs,
``Failed`` when it fails, and the stored body kept in step with the instance view."""

from __future__ import annotations

import datetime as dt

from ..core.errors import ArmError, not_found
from ..core.store import private, provider_id, public
from . import vm_instance_view

VM_TYPE = "Microsoft.Compute/virtualMachines"


def now_iso():
    return dt.datetime.now(dt.timezone.utc).isoformat()


def vm_id(req):
    return provider_id(req.subscription, req.params["resourceGroupName"], "Microsoft.Compute", "virtualMachines",
                       req.params["vmName"])


def get_or_404(req):
    vm = req.sim.store.get(vm_id(req))
    if vm is None:
        # ARM checks the group first: a VM in a missing group is 404 ResourceGroupNotFound
        from .resources import get_group_or_raise

        get_group_or_raise(req.sim, req.subscription, req.params["resourceGroupName"])
        raise not_found(VM_TYPE, req.params["vmName"], req.params["resourceGroupName"])
    return vm


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
