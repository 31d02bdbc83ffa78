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
- ``lookup.20_vs_1_ratio``: wall time of one task resolving 20 images over one resolving 1 image, with the
  simulator adding 50 ms to every request (``latency_ms=50``).
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


def _facts_args(images):
    return {"location": "eastus", "images": images}


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

    sim.admin.settings(latency_ms=50)
    try:
        one_times, twenty_times = [], []
        for _ in range(3):
            one_times.append(_ansible(env, "goldenimage.azure.image_facts", _facts_args([ONE])))
            twenty_times.append(_ansible(env, "goldenimage.azure.image_facts", _facts_args(TWENTY)))
    finally:
        sim.admin.settings(latency_ms=0)
    results.append({"name": "lookup.20_vs_1_ratio", "value": round(statistics.median(twenty_times)
                                                                   / statistics.median(one_times), 3),
                    "unit": "x", "target": "<= 4"})
    return results


if __name__ == "__main__":
    from azsim.testing import SimServer

    with SimServer(time_scale=0.0) as server:
        for row in run(server):
            print("%-36s %10s %-9s %s" % (row["name"], row["value"], row["unit"], row["target"]))
