"""Resource ids carry their subscription; errors tell the truth (issue 9, items 2 and 3).

Through ansible-playbook against the simulator, which serves two subscriptions (azsim settings
``subscriptions``). The rule: an id is acted on in the subscription it names, with the same credential.
"""

from __future__ import annotations


import pytest

from tests.integration import lifecycle_setup as setup
from tests.integration.test_azure_images_inventory_helpers import ansible_inventory

SUB2 = "00000000-0000-4000-8000-000000000002"
UNKNOWN_SUB = "00000000-0000-4000-8000-0000000000ff"


task_play = setup.task_play


def arm(sim, since):
    return setup.arm_requests(sim, since)


def writes(sim, since):
    return [r for r in arm(sim, since) if r["method"] in ("PUT", "PATCH", "POST", "DELETE")]


def tokens(sim, since):
    return [r for r in fresh_requests(sim, since) if r["method"] == "POST" and r["path"].endswith("/token")]


def fresh_requests(sim, since):
    return sim.admin.requests(since=since)


@pytest.fixture
def sub2_clients(credential, sdk_kwargs):
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    return (ComputeManagementClient(credential, SUB2, **sdk_kwargs),
            NetworkManagementClient(credential, SUB2, **sdk_kwargs),
            ResourceManagementClient(credential, SUB2, **sdk_kwargs))


def make_disk(compute, resources, rg="rg-disks", name="data1", sku="Standard_LRS", **props):
    resources.resource_groups.create_or_update(rg, {"location": "eastus"})
    body = {"location": "eastus", "sku": {"name": sku},
            "properties": dict({"creationData": {"createOption": "Empty"}, "diskSizeGB": 32}, **props)}
    return setup.wire(compute.disks.begin_create_or_update(rg, name, body).result())


# -- item 2: the id's subscription ---------------------------------------------------------------------------

def test_disk_tier_changes_the_disk_in_the_ids_subscription(fresh_sim, play, compute, resources, sub2_clients):
    compute2, _network2, resources2 = sub2_clients
    here = make_disk(compute, resources)
    there = make_disk(compute2, resources2)
    assert here["id"] != there["id"] and there["id"].startswith("/subscriptions/%s/" % SUB2)
    since = fresh_sim.admin.last_seq()
    run = play(task_play("disk_tier", {"id": there["id"], "sku": "StandardSSD_LRS"}, name="tier"))
    assert run.rc == 0, run.stdout
    assert run.task("tier")["result"]["changed"] is True
    assert fresh_sim.admin.resource(there["id"])["sku"]["name"] == "StandardSSD_LRS"
    assert fresh_sim.admin.resource(here["id"])["sku"]["name"] == "Standard_LRS"  # the same-named disk
    assert [w["path"].split("/")[2] for w in writes(fresh_sim, since)] == [SUB2]
    assert len(tokens(fresh_sim, since)) <= 1  # one credential, one token for both subscriptions' clients
    again = play(task_play("disk_tier", {"id": there["id"], "sku": "StandardSSD_LRS"}, name="tier"))
    assert again.rc == 0 and again.task("tier")["result"]["changed"] is False


def test_vm_generalize_acts_in_the_ids_subscription(fresh_sim, play, sub2_clients):
    compute2, network2, resources2 = sub2_clients
    vm = setup.deprovision_tag(compute2, setup.make_vm(compute2, network2, resources2))
    run = play(task_play("vm_generalize", {"id": vm["id"]}, name="gen"))
    assert run.rc == 0, run.stdout
    assert run.task("gen")["result"]["vm"]["id"].lower() == vm["id"].lower()
    assert setup.is_generalized(setup.get_vm(compute2, "rg-build", "build-vm"))


def test_image_capture_reads_a_source_id_in_its_subscription(fresh_sim, play, resources, sub2_clients):
    compute2, _network2, resources2 = sub2_clients
    disk = make_disk(compute2, resources2, name="os1", osType="Linux", hyperVGeneration="V2")
    resources.resource_groups.create_or_update("rg-images", {"location": "eastus"})
    run = play(task_play("image_capture", {"source": disk["id"],
                                           "managed_image": {"name": "img1", "resource_group": "rg-images"}},
                         name="cap"))
    assert run.rc == 0, run.stdout
    image = fresh_sim.admin.resource("/subscriptions/%s/resourceGroups/rg-images/providers/Microsoft.Compute/images/img1"
                                     % fresh_sim.subscription_id)
    assert image["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower() == disk["id"].lower()
    assert run.task("cap")["result"]["source"]["os_type"] == "Linux"


BAD_ID = "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Compute/%s"


@pytest.mark.parametrize("module, options, parameter", [
    ("disk_tier", {"id": BAD_ID % "disks/d1", "sku": "Premium_LRS"}, "id"),
    ("disk_tier", {"vm": BAD_ID % "virtualMachines/vm1", "tier": "P30"}, "vm"),
    ("vm_generalize", {"id": BAD_ID % "virtualMachines/vm1"}, "id"),
    ("image_capture", {"source": BAD_ID % "virtualMachines/vm1",
                       "managed_image": {"name": "img", "resource_group": "rg"}}, "source"),
    ("image_facts", {"image": BAD_ID % "images/img1"}, "image"),
    ("image_facts", {"gallery_image": {"id": BAD_ID % "galleries/g/images/i"}}, "gallery_image.id"),
    ("disk_tier", {"name": ["d1"], "resource_group": "rg", "sku": "Premium_LRS", "subscription_id": "nope"},
     "subscription_id"),
    ("image_facts", {"image": "RedHat:RHEL:8-lvm-gen2:latest", "location": "eastus", "subscription_id": "nope"},
     "subscription_id"),
    ("vm_generalize", {"name": "vm1", "resource_group": "rg", "subscription_id": "0000-1111"}, "subscription_id"),
    ("build_vm", {"build_id": "ids1", "location": "westeurope", "image": BAD_ID % "images/img1",
                  "ssh_public_key": "ssh-ed25519 AAAA test", "allowed_sources": ["203.0.113.7/32"]}, "image"),
    ("build_vm", {"build_id": "ids1", "location": "westeurope",
                  "image": {"id": BAD_ID % "galleries/g/images/i/versions/1.0.0"},
                  "ssh_public_key": "ssh-ed25519 AAAA test", "allowed_sources": ["203.0.113.7/32"]}, "image.id"),
    ("build_vm", {"build_id": "ids1", "location": "westeurope", "image": "Canonical:ubuntu-24_04-lts:server:24.04.1",
                  "os_type": "windows", "admin_password": "Secret-123456",
                  "winrm_certificate_url": "https://kv.vault.azure.net/secrets/winrm/1",
                  "key_vault_id": "/subscriptions/kv-sub/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
                  "allowed_sources": ["203.0.113.7/32"]}, "key_vault_id"),
    ("build_vm", {"state": "absent", "scope": "vm", "build_id": "ids1", "subscription_id": "nope"},
     "subscription_id"),
])
def test_malformed_subscription_is_refused_before_any_request(fresh_sim, play, module, options, parameter):
    since = fresh_sim.admin.last_seq()
    for check in (True, False):
        run = play(task_play(module, options, check=check))
        assert run.rc != 0
        msg = run.task("t")["result"]["msg"]
        assert msg.startswith(parameter + ": ") and "is not a subscription id (a GUID like" in msg, msg
    assert fresh_requests(fresh_sim, since) == []  # no token request, no ARM request


def test_lookup_and_inventory_refuse_a_malformed_subscription_before_any_request(fresh_sim, play, tmp_path):
    since = fresh_sim.admin.last_seq()
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: look
          ansible.builtin.debug:
            msg: "{{ lookup('goldenimage.azure.marketplace_image', image_id, location='eastus') }}"
    """, extra_vars={"image_id": BAD_ID % "images/img1"})
    assert run.rc != 0 and "is not a subscription id" in run.task("look")["result"]["msg"]
    inventory = tmp_path / "prod.azure_images.yml"
    inventory.write_text("plugin: goldenimage.azure.azure_images\nsubscriptions: [not-a-guid]\n")
    rc, _data, out, err = ansible_inventory(fresh_sim.env, inventory, "--list")
    assert rc != 0 and "subscriptions: 'not-a-guid' is not a subscription id" in out + err
    assert fresh_requests(fresh_sim, since) == []


# -- item 3: errors that tell the truth ----------------------------------------------------------------------

def test_unknown_subscription_is_reported_as_such(fresh_sim, play):
    run = play(task_play("image_facts", {"image": "RedHat:RHEL:8-lvm-gen2:latest", "location": "eastus",
                                         "subscription_id": UNKNOWN_SUB}))
    assert run.rc != 0
    result = run.task("t")["result"]
    assert result["error_code"] == "SubscriptionNotFound"
    assert UNKNOWN_SUB in result["msg"] and "No Marketplace images" not in result["msg"]
    vm_id = "/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1" % UNKNOWN_SUB
    run = play(task_play("vm_generalize", {"id": vm_id}))
    assert run.rc != 0
    result = run.task("t")["result"]
    assert result["error_code"] == "SubscriptionNotFound" and "was not found in resource group" not in result["msg"]


def test_unknown_subscription_in_the_lookup(fresh_sim, play):
    run = play("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: look
          ansible.builtin.debug:
            msg: "{{ lookup('goldenimage.azure.marketplace_image', 'RedHat:RHEL:8-lvm-gen2:latest',
                            location='eastus', subscription_id=sub) }}"
    """, extra_vars={"sub": UNKNOWN_SUB})
    assert run.rc != 0
    msg = run.task("look")["result"]["msg"]
    assert "SubscriptionNotFound" in msg and "No Marketplace images" not in msg


@pytest.mark.parametrize("module, options", [
    ("vm_generalize", {"name": "build-vm", "resource_group": "rg-missing", "force": True}),
    ("vm_generalize", {"name": "build-vm", "resource_group": "rg-missing", "state": "deprovisioned"}),
    ("disk_tier", {"vm": "build-vm", "resource_group": "rg-missing", "tier": "P30"}),
    ("disk_tier", {"name": ["data1"], "resource_group": "rg-missing", "sku": "Premium_LRS"}),
])
def test_missing_resource_group_is_reported_as_such(fresh_sim, play, module, options):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(task_play(module, options))
    assert run.rc != 0
    result = run.task("t")["result"]
    assert result["error_code"] == "ResourceGroupNotFound", result
    assert "Resource group 'rg-missing'" in result["msg"] and "was not found in resource group" not in result["msg"]
    assert writes(fresh_sim, since) == [] and fresh_sim.admin.resources() == before


@pytest.fixture
def generalized_vm(compute, network, resources):
    return setup.generalize(compute, setup.make_vm(compute, network, resources))


@pytest.mark.parametrize("check", [True, False])
def test_capture_target_in_a_missing_resource_group(fresh_sim, play, generalized_vm, check):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    run = play(task_play("image_capture", {"source": generalized_vm["id"],
                                           "managed_image": {"name": "img1", "resource_group": "rg-missing"}},
                         check=check))
    assert run.rc != 0  # check mode predicts the real run
    result = run.task("t")["result"]
    assert result["error_code"] == "ResourceGroupNotFound" and "rg-missing" in result["msg"]
    assert writes(fresh_sim, since) == [] and fresh_sim.admin.resources() == before


@pytest.mark.parametrize("check", [True, False])
def test_gallery_region_typo_names_the_closest_regions(fresh_sim, play, generalized_vm, check):
    before = fresh_sim.admin.resources()
    since = fresh_sim.admin.last_seq()
    gallery = {"name": "gal", "resource_group": "rg-build", "image": "ubuntu", "create_definition": True,
               "publisher": "contoso", "offer": "golden", "sku": "ubuntu",
               "target_regions": [{"name": "eastus"}, {"name": "westeuropa"}]}
    run = play(task_play("image_capture", {"source": generalized_vm["id"], "gallery": gallery}, check=check))
    assert run.rc != 0
    result = run.task("t")["result"]
    assert result["error_code"] == "LocationNotAvailable"
    assert result["msg"].startswith("gallery.target_regions: 'westeuropa' is not a region")
    assert "Closest regions: westeurope" in result["msg"]
    assert writes(fresh_sim, since) == [] and fresh_sim.admin.resources() == before
