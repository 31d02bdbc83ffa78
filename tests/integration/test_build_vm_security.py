"""Security findings of issue 10 on the build environment, reproduced against the simulator (real ansible-playbook):
safe build ids, deletion only with both tags and this run's id, an NSG that is never open to everyone by default,
and the pinned SSH host key handed to the guest through custom data."""

from __future__ import annotations

import base64
import json
import sys

import pytest

from localguest.image import cloud_config_host_keys
from tests.harness import ensure_collection_path
from tests.integration.test_build_vm import URN, _in_group, _play, ssh_key  # noqa: F401 (fixture)

sys.path.insert(0, ensure_collection_path())  # ansible_collections.goldenimage.azure -> this repository

from ansible_collections.goldenimage.azure.plugins.module_utils._build_vm import host_key_custom_data  # noqa: E402

SOURCES = "allowed_sources: [203.0.113.7/32]"


def _writes(sim):
    return [r for r in sim.admin.requests()
            if r["path"].lower().startswith("/subscriptions/") and r["method"] in ("PUT", "POST", "PATCH", "DELETE")]


def _group_id(sim, name):
    return f"/subscriptions/{sim.subscription_id}/resourceGroups/{name}"


@pytest.mark.parametrize("build_id", ["../../victim", ".", "..", "a/b", "x.", "-x"])
def test_unsafe_build_ids_are_refused_before_any_write(play, fresh_sim, ssh_key, build_id):  # noqa: F811
    for state in ("present", "absent"):
        run = play(_play(f"""
state: {state}
build_id: "{build_id}"
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
{SOURCES}
"""))
        assert run.rc != 0
        assert "build_id" in run.task("build")["result"]["msg"]
    assert _writes(fresh_sim) == []


def test_absent_without_build_id_is_refused_and_deletes_nothing(play, fresh_sim, resources):
    resources.resource_groups.create_or_update("gi-marked", {"location": "westeurope",
                                                             "tags": {"goldenimage-temporary": "true"}})
    run = play(_play("""
state: absent
resource_group: gi-marked
"""))
    assert run.rc != 0
    assert "build_id is required" in run.task("build")["result"]["msg"]
    # Tagged only goldenimage-temporary=true (anyone who may write a tag can do that): never deleted.
    other = play(_play("""
state: absent
build_id: someone
resource_group: gi-marked
"""))
    assert other.rc != 0
    assert "goldenimage-build-id" in other.task("build")["result"]["msg"]
    assert fresh_sim.admin.resource(_group_id(fresh_sim, "gi-marked")) is not None
    assert [r for r in _writes(fresh_sim) if r["method"] == "DELETE"] == []


def test_a_run_deletes_only_its_own_group(play, fresh_sim, ssh_key):  # noqa: F811
    created = play(_play(f"""
build_id: reused
run_id: run-a
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
{SOURCES}
"""))
    assert created.rc == 0, created.stdout
    group = fresh_sim.admin.resource(_group_id(fresh_sim, "gi-build-reused"))
    assert group["tags"]["goldenimage-run-id"] == "run-a"
    assert {r.get("tags", {}).get("goldenimage-run-id") for r in _in_group(fresh_sim, "gi-build-reused")
            if r["type"].lower() != "microsoft.compute/disks"} == {"run-a"}

    # A second run with the same build id neither takes the group over nor deletes it.
    second = play(_play(f"""
build_id: reused
run_id: run-b
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
{SOURCES}
"""))
    assert second.rc != 0
    assert "another run" in second.task("build")["result"]["msg"]
    foreign = play(_play("""
state: absent
build_id: reused
run_id: run-b
"""))
    assert foreign.rc != 0
    assert "another run" in foreign.task("build")["result"]["msg"]
    assert fresh_sim.admin.resource(_group_id(fresh_sim, "gi-build-reused")) is not None

    own = play(_play("""
state: absent
build_id: reused
run_id: run-a
wait_timeout: 120
"""))
    assert own.rc == 0, own.stdout
    assert _in_group(fresh_sim, "gi-build-reused") == []


@pytest.mark.parametrize("sources", ["['*']", "[Internet]", "[0.0.0.0/0]", "[]"])
def test_nsg_is_never_open_to_everyone_by_default(play, fresh_sim, ssh_key, sources):  # noqa: F811
    run = play(_play(f"""
build_id: open
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
allowed_sources: {sources}
"""))
    assert run.rc != 0
    assert "allowed_sources" in run.task("build")["result"]["msg"]
    assert _writes(fresh_sim) == []


def test_any_source_needs_the_explicit_opt_in(play, fresh_sim, ssh_key):  # noqa: F811
    run = play(_play(f"""
build_id: optin
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
allowed_sources: ['*']
allow_any_source: true
"""))
    assert run.rc == 0, run.stdout
    nsg = fresh_sim.admin.resource(run.task("build")["result"]["resource_ids"]["network_security_group"])
    assert nsg["properties"]["securityRules"][0]["properties"]["sourceAddressPrefix"] == "*"


def test_builder_admits_only_the_discovered_controller_address(play, fresh_sim, tmp_path):
    """No builder_allowed_sources: the role asks the "what is my IP" service (azsim: GET /_azsim/myip, exported by
    `azsim env` as GOLDENIMAGE_PUBLIC_ADDRESS_URL) and the NSG admits that address only."""
    run = play(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Build
      ansible.builtin.include_role:
        name: goldenimage.azure.builder
      vars:
        builder_build_dir: {tmp_path}/builds
        builder_location: westeurope
        builder_build_id: myip
        builder_image: "{URN}"
        builder_wait_for_connection: false
        builder_connect_timeout: 1
        builder_fail_on_error: false
""")
    assert run.rc == 0, run.stdout[-3000:]
    nsgs = fresh_sim.admin.resources("Microsoft.Network/networkSecurityGroups")
    assert [n["properties"]["securityRules"][0]["properties"]["sourceAddressPrefix"] for n in nsgs] == ["127.0.0.1/32"]


def test_builder_without_discovery_needs_the_sources(play, fresh_sim, tmp_path):
    run = play(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Build
      ansible.builtin.include_role:
        name: goldenimage.azure.builder
      vars:
        builder_build_dir: {tmp_path}/builds
        builder_location: westeurope
        builder_build_id: nodisc
        builder_image: "{URN}"
        builder_public_address_url: ""
""")
    assert run.rc != 0
    failure = run.task("goldenimage.azure.builder : Refuse builds that cannot be created (nothing was created)")
    assert "builder_allowed_sources" in failure["result"]["msg"]
    assert _writes(fresh_sim) == []


def test_builder_cleanup_refuses_path_parts_in_build_id(play, fresh_sim, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (tmp_path / "builds" / "x").mkdir(parents=True)  # so that builds/x/../../victim resolves to it
    (victim / "keep").write_text("x")
    run = play(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Clean up
      ansible.builtin.include_role:
        name: goldenimage.azure.builder
        tasks_from: cleanup
      vars:
        builder_build_dir: {tmp_path}/builds/x
        builder_cleanup_builds: [{{build_id: ../../victim}}]
""")
    assert run.rc != 0
    assert (victim / "keep").exists()
    assert _writes(fresh_sim) == []


def test_host_key_reaches_the_guest_as_cloud_config(play, fresh_sim, ssh_key, tmp_path):  # noqa: F811
    """The pinned host key goes to the VM in custom data (never in a result); the provisioning payload the guest
    pool hands to a guest carries it as a #cloud-config ssh_keys that localguest installs."""
    host_key = tmp_path / "hk"
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    private, public = host_key.read_text(), (tmp_path / "hk.pub").read_text().strip()
    payload_file = tmp_path / "payload.json"
    fresh_sim.admin.add_guest("hk-probe", "127.77.250.9", {"ssh": 22}, provision_command=[
        sys.executable, "-c", f"import sys; open({str(payload_file)!r}, 'w').write(sys.stdin.read())"])
    try:
        run = play(_play(f"""
build_id: hostkey
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
ssh_host_key:
  private_key: {json.dumps(private)}
  public_key: "{public}"
{SOURCES}
"""))
    finally:
        fresh_sim.admin.remove_guest("hk-probe")
    assert run.rc == 0, run.stdout
    assert "PRIVATE KEY" not in json.dumps(run.results) and "PRIVATE KEY" not in run.stdout
    custom = base64.b64decode(json.loads(payload_file.read_text())["custom_data"])
    assert custom.startswith(b"#cloud-config\n")
    keys = cloud_config_host_keys(custom)
    assert keys["ed25519"] == (private.strip() + "\n", public + "\n")
    assert cloud_config_host_keys(base64.b64decode(host_key_custom_data(
        {"private_key": private, "public_key": public}))) == keys


def _deletes(sim):
    return [r for r in _writes(sim) if r["method"] == "DELETE"]


@pytest.mark.parametrize("check", [True, False])
def test_scope_vm_refuses_a_users_vm_of_the_same_name(play, fresh_sim, compute, network, resources, check):
    """scope=vm names a VM gi-<build_id> in any group: one without the build's tags (a user's) is never deleted."""
    from tests.integration import lifecycle_setup as setup

    user_vm = setup.make_vm(compute, network, resources, rg="rg-user", name="gi-victim", tags={"team": "web"})
    spoofed = setup.make_vm(compute, network, resources, rg="rg-user", name="gi-spoof",
                            tags={"goldenimage-temporary": "true"})
    before = fresh_sim.admin.resources()
    for name, lacking in (("gi-victim", "goldenimage-temporary"), ("gi-spoof", "goldenimage-build-id")):
        run = play(_play(f"""
state: absent
scope: vm
build_id: {name[3:]}
resource_group: rg-user
""", check=check))
        assert run.rc != 0
        msg = run.task("build")["result"]["msg"]
        assert "refusing to delete virtual machine" in msg and lacking in msg, msg
    assert fresh_sim.admin.resource(user_vm["id"]) is not None and fresh_sim.admin.resource(spoofed["id"]) is not None
    assert fresh_sim.admin.resources() == before
    assert _deletes(fresh_sim) == []


def test_scope_vm_deletes_only_the_vm_of_this_build_and_run(play, fresh_sim, ssh_key):  # noqa: F811
    created = play(_play(f"""
build_id: own
run_id: run-a
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
{SOURCES}
"""))
    assert created.rc == 0, created.stdout
    ids = created.task("build")["result"]["resource_ids"]
    foreign = play(_play("""
state: absent
scope: vm
build_id: own
run_id: run-b
"""))
    assert foreign.rc != 0 and "goldenimage-run-id" in foreign.task("build")["result"]["msg"]
    assert fresh_sim.admin.resource(ids["virtual_machine"]) is not None and _deletes(fresh_sim) == []
    own = play(_play("""
state: absent
scope: vm
build_id: own
run_id: run-a
wait_timeout: 120
"""))
    assert own.rc == 0, own.stdout
    assert own.task("build")["result"]["changed"] is True
    assert fresh_sim.admin.resource(ids["virtual_machine"]) is None
    assert fresh_sim.admin.resource(ids["os_disk"]) is None
    assert fresh_sim.admin.resource(ids["resource_group"]) is not None
