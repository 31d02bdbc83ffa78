"""goldenimage.azure.image_facts through real ansible-playbook runs against the simulator."""

from __future__ import annotations

import pytest

from tests.unit.test_marketplace import TWENTY
from tests.unit.test_marketplace_sources import DEFINITION, GALLERY, RG, make_image_fixtures


def arm_requests(sim, since=0):
    return [item for item in sim.admin.requests(since) if item["kind"] == "arm"]


def token_requests(sim, since=0):
    return [item for item in sim.admin.requests(since) if item["method"] == "POST" and item["path"].endswith("/token")]


def test_latest_and_listing_levels(play, fresh_sim):
    run = play("""
    - hosts: localhost
      gather_facts: false
      module_defaults:
        goldenimage.azure.image_facts:
          location: eastus
      tasks:
        - name: rhel8
          goldenimage.azure.image_facts:
            image: RedHat:RHEL:8-lvm-gen2:latest
        - name: rhel9 parts
          goldenimage.azure.image_facts:
            image: {publisher: RedHat, offer: RHEL, sku: 9-lvm-gen2}
        - name: publishers
          goldenimage.azure.image_facts:
            list: publishers
            name_filter: "*Windows*"
        - name: offers
          goldenimage.azure.image_facts:
            list: offers
            publisher: Canonical
        - name: skus
          goldenimage.azure.image_facts:
            list: skus
            publisher: MicrosoftWindowsServer
            offer: WindowsServer
            name_filter: "-g(2|ensecond)$"
            filter_type: regex
        - name: versions
          goldenimage.azure.image_facts:
            list: versions
            publisher: RedHat
            offer: RHEL
            sku: 9-lvm-gen2
        - name: versions with details
          goldenimage.azure.image_facts:
            list: versions
            list_details: true
            publisher: Canonical
            offer: 0001-com-ubuntu-server-jammy
            sku: 22_04-lts
        - name: facts are set
          ansible.builtin.assert:
            that:
              - ansible_facts.goldenimage_listing.names[0] == '22.04.202411190'
    """)
    assert run.rc == 0, run.stdout + run.stderr
    rhel8 = run.task("rhel8")["result"]
    assert rhel8["changed"] is False
    assert rhel8["image"]["urn"] == "RedHat:RHEL:8-lvm-gen2:8.10.2025010210"
    assert rhel8["ansible_facts"]["goldenimage_images"][0]["urn"] == rhel8["image"]["urn"]
    assert run.task("rhel9 parts")["result"]["image"]["version"] == "9.8.2026052008"
    assert run.task("publishers")["result"]["listing"]["names"] == ["MicrosoftWindowsServer"]
    assert run.task("offers")["result"]["listing"]["names"] == ["0001-com-ubuntu-server-jammy", "ubuntu-24_04-lts"]
    assert run.task("skus")["result"]["listing"]["names"] == ["2019-datacenter-gensecond", "2022-datacenter-g2"]
    versions = run.task("versions")["result"]["listing"]
    assert versions["names"] == ["9.8.2026052008", "9.6.2025061713", "9.4.2026092611", "9.4.2024081412"]
    assert versions["count"] == 4
    detailed = run.task("versions with details")["result"]["listing"]
    assert detailed["names"][0] == "22.04.202411190"
    assert detailed["versions"][-1]["deprecation"]["state"] == "Deprecated"
    assert run.task("facts are set")["status"] == "ok"


def test_requests_per_resolution(play, fresh_sim):
    since = fresh_sim.admin.last_seq()
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: latest
          goldenimage.azure.image_facts:
            location: eastus
            image: Canonical:ubuntu-24_04-lts:server:latest
    """)
    assert run.rc == 0, run.stdout + run.stderr
    reads = arm_requests(fresh_sim, since)
    assert [item["path"].rsplit("/", 1)[-1] for item in reads] == ["versions", "24.04.202411200"]
    assert len(token_requests(fresh_sim, since)) <= 1


def test_exact_prefix_older_plan_deprecated(play, fresh_sim):
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: several
          goldenimage.azure.image_facts:
            location: eastus
            images:
              - Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.*
              - Canonical:ubuntu-24_04-lts:server:24.04.202409120
              - center-for-internet-security-inc:cis-ubuntu-linux-2204-l1:cis-ubuntu2204-l1-gen2:latest
              - Canonical:0001-com-ubuntu-server-jammy:22_04-lts:22.04.202404090
    """)
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("several")["result"]
    prefix, older, plan, deprecated = result["images"]
    assert prefix["version"] == "22.04.202411190"
    assert older["urn"] == "Canonical:ubuntu-24_04-lts:server:24.04.202409120"
    assert plan["plan"]["product"] == "cis-ubuntu-linux-2204-l1" and plan["plan"]["terms_required"] is True
    assert deprecated["deprecation"]["state"] == "Deprecated"
    assert any("Deprecated" in warning for warning in result.get("warnings", []))


def test_twenty_images_in_one_task(play, fresh_sim):
    since = fresh_sim.admin.last_seq()
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: twenty
          goldenimage.azure.image_facts:
            location: eastus
            images: "{{ twenty }}"
            max_concurrency: 6
    """, extra_vars={"twenty": TWENTY})
    assert run.rc == 0, run.stdout + run.stderr
    images = run.task("twenty")["result"]["images"]
    assert [item["requested"] for item in images] == TWENTY
    assert all(item["urn"].count(":") == 3 and not item["urn"].endswith("latest") for item in images)
    assert len(arm_requests(fresh_sim, since)) <= 2 * len(TWENTY)
    assert len(token_requests(fresh_sim, since)) <= 1


def test_managed_and_gallery_images(play, fresh_sim, compute, resources):
    image_id = make_image_fixtures(compute, resources)
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: both
          goldenimage.azure.image_facts:
            location: eastus
            managed_image: {resource_group: rg-images, name: ubuntu-2404-base}
            gallery_image: {resource_group: rg-images, gallery: golden, name: ubuntu-2404}
        - name: by id in images
          goldenimage.azure.image_facts:
            images:
              - "{{ image_id }}"
              - gallery_image: {resource_group: rg-images, gallery: golden, name: ubuntu-2404, version: 1.0.11}
    """, extra_vars={"image_id": image_id})
    assert run.rc == 0, run.stdout + run.stderr
    managed, gallery = run.task("both")["result"]["images"]
    assert managed["source"] == "managed_image" and managed["id"].lower() == image_id.lower()
    assert gallery["source"] == "gallery_image" and gallery["version"] == "1.0.10"
    assert gallery["gallery"] == GALLERY and gallery["name"] == DEFINITION and gallery["resource_group"].lower() == RG
    by_id, excluded = run.task("by id in images")["result"]["images"]
    assert by_id["name"] == "ubuntu-2404-base"
    assert excluded["version"] == "1.0.11" and excluded["exclude_from_latest"] is True


@pytest.mark.parametrize("args, fragments", [
    ({"location": "eastus", "image": "Canonicl:ubuntu-24_04-lts:server:latest"}, ["'Canonicl'", "Canonical"]),
    ({"location": "eastus", "image": "Canonical:ubuntu-24_04-lst:server:latest"}, ["'ubuntu-24_04-lst'", "ubuntu-24_04-lts"]),
    ({"location": "eastus", "image": "Canonical:ubuntu-24_04-lts:servr:latest"}, ["'servr'", "server"]),
    ({"location": "eastus", "image": "Canonical:ubuntu-24_04-lts:server:24.04.202411201"},
     ["'24.04.202411201'", "24.04.202411200"]),
    ({"location": "eastu", "image": "Canonical:ubuntu-24_04-lts:server:latest"}, ["'eastu'", "eastus"]),
    ({"location": "eastus", "image": "Canonical:ubuntu-24_04-lts"}, ["Invalid image URN"]),
    ({"location": "eastus", "list": "offers", "publisher": "RedHatt"}, ["'RedHatt'", "RedHat"]),
    ({"location": "eastus", "list": "skus", "publisher": "RedHat"}, ["offer"]),
    ({"image": "RedHat:RHEL:8-lvm-gen2:latest"}, ["location is needed"]),
    ({"managed_image": {"resource_group": "rg-images", "name": "nope"}}, ["Resource group 'rg-images' does not exist"]),
    ({"location": "eastus", "images": ["RedHat:RHEL:8-lvm-gen2:latest"], "max_concurrency": 0}, ["max_concurrency"]),
    ({"location": "eastus", "images": [{"publisher": "RedHat", "offer": "RHEL", "sku": "8-lvm-gen2", "version": 8.10}]},
     ["is a number", "Quote it", "8.10.2025010210, 8.10.2024070513"]),
])
def test_bad_input_fails_cleanly(play, args, fragments):
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: bad
          goldenimage.azure.image_facts: "{{ args }}"
    """, extra_vars={"args": args})
    assert run.rc != 0
    task = run.task("bad")
    assert task["status"] == "failed"
    message = task["result"]["msg"]
    assert "Traceback" not in message and "NoneType" not in message
    for fragment in fragments:
        assert fragment in message


def test_throttling_is_retried(play, fresh_sim):
    fresh_sim.admin.faults([
        {"method": "GET", "path": "/skus/server/versions$", "status": 429, "times": 1},
        {"method": "GET", "path": "/skus/server/versions/[^/]+$", "status": 503, "times": 2},
    ])
    since = fresh_sim.admin.last_seq()
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: throttled
          goldenimage.azure.image_facts:
            location: eastus
            image: Canonical:ubuntu-24_04-lts:server:latest
    """)
    assert run.rc == 0, run.stdout + run.stderr
    assert run.task("throttled")["result"]["image"]["version"] == "24.04.202411200"
    statuses = [item["status"] for item in arm_requests(fresh_sim, since)]
    assert statuses == [429, 200, 503, 503, 200]


def test_check_mode_reads_and_never_changes(play, fresh_sim):
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: checked
          goldenimage.azure.image_facts:
            location: eastus
            urn: Debian:debian-12:12-gen2:latest   # alias of image
          check_mode: true
    """, args=["--diff"])
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("checked")["result"]
    assert result["changed"] is False
    assert result["image"]["urn"] == "Debian:debian-12:12-gen2:0.20241201.1948"
    assert fresh_sim.admin.resources() == []


def test_examples_run(play):
    import os

    from tests.harness import ROOT

    folder = os.path.join(ROOT, "examples", "image_facts")
    pinned = play(os.path.join(folder, "pin-base-images.yml"))
    assert pinned.rc == 0, pinned.stdout + pinned.stderr
    urns = pinned.task("Keep the pinned URNs for later plays")["result"]["ansible_facts"]["pinned_urns"]
    assert urns[1] == "RedHat:RHEL:8-lvm-gen2:8.10.2025010210"
    browsed = play(os.path.join(folder, "browse-marketplace.yml"))
    assert browsed.rc == 0, browsed.stdout + browsed.stderr
    summary = browsed.task("Summary")["result"]["msg"]
    assert summary["publishers"] == ["MicrosoftWindowsServer", "RedHat"]
    assert summary["newest_versions"][0] == "24.04.202411200"


def test_example_inventory_pins_once(play, fresh_sim):
    import os

    from tests.harness import ROOT

    folder = os.path.join(ROOT, "examples", "image_facts")
    since = fresh_sim.admin.last_seq()
    run = play(os.path.join(folder, "show-pinned.yml"), inventory=os.path.join(folder, "inventory"))
    assert run.rc == 0, run.stdout + run.stderr
    shown = {item["host"]: item["result"]["msg"] for item in run.results if item["task"] == "Base image of this host"}
    assert shown == {
        "builder-linux-1": "builder-linux-1: Canonical:ubuntu-24_04-lts:server:24.04.202411200 (V2)",
        "builder-linux-2": "builder-linux-2: Canonical:ubuntu-24_04-lts:server:24.04.202411200 (V2)",
    }
    # forks may resolve concurrently before the run cache is filled: at most one resolution per host
    assert len(arm_requests(fresh_sim, since)) <= 4


def test_bad_credentials_fail_cleanly(play, fresh_sim):
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: denied
          goldenimage.azure.image_facts:
            location: eastus
            image: Canonical:ubuntu-24_04-lts:server:latest
    """, env={"AZURE_CLIENT_SECRET": "not-the-secret"})
    assert run.rc != 0
    result = run.task("denied")["result"]
    assert "Traceback" not in result["msg"]
    assert "not-the-secret" not in str(result)
    assert arm_requests(fresh_sim) == []
