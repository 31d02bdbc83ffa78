"""Image lookup: requests per resolution, start-up cost of image_facts, concurrency of many images.

Figures (``run(sim)``):

- ``lookup.arm_requests_per_image``: ARM requests of one ``image_facts`` task resolving ``latest`` with details.
- ``lookup.token_requests_per_module``: token POSTs to Entra in that task.
- ``lookup.adhoc_vs_ping_ratio``: median wall time of ``ansible localhost -m goldenimage.azure.image_facts``
  (one image, details) over the median of ``ansible localhost -m ansible.builtin.ping``; runs alternate.
- ``lookup.modules_imported``: Python modules imported by the module process. Method: the task runs once with
  ``ANSIBLE_KEEP_REMOTE_FILES=1``; the kept ``AnsiballZ_image_facts.py`` (arguments embedded) is then run again
  as ``python -X importtime``, which prints one line per module imported in that process (interpreter start-up,
  the AnsiballZ wrapper, Ansible's module_utils, the collection and the Azure SDK packages); the figure is that
  line count.
- Concurrency of twenty images, with the simulator adding ``LATENCY_MS`` (100 ms) to every request, measured in
  the same run and interleaved: ``ROUNDS`` rounds of one image (t1), twenty images with the module's default
  ``max_concurrency`` (t20) and the same twenty with ``max_concurrency: 1`` (t20_serial), the order reversed
  every other round. Each difference below is taken within a round (runs seconds apart, under the same load)
  and the figure is the median over the rounds.

  - ``lookup.twenty_added_s`` = t20 - t1: the time twenty images add over one;
  - ``lookup.twenty_serial_added_s`` = t20_serial - t1: the serial cost of the same requests;
  - ``lookup.twenty_arm_requests`` (n): ARM requests of one twenty-image task, from the request log; n x latency
    is the latency the serial run waits through one request at a time;
  - ``lookup.concurrency_overlap`` (judged, target >= 0.5) = (t20_serial - t20) / (n x latency): the share of
    that serial latency the concurrent run overlaps, i.e. the serial added time minus the concurrent added time
    (t1 cancels), against the serial latency cost. n = 38: serial, 38 requests one after another; concurrent,
    the first image alone (2 requests) then 19 on 8 threads (3 rounds of 2): 8 latencies, so ~(38 - 8) / 38 =
    0.79. Two threads would give ~0.4, none (lost concurrency) ~0. The CPU work of the twenty images and the
    process start-up are the same in both runs, so they cancel: on a loaded machine they stretch both times
    but not the difference (a ratio of the two added times drifts towards 1 under load, which is why the
    ratio below is shown but not judged).
  - ``lookup.concurrency_gain`` = (t20_serial - t1) / max(t20 - t1, one latency): the same comparison as a ratio,
    for context (~6 on an idle machine, lower when the CPU is contended).

  ``BENCH_LOOKUP_MAX_CONCURRENCY=1 python benchmarks/run.py lookup`` forces ``max_concurrency: 1`` on the
  concurrent run, to see the judged figure miss its target (the check that it can fail).
"""

from __future__ import annotations

import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.harness import ansible_env  # noqa: E402
from tests.image_sets import TWENTY  # noqa: E402

ONE = "Canonical:ubuntu-24_04-lts:server:latest"
RUNS = 7
ROUNDS = 5
LATENCY_MS = 100


def _ansible(env, module, args):
    command = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-m", module]
    if args is not None:
        command += ["-a", json.dumps(args)]
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError("%s failed (rc %d): %s%s" % (module, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
    return elapsed


def _facts_args(images, max_concurrency=None):
    args = {"location": "eastus", "images": images}
    if max_concurrency:
        args["max_concurrency"] = max_concurrency
    return args


def _count(sim, since, predicate):
    return len([item for item in sim.admin.requests(since) if predicate(item)])


def _modules_imported(env):
    remote = tempfile.mkdtemp(prefix="gi-bench-remote-")
    keep = dict(env, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=remote)
    _ansible(keep, "goldenimage.azure.image_facts", {"location": "eastus", "image": ONE})
    payloads = glob.glob(os.path.join(remote, "*", "AnsiballZ_image_facts.py"))
    if not payloads:
        raise RuntimeError("no AnsiballZ_image_facts.py kept under %s" % remote)
    proc = subprocess.run([sys.executable, "-X", "importtime", payloads[0]], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError("AnsiballZ payload failed: %s" % proc.stdout[-2000:])
    lines = [line for line in proc.stderr.splitlines() if line.startswith("import time:") and "self [us]" not in line]
    return len(lines)


def run(sim):
    sim.admin.reset()
    sim.admin.settings(time_scale=0.0, latency_ms=0)
    env = ansible_env(sim.env)
    for name in ("ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CALLBACK_PLUGINS"):  # the tests' result recorder
        env.pop(name, None)
    results = []

    # warm caches (pyc, collection loader) so the first measured run is not penalised
    _ansible(env, "ansible.builtin.ping", None)
    _ansible(env, "goldenimage.azure.image_facts", {"location": "eastus", "image": ONE})

    since = sim.admin.last_seq()
    _ansible(env, "goldenimage.azure.image_facts", {"location": "eastus", "image": ONE})
    arm = _count(sim, since, lambda item: item["kind"] == "arm")
    tokens = _count(sim, since, lambda item: item["method"] == "POST" and item["path"].endswith("/token"))
    results.append({"name": "lookup.arm_requests_per_image", "value": arm, "unit": "requests", "target": "<= 2"})
    results.append({"name": "lookup.token_requests_per_module", "value": tokens, "unit": "requests", "target": "<= 1"})

    facts_times, ping_times = [], []
    for _ in range(RUNS):
        facts_times.append(_ansible(env, "goldenimage.azure.image_facts", {"location": "eastus", "image": ONE}))
        ping_times.append(_ansible(env, "ansible.builtin.ping", None))
    facts_median, ping_median = statistics.median(facts_times), statistics.median(ping_times)
    results.append({"name": "lookup.adhoc_vs_ping_ratio", "value": round(facts_median / ping_median, 3), "unit": "x",
                    "target": "<= 1.5"})
    results.append({"name": "lookup.adhoc_seconds", "value": round(facts_median, 3), "unit": "s", "target": ""})
    results.append({"name": "lookup.ping_seconds", "value": round(ping_median, 3), "unit": "s", "target": ""})

    results.append({"name": "lookup.modules_imported", "value": _modules_imported(env), "unit": "modules",
                    "target": ""})

    results.extend(_concurrency(sim, env))
    return results


def concurrency_gain(t1, t20, t20_serial, floor=LATENCY_MS / 1000.0):
    """(t20_serial - t1) / max(t20 - t1, floor): the serial cost of twenty images over what they add concurrently."""
    return (t20_serial - t1) / max(t20 - t1, floor)


def concurrency_overlap(t20, t20_serial, requests, latency_s=LATENCY_MS / 1000.0):
    """(t20_serial - t20) / (requests x latency): the share of the serial requests' latency run concurrently."""
    return (t20_serial - t20) / (requests * latency_s)


def _concurrency(sim, env):
    """t1, t20 and t20_serial interleaved under LATENCY_MS; the added times, overlap and gain (module docs)."""
    forced = int(os.environ.get("BENCH_LOOKUP_MAX_CONCURRENCY") or 0) or None
    sim.admin.settings(latency_ms=LATENCY_MS)
    try:
        since = sim.admin.last_seq()
        _ansible(env, "goldenimage.azure.image_facts", _facts_args(TWENTY, 1))
        requests_20 = _count(sim, since, lambda item: item["kind"] == "arm")
        runs = {"one": ([ONE], None), "twenty": (TWENTY, forced), "serial": (TWENTY, 1)}
        rounds = []
        for index in range(ROUNDS):  # alternate the order, so a load trend hits both ends alike
            order = ("one", "twenty", "serial") if index % 2 == 0 else ("serial", "twenty", "one")
            rounds.append({name: _ansible(env, "goldenimage.azure.image_facts", _facts_args(*runs[name]))
                           for name in order})
    finally:
        sim.admin.settings(latency_ms=0)
    one = statistics.median([item["one"] for item in rounds])
    # differences within a round (runs seconds apart, under the same load), then their median
    added = statistics.median([item["twenty"] - item["one"] for item in rounds])
    serial_added = statistics.median([item["serial"] - item["one"] for item in rounds])
    saved = statistics.median([item["serial"] - item["twenty"] for item in rounds])
    note = "forced max_concurrency=%d on the concurrent run" % forced if forced else None
    return [
        {"name": "lookup.concurrency_overlap", "value": round(concurrency_overlap(0.0, saved, requests_20), 3),
         "unit": "share", "target": ">= 0.5", "note": note},
        {"name": "lookup.concurrency_gain", "value": round(concurrency_gain(0.0, added, serial_added), 3),
         "unit": "x", "target": ""},
        {"name": "lookup.twenty_added_s", "value": round(added, 3), "unit": "s", "target": ""},
        {"name": "lookup.twenty_serial_added_s", "value": round(serial_added, 3), "unit": "s", "target": ""},
        {"name": "lookup.one_image_s", "value": round(one, 3), "unit": "s", "target": ""},
        {"name": "lookup.twenty_arm_requests", "value": requests_20, "unit": "requests", "target": ""},
    ]


if __name__ == "__main__":
    from azsim.testing import SimServer

    with SimServer(time_scale=0.0) as server:
        for row in run(server):
            print("%-36s %10s %-9s %s" % (row["name"], row["value"], row["unit"], row["target"]))
