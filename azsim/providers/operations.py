"""Operation monitors that the SDK polls (wire reference section 6).

- Azure-AsyncOperation URL: 200 with ``{"status": ...}`` always.
- Location URL (``monitor=true``, or ``operationresults`` for resource groups): 202 while running,
  200 (empty) when done; a failed operation answers with its CloudError.
"""

from __future__ import annotations

from ..core.errors import ArmError
from ..core.request import Reply


def _location_reply(op):
    if not op.done:
        return Reply(202, None, {"Retry-After": "1"})
    if op.status == "Failed":
        error = op.error or {"code": "OperationFailed", "message": "The operation failed."}
        raise ArmError(400, error.get("code", "OperationFailed"), error.get("message", "The operation failed."))
    return Reply(200, op.result)


def crp_monitor(req):
    op = req.sim.ops.get(req.params["operationId"])
    if req.query.get("monitor", "").lower() == "true":
        return _location_reply(op)
    headers = {} if op.done else {"Retry-After": "1"}
    return Reply(200, op.monitor_body(), headers)


def arm_operation_result(req):
    return _location_reply(req.sim.ops.get(req.params["operationId"]))


def register(sim):
    base = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}"
    for segment in ("operations", "capsOperations", "DiskOperations"):
        sim.router.add("GET", f"{base}/{segment}/{{operationId}}", crp_monitor)
    sim.router.add("GET", "/subscriptions/{subscriptionId}/operationresults/{operationId}", arm_operation_result)
