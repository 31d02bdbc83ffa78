"""Long-running operations, as ARM and the SDK's ARMPolling see them.

An operation has a due time on the simulator's clock (``sim.clock``: real time plus what
``/_azsim/clock`` advanced). Nothing runs in the background: before each request the engine finishes
every operation that is due (``tick``), calling the provider's *finisher* by name. Finishers are
registered by name so that pending operations survive a ``--state`` save and restore.

Monitor URLs follow CRP's shapes (wire reference section 6.5):
- ``/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/operations/{id}`` (VMs, images)
- ``.../capsOperations/{id}`` (galleries), ``.../DiskOperations/{id}`` (disks)
- ``/subscriptions/{sub}/operationresults/{id}`` (resource-group delete, Location-only)
Each carries ``api-version`` because the SDK uses polling URLs verbatim.
"""

from __future__ import annotations

import datetime as dt
import uuid

from .errors import ArmError

MONITOR_SEGMENT = {"crp": "operations", "caps": "capsOperations", "disk": "DiskOperations"}


def iso(timestamp):
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat().replace("+00:00", "+00:00")


class Operation:
    def __init__(self, **fields):
        self.id = fields["id"]
        self.kind = fields["kind"]
        self.subscription = fields["subscription"]
        self.location = fields["location"]
        self.start = fields["start"]
        self.due = fields["due"]
        self.finisher = fields["finisher"]
        self.args = fields.get("args") or {}
        self.status = fields.get("status", "InProgress")
        self.error = fields.get("error")  # injected failure, applied at due time
        self.end = fields.get("end")
        self.api_version = fields.get("api_version", "2024-11-01")
        self.result = fields.get("result")  # body of the final Location GET (e.g. a run-command result)

    def to_dict(self):
        return dict(vars(self))

    @property
    def done(self):
        return self.status in ("Succeeded", "Failed", "Canceled")

    def monitor_body(self):
        body = {"name": self.id, "status": self.status, "startTime": iso(self.start)}
        if self.done:
            body["endTime"] = iso(self.end or self.due)
        if self.status == "Failed" and self.error:
            body["error"] = self.error
        return body


class OperationEngine:
    def __init__(self, sim):
        self.sim = sim
        self.ops: dict[str, Operation] = {}
        self.finishers = {}

    def register_finisher(self, name, func):
        """``func(sim, op)`` applies the operation's effect; ``op.status`` is Succeeded or Failed."""
        self.finishers[name] = func

    def start(self, req, finisher, args=None, duration=None, location=None, kind="crp"):
        """Start an operation. ``duration`` is a settings key ("vm.deallocate") or seconds."""
        seconds = self.sim.settings.duration(duration) if isinstance(duration, str) else float(duration or 0)
        now = self.sim.clock.time()
        op = Operation(
            id=str(uuid.uuid4()),
            kind=kind,
            subscription=req.params.get("subscriptionId") or self.sim.settings.default_subscription,
            location=(location or "eastus").replace(" ", "").lower(),
            start=now,
            due=now + seconds,
            finisher=finisher,
            args=args,
            api_version=req.api_version or "2024-11-01",
        )
        op.error = self.sim.faults.operation_failure(req)
        self.ops[op.id] = op
        if seconds <= 0:
            self._finish(op)
        return op

    def tick(self):
        now = self.sim.clock.time()
        for op in sorted(self.ops.values(), key=lambda item: item.due):
            if not op.done and op.due <= now:
                self._finish(op)

    def finish_all(self):
        for op in sorted(self.ops.values(), key=lambda item: item.due):
            if not op.done:
                self._finish(op)

    def _finish(self, op):
        op.status = "Failed" if op.error else "Succeeded"
        op.end = max(op.due, op.start)
        finisher = self.finishers.get(op.finisher)
        if finisher is not None:
            try:
                finisher(self.sim, op)
            except ArmError as err:  # a finisher may refuse at completion time
                op.status = "Failed"
                op.error = err.body()["error"]
            except Exception as err:  # a simulator bug fails this operation, not every later request
                op.status = "Failed"
                op.error = {"code": "InternalOperationError", "message": f"azsim internal error: {err!r}"}
        self.sim.store.touch()

    # -- URLs and headers ---------------------------------------------------------------------
    def monitor_path(self, op):
        if op.kind == "arm":
            return f"/subscriptions/{op.subscription}/operationresults/{op.id}"
        if op.kind == "network":  # NRP polls under its own namespace (core/monitors.py)
            return f"/subscriptions/{op.subscription}/providers/Microsoft.Network/locations/{op.location}/operations/{op.id}"
        segment = MONITOR_SEGMENT[op.kind]
        return f"/subscriptions/{op.subscription}/providers/Microsoft.Compute/locations/{op.location}/{segment}/{op.id}"

    def headers(self, req, op, location=False, location_url=None):
        """Polling headers for an initial 201/202. ``location`` adds a monitor Location (POST/DELETE)."""
        base = req.base_url
        path = self.monitor_path(op)
        headers = dict(req.sim.settings.poll_headers(), **{"x-ms-request-id": op.id})
        if op.kind == "arm":
            headers["Location"] = f"{base}{path}?api-version={op.api_version}"
            return headers
        headers["Azure-AsyncOperation"] = f"{base}{path}?api-version={op.api_version}"
        if location_url:
            headers["Location"] = location_url
        elif location and op.kind == "network":  # NRP's Location is operationResults, not ?monitor=true
            results = path.replace("/operations/", "/operationResults/")
            headers["Location"] = f"{base}{results}?api-version={op.api_version}"
        elif location:
            headers["Location"] = f"{base}{path}?monitor=true&api-version={op.api_version}"
        return headers

    def get(self, op_id):
        op = self.ops.get(op_id)
        if op is None:
            raise ArmError(404, "NotFound", f"The operation '{op_id}' was not found.")
        return op

    # -- persistence --------------------------------------------------------------------------
    def dump(self):
        return [op.to_dict() for op in self.ops.values()]

    def load(self, items):
        self.ops = {item["id"]: Operation(**item) for item in items}

    def clear(self):
        self.ops.clear()
