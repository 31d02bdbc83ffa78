"""Inputs that can't be misread (issue 9, item 4), through ansible-playbook against the simulator.

- ``urn`` with publisher/offer/sku is an error (image_facts, its dict form and the lookup);
- a version YAML turned into a number names every version it could have meant (literal and via a variable);
- ``latest`` stepping over a deprecated newer version warns (module and lookup);
- image_capture refuses bad names and versions before any request, in check mode as in a real run.
"""

from __future__ import annotations

import copy
import json
import os

import pytest

from tests.harness import ROOT
from tests.integration import lifecycle_setup as setup
from tests.unit.test_marketplace_sources import DEFINITION, GALLERY, RG, make_image_fixtures

# A SKU whose versions a float 8.1 could stand for (8.1.x, 8.10.x, 8.100.x) beside ones it cannot (8.15, 8.9,
# 81.x), and one whose newest version is Deprecated.
CONTOSO = {
    "locations": ["eastus"],
    "properties": {"osDiskImage": {"operatingSystem": "Linux", "sizeInGb": 30}, "hyperVGeneration": "V2",
                   "architecture": "x64"},
    "offers": {"el": {"skus": {
        "8": {"versions": {v: {} for v in ("8.1.2020010101", "8.9.2023010101", "8.10.2024010101", "8.10.2024060101",
                                           "8.15.2025010101", "8.100.1", "81.0.1")}},
        "rolling": {"versions": {
            "1.0.0": {}, "1.1.0": {},
            "1.2.0": {"properties": {"imageDeprecationStatus": {"imageState": "Deprecated"}}}}},
    }}},
}
MEANT = ["8.100.1", "8.10.2024060101", "8.10.2024010101", "8.1.2020010101"]
NOT_MEANT = ["8.15.2025010101", "8.9.2023010101", "81.0.1"]


@pytest.fixture
def catalog(fresh_sim):
    with open(os.path.join(ROOT, "azsim", "data", "catalog.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    data = copy.deepcopy(data)
    data["publishers"]["Contoso"] = CONTOSO
    fresh_sim.admin.post("catalog", data)
    try:
        yield fresh_sim
    finally:
        fresh_sim.admin.delete("catalog")


one_task = setup.task_play


def failed_msg(run, name="t"):
    assert run.rc != 0, run.stdout
    task = run.task(name)
    assert task["status"] == "failed"
    return task["result"]["msg"]


# -- urn together with parts -----------------------------------------------------------------------------------

@pytest.mark.parametrize("options, fragment", [
    ({"urn": "RedHat:RHEL:8-lvm-gen2:latest", "publisher": "Canonical", "location": "eastus"}, "publisher: "),
    ({"urn": "RedHat:RHEL:8-lvm-gen2:latest", "offer": "x", "sku": "y", "location": "eastus"}, "offer, sku: "),
    ({"image": {"urn": "RedHat:RHEL:8-lvm-gen2:latest", "sku": "9-lvm-gen2"}, "location": "eastus"},
     "urn together with sku"),
    ({"images": [{"urn": "RedHat:RHEL:8-lvm-gen2", "version": "8.10.2025010210"}], "location": "eastus"},
     "urn together with version"),
])
def test_urn_with_publisher_offer_sku_is_an_error(fresh_sim, play, options, fragment):
    since = fresh_sim.admin.last_seq()
    msg = failed_msg(play(one_task("image_facts", options)))
    assert fragment in msg, msg
    assert fresh_sim.admin.requests(since=since) == []  # refused before any request


def test_lookup_refuses_urn_with_parts(fresh_sim, play):
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: look
          ansible.builtin.debug:
            msg: "{{ lookup('goldenimage.azure.marketplace_image',
                            {'urn': 'RedHat:RHEL:8-lvm-gen2:latest', 'publisher': 'Canonical'}, location='eastus') }}"
    """)
    assert "urn together with publisher" in failed_msg(run, "look")


# -- versions that YAML made numbers ----------------------------------------------------------------------------

def candidates_named(msg):
    """Every version 8.1 could stand for, newest first, and none that it cannot."""
    assert "(starting 8.1 or 8.10): %s." % ", ".join(MEANT) in msg, msg


def test_float_version_names_every_version_it_could_mean(catalog, play):
    run = play("""
    - hosts: localhost
      gather_facts: false
      vars:
        wanted: 8.10
      tasks:
        - name: literal
          goldenimage.azure.image_facts:
            location: eastus
            image: {publisher: Contoso, offer: el, sku: "8", version: 8.10}
          ignore_errors: true
        - name: through a variable
          goldenimage.azure.image_facts:
            location: eastus
            images:
              - {publisher: Contoso, offer: el, sku: "8", version: "{{ wanted }}"}
          ignore_errors: true
        - name: through a variable made a string
          goldenimage.azure.image_facts:
            location: eastus
            image: "Contoso:el:8:{{ wanted }}"
          ignore_errors: true
        - name: lookup
          ansible.builtin.debug:
            msg: "{{ lookup('goldenimage.azure.marketplace_image',
                            {'publisher': 'Contoso', 'offer': 'el', 'sku': '8', 'version': wanted}, location='eastus') }}"
          ignore_errors: true
    """)
    assert run.task("literal")["status"] == "ignored"
    literal = run.task("literal")["result"]
    assert literal["error_code"] == "VersionIsNumber"
    assert "8.1 is a number" in literal["msg"]
    candidates_named(literal["msg"])
    assert not any(version in literal["msg"] for version in NOT_MEANT), literal["msg"]
    for name in ("through a variable", "through a variable made a string", "lookup"):
        assert run.task(name)["status"] == "ignored", name
        candidates_named(run.task(name)["result"]["msg"])


def test_float_version_with_no_candidate_says_so(catalog, play):
    msg = failed_msg(play(one_task("image_facts", {"location": "eastus", "image": {
        "publisher": "Contoso", "offer": "el", "sku": "8", "version": 8.2}})))
    assert "No version of Contoso:el:8 in eastus starts with 8.2 or 8.20" in msg


def test_float_gallery_version_names_the_candidates(fresh_sim, play, compute, resources):
    make_image_fixtures(compute, resources)
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: t
          goldenimage.azure.image_facts:
            gallery_image: {resource_group: %s, gallery: %s, name: %s, version: 1.0}
    """ % (RG, GALLERY, DEFINITION))
    msg = failed_msg(run)
    assert msg.startswith("gallery_image.version: 1.0 is a number")
    assert all(version in msg for version in ("1.0.9", "1.0.10", "1.0.11")) and "1.1.0" not in msg


# -- latest skipping a deprecated version -------------------------------------------------------------------------

def test_latest_skipping_a_deprecated_version_warns(catalog, play):
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: facts
          goldenimage.azure.image_facts:
            location: eastus
            image: Contoso:el:rolling:latest
        - name: exact
          goldenimage.azure.image_facts:
            location: eastus
            image: Contoso:el:rolling:1.1.0
        - name: lookup
          ansible.builtin.set_fact:
            skipped: "{{ lookup('goldenimage.azure.marketplace_image', 'Contoso:el:rolling:latest', location='eastus',
                                 field='skipped_deprecated', cache=false) }}"
    """)
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task("facts")["result"]
    assert result["image"]["version"] == "1.1.0"
    assert result["image"]["skipped_deprecated"] == ["1.2.0"]
    assert any("skipped the newer deprecated version 1.2.0" in warning for warning in result["warnings"])
    assert not run.task("exact")["result"].get("warnings")  # nothing skipped: no warning
    assert run.task("lookup")["result"]["ansible_facts"]["skipped"] == ["1.2.0"]
    assert "skipped the newer deprecated version 1.2.0" in run.stderr + run.stdout  # the lookup's display warning


# -- image_capture names ------------------------------------------------------------------------------------------

BAD_NAMES = [
    ({"managed_image": {"name": "-golden", "resource_group": "rg-images"}}, "managed_image.name: '-golden'"),
    ({"managed_image": {"name": "golden.", "resource_group": "rg-images"}}, "managed_image.name: 'golden.'"),
    ({"managed_image": {"name": "g" * 81, "resource_group": "rg-images"}}, "managed_image.name: 'ggg"),
    ({"managed_image": {"name": "gold en", "resource_group": "rg-images"}}, "managed_image.name: 'gold en'"),
    ({"managed_image": {"name": "golden", "resource_group": "rg."}}, "managed_image.resource_group: 'rg.'"),
    ({"gallery": {"name": "my-gallery", "resource_group": "rg-images", "image": "ubuntu"}}, "gallery.name: 'my-gallery'"),
    ({"gallery": {"name": "gal", "resource_group": "rg-images", "image": "ubuntu-"}}, "gallery.image: 'ubuntu-'"),
    ({"gallery": {"name": "gal", "resource_group": "rg-images", "image": "ubuntu", "version": "1.0"}},
     "gallery.version: '1.0'"),
    ({"gallery": {"name": "gal", "resource_group": "rg-images", "image": "ubuntu", "version": "1.0.4294967296"}},
     "gallery.version: each part"),
    ({"gallery": {"name": "gal", "resource_group": "rg-images", "image": "ubuntu", "version": "v1.0.0"}},
     "gallery.version: 'v1.0.0'"),
]


@pytest.mark.parametrize("targets, fragment", BAD_NAMES)
def test_capture_refuses_bad_names_before_any_request(fresh_sim, play, compute, network, resources, targets,
                                                      fragment):
    vm = setup.generalize(compute, setup.make_vm(compute, network, resources))
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    for check in (True, False):
        msg = failed_msg(play(one_task("image_capture", dict(targets, source=vm["id"]), check=check)))
        assert msg.startswith(fragment), msg
    assert fresh_sim.admin.requests(since=since) == []  # not even a token request
    assert fresh_sim.admin.resources() == before


def test_capture_accepts_names_at_the_limits(fresh_sim, play, compute, network, resources):
    vm = setup.generalize(compute, setup.make_vm(compute, network, resources))
    name = "G" + "o" * 78 + "_"  # 80 characters, ends with an underscore
    run = play(one_task("image_capture", {"source": vm["id"], "managed_image": {"name": name,
                                                                               "resource_group": "rg-build"}}))
    assert run.rc == 0, run.stdout
    assert run.task("t")["result"]["managed_image"]["name"] == name
