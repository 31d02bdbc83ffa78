"""The main job end to end: build-golden-image.yml against the simulator and real local guests (root).

- ``pipeline.overhead_s``: wall time of a one-image build minus the simulated Azure operations on its critical
  path (their durations x the time scale), i.e. what the playbook, Ansible, the SDK and SSH add. Target <= 30 s.
- ``pipeline.parallel3_vs_1_ratio``: wall time of three images built in one run on three guests over the wall
  time of one image. Target <= 1.5.
- ``pipeline.wall_1_s`` / ``pipeline.wall_3_s``: the two wall times, for context.

Without root (no guests) the figures are reported as null.
"""

from __future__ import annotations

import os
import pathlib
import tempfile
import time

TIME_SCALE = 0.05
# The operations one build waits for, in order (VNet, NSG and public IP are created concurrently: one step).
CRITICAL_PATH = [
    "network.create",                 # VNet | NSG | public IP
    "network.create",                 # NIC
    "vm.create",
    "vm.update",                      # the deprovisioned mark (PATCH)
    "vm.deallocate",
    "image.create",
    "gallery.create",
    "gallery_image.create",
    "gallery_image_version.create",   # replication; regions replicate in parallel
    "vm.delete",
    "resource_group.delete",
]


def _critical_seconds(sim):
    durations = sim.admin.settings()["durations"]
    return sum(float(durations.get(name, 5.0)) for name in CRITICAL_PATH) * TIME_SCALE


def _clients(sim):
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    credential = sim.credential()
    return (sim.client(ResourceManagementClient, credential), sim.client(ComputeManagementClient, credential))


def _build(sim, tmp, names):
    from tests.guest import gi_build

    sim.admin.reset()
    sim.admin.settings(time_scale=TIME_SCALE, latency_ms=0)
    resources, compute = _clients(sim)
    gi_build.prepare_outputs(resources, compute, gallery=None)
    with gi_build.guests(sim, len(names), prefix="bench") as started:
        builds = [gi_build.image_definition(name, regions=("westeurope",), guest=guest)
                  for name, guest in zip(names, started)]
        began = time.perf_counter()
        run, manifest = gi_build.run_build(sim, tmp, builds=builds, timeout=1800)
        wall = time.perf_counter() - began
    if run.rc != 0 or not manifest or manifest["status"] != "succeeded":
        raise RuntimeError(f"build of {names} failed (rc {run.rc}): {run.stdout[-3000:]}")
    return wall


def run(sim):
    from tests.guest.gi_build import guest_skip_reason

    reason = guest_skip_reason()
    if reason:
        return [{"name": name, "value": None, "unit": unit, "target": target, "note": reason}
                for name, unit, target in (("pipeline.overhead_s", "s", "<= 30"),
                                           ("pipeline.parallel3_vs_1_ratio", "x", "<= 1.5"))]
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    os.environ.setdefault("ANSIBLE_LOCAL_TEMP", str(tmp / "ansible-tmp"))
    try:
        wall_1 = _build(sim, tmp, ["one"])
        critical = _critical_seconds(sim)
        wall_3 = _build(sim, tmp, ["web", "db", "cache"])
    finally:
        sim.admin.reset()
        sim.admin.settings(time_scale=0.0)
    return [
        {"name": "pipeline.overhead_s", "value": round(wall_1 - critical, 2), "unit": "s", "target": "<= 30"},
        {"name": "pipeline.parallel3_vs_1_ratio", "value": round(wall_3 / wall_1, 3), "unit": "x", "target": "<= 1.5"},
        {"name": "pipeline.wall_1_s", "value": round(wall_1, 2), "unit": "s", "target": ""},
        {"name": "pipeline.wall_3_s", "value": round(wall_3, 2), "unit": "s", "target": ""},
        {"name": "pipeline.critical_path_simulated_s", "value": round(critical, 2), "unit": "s", "target": ""},
    ]
