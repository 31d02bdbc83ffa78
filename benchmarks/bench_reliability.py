"""The main job on a lossy ARM: seeded builds through build-golden-image.yml on real guests (root).

Each of ``BUILDS`` builds runs on a reset simulator (its state, request log and faults cleared) with the fault
rules of :func:`lossy_rules`: about a quarter of ARM requests is answered 429, 500 or 503, dropped before the
handler, or answered by nothing after the handler acted (``drop_after``: the effect stays, the answer is lost).
Entra is spared: token requests are azure-identity's, not the ARM layer's.

- ``reliability.builds_ok_25pct`` (judged, target == BUILDS): builds whose manifest says ``succeeded``.
- ``reliability.leftovers`` (judged, target == 0): temporary groups, build VMs, disks and network left after all
  of them (``tests/guest/gi_build.leftovers``), plus outputs of a build that failed.
- ``reliability.retries_per_build`` (shown): the median number of faulted ARM requests per build, read from the
  simulator's request log (``fault`` set). A build that succeeds survived each one: the ARM layer retried it,
  or read the resource and found the effect there.
- ``reliability.lost_writes`` (shown): ``drop_after`` faults on writes (PUT, PATCH, POST, DELETE) over all builds.

Without root (no guests) the judged figures are reported as null.
"""

from __future__ import annotations

import os
import pathlib
import statistics
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BUILDS = 8
TIME_SCALE = 0.05
SEED = 16
# per-rule probabilities; rules are drawn independently, so about 1 - 0.93 * 0.94 * 0.94 * 0.97 * 0.95 = 25 %
# of ARM requests meet at least one fault
FAULT_SHARES = (("status", 429, 0.07), ("status", 500, 0.06), ("status", 503, 0.06), ("drop", None, 0.03),
                ("drop_after", None, 0.05))
WRITES = ("PUT", "PATCH", "POST", "DELETE")


def lossy_rules(shares=FAULT_SHARES):
    """azsim fault rules for every ARM request under a subscription (Entra and the admin API are never faulted)."""
    rules = []
    for action, status, probability in shares:
        rule = {"path": "^/subscriptions/", "action": action, "probability": probability}
        if status is not None:
            rule["status"] = status
        rules.append(rule)
    return rules


def fault_share(shares=FAULT_SHARES):
    """The share of requests that meet at least one fault (rules fire independently)."""
    spared = 1.0
    for _action, _status, probability in shares:
        spared *= 1.0 - probability
    return 1.0 - spared


def faulted(requests):
    """ARM requests of the log that a fault answered (``fault`` set by azsim)."""
    return [item for item in requests if item.get("kind") == "arm" and item.get("fault")]


def lost_writes(requests):
    return [item for item in faulted(requests) if item["fault"] == "drop_after" and item["method"] in WRITES]


def figures(outcomes, leftover_count, builds=BUILDS):
    """``outcomes``: one (succeeded, faulted request count, lost write count) per build."""
    ok = sum(1 for succeeded, _count, _lost in outcomes if succeeded)
    counts = [count for _succeeded, count, _lost in outcomes]
    return [
        {"name": "reliability.builds_ok_25pct", "value": ok, "unit": "builds", "target": "== %d" % builds},
        {"name": "reliability.leftovers", "value": leftover_count, "unit": "resources", "target": "== 0"},
        {"name": "reliability.retries_per_build", "value": statistics.median(counts) if counts else None,
         "unit": "requests", "target": ""},
        {"name": "reliability.lost_writes", "value": sum(lost for _s, _c, lost in outcomes), "unit": "requests",
         "target": ""},
        {"name": "reliability.fault_share", "value": round(fault_share(), 3), "unit": "", "target": ""},
    ]


def _build(sim, tmp, index):
    from benchmarks.bench_pipeline import _clients
    from tests.guest import gi_build

    sim.admin.reset()
    sim.admin.settings(time_scale=TIME_SCALE, latency_ms=0)
    resources, compute = _clients(sim)
    gi_build.prepare_outputs(resources, compute, gallery=None)  # set-up, before the faults
    since = sim.admin.last_seq()
    with gi_build.guests(sim, 1, prefix="rel") as started:
        sim.admin.faults(lossy_rules(), seed=SEED + index)
        try:
            run, manifest = gi_build.run_build(
                sim, tmp, builds=[gi_build.image_definition(f"rel{index}", regions=("westeurope",),
                                                            guest=started[0])], timeout=1800)
        finally:
            sim.admin.clear_faults()
    log = sim.admin.requests(since)
    succeeded = run.rc == 0 and bool(manifest) and manifest.get("status") == "succeeded"
    # a good build's outputs are its product; a failed build must leave no output either
    left = gi_build.leftovers(sim, build_ids=() if not succeeded else ("-",))
    if not succeeded:
        sys.stderr.write("reliability build %d failed (rc %s): %s\n" % (index, run.rc, run.stdout[-1500:]))
    return (succeeded, len(faulted(log)), len(lost_writes(log))), left


def run(sim):
    from tests.guest.gi_build import guest_skip_reason

    reason = guest_skip_reason()
    if reason:
        return [{"name": name, "value": None, "unit": unit, "target": target, "note": reason}
                for name, unit, target in (("reliability.builds_ok_25pct", "builds", "== %d" % BUILDS),
                                           ("reliability.leftovers", "resources", "== 0"))]
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench-reliability-"))
    os.environ.setdefault("ANSIBLE_LOCAL_TEMP", str(tmp / "ansible-tmp"))
    outcomes, leftover = [], 0
    try:
        for index in range(BUILDS):
            outcome, left = _build(sim, tmp, index)
            outcomes.append(outcome)
            leftover += len(left)
    finally:
        sim.admin.clear_faults()
        sim.admin.reset()
        sim.admin.settings(time_scale=0.0)
    return figures(outcomes, leftover)


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    from azsim.testing import SimServer

    with SimServer(time_scale=0.0) as server:
        for row in run(server):
            print("%-40s %10s %-4s %s" % (row["name"], row["value"], row["unit"], row["target"]))
