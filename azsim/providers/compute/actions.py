"""VM actions (wire reference 3.3, 3.4): deallocate, powerOff, start, restart (202 + Azure-AsyncOperation +
Location), generalize (synchronous 200), runCommand (202; the result comes from the final Location GET).

Power transitions: running -> deallocating -> deallocated (disks Attached -> Reserved), running -> stopping
-> stopped (disks stay Attached), stopped/deallocated -> starting -> running (disks Attached).
"""

from __future__ import annotations

from ...core.errors import missing_property, operation_not_allowed
from ...core.request import Reply
from ...core.store import private
from ..disks import models as compute_disk
from . import models as life
from . import unmanaged
from .storage import managed_disk_ids

# action -> (finisher/duration key, CRP's operation name in messages, power state at the end)
ACTIONS = {
    "deallocate": ("vm.deallocate", "Deallocate VM", "deallocated"),
    "power_off": ("vm.power_off", "Power Off VM", "stopped"),
    "start": ("vm.start", "Start VM", "running"),
    "restart": ("vm.restart", "Restart VM", "running"),
}


def _not_allowed(vm, operation, reason):
    return operation_not_allowed(
        f"Operation '{operation}' is not allowed on VM '{vm['name']}' since the VM is {reason}.")


def _power_action(action):
    duration, label, _target = ACTIONS[action]

    def handler(req):
        vm = life.get_or_404(req)
        record = private(vm)
        life.ensure_idle(req.sim, vm, label)
        if action in ("start", "restart") and record.get("generalized"):
            raise _not_allowed(vm, label, "generalized")
        if action in ("start", "restart"):
            unmanaged.check_start(req.sim, vm, label)
        if action == "restart" and record.get("power") != "running":
            raise _not_allowed(vm, label, record.get("power", "deallocated"))
        if action == "start" and record.get("power") == "deallocated":
            compute_disk.set_attachment_state(req.sim, managed_disk_ids(vm), "Attached")
        life.begin(req.sim, vm, action)
        op = life.launch(req, vm, duration, duration)
        return Reply(202, None, req.sim.ops.headers(req, op, location=True))

    return handler


def _power_finisher(action):
    _duration, _label, target = ACTIONS[action]

    def finish(sim, op):
        vm = life.load_for_finisher(sim, op)
        if vm is None:
            return
        if op.status == "Succeeded":
            private(vm)["power"] = target
            if action == "deallocate":
                compute_disk.set_attachment_state(sim, managed_disk_ids(vm), "Reserved")
        life.end(sim, vm, op)

    return finish


def generalize(req):
    """Synchronous: 200 with no body; the VM must be stopped or deallocated."""
    vm = life.get_or_404(req)
    life.ensure_idle(req.sim, vm, "generalize")
    record = private(vm)
    if record.get("power", "running") == "running":
        raise _not_allowed(vm, "generalize", "running")
    record["generalized"] = True
    record["status_time"] = life.now_iso()
    req.sim.store.touch()
    return Reply(200, None)


def run_command(req):
    vm = life.get_or_404(req)
    body = req.json()
    if not body.get("commandId"):
        raise missing_property("commandId")
    life.ensure_idle(req.sim, vm, "RunCommand")
    if private(vm).get("power") != "running" or private(vm).get("generalized"):
        raise operation_not_allowed("The operation requires the VM to be running (or set to run).")
    life.begin(req.sim, vm, "run_command")
    op = life.launch(req, vm, "vm.run_command", "vm.run_command",
                     args={"commandId": body["commandId"], "script": body.get("script") or [],
                           "parameters": body.get("parameters") or []})
    return Reply(202, None, req.sim.ops.headers(req, op, location=True))


def finish_run_command(sim, op):
    vm = life.load_for_finisher(sim, op)
    if vm is None:
        return
    if op.status == "Succeeded":
        stdout, stderr = _run_in_guest(sim, vm, op.args)
        op.result = _run_command_result(vm, stdout, stderr)
    # A run command does not change the VM's provisioning state, failed or not.
    record = private(vm)
    record.pop("action", None)
    record.pop("op", None)
    life.refresh(vm)
    sim.store.touch()


def _run_in_guest(sim, vm, args):
    """Output of the script: from the guest when a guest extension offers ``run_command``, else empty."""
    guests = sim.extensions.get("guests")
    runner = getattr(guests, "run_command", None)
    if runner is None:
        return "", ""
    try:
        return runner(sim, life.present(vm), args["commandId"], args["script"], args["parameters"])
    except Exception as err:  # noqa: BLE001 - a broken guest is reported as the script's stderr
        return "", str(err)


def _run_command_result(vm, stdout, stderr):
    """RunCommandResult as CRP reports it: one combined status on Linux, StdOut/StdErr components on Windows."""
    os_type = vm["properties"]["storageProfile"]["osDisk"].get("osType", "Linux")
    if os_type.lower() == "windows":
        return {"value": [
            {"code": "ComponentStatus/StdOut/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
             "message": stdout},
            {"code": "ComponentStatus/StdErr/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
             "message": stderr},
        ]}
    return {"value": [{"code": "ProvisioningState/succeeded", "level": "Info",
                       "displayStatus": "Provisioning succeeded",
                       "message": f"Enable succeeded: \n[stdout]\n{stdout}\n[stderr]\n{stderr}\n"}]}


def register(sim):
    base = ("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute"
            "/virtualMachines/{vmName}")
    for action, segment in (("deallocate", "deallocate"), ("power_off", "powerOff"), ("start", "start"),
                            ("restart", "restart")):
        sim.router.add("POST", f"{base}/{segment}", _power_action(action))
        sim.ops.register_finisher(ACTIONS[action][0], _power_finisher(action))
    sim.router.add("POST", f"{base}/generalize", generalize)
    sim.router.add("POST", f"{base}/runCommand", run_command)
    sim.ops.register_finisher("vm.run_command", finish_run_command)
    unmanaged.register(sim)  # convertToManagedDisks and the /_azsim/unmanaged-vms seed

