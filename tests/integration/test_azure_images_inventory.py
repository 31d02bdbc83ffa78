"""The goldenimage.azure.azure_images inventory plugin: real ``ansible-inventory``/``ansible-playbook`` runs
against a simulator holding VMs built from Marketplace (current and older versions), a managed image and a
gallery (definition = latest, and an older version), running, deallocated and generalized.

Assertions read the JSON of ``ansible-inventory --list``, the ``--graph`` tree, task results and the
simulator's request log.
"""

from __future__ import annotations

import datetime
import os
import re
import textwrap

import pytest

from tests.harness import ROOT, run_playbook
from tests.integration.test_azure_images_inventory_helpers import Seeder, ansible_inventory

SUB2 = "00000000-0000-4000-8000-000000000002"
UBUNTU = "Canonical:ubuntu-24_04-lts:server"


def plain(value):
    """ansible-inventory's JSON marks cloud strings as untrusted ({"__ansible_unsafe": ...}); unwrap them."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def days(newer, older):
    return (datetime.date(*newer) - datetime.date(*older)).days


@pytest.fixture
def world(fresh_sim):
    """Nine VMs in two subscriptions, three locations of image sources, every state the plugin reports."""
    seed = Seeder(fresh_sim)
    seed.group("rg-inv")
    seed.group("rg-west", "westus2")
    subnet = seed.vnet("rg-inv", "vnet")
    west_subnet = seed.vnet("rg-west", "vnet-west", "westus2", prefix="10.1")
    image = seed.managed_image("rg-inv", "img-golden")
    definition = seed.gallery("rg-inv", "golden_gallery", "ubuntu-golden")
    seed.gallery_version(definition, "1.0.0", image)
    seed.gallery_version(definition, "1.1.0", image)
    seed.gallery_version(definition, "1.2.0", image, exclude_from_latest=True)  # not what "latest" picks
    prod = {"environment": "prod"}
    vms = [
        # name, image, tags, public IP
        ("web-current", UBUNTU + ":latest", dict(prod, role="web"), True),
        ("web-old", UBUNTU + ":24.04.202410170", dict(prod, role="web"), True),
        ("rhel-old", "RedHat:RHEL:8-lvm-gen2:8.9.2024022012", prod, False),
        ("from-image", image, prod, False),
        ("gal-latest", definition, {"environment": "staging"}, False),
        ("gal-old", definition + "/versions/1.0.0", prod, False),
        ("golden-build", "Debian:debian-12:12-gen2:0.20241111.1927", {"goldenimage-temporary": "true"}, False),
    ]
    for name, source, tags, public in vms:
        pip = seed.public_ip("rg-inv", name + "-ip") if public else None
        seed.vm("rg-inv", name, seed.nic("rg-inv", name + "-nic", subnet, public_ip_id=pip), source, tags=tags)
    seed.vm("rg-west", "west-1", seed.nic("rg-west", "west-1-nic", west_subnet, "westus2"),
            "Debian:debian-12:12:latest", location="westus2", size="Standard_D2ds_v5", tags=prod)
    seed.finish()
    seed.vm_action("rg-inv", "rhel-old", "deallocate")
    seed.vm_action("rg-inv", "golden-build", "deallocate")
    seed.vm_action("rg-inv", "golden-build", "generalize")
    # a second subscription with a VM of the same name as one in the first
    seed.group("rg-two", sub=SUB2)
    two_subnet = seed.vnet("rg-two", "vnet-two", prefix="10.2", sub=SUB2)
    seed.vm("rg-two", "web-current", seed.nic("rg-two", "web-two-nic", two_subnet, sub=SUB2), UBUNTU + ":latest",
            tags=prod, sub=SUB2)
    seed.finish()
    return {"seed": seed, "definition": definition, "image": image}


def write(tmp_path, text, name="test.azure_images.yml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def inventory_list(sim, path, *args, env=None):
    rc, data, out, err = ansible_inventory(sim.env, path, "--list", *args, env=env)
    assert rc == 0, out + err
    return plain(data)


def members(data, group):
    return sorted(data.get(group, {}).get("hosts", []))


def arm_requests(sim, since):
    return [item for item in sim.admin.requests(since) if item["kind"] == "arm"]


def graph(text):
    """``ansible-inventory --graph`` -> {group: set of direct members (hosts and @groups)}."""
    tree, stack = {}, []
    for line in text.splitlines():
        if line.startswith("@"):
            stack = [line.strip().rstrip(":")]
            tree.setdefault(stack[0], set())
            continue
        match = re.match(r"^([ |]*)\|--(.+)$", line)
        if not match:
            continue
        depth = len(match.group(1)) // 3 + 1
        name = match.group(2).rstrip(":") if match.group(2).startswith("@") else match.group(2)
        stack = stack[:depth]
        tree.setdefault(stack[-1], set()).add(name)
        if name.startswith("@"):
            tree.setdefault(name, set())
            stack.append(name)
    return tree


# -- hostvars and default groups -------------------------------------------------------------------------

def test_list_reports_each_vm_image_and_drift(world, fresh_sim, tmp_path):
    path = write(tmp_path, "plugin: goldenimage.azure.azure_images\n")
    since = fresh_sim.admin.last_seq()
    data = inventory_list(fresh_sim, path)
    hosts = data["_meta"]["hostvars"]
    assert sorted(hosts) == ["from-image", "gal-latest", "gal-old", "golden-build", "rhel-old", "web-current",
                             "web-old", "west-1"]

    web_old = hosts["web-old"]
    assert web_old["image_source"]["kind"] == "marketplace"
    assert web_old["image_source"]["urn"] == UBUNTU + ":24.04.202410170"
    assert web_old["image_source"]["version"] == "24.04.202410170"
    assert web_old["image_latest"]["version"] == "24.04.202411200"
    assert web_old["image_latest"]["urn"] == UBUNTU + ":24.04.202411200"
    assert (web_old["image_status"], web_old["image_outdated"], web_old["versions_behind"]) == ("outdated", True, 2)
    assert web_old["days_older"] == days((2024, 11, 20), (2024, 10, 17))
    assert web_old["image_published_date"] == "2024-10-17"

    current = hosts["web-current"]
    assert current["image_source"]["requested_version"] == "latest"
    assert current["image_source"]["version"] == "24.04.202411200"  # imageReference.exactVersion
    assert (current["image_status"], current["image_outdated"], current["versions_behind"],
            current["days_older"]) == ("current", False, 0, 0)

    rhel = hosts["rhel-old"]  # numeric order: 8.10 is newer than 8.9
    assert rhel["image_latest"]["version"] == "8.10.2025010210"
    assert (rhel["image_outdated"], rhel["versions_behind"]) == (True, 2)
    assert rhel["days_older"] == days((2025, 1, 2), (2024, 2, 20))
    assert (rhel["azure_power_state"], rhel["azure_generalized"]) == ("deallocated", False)

    build = hosts["golden-build"]
    assert (build["azure_power_state"], build["azure_generalized"]) == ("deallocated", True)
    assert (build["versions_behind"], build["days_older"]) == (1, days((2024, 12, 1), (2024, 11, 11)))

    gal_old = hosts["gal-old"]
    assert gal_old["image_source"]["kind"] == "gallery_image"
    assert gal_old["image_source"]["requested_version"] == "1.0.0"
    assert gal_old["image_source"]["definition_id"] == world["definition"]
    # 1.2.0 is excluded from latest: the newest is 1.1.0, one version ahead
    assert gal_old["image_latest"]["version"] == "1.1.0"
    assert gal_old["image_latest"]["id"] == world["definition"] + "/versions/1.1.0"
    assert (gal_old["image_outdated"], gal_old["versions_behind"], gal_old["days_older"]) == (True, 1, 0)
    gal_latest = hosts["gal-latest"]
    assert (gal_latest["image_source"]["requested_version"], gal_latest["image_source"]["version"]) == ("latest",
                                                                                                      "1.1.0")
    assert gal_latest["image_status"] == "current"

    managed = hosts["from-image"]
    assert managed["image_source"]["kind"] == "managed_image"
    assert managed["image_source"]["id"] == world["image"]
    assert (managed["image_status"], managed["image_outdated"], managed["image_latest"],
            managed["versions_behind"]) == ("unversioned", False, None, None)

    # VM facts: power state, temporary disk of the size, OS disk SKU from the VM body
    assert current["azure_power_state"] == "running" and current["azure_generalized"] is False
    assert current["azure_vm_size"] == "Standard_D2s_v5" and current["azure_temp_disk"] is False
    assert hosts["west-1"]["azure_temp_disk"] is True  # Standard_D2ds_v5
    assert hosts["west-1"]["azure_location"] == "westus2"
    assert current["azure_os_disk"]["sku"] == "Premium_LRS" and current["azure_os_disk"]["size_gb"] == 30
    assert current["azure_os_disk"]["tier"] is None  # disk_details is off
    assert current["azure_tags"] == {"environment": "prod", "role": "web"}
    assert current["ansible_host"] == "web-current"  # default preference [name]: no network request

    # default groups
    assert members(data, "image_outdated") == ["gal-old", "golden-build", "rhel-old", "web-old"]
    assert members(data, "image_current") == ["gal-latest", "web-current", "west-1"]
    assert members(data, "image_unversioned") == ["from-image"]
    assert members(data, "image_canonical_ubuntu_24_04_lts_server") == ["web-current", "web-old"]
    assert members(data, "image_redhat_rhel_8_lvm_gen2") == ["rhel-old"]
    assert members(data, "image_golden_gallery_ubuntu_golden") == ["gal-latest", "gal-old"]
    assert members(data, "image_img_golden") == ["from-image"]

    # cost: one VM list (status included), 2 reads per Marketplace SKU and location, 1 per gallery
    # definition, 1 vmSizes per location; no per-VM request, no network list
    paths = [item["path"] for item in arm_requests(fresh_sim, since)]
    assert len(paths) == len(set(paths)), paths  # every source read once
    assert [path for path in paths if path.endswith("/virtualMachines")] == [
        f"/subscriptions/{fresh_sim.subscription_id}/providers/Microsoft.Compute/virtualMachines"]
    assert not [path for path in paths if "/virtualMachines/" in path or "Microsoft.Network" in path
                or "/disks" in path or "/images/img-golden" in path]
    assert len([path for path in paths if path.endswith("/versions")]) == 5  # 4 Marketplace SKUs + 1 definition
    assert len([path for path in paths if path.endswith("/vmSizes")]) == 2
    assert len(paths) == 1 + 4 * 2 + 1 + 2


def test_graph_shows_the_groups(world, fresh_sim, tmp_path):
    path = write(tmp_path, "plugin: goldenimage.azure.azure_images\n")
    rc, _, out, err = ansible_inventory(fresh_sim.env, path, "--graph")
    assert rc == 0, out + err
    tree = graph(out)
    assert {"@image_outdated", "@image_current", "@image_unversioned",
            "@image_canonical_ubuntu_24_04_lts_server"} <= tree["@all"]
    assert tree["@image_outdated"] == {"gal-old", "golden-build", "rhel-old", "web-old"}
    assert tree["@image_debian_debian_12_12_gen2"] == {"golden-build"}


# -- filters, subscriptions, resource groups --------------------------------------------------------------

def test_filters_by_tags_power_state_location_and_exclusions(world, fresh_sim, tmp_path):
    path = write(tmp_path, """
        plugin: goldenimage.azure.azure_images
        tags:
          environment: [prod, production]
        exclude_tags:
          role: web
        power_states: [running]
        locations: [East US]
    """)
    data = inventory_list(fresh_sim, path)
    assert sorted(data["_meta"]["hostvars"]) == ["from-image", "gal-old"]

    path = write(tmp_path, """
        plugin: goldenimage.azure.azure_images
        tags:
          goldenimage-temporary:
    """)
    assert sorted(inventory_list(fresh_sim, path)["_meta"]["hostvars"]) == ["golden-build"]


def test_resource_groups_and_several_subscriptions(world, fresh_sim, tmp_path):
    path = write(tmp_path, """
        plugin: goldenimage.azure.azure_images
        subscriptions: [%s, %s]
        resource_groups: [rg-west, rg-two]
    """ % (fresh_sim.subscription_id, SUB2))
    since = fresh_sim.admin.last_seq()
    data = inventory_list(fresh_sim, path)
    hosts = data["_meta"]["hostvars"]
    assert sorted(hosts) == ["web-current", "west-1"]
    assert hosts["web-current"]["azure_subscription_id"] == SUB2
    assert hosts["web-current"]["image_status"] == "current"
    # one list per subscription and group (with the instance views); rg-west exists only in the first
    # subscription and rg-two only in the second: a group missing from some subscriptions is fine
    lists = {(item["path"].split("/")[2], item["path"].split("/")[4]): (item["status"], item["query"].get("$expand"))
             for item in arm_requests(fresh_sim, since) if item["path"].endswith("/virtualMachines")}
    sub = fresh_sim.subscription_id
    assert lists == {(sub, "rg-west"): (200, "instanceView"), (sub, "rg-two"): (404, "instanceView"),
                     (SUB2, "rg-west"): (404, "instanceView"), (SUB2, "rg-two"): (200, "instanceView")}

    # the same VM name in two subscriptions: the second one is told apart by its resource group;
    # the subscriptions option alone is enough (no subscription in the credentials' settings)
    path = write(tmp_path, "plugin: goldenimage.azure.azure_images\nsubscriptions: [%s, %s]\n"
                 % (fresh_sim.subscription_id, SUB2))
    hosts = inventory_list(fresh_sim, path, env={"AZURE_SUBSCRIPTION_ID": ""})["_meta"]["hostvars"]
    assert hosts["web-current"]["azure_subscription_id"] == fresh_sim.subscription_id
    assert hosts["web-current_rg-two"]["azure_subscription_id"] == SUB2
    assert len(hosts) == 9


# -- constructed features and addresses ---------------------------------------------------------------------

def test_keyed_groups_compose_and_groups(world, fresh_sim, tmp_path):
    path = write(tmp_path, """
        plugin: goldenimage.azure.azure_images
        default_groups: false
        keyed_groups:
          - key: azure_power_state
            prefix: power
          - key: image_source.kind
            prefix: source
        groups:
          far_behind: versions_behind is not none and versions_behind >= 2
          generalized: azure_generalized
        compose:
          ansible_user: "'azureuser'"
          drift_label: image_status ~ '/' ~ (versions_behind | string)
    """)
    data = inventory_list(fresh_sim, path)
    assert not [group for group in data if group.startswith("image_")]
    assert members(data, "power_deallocated") == ["golden-build", "rhel-old"]
    assert members(data, "source_gallery_image") == ["gal-latest", "gal-old"]
    assert members(data, "source_managed_image") == ["from-image"]
    assert members(data, "far_behind") == ["rhel-old", "web-old"]
    assert members(data, "generalized") == ["golden-build"]
    hosts = data["_meta"]["hostvars"]
    assert hosts["web-old"]["ansible_user"] == "azureuser"
    assert hosts["web-old"]["drift_label"] == "outdated/2"


def test_ansible_host_from_network_lists(world, fresh_sim, tmp_path):
    path = write(tmp_path, """
        plugin: goldenimage.azure.azure_images
        ansible_host_preference: [public_ip, private_ip]
        hostnames: [computer_name, name]
        disk_details: true
    """)
    since = fresh_sim.admin.last_seq()
    hosts = inventory_list(fresh_sim, path)["_meta"]["hostvars"]
    pips = {item["name"]: item["properties"]["ipAddress"]
            for item in fresh_sim.admin.resources("Microsoft.Network/publicIPAddresses")}
    assert hosts["web-old"]["ansible_host"] == hosts["web-old"]["azure_public_ip"] == pips["web-old-ip"]
    assert hosts["web-old"]["azure_public_fqdn"] == "web-old-ip.eastus.cloudapp.azure.com"
    assert hosts["rhel-old"]["azure_public_ip"] is None
    assert hosts["rhel-old"]["ansible_host"] == hosts["rhel-old"]["azure_private_ip"]
    assert re.match(r"^10\.0\.\d+\.\d+$", hosts["rhel-old"]["ansible_host"])
    assert hosts["west-1"]["azure_private_ip"].startswith("10.1.")
    # disk_details: the tier and state come from one disk list
    assert hosts["web-old"]["azure_os_disk"]["tier"] == "P4"
    assert hosts["rhel-old"]["azure_os_disk"]["state"] == "Reserved"
    paths = [item["path"] for item in arm_requests(fresh_sim, since)]
    sub = fresh_sim.subscription_id
    for listed in ("Microsoft.Network/networkInterfaces", "Microsoft.Network/publicIPAddresses",
                   "Microsoft.Compute/disks"):
        assert paths.count(f"/subscriptions/{sub}/providers/{listed}") == 1
    assert not [path for path in paths if re.search(r"/(networkInterfaces|publicIPAddresses|disks)/", path)]


# -- the inventory cache ----------------------------------------------------------------------------------------

def test_cache_hit_makes_no_request_and_flush_cache_refreshes(world, fresh_sim, tmp_path):
    cache_dir = tmp_path / "cache"
    path = write(tmp_path, f"""
        plugin: goldenimage.azure.azure_images
        cache: true
        cache_plugin: ansible.builtin.jsonfile
        cache_connection: {cache_dir}
        cache_timeout: 3600
    """)
    first = inventory_list(fresh_sim, path)
    assert first["_meta"]["hostvars"]["web-current"]["azure_power_state"] == "running"
    [entry] = list(cache_dir.iterdir())
    stamp = entry.stat().st_mtime_ns, entry.read_bytes()

    world["seed"].vm_action("rg-inv", "web-current", "deallocate")
    since = fresh_sim.admin.last_seq()
    cached = inventory_list(fresh_sim, path)
    assert fresh_sim.admin.requests(since) == []  # no ARM request, not even a token
    assert cached == first  # the cached records (web-current still shown running)
    assert (entry.stat().st_mtime_ns, entry.read_bytes()) == stamp  # a hit is not written back: no longer TTL

    # keyed/constructed options are applied to cached records too
    path.write_text(path.read_text() + "groups:\n  behind: image_outdated\n")
    regrouped = inventory_list(fresh_sim, path)
    assert fresh_sim.admin.requests(since) == []
    assert members(regrouped, "behind") == ["gal-old", "golden-build", "rhel-old", "web-old"]

    flushed = inventory_list(fresh_sim, path, "--flush-cache")
    assert arm_requests(fresh_sim, since)
    assert flushed["_meta"]["hostvars"]["web-current"]["azure_power_state"] == "deallocated"
    since = fresh_sim.admin.last_seq()
    again = inventory_list(fresh_sim, path)
    assert fresh_sim.admin.requests(since) == []
    assert again["_meta"]["hostvars"]["web-current"]["azure_power_state"] == "deallocated"


def test_a_changed_filter_does_not_reuse_another_query_cache(world, fresh_sim, tmp_path):
    cache_dir = tmp_path / "cache"
    text = f"""
        plugin: goldenimage.azure.azure_images
        cache: true
        cache_plugin: ansible.builtin.jsonfile
        cache_connection: {cache_dir}
    """
    path = write(tmp_path, text)
    assert len(inventory_list(fresh_sim, path)["_meta"]["hostvars"]) == 8
    path = write(tmp_path, textwrap.dedent(text) + "power_states: [deallocated]\n")
    since = fresh_sim.admin.last_seq()
    assert sorted(inventory_list(fresh_sim, path)["_meta"]["hostvars"]) == ["golden-build", "rhel-old"]
    assert arm_requests(fresh_sim, since)


# -- the examples -----------------------------------------------------------------------------------------------

def test_example_inventory_and_outdated_hosts_playbook(world, fresh_sim):
    run = run_playbook(os.path.join(ROOT, "examples", "playbooks", "list-outdated-hosts.yml"), sim_env=fresh_sim.env,
                       inventory=os.path.join(ROOT, "examples", "inventory", "prod.azure_images.yml"))
    assert run.rc == 0, run.stdout + run.stderr
    summary = run.task("Summary")["result"]["msg"]
    # environment prod only, build VMs (goldenimage-temporary) left out; most versions behind first
    assert sorted(summary["outdated"]) == ["gal-old", "rhel-old", "web-old"]
    assert summary["outdated"][-1] == "gal-old"
    assert sorted(summary["versions_behind"], reverse=True) == summary["versions_behind"] == [2, 2, 1]
    assert sorted(summary["current"]) == ["web-current", "west-1"]
    assert summary["unversioned"] == ["from-image"]
    assert summary["newest_base_image"] == UBUNTU + ":24.04.202411200"
    shown = run.task("Show each outdated host")["result"]["results"]
    assert [item["item"]["inventory_hostname"] for item in shown] == summary["outdated"]


# -- bad configuration ------------------------------------------------------------------------------------------

def failure(sim, path, env=None):
    rc, _, out, err = ansible_inventory(sim.env if env is None else env, path, "--list")
    assert rc != 0, out
    assert "Traceback" not in err
    return " ".join(err.split())


def test_unknown_option_is_named(fresh_sim, tmp_path):
    path = write(tmp_path, "plugin: goldenimage.azure.azure_images\nsubscription: abc\npower_state: [running]\n")
    message = failure(fresh_sim, path)
    assert "unknown options power_state, subscription" in message
    assert fresh_sim.admin.requests() == []


def test_bad_choice_and_bad_concurrency(fresh_sim, tmp_path):
    assert "sleeping" in failure(fresh_sim, write(tmp_path, "plugin: goldenimage.azure.azure_images\n"
                                                            "power_states: [sleeping]\n"))
    assert "max_concurrency must be between 1 and" in failure(
        fresh_sim, write(tmp_path, "plugin: goldenimage.azure.azure_images\nmax_concurrency: 0\n"))


def test_missing_subscription(fresh_sim, tmp_path):
    env = {key: value for key, value in fresh_sim.env.items() if key != "AZURE_SUBSCRIPTION_ID"}
    message = failure(fresh_sim, write(tmp_path, "plugin: goldenimage.azure.azure_images\n"),
                      env=dict(env, AZURE_SUBSCRIPTION_ID=""))
    assert "no subscription to list" in message and "AZURE_SUBSCRIPTION_ID" in message


def test_bad_credentials(fresh_sim, tmp_path):
    message = failure(fresh_sim, write(tmp_path, "plugin: goldenimage.azure.azure_images\n"),
                      env=dict(fresh_sim.env, AZURE_CLIENT_SECRET="not-the-secret"))
    assert "AADSTS7000215" in message
    assert "not-the-secret" not in message
    assert arm_requests(fresh_sim, 0) == []


def test_unknown_resource_group(fresh_sim, tmp_path):
    message = failure(fresh_sim, write(tmp_path, "plugin: goldenimage.azure.azure_images\n"
                                                 "resource_groups: [rg-nowhere]\n"))
    assert "list VMs of resource group rg-nowhere: Resource group 'rg-nowhere' could not be found" in message


def test_a_source_without_usable_versions_is_unknown_not_fatal(fresh_sim, tmp_path):
    seed = Seeder(fresh_sim)
    seed.group("rg-inv")
    subnet = seed.vnet("rg-inv", "vnet")
    image = seed.managed_image("rg-inv", "img-golden")
    definition = seed.gallery("rg-inv", "golden_gallery", "retired")
    seed.gallery_version(definition, "1.0.0", image)
    seed.vm("rg-inv", "gal-vm", seed.nic("rg-inv", "gal-nic", subnet), definition + "/versions/1.0.0")
    seed.vm("rg-inv", "web", seed.nic("rg-inv", "web-nic", subnet), UBUNTU + ":latest")
    seed.finish()
    # every version is now excluded from latest: there is no newest version to compare with
    seed.call("PATCH", definition + "/versions/1.0.0", "2024-03-03",
              {"properties": {"publishingProfile": {"excludeFromLatest": True}}})
    seed.finish()
    data = inventory_list(fresh_sim, write(tmp_path, "plugin: goldenimage.azure.azure_images\n"))
    hosts = data["_meta"]["hostvars"]
    assert hosts["gal-vm"]["image_status"] == "unknown"
    assert (hosts["gal-vm"]["image_outdated"], hosts["gal-vm"]["versions_behind"]) == (False, None)
    assert "no version usable in eastus" in hosts["gal-vm"]["image_error"]
    assert hosts["gal-vm"]["image_source"]["version"] == "1.0.0"
    assert members(data, "image_unknown") == ["gal-vm"]
    assert hosts["web"]["image_status"] == "current"


def test_throttled_reads_are_retried(world, fresh_sim, tmp_path):
    """429s (azure#659: inventories of large subscriptions) are retried after Retry-After, not fatal."""
    fresh_sim.admin.faults([
        {"method": "GET", "path": "/providers/Microsoft.Compute/virtualMachines$", "status": 429, "times": 1},
        {"method": "GET", "path": "/skus/server/versions$", "status": 429, "times": 1},
    ])
    since = fresh_sim.admin.last_seq()
    data = inventory_list(fresh_sim, write(tmp_path, "plugin: goldenimage.azure.azure_images\n"))
    assert data["_meta"]["hostvars"]["web-old"]["versions_behind"] == 2
    statuses = [item["status"] for item in arm_requests(fresh_sim, since) if item["path"].endswith("/virtualMachines")]
    assert statuses == [429, 200]


def test_a_failing_network_list_leaves_addresses_null(world, fresh_sim, tmp_path):
    # a final answer (the identity may not read the network); a transient one would be retried away
    fresh_sim.admin.faults([{"method": "GET", "path": "/providers/Microsoft.Network/networkInterfaces$",
                             "status": 403, "code": "AuthorizationFailed", "times": 1}])
    path = write(tmp_path, "plugin: goldenimage.azure.azure_images\nansible_host_preference: [public_ip, name]\n")
    hosts = inventory_list(fresh_sim, path)["_meta"]["hostvars"]
    assert len(hosts) == 8
    assert hosts["web-old"]["azure_public_ip"] is None
    assert hosts["web-old"]["ansible_host"] == "web-old"  # the next preference
    assert hosts["web-old"]["image_status"] == "outdated"
