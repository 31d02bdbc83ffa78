"""Operation monitors that the SDK polls (wire reference section 6), for every provider.

- Azure-AsyncOperation URL: 200 with ``{"status": ...}`` always.
- Location URL (``monitor=true``, NRP's ``operationResults``, or ``operationresults`` for resource groups):
  202 while running, 200 (empty) when done; a failed operation answers with its CloudError.

CRP, GalleryRP (``capsOperations``) and the disk RP (``DiskOperations``) poll under Microsoft.Compute; NRP
polls under its own namespace (``.../providers/Microsoft.Network/locations/{loc}/operations/{id}`` and
``.../operationResults/{id}``; azure-mgmt-network uses ARM's default final-state rules: PUT re-reads the
resource URL, DELETE reads nothing more). :meth:`core.lro.OperationEngine.headers` writes these URLs from
the operation's ``kind``.
"""

from __future__ import annotations

from .errors import ArmError
from .request import Reply


def _location_reply(req, op):
    if not op.done:
        return Reply(202, None, req.sim.settings.poll_headers())
    if op.status == "Failed":
        error = op.error or {"code": "OperationFailed", "message": "The operation failed."}
        raise ArmError(400, error.get("code", "OperationFailed"), error.get("message", "The operation failed."))
    return Reply(200, op.result)


def crp_monitor(req):
    op = req.sim.ops.get(req.params["operationId"])
    if req.query.get("monitor", "").lower() == "true":
        return _location_reply(req, op)
    headers = {} if op.done else req.sim.settings.poll_headers()
    return Reply(200, op.monitor_body(), headers)


def arm_operation_result(req):
    return _location_reply(req, req.sim.ops.get(req.params["operationId"]))


def register(sim):
    base = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}"
    for segment in ("operations", "capsOperations", "DiskOperations"):
        sim.router.add("GET", f"{base}/{segment}/{{operationId}}", crp_monitor)
    sim.router.add("GET", "/subscriptions/{subscriptionId}/operationresults/{operationId}", arm_operation_result)


def register_network(sim):
    """NRP's monitors: the same operation table, only the URL shape is NRP's own."""
    base = "/subscriptions/{subscriptionId}/providers/Microsoft.Network/locations/{location}"
    sim.router.add("GET", base + "/operations/{operationId}", crp_monitor)
    sim.router.add("GET", base + "/operationResults/{operationId}", arm_operation_result)
