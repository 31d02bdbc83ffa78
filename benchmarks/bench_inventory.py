"""The azure_images inventory on 500 VMs built from 10 image sources.

Figures (``run(sim)``):

- ``inventory.500vms.arm_requests``: ARM requests of one ``ansible-inventory --list`` (default options: VM name
  as ``ansible_host``, temporary-disk facts on). Target: VM-list pages + 2 per distinct image source.
- ``inventory.500vms.wall_s``: wall time of that ``ansible-inventory --list`` with the simulator adding 50 ms to
  every request (``latency_ms=50``), median of 3 runs.
- ``inventory.500vms.cache_hit_requests``: requests (ARM and Entra) of a second run served by the jsonfile
  inventory cache.
- ``inventory.500vms.cache_hit_wall_s``: wall time of that cached run (same 50 ms latency).

Seeding (out of the measured time): throttling off, instant operations, the resource group, VNet, 500 NICs
and 500 VMs PUT concurrently through the ARM API (``tests/integration/test_azure_images_inventory_helpers``):
real simulator resources of the normal shape. Sources: 6 Marketplace SKUs (some VMs on older versions), 2 gallery
definitions (one VM set on a pinned older version), 2 managed images.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.integration.test_azure_images_inventory_helpers import Seeder, ansible_inventory  # noqa: E402

VMS = 500
RG = "rg-fleet"
MARKETPLACE = [
    "Canonical:ubuntu-24_04-lts:server:latest",
    "Canonical:ubuntu-24_04-lts:server-gen1:24.04.202410170",
    "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202410020",
    "Debian:debian-12:12-gen2:latest",
    "RedHat:RHEL:8-lvm-gen2:8.9.2024022012",
    "RedHat:RHEL:9-lvm-gen2:latest",
]
RUNS = 3


def _seed(sim):
    sim.admin.post("settings", {"throttling": {"enabled": False}, "time_scale": 0.0, "latency_ms": 0})
    seed = Seeder(sim)
    seed.group(RG)
    subnet = seed.vnet(RG, "fleet-vnet")
    images = [seed.managed_image(RG, "img-a"), seed.managed_image(RG, "img-b")]
    galleries = []
    for name in ("web", "batch"):
        definition = seed.gallery(RG, "fleet_gallery", name)
        for version in ("1.0.0", "1.1.0", "1.2.0"):
            seed.gallery_version(definition, version, images[0])
        galleries.append(definition)
    sources = MARKETPLACE + [galleries[0], galleries[1] + "/versions/1.0.0"] + images
    nics = seed.many(lambda index: seed.nic(RG, "nic-%03d" % index, subnet), [(index,) for index in range(VMS)])
    seed.many(lambda index: seed.vm(RG, "vm-%03d" % index, nics[index], sources[index % len(sources)],
                                    tags={"environment": "prod"}),
              [(index,) for index in range(VMS)])
    seed.finish()
    return len(sources)


def _timed(sim, path, *args, env=None):
    started = time.perf_counter()
    rc, data, out, err = ansible_inventory(sim.env, path, "--list", *args, env=env)
    elapsed = time.perf_counter() - started
    if rc != 0 or len(data["_meta"]["hostvars"]) != VMS:
        raise RuntimeError("ansible-inventory failed (rc %d): %s%s" % (rc, out[-2000:], err[-2000:]))
    return elapsed


def run(sim):
    throttling = sim.admin.settings()["throttling"]["enabled"]
    try:
        return _measure(sim, _seed(sim))
    finally:  # the next benchmark gets the simulator as it was
        sim.admin.post("settings", {"throttling": {"enabled": throttling}, "latency_ms": 0})


def _measure(sim, sources):
    work = tempfile.mkdtemp(prefix="gi-bench-inventory-")
    path = os.path.join(work, "fleet.azure_images.yml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("plugin: goldenimage.azure.azure_images\n")
    cached = os.path.join(work, "cached.azure_images.yml")
    with open(cached, "w", encoding="utf-8") as handle:
        handle.write("plugin: goldenimage.azure.azure_images\ncache: true\ncache_plugin: ansible.builtin.jsonfile\n"
                     "cache_connection: %s\n" % os.path.join(work, "cache"))

    since = sim.admin.last_seq()
    _timed(sim, path)
    arm = len([item for item in sim.admin.requests(since) if item["kind"] == "arm"])
    pages = math.ceil(VMS / int(sim.admin.settings()["page_size"]))

    sim.admin.settings(latency_ms=50)
    walls = [_timed(sim, path) for _ in range(RUNS)]
    _timed(sim, cached, "--flush-cache")  # fill the cache
    since = sim.admin.last_seq()
    hit_walls = [_timed(sim, cached) for _ in range(RUNS)]
    hit_requests = len(sim.admin.requests(since))
    return [
        {"name": "inventory.500vms.arm_requests", "value": arm, "unit": "requests",
         "target": "<= %d" % (pages + 2 * sources)},
        {"name": "inventory.500vms.wall_s", "value": round(statistics.median(walls), 3), "unit": "s", "target": ""},
        {"name": "inventory.500vms.cache_hit_requests", "value": hit_requests, "unit": "requests", "target": "<= 0"},
        {"name": "inventory.500vms.cache_hit_wall_s", "value": round(statistics.median(hit_walls), 3), "unit": "s",
         "target": ""},
    ]
