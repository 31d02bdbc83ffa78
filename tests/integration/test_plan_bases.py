"""Base images the plan must understand (issue 13): a plan image's Marketplace terms are read first, refused before
anything exists unless accept_terms, accepted only when asked, never in check mode; an Arm64 base needs an Arm64 size
and an Arm64 definition."""

from __future__ import annotations

from tests.guest import gi_build
from tests.integration.test_main_job_plan import _definition, outputs  # noqa: F401  # fixture

CIS = "center-for-internet-security-inc:cis-ubuntu-linux-2204-l1:cis-ubuntu2204-l1-gen2:latest"
AGREEMENTS = "Microsoft.MarketplaceOrdering/offertypes"
PLAN_TASK = "Plan - pin the base images and check every output before any VM is created"


def _cis_build(**extra):
    build = gi_build.image_definition("cis", regions=("westeurope",))
    build.update(base_image=CIS, location="westeurope", **extra)
    return build


def test_terms_not_accepted_fail_the_plan_naming_accept_terms(outputs, tmp_path):  # noqa: F811
    sim = outputs
    since, before = sim.admin.last_seq(), sim.admin.resources()
    run, manifest = gi_build.run_build(sim, tmp_path, builds=[_cis_build()])
    assert run.rc != 0
    (build,) = manifest["builds"]
    assert build["failed_phase"] == "plan"
    assert "accept_terms: true" in build["error"] and "MarketplaceTermsNotAccepted" in build["error"], build["error"]
    assert gi_build.writes(sim, since) == [] and sim.admin.resources() == before  # nothing was created


def test_check_mode_reports_the_acceptance_without_making_it(outputs, tmp_path):  # noqa: F811
    sim = outputs
    run, _manifest = gi_build.run_build(sim, tmp_path, builds=[_cis_build(accept_terms=True)], args=["--check"])
    assert run.rc == 0, run.stdout
    plan = run.task(PLAN_TASK)["result"]
    assert plan["changed"] is True and plan["builds"][0]["terms"]["accepted"] is True
    assert sim.admin.resources(AGREEMENTS) == []


def test_accept_terms_accepts_them_once_in_the_plan(outputs, tmp_path):  # noqa: F811
    sim = outputs
    run, _manifest = gi_build.run_build(sim, tmp_path, builds=[_cis_build(accept_terms=True)], args=["--check"],
                                        extra={"golden_image_accept_terms": True})
    assert run.rc == 0
    from tests.harness import run_playbook

    play = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: plan
      goldenimage.azure.build_plan:
        builds: "{{ builds }}"
"""
    first = run_playbook(play, sim_env=sim.env, extra_vars={"builds": [_cis_build(accept_terms=True)]})
    assert first.rc == 0, first.stdout
    assert first.task("plan")["result"]["changed"] is True
    (agreement,) = sim.admin.resources(AGREEMENTS)
    assert agreement["properties"]["accepted"] is True and agreement["name"] == "cis-ubuntu2204-l1-gen2"
    again = run_playbook(play, sim_env=sim.env, extra_vars={"builds": [_cis_build()]})
    assert again.rc == 0 and again.task("plan")["result"]["changed"] is False  # accepted: no accept_terms needed
    assert again.task("plan")["result"]["builds"][0]["vm"]["plan"]["name"] == "cis-ubuntu2204-l1-gen2"


def test_accept_terms_must_be_a_boolean(outputs, tmp_path):  # noqa: F811
    run, manifest = gi_build.run_build(outputs, tmp_path, builds=[_cis_build(accept_terms="maybe")])
    assert run.rc != 0
    assert "accept_terms must be true or false" in manifest["builds"][0]["error"]


def test_an_x64_size_for_an_arm64_base_is_refused_before_anything_exists(outputs, tmp_path):  # noqa: F811
    sim = outputs
    build = gi_build.image_definition("arm", regions=("westeurope",))
    build.update(base_image="Canonical:ubuntu-24_04-lts:server-arm64:latest", vm_size="Standard_D2s_v5")
    since, before = sim.admin.last_seq(), sim.admin.resources()
    run, manifest = gi_build.run_build(sim, tmp_path, builds=[build])
    assert run.rc != 0
    error = manifest["builds"][0]["error"]
    assert "vm_size Standard_D2s_v5 is an x64 size" in error and "Arm64" in error, error
    assert gi_build.writes(sim, since) == [] and sim.admin.resources() == before


def test_an_arm64_build_into_an_x64_definition_is_refused_before_anything_exists(outputs, compute, tmp_path):  # noqa: F811
    sim = outputs
    _definition(compute, "arm")  # x64, as a definition is without architecture
    build = gi_build.image_definition("arm", regions=("westeurope",), create_definition=False)
    build.update(base_image="Canonical:ubuntu-24_04-lts:server-arm64:latest", vm_size="Standard_D2ps_v5",
                 managed_image={})
    since, before = sim.admin.last_seq(), sim.admin.resources()
    run, manifest = gi_build.run_build(sim, tmp_path, builds=[build])
    assert run.rc != 0
    error = manifest["builds"][0]["error"]
    assert "definition 'golden/arm' is x64, but the base image" in error and "is Arm64" in error, error
    assert gi_build.writes(sim, since) == [] and sim.admin.resources() == before


def test_a_confidential_build_on_a_plain_size_is_refused_in_the_plan(outputs, tmp_path):  # noqa: F811
    sim = outputs
    build = gi_build.image_definition("cvm", regions=("westeurope",))
    build.update(security_type="ConfidentialVM", managed_image={})
    since, before = sim.admin.last_seq(), sim.admin.resources()
    run, manifest = gi_build.run_build(sim, tmp_path, builds=[build])
    assert run.rc != 0
    assert "vm_size Standard_D2s_v5 is not a confidential VM size" in manifest["builds"][0]["error"]
    assert gi_build.writes(sim, since) == [] and sim.admin.resources() == before
