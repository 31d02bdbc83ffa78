"""The azure_images inventory on 500 VMs built from 10 image sources.

Figures (``run(sim)``):

- ``inventory.500vms.arm_requests``: ARM requests of one ``ansible-inventory --list`` (default options: VM name
  as ``ansible_host``, temporary-disk facts on). Target: exactly the reads the inventory needs for what was
  seeded (:func:`expected_reads`), computed from the sources the 500 VMs actually use:

      VM-list pages                      ceil(VMs / page_size)          500 / 100   = 5
    + 2 per distinct Marketplace SKU     versions list + newest's GET   6 SKUs x 2  = 12
      and location
    + 1 per distinct gallery definition  its versions list              2 x 1       = 2
      (a pinned version reads its definition's list too)
    + 0 per managed image                nothing to compare             2 x 0       = 0
    + 1 per VM location                  vmSizes list (temp disk)       1 x 1       = 1
                                                                                     = 20

  The target is ``== 20``: a read more is a regression, a read less means the formula (or the plugin's reads)
  changed and this benchmark must be looked at again. On a mismatch the note gives the counts per kind of
  request, measured against expected.
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
LOCATION = "eastus"


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
    used = [sources[index % len(sources)] for index in range(VMS)]
    nics = seed.many(lambda index: seed.nic(RG, "nic-%03d" % index, subnet), [(index,) for index in range(VMS)])
    seed.many(lambda index: seed.vm(RG, "vm-%03d" % index, nics[index], used[index], location=LOCATION,
                                    tags={"environment": "prod"}),
              [(index,) for index in range(VMS)])
    seed.finish()
    return [(source, LOCATION) for source in used]


def _kind(source):
    if not source.startswith("/"):
        return "marketplace"
    return "gallery" if "/galleries/" in source.lower() else "managed_image"


def expected_reads(vm_sources, page_size):
    """ARM reads one ``ansible-inventory --list`` needs for VMs built from ``vm_sources`` ([(source, location)]).

    Per kind of request (the module docs give the formula): VM-list pages, Marketplace versions lists and
    version GETs (per distinct location + publisher/offer/SKU), gallery versions lists (per distinct
    definition), vmSizes lists (per distinct location). Managed images need none.
    """
    skus, definitions, locations = set(), set(), set()
    for source, location in vm_sources:
        locations.add(location.lower())
        kind = _kind(source)
        if kind == "marketplace":
            skus.add((location.lower(),) + tuple(part.lower() for part in source.split(":")[:3]))
        elif kind == "gallery":
            definitions.add(source.lower().split("/versions/")[0])
    return {
        "vm_list_pages": math.ceil(len(vm_sources) / page_size),
        "marketplace_versions_lists": len(skus),
        "marketplace_version_gets": len(skus),
        "gallery_versions_lists": len(definitions),
        "vm_sizes_lists": len(locations),
        "other": 0,
    }


def request_kind(path):
    """The kind of one logged ARM request (the keys of :func:`expected_reads`)."""
    path = path.split("?")[0].lower().rstrip("/")
    if path.endswith("/providers/microsoft.compute/virtualmachines"):
        return "vm_list_pages"
    if "/artifacttypes/vmimage/" in path:
        return "marketplace_versions_lists" if path.endswith("/versions") else "marketplace_version_gets"
    if "/galleries/" in path and path.endswith("/versions"):
        return "gallery_versions_lists"
    if path.endswith("/vmsizes"):
        return "vm_sizes_lists"
    return "other"


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


def _measure(sim, vm_sources):
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
    arm_requests = [item for item in sim.admin.requests(since) if item["kind"] == "arm"]
    expected = expected_reads(vm_sources, int(sim.admin.settings()["page_size"]))
    measured = dict.fromkeys(expected, 0)
    for item in arm_requests:
        measured[request_kind(item["path"]) if item["method"] == "GET" else "other"] += 1
    note = None
    if measured != expected:
        note = "per kind, measured vs expected: " + ", ".join(
            "%s %d/%d" % (key, measured[key], expected[key]) for key in expected if measured[key] != expected[key])

    sim.admin.settings(latency_ms=50)
    walls = [_timed(sim, path) for _ in range(RUNS)]
    _timed(sim, cached, "--flush-cache")  # fill the cache
    since = sim.admin.last_seq()
    hit_walls = [_timed(sim, cached) for _ in range(RUNS)]
    hit_requests = len(sim.admin.requests(since))
    return [
        {"name": "inventory.500vms.arm_requests", "value": len(arm_requests), "unit": "requests",
         "target": "== %d" % sum(expected.values()), "note": note},
        {"name": "inventory.500vms.wall_s", "value": round(statistics.median(walls), 3), "unit": "s", "target": ""},
        {"name": "inventory.500vms.cache_hit_requests", "value": hit_requests, "unit": "requests", "target": "<= 0"},
        {"name": "inventory.500vms.cache_hit_wall_s", "value": round(statistics.median(hit_walls), 3), "unit": "s",
         "target": ""},
    ]
