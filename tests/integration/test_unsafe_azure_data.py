"""Text that comes from Azure is data, never a template (issue 10, finding 1).

Anyone who may tag one VM (or an image) must not run code on the controller, where the Azure credentials are.
Each test puts ``{{ lookup('ansible.builtin.pipe', 'touch <tmp>/injected') }}`` into Azure data the collection
reads (VM tags, a managed image's tags, a Marketplace plan name), runs the real ``ansible-inventory`` /
``ansible-playbook`` with templates that reach that data (hostvars, ``compose``, ``keyed_groups``, ``groups``,
``group_names``, lookup results, also with ``allow_unsafe=True``), and asserts that the file was not created and
that the value is the literal text.

These tests run on the newest ansible-core (the main venv) and on the oldest one ``meta/runtime.yml`` allows
(``make core-oldest``), where a plain string from a plugin is still templated when a play reads it.
"""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from tests.harness import ROOT, run_playbook
from tests.integration.test_azure_images_inventory_helpers import Seeder, ansible_inventory


def payload(marker):
    return "{{ lookup('ansible.builtin.pipe', 'touch %s') }}" % marker


def plain(value):
    """ansible-inventory's JSON marks untrusted strings as {"__ansible_unsafe": ...}; unwrap them."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


@pytest.fixture
def tagged(fresh_sim, tmp_path):
    """One VM whose tags (names and values) hold templates, and the marker file the templates would create."""
    marker = tmp_path / "injected"
    seed = Seeder(fresh_sim)
    seed.group("rg-unsafe")
    subnet = seed.vnet("rg-unsafe", "vnet")
    tags = {"owner": payload(marker), "role": "web", "team {{ 7 * 6 }}": payload(marker)}
    seed.vm("rg-unsafe", "vm-tagged", seed.nic("rg-unsafe", "vm-tagged-nic", subnet),
            "Canonical:ubuntu-24_04-lts:server:latest", tags=tags)
    seed.finish()
    config = tmp_path / "unsafe.azure_images.yml"
    config.write_text(textwrap.dedent("""\
        plugin: goldenimage.azure.azure_images
        resource_groups: [rg-unsafe]
        compose:
          ansible_connection: "'local'"
          owner_copy: azure_tags.owner
          owner_joined: "'owner=' ~ azure_tags.owner"
        keyed_groups:
          - key: azure_tags.owner
            prefix: owner
          - key: azure_tags
            prefix: tag
        groups:
          owned: "'touch' in azure_tags.owner"
        """))
    return {"marker": marker, "config": config, "owner": payload(marker), "tags": tags}


def test_inventory_graph_and_list_keep_tags_literal(tagged, fresh_sim):
    rc, _, out, err = ansible_inventory(fresh_sim.env, tagged["config"], "--graph")
    assert rc == 0, out + err
    assert not tagged["marker"].exists(), "a VM tag ran as a template during ansible-inventory --graph"
    assert "vm-tagged" in out

    rc, data, out, err = ansible_inventory(fresh_sim.env, tagged["config"], "--list")
    assert rc == 0, out + err
    assert not tagged["marker"].exists(), "a VM tag ran as a template during ansible-inventory --list"
    host = plain(data["_meta"]["hostvars"]["vm-tagged"])
    assert host["azure_tags"] == tagged["tags"]
    assert host["owner_copy"] == tagged["owner"]
    assert host["owner_joined"] == "owner=" + tagged["owner"]
    assert "vm-tagged" in plain(data["owned"]["hosts"])


def test_playbook_reading_the_hostvars_does_not_run_the_tag(tagged, fresh_sim):
    run = run_playbook("""
    - hosts: all
      gather_facts: false
      tasks:
        - name: owner tag
          ansible.builtin.debug:
            msg: "{{ azure_tags.owner }}"
        - name: owner through hostvars
          ansible.builtin.debug:
            msg: "{{ hostvars[inventory_hostname]['azure_tags'] }}"
        - name: composed
          ansible.builtin.debug:
            msg: "{{ owner_copy }}|{{ owner_joined }}"
        - name: group names
          ansible.builtin.debug:
            msg: "{{ group_names }}"
        - name: set_fact from the tag
          ansible.builtin.set_fact:
            copied: "{{ azure_tags }}"
        - name: copied
          ansible.builtin.debug:
            msg: "{{ copied.owner }}"
    """, sim_env=fresh_sim.env, inventory=str(tagged["config"]))
    assert run.rc == 0, run.stdout + run.stderr
    assert not tagged["marker"].exists(), "a VM tag ran as a template in a play"
    owner = tagged["owner"]
    assert run.task("owner tag")["result"]["msg"] == owner
    assert plain(run.task("owner through hostvars")["result"]["msg"]) == tagged["tags"]
    assert run.task("composed")["result"]["msg"] == owner + "|owner=" + owner
    assert run.task("copied")["result"]["msg"] == owner
    groups = plain(run.task("group names")["result"]["msg"])
    assert "owned" in groups
    assert any(name.startswith("owner_") for name in groups)


@pytest.fixture
def tagged_image(fresh_sim, tmp_path):
    marker = tmp_path / "injected"
    seed = Seeder(fresh_sim)
    seed.group("rg-unsafe-img")
    image = seed.call("PUT", seed.rg_path("rg-unsafe-img") + "/providers/Microsoft.Compute/images/img-tagged",
                      "2024-07-01", {"location": "eastus", "tags": {"owner": payload(marker)}, "properties": {
                          "hyperVGeneration": "V2", "storageProfile": {"osDisk": {
                              "osType": "Linux", "osState": "Generalized", "diskSizeGB": 30, "caching": "ReadWrite",
                              "blobUri": "https://goldenstore01.blob.core.windows.net/vhds/ubuntu-os.vhd"}}}})["id"]
    seed.finish()
    return {"marker": marker, "image": image, "owner": payload(marker)}


def test_lookup_returns_azure_text_unsafe(tagged_image, fresh_sim):
    image = tagged_image["image"]
    run = run_playbook("""
    - hosts: localhost
      gather_facts: false
      vars:
        details: "{{ lookup('goldenimage.azure.marketplace_image', image_id, location='eastus') }}"
      tasks:
        - name: tag through a var
          ansible.builtin.debug:
            msg: "{{ details.tags.owner }}"
        - name: field
          ansible.builtin.debug:
            msg: "{{ lookup('goldenimage.azure.marketplace_image', image_id, location='eastus', field='tags.owner') }}"
        - name: allow_unsafe does not make Azure data a template
          ansible.builtin.debug:
            msg: "{{ query('goldenimage.azure.marketplace_image', image_id, location='eastus', allow_unsafe=True)[0].tags.owner }}"
        - name: set_fact with allow_unsafe
          ansible.builtin.set_fact:
            kept: "{{ query('goldenimage.azure.marketplace_image', image_id, location='eastus', allow_unsafe=True) }}"
        - name: kept
          ansible.builtin.debug:
            msg: "{{ kept[0].tags.owner }}"
    """, sim_env=fresh_sim.env, extra_vars={"image_id": image})
    assert run.rc == 0, run.stdout + run.stderr
    assert not tagged_image["marker"].exists(), "an image tag ran as a template"
    for task in ("tag through a var", "field", "allow_unsafe does not make Azure data a template", "kept"):
        assert run.task(task)["result"]["msg"] == tagged_image["owner"], task


def test_lookup_keeps_a_marketplace_plan_name_literal(fresh_sim, tmp_path):
    marker = tmp_path / "injected"
    with open(os.path.join(ROOT, "azsim", "data", "catalog.json"), encoding="utf-8") as handle:
        catalog = json.load(handle)
    catalog["publishers"]["Evil"] = {
        "locations": ["eastus"],
        "properties": {"osDiskImage": {"operatingSystem": "Linux", "sizeInGb": 30},
                       "hyperVGeneration": "V2", "architecture": "x64"},
        "offers": {"evil-offer": {"skus": {"evil-sku": {"versions": {"1.0.0": {"properties": {
            "plan": {"name": payload(marker), "publisher": "evil", "product": "evil-offer"}}}}}}}},
    }
    fresh_sim.admin.post("catalog", catalog)
    try:
        run = run_playbook("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: plan name
              ansible.builtin.debug:
                msg: "{{ query('goldenimage.azure.marketplace_image', 'Evil:evil-offer:evil-sku:latest',
                         location='eastus', allow_unsafe=True)[0].plan.name }}"
            - name: plan kept in a fact
              ansible.builtin.set_fact:
                evil: "{{ query('goldenimage.azure.marketplace_image', 'Evil:evil-offer:evil-sku:latest',
                          location='eastus', allow_unsafe=True)[0] }}"
            - name: plan name from the fact
              ansible.builtin.debug:
                msg: "{{ evil.plan.name }}"
        """, sim_env=fresh_sim.env)
    finally:
        fresh_sim.admin.delete("catalog")
    assert run.rc == 0, run.stdout + run.stderr
    assert not marker.exists(), "a Marketplace plan name ran as a template"
    assert run.task("plan name")["result"]["msg"] == payload(marker)
    assert run.task("plan name from the fact")["result"]["msg"] == payload(marker)
