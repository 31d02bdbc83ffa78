"""Offline tests of pin-images.yml with the azsim pytest plugin (pip install goldenimage-azure-testkit).

Run from this directory: ``pytest tests`` (the goldenimage.azure collection installed where Ansible finds it,
e.g. ``ansible-galaxy collection install goldenimage.azure``). Every test gets a fresh simulated world.
"""

import json
from pathlib import Path

PLAYBOOK = Path(__file__).resolve().parent.parent / "pin-images.yml"


def publish(sim, publisher, offer, sku, version, **properties):
    """Seed the simulator's Marketplace: one more version of an image (format: azsim/schemas/catalog.schema.json)."""
    catalog = sim.admin.get("catalog")
    versions = catalog["publishers"][publisher]["offers"][offer]["skus"][sku]["versions"]
    versions[version] = {"properties": properties} if properties else {}
    sim.admin.post("catalog", catalog)


def test_pins_the_newest_versions(azsim_world, azsim_playbook, tmp_path):
    pinned = tmp_path / "pinned.json"
    run = azsim_playbook(PLAYBOOK, extra_vars={"pinned_file": str(pinned)})
    assert run.rc == 0, run.stdout + run.stderr
    assert json.loads(pinned.read_text()) == [
        "Canonical:ubuntu-24_04-lts:server:24.04.202411200",
        "RedHat:RHEL:8-lvm-gen2:8.10.2025010210",  # numeric: 8.10 beats 8.9
    ]
    assert azsim_world.admin.resources() == []  # a read-only step creates nothing


def test_a_new_build_moves_the_pin(azsim_world, azsim_playbook, tmp_path):
    publish(azsim_world, "Canonical", "ubuntu-24_04-lts", "server", "24.04.202501150")
    pinned = tmp_path / "pinned.json"
    run = azsim_playbook(PLAYBOOK, extra_vars={"pinned_file": str(pinned)})
    assert run.rc == 0, run.stdout + run.stderr
    assert json.loads(pinned.read_text())[0] == "Canonical:ubuntu-24_04-lts:server:24.04.202501150"


def test_a_deprecated_pin_stops_the_pipeline(azsim_world, azsim_playbook, tmp_path):
    publish(azsim_world, "Canonical", "ubuntu-24_04-lts", "server", "24.04.202411200",
            imageDeprecationStatus={"imageState": "Deprecated"})
    pinned = tmp_path / "pinned.json"
    run = azsim_playbook(PLAYBOOK, extra_vars={"pinned_file": str(pinned),
                                               "base_images": ["Canonical:ubuntu-24_04-lts:server:24.04.202411200"]})
    assert run.rc != 0
    assert [item["task"] for item in run.failed] == ["Refuse images that can no longer be deployed"]
    assert not pinned.exists()


def test_survives_arm_throttling(azsim_world, azsim_faults, azsim_playbook, tmp_path):
    rule = azsim_faults.add(method="GET", path="/vmimage/offers/[^/]+/skus/[^/]+/versions$", status=429, times=1)
    pinned = tmp_path / "pinned.json"
    run = azsim_playbook(PLAYBOOK, extra_vars={"pinned_file": str(pinned)})
    assert run.rc == 0, run.stdout + run.stderr
    assert len(json.loads(pinned.read_text())) == 2
    assert [item["fired"] for item in azsim_faults.fired()] == [1], rule
    throttled = [item for item in azsim_world.admin.requests() if item["status"] == 429]
    assert len(throttled) == 1
