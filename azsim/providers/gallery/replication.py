"""Replication of an image version to its target regions, as ``$expand=ReplicationStatus`` reports it.

Regions replicate in parallel during the version's create (or update) operation. Each region gets a
deterministic pace between 75% and 100% of the operation's duration, so regions finish at slightly
different times and the last one together with the operation. Under a ``fail_operation`` fault one
region (the last target region) never gets there: it stalls near 60% and turns ``Failed`` with the
fault's message when the operation ends.

State lives in ``body["_sim"]["replication"]``: ``{region: {"start", "end", "fails", "done"}}`` (epoch seconds).
"""

from __future__ import annotations

import time
import zlib

from ...core.store import private
from .models import region_name

FAILING_PACE = 1.6  # a failing region would need 160% of the duration: it reaches ~62% when the op ends


def _pace(region):
    return 0.75 + 0.25 * (zlib.crc32(region.lower().encode()) % 101) / 100


def start(body, regions, began, duration):
    """Begin replicating ``regions`` (display names) now; regions not named keep their state."""
    state = private(body).setdefault("replication", {})
    for region in regions:
        state[region] = {"start": began, "end": began + duration * _pace(region), "fails": False, "done": False,
                         "error": None, "progress": 0}


def mark_failing(body, region):
    """The running operation will fail: this region stalls and fails when it ends."""
    entry = private(body)["replication"][region]
    entry["fails"] = True
    entry["end"] = entry["start"] + (entry["end"] - entry["start"]) / _pace(region) * FAILING_PACE


def keep_only(body, regions):
    state = private(body).setdefault("replication", {})
    for region in list(state):
        if region not in regions:
            del state[region]


def finish(body, op):
    """The operation ended: replicating regions complete, or the failing one fails with the op's error."""
    entries = private(body).get("replication", {})
    pending = {region: entry for region, entry in entries.items() if not entry["done"]}
    doomed = [region for region, entry in pending.items() if entry["fails"]] or list(pending)[-1:]
    ended = op.end or op.due
    for region, entry in pending.items():
        entry["done"] = True
        if op.status == "Failed" and region in doomed:
            span = entry["end"] - entry["start"]
            entry["error"] = (op.error or {}).get("message", "Replication failed.")
            entry["progress"] = int(100 * min(1.0, (ended - entry["start"]) / span)) if span > 0 else 0


def _region_status(region, entry, now):
    if entry["error"]:
        return {"region": region, "state": "Failed", "details": entry["error"], "progress": min(entry["progress"], 99)}
    if entry["done"]:
        return {"region": region, "state": "Completed", "details": "", "progress": 100}
    span = entry["end"] - entry["start"]
    progress = 100 if span <= 0 else int(100 * max(0.0, min(1.0, (now - entry["start"]) / span)))
    if progress >= 100 and not entry["fails"]:
        return {"region": region, "state": "Completed", "details": "", "progress": 100}
    return {"region": region, "state": "Replicating", "details": "", "progress": min(progress, 99)}


def status(body, now=None):
    """``replicationStatus`` as GalleryRP reports it (aggregatedState + per-region summary)."""
    now = time.time() if now is None else now
    entries = private(body).get("replication", {})
    summary = [_region_status(region, entry, now) for region, entry in entries.items()]
    states = {item["state"] for item in summary}
    if not summary:
        aggregated = "Unknown"
    elif "Failed" in states:
        aggregated = "Failed"
    elif states == {"Completed"}:
        aggregated = "Completed"
    else:
        aggregated = "InProgress"
    return {"aggregatedState": aggregated, "summary": summary}


def failed_regions(body):
    return [region for region, entry in private(body).get("replication", {}).items() if entry.get("error")]


def regions_of(publishing_profile):
    return [region_name(item["name"]) for item in publishing_profile.get("targetRegions") or []]
