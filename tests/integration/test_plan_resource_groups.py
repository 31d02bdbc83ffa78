"""The plan creates missing output resource groups only when asked (``create_resource_groups``), only once every
check passed, with the run's tags; without it a missing group fails naming the parameter. Through ansible-playbook
against the simulator, state asserted from its resource groups."""

from __future__ import annotations


from tests.guest import gi_build

OUT = gi_build.OUTPUT_RG


def plan(sim, builds, args=()):
    return gi_build.run_plan(sim, builds, args, tags={"team": "images"})


def groups(sim):
    return {item["name"].lower(): item for item in sim.admin.resources()
            if item["type"].lower() == "microsoft.resources/resourcegroups"}


def build(**extra):
    return dict(gi_build.image_definition("ubuntu", regions=("westeurope",)), **extra)


def test_missing_group_fails_naming_the_option(fresh_sim):
    run = plan(fresh_sim, [build()])
    assert run.rc != 0
    message = run.task("plan")["result"]["msg"]
    assert "gallery.resource_group" in message and "create_resource_groups" in message
    assert OUT.lower() not in groups(fresh_sim)


def test_groups_are_created_after_every_check_and_only_then(fresh_sim):
    bad = build(name="other", base_image="Canonical:no-such-offer:server:latest")
    refused = plan(fresh_sim, [build(create_resource_groups=True), bad])
    assert refused.rc != 0 and OUT.lower() not in groups(fresh_sim)  # another build failed: nothing created

    checked = plan(fresh_sim, [build(create_resource_groups=True)], args=["--check"])
    assert checked.rc == 0, checked.stdout
    assert checked.task("plan")["result"]["resource_groups"][0]["created"] is False
    assert OUT.lower() not in groups(fresh_sim)

    run = plan(fresh_sim, [build(create_resource_groups=True)])
    assert run.rc == 0, run.stdout
    result = run.task("plan")["result"]
    assert result["changed"] is True
    group = groups(fresh_sim)[OUT.lower()]
    assert group["location"] == "westeurope" and group["tags"] == {"team": "images"}  # an output group, not temporary

    again = plan(fresh_sim, [build(create_resource_groups=True)])
    assert again.rc == 0 and again.task("plan")["result"]["changed"] is False
