"""Long-running operations of the Network RP (NRP).

NRP answers PUT with 200/201 + ``Azure-AsyncOperation`` and DELETE with 202 + ``Azure-AsyncOperation``
+ ``Location``, both under its own namespace:
``/subscriptions/{sub}/providers/Microsoft.Network/locations/{loc}/operations/{id}`` (status body) and
``.../operationResults/{id}`` (202 while running, then 200). azure-mgmt-network 33 uses ARM's default
final-state rules: PUT re-reads the resource URL, DELETE reads nothing more.
"""

from __future__ import annotations

from . import operations

KIND = "network"  # operations of this kind are polled through the routes below, never CRP's


def start(req, finisher, rid, duration, location):
    return req.sim.ops.start(req, finisher, args={"id": rid}, duration=duration, location=location, kind=KIND)


def headers(req, op, location=False):
    base = f"{req.base_url}/subscriptions/{op.subscription}/providers/Microsoft.Network/locations/{op.location}"
    found = {
        "Retry-After": "1",
        "x-ms-request-id": op.id,
        "Azure-AsyncOperation": f"{base}/operations/{op.id}?api-version={op.api_version}",
    }
    if location:
        found["Location"] = f"{base}/operationResults/{op.id}?api-version={op.api_version}"
    return found


def register(sim):
    base = "/subscriptions/{subscriptionId}/providers/Microsoft.Network/locations/{location}"
    # The monitors read the shared operation table; only the URL shape is NRP's own.
    sim.router.add("GET", base + "/operations/{operationId}", operations.crp_monitor)
    sim.router.add("GET", base + "/operationResults/{operationId}", operations.arm_operation_result)
