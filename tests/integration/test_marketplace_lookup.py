"""The goldenimage.azure.marketplace_image lookup in plays, templates and group_vars."""

from __future__ import annotations

import textwrap


def arm_requests(sim, since=0):
    return [item for item in sim.admin.requests(since) if item["kind"] == "arm"]


def test_lookup_in_a_play(play, fresh_sim):
    since = fresh_sim.admin.last_seq()
    run = play("""
    - hosts: localhost
      gather_facts: false
      vars:
        ubuntu: "{{ lookup('goldenimage.azure.marketplace_image', 'Canonical:ubuntu-24_04-lts:server:latest', location='eastus') }}"
      tasks:
        - name: urn field
          ansible.builtin.debug:
            msg: "{{ lookup('goldenimage.azure.marketplace_image', 'RedHat:RHEL:8-lvm-gen2:latest', location='eastus', field='urn') }}"
        - name: nested field
          ansible.builtin.debug:
            msg: "{{ lookup('goldenimage.azure.marketplace_image', 'RedHat:RHEL:9-lvm-gen2:9.4.*', location='eastus', field='image_reference.version') }}"
        - name: whole dict
          ansible.builtin.debug:
            msg: "{{ ubuntu.urn }} {{ ubuntu.hyper_v_generation }} {{ ubuntu.features.security_type }}"
        - name: query several
          ansible.builtin.debug:
            msg: "{{ query('goldenimage.azure.marketplace_image', 'Debian:debian-12:12-gen2:latest', {'publisher': 'RedHat', 'offer': 'RHEL', 'sku': '8-lvm-gen2', 'version': '8.9.*'}, location='eastus', field='version') }}"
        - name: same again (cached within the run)
          ansible.builtin.debug:
            msg: "{{ lookup('goldenimage.azure.marketplace_image', 'RedHat:RHEL:8-lvm-gen2:latest', location='eastus', field='urn') }}"
    """)
    assert run.rc == 0, run.stdout + run.stderr
    assert run.task("urn field")["result"]["msg"] == "RedHat:RHEL:8-lvm-gen2:8.10.2025010210"
    assert run.task("nested field")["result"]["msg"] == "9.4.2026092611"
    assert run.task("whole dict")["result"]["msg"] == (
        "Canonical:ubuntu-24_04-lts:server:24.04.202411200 V2 TrustedLaunchAndConfidentialVmSupported")
    assert run.task("query several")["result"]["msg"] == ["0.20241201.1948", "8.9.2024022012"]
    assert run.task("same again (cached within the run)")["result"]["msg"] == "RedHat:RHEL:8-lvm-gen2:8.10.2025010210"
    # RHEL 8 latest was asked twice, but read once (versions list + version GET)
    rhel8_lists = [item for item in arm_requests(fresh_sim, since) if item["path"].endswith("/8-lvm-gen2/versions")]
    rhel8_gets = [item for item in arm_requests(fresh_sim, since)
                  if item["path"].endswith("/8-lvm-gen2/versions/8.10.2025010210")]
    assert len(rhel8_gets) == 1
    assert len(rhel8_lists) == 2  # 'latest' and the '8.9.*' query are different terms


def test_lookup_in_group_vars(play, fresh_sim, tmp_path):
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.ini").write_text(textwrap.dedent("""
        [builders]
        builder1 ansible_connection=local
        builder2 ansible_connection=local
    """))
    (inventory / "group_vars" / "builders.yml").write_text(textwrap.dedent("""
        azure_location: eastus
        base_image: "{{ lookup('goldenimage.azure.marketplace_image', 'RedHat:RHEL:9-lvm-gen2:latest',
                                location=azure_location) }}"
        base_image_urn: "{{ base_image.urn }}"
    """))
    since = fresh_sim.admin.last_seq()
    run = play("""
    - hosts: builders
      gather_facts: false
      tasks:
        - name: first use
          ansible.builtin.debug:
            msg: "{{ base_image_urn }}"
        - name: second use
          ansible.builtin.debug:
            msg: "{{ base_image.image_reference }}"
    """, inventory=str(inventory), args=["--forks", "1"])
    assert run.rc == 0, run.stdout + run.stderr
    first = [item for item in run.results if item["task"] == "first use"]
    assert {item["host"] for item in first} == {"builder1", "builder2"}
    assert {item["result"]["msg"] for item in first} == {"RedHat:RHEL:9-lvm-gen2:9.8.2026052008"}
    second = [item for item in run.results if item["task"] == "second use"]
    assert all(item["result"]["msg"]["version"] == "9.8.2026052008" for item in second)
    # two hosts x two tasks, forked workers: one versions list and one version GET for the whole run
    assert len(arm_requests(fresh_sim, since)) == 2


def test_lookup_errors_are_clean(play, fresh_sim):
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: bad sku
          ansible.builtin.debug:
            msg: "{{ lookup('goldenimage.azure.marketplace_image', 'RedHat:RHEL:8-lvm-gen:latest', location='eastus') }}"
          ignore_errors: true
        - name: bad field
          ansible.builtin.debug:
            msg: "{{ lookup('goldenimage.azure.marketplace_image', 'RedHat:RHEL:8-lvm-gen2:latest', location='eastus', field='nope') }}"
          ignore_errors: true
        - name: no location
          ansible.builtin.debug:
            msg: "{{ lookup('goldenimage.azure.marketplace_image', 'RedHat:RHEL:8-lvm-gen2:latest') }}"
          ignore_errors: true
    """, env={"AZURE_LOCATION": ""})
    bad_sku = run.task("bad sku")
    assert bad_sku["status"] == "ignored"
    assert "SKU '8-lvm-gen'" in bad_sku["result"]["msg"] and "8-lvm-gen2" in bad_sku["result"]["msg"]
    assert "Traceback" not in bad_sku["result"]["msg"]
    bad_field = run.task("bad field")
    assert bad_field["status"] == "ignored" and "no field 'nope'" in bad_field["result"]["msg"]
    assert run.task("no location")["status"] == "ignored"
    assert "location" in run.task("no location")["result"]["msg"]


def test_lookup_location_from_environment(play, fresh_sim):
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: env location
          ansible.builtin.debug:
            msg: "{{ lookup('goldenimage.azure.marketplace_image', 'Debian:debian-12:12-arm64', field='architecture') }}"
    """, env={"AZURE_LOCATION": "westus2"})
    assert run.rc == 0, run.stdout + run.stderr
    assert run.task("env location")["result"]["msg"] == "Arm64"
