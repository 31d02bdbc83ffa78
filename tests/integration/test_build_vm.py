"""goldenimage.azure.build_vm against the simulator: real ansible-playbook, assertions on simulator state."""

from __future__ import annotations

import subprocess

import pytest

URN = "Canonical:ubuntu-24_04-lts:server:24.04.202411200"
BUILD_TYPES = {
    "microsoft.resources/resourcegroups",
    "microsoft.network/virtualnetworks",
    "microsoft.network/networksecuritygroups",
    "microsoft.network/publicipaddresses",
    "microsoft.network/networkinterfaces",
    "microsoft.compute/virtualmachines",
    "microsoft.compute/disks",
}


@pytest.fixture(scope="module")
def ssh_key(tmp_path_factory):
    path = tmp_path_factory.mktemp("key") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return (path.parent / "id_ed25519.pub").read_text().strip()


def _play(task_args, check=False, name="build"):
    if "state: absent" not in task_args and "allowed_sources" not in task_args:
        task_args = task_args.rstrip() + "\nallowed_sources: [203.0.113.7/32]\n"
    args = "\n".join(f"        {line}" for line in task_args.strip().splitlines())
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: {name}
      goldenimage.azure.build_vm:
{args}
      register: out
      {"check_mode: true" if check else ""}
"""


def _present(ssh_key, build_id="b1", extra=""):
    return _play(f"""
build_id: {build_id}
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
vm_size: Standard_D2s_v5
allowed_sources: [203.0.113.7/32]
tags: {{team: images}}
wait_timeout: 120
{extra}
""")


def _in_group(sim, group):
    prefix = f"/subscriptions/{sim.subscription_id}/resourcegroups/{group}".lower()
    return [r for r in sim.admin.resources() if r["id"].lower() == prefix or r["id"].lower().startswith(prefix + "/")]


def test_present_creates_the_build_environment_once(play, fresh_sim, ssh_key):
    first = play(_present(ssh_key))
    assert first.rc == 0, first.stdout
    result = first.task("build")["result"]
    assert result["changed"] is True
    assert result["resource_group"] == "gi-build-b1"
    assert result["vm_name"] == "gi-b1"
    assert result["public_ip"]
    assert result["port"] == 22
    assert result["admin_username"] == "azureuser"
    assert result["image_reference"] == {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server",
                                         "version": "24.04.202411200"}

    resources = _in_group(fresh_sim, "gi-build-b1")
    assert BUILD_TYPES <= {r["type"].lower() for r in resources}
    group = fresh_sim.admin.resource(result["resource_ids"]["resource_group"])
    assert group["tags"]["goldenimage-build-id"] == "b1"
    assert group["tags"]["goldenimage-temporary"] == "true"
    assert group["tags"]["team"] == "images"
    for key, rid in result["resource_ids"].items():
        if key == "subnet":  # stored inside its VNet
            continue
        assert fresh_sim.admin.resource(rid) is not None, rid

    nsg = fresh_sim.admin.resource(result["resource_ids"]["network_security_group"])
    rules = nsg["properties"]["securityRules"]
    assert len(rules) == 1
    rule = rules[0]["properties"]
    assert rule["destinationPortRange"] == "22" and rule["access"] == "Allow" and rule["direction"] == "Inbound"
    assert rule["sourceAddressPrefix"] == "203.0.113.7/32"

    pip = fresh_sim.admin.resource(result["resource_ids"]["public_ip"])
    assert pip["sku"]["name"] == "Standard"
    assert pip["properties"]["publicIPAllocationMethod"] == "Static"
    assert pip["properties"]["ipAddress"] == result["public_ip"]

    vm = fresh_sim.admin.resource(result["vm_id"])
    assert vm["properties"]["provisioningState"] == "Succeeded"
    assert vm["properties"]["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"] is True
    assert vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["storageAccountType"] == "Premium_LRS"
    assert fresh_sim.admin.resource(result["os_disk_id"]) is not None

    def arm_writes():
        return [r for r in fresh_sim.admin.requests()
                if r["path"].lower().startswith("/subscriptions/") and r["method"] in ("PUT", "POST", "PATCH", "DELETE")]

    writes = arm_writes()
    second = play(_present(ssh_key))
    assert second.rc == 0, second.stdout
    assert second.task("build")["result"]["changed"] is False
    assert second.task("build")["result"]["public_ip"] == result["public_ip"]
    assert len(arm_writes()) == len(writes)


def test_trusted_launch_windows_and_disk_options(play, fresh_sim):
    run = play(_play("""
build_id: win1
location: westeurope
image: MicrosoftWindowsServer:WindowsServer:2022-datacenter-g2:20348.2966.241205
os_type: windows
admin_password: "Gi-Build-Passw0rd!"
security_type: TrustedLaunch
os_disk_type: Premium_LRS
os_disk_size_gb: 256
os_disk_tier: P30
wait_timeout: 120
"""))
    assert run.rc == 0, run.stdout
    result = run.task("build")["result"]
    assert result["port"] == 5986
    assert "Gi-Build-Passw0rd!" not in run.stdout
    vm = fresh_sim.admin.resource(result["vm_id"])
    assert vm["properties"]["securityProfile"]["securityType"] == "TrustedLaunch"
    assert vm["properties"]["securityProfile"]["uefiSettings"] == {"secureBootEnabled": True, "vTpmEnabled": True}
    assert "adminPassword" not in vm["properties"]["osProfile"]
    nsg = fresh_sim.admin.resource(result["resource_ids"]["network_security_group"])
    assert nsg["properties"]["securityRules"][0]["properties"]["destinationPortRange"] == "5986"
    disk = fresh_sim.admin.resource(result["os_disk_id"])
    assert disk["properties"]["diskSizeGB"] == 256
    assert disk["properties"]["tier"] == "P30"


def test_check_mode_creates_nothing(play, fresh_sim, ssh_key):
    run = play(_play(f"""
build_id: chk
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
""", check=True))
    assert run.rc == 0, run.stdout
    assert run.task("build")["result"]["changed"] is True
    assert _in_group(fresh_sim, "gi-build-chk") == []


def test_latest_is_refused(play, fresh_sim, ssh_key):
    run = play(_play(f"""
build_id: lat
location: westeurope
image: Canonical:ubuntu-24_04-lts:server:latest
ssh_public_key: "{ssh_key}"
"""))
    assert run.rc != 0
    assert "image_facts" in run.task("build")["result"]["msg"]
    assert _in_group(fresh_sim, "gi-build-lat") == []


def test_failed_vm_create_names_the_operation(play, fresh_sim, ssh_key):
    fresh_sim.admin.faults([{"method": "PUT", "path": "virtualMachines/gi-vmfail$", "action": "fail_operation",
                             "code": "AllocationFailed", "message": "Allocation failed (injected)."}])
    run = play(_present(ssh_key, build_id="vmfail"))
    assert run.rc != 0
    result = run.task("build")["result"]
    assert "create virtual machine 'gi-vmfail'" in result["msg"]
    assert result.get("operation") is None or "virtual machine" in result["operation"]


def test_absent_deletes_the_group_and_tolerates_it_being_gone(play, fresh_sim, ssh_key):
    assert play(_present(ssh_key, build_id="del")).rc == 0
    absent = _play("""
state: absent
build_id: del
wait_timeout: 120
""")
    first = play(absent)
    assert first.rc == 0, first.stdout
    assert first.task("build")["result"]["changed"] is True
    assert _in_group(fresh_sim, "gi-build-del") == []
    second = play(absent)
    assert second.rc == 0, second.stdout
    assert second.task("build")["result"]["changed"] is False
    assert second.task("build")["result"]["already_absent"] is True


def test_absent_tolerates_the_group_vanishing_during_delete(play, fresh_sim, ssh_key):
    """packer-plugin-azure#31: ResourceGroupNotFound while deleting is success."""
    assert play(_present(ssh_key, build_id="race")).rc == 0
    fresh_sim.admin.faults([{"method": "DELETE", "path": "resourcegroups/gi-build-race$", "status": 404,
                             "code": "ResourceGroupNotFound", "message": "Resource group 'gi-build-race' could not be found.",
                             "times": 1}])
    run = play(_play("""
state: absent
build_id: race
"""))
    assert run.rc == 0, run.stdout
    assert run.task("build")["result"]["changed"] is True


def test_absent_refuses_a_group_not_marked_temporary(play, fresh_sim, resources):
    resources.resource_groups.create_or_update("rg-precious", {"location": "westeurope",
                                                               "tags": {"goldenimage-build-id": "x"}})
    run = play(_play("""
state: absent
build_id: x
resource_group: rg-precious
"""))
    assert run.rc != 0
    assert "goldenimage-temporary" in run.task("build")["result"]["msg"]
    assert fresh_sim.admin.resource(f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/rg-precious")


def test_present_refuses_an_existing_group_of_someone_else(play, fresh_sim, resources, ssh_key):
    resources.resource_groups.create_or_update("gi-build-mine", {"location": "westeurope"})
    run = play(_present(ssh_key, build_id="mine"))
    assert run.rc != 0
    assert "already exists" in run.task("build")["result"]["msg"]
    assert [r["type"] for r in _in_group(fresh_sim, "gi-build-mine")] == ["Microsoft.Resources/resourceGroups"]


def test_delete_timeout_names_the_operation(play, fresh_sim, ssh_key):
    assert play(_present(ssh_key, build_id="slow")).rc == 0
    fresh_sim.admin.settings(time_scale=1.0, durations={"resource_group.delete": 600})
    run = play(_play("""
state: absent
build_id: slow
wait_timeout: 2
"""))
    assert run.rc != 0
    assert "delete resource group 'gi-build-slow'" in run.task("build")["result"]["msg"]
    fresh_sim.admin.finish_operations()


def test_scope_vm_deletes_only_the_vm_and_disk(play, fresh_sim, ssh_key):
    created = play(_present(ssh_key, build_id="vmonly"))
    assert created.rc == 0
    ids = created.task("build")["result"]["resource_ids"]
    delete_vm = _play("""
state: absent
scope: vm
build_id: vmonly
""")
    run = play(delete_vm)
    assert run.rc == 0, run.stdout
    assert run.task("build")["result"]["changed"] is True
    assert fresh_sim.admin.resource(ids["virtual_machine"]) is None
    assert fresh_sim.admin.resource(ids["os_disk"]) is None
    assert fresh_sim.admin.resource(ids["resource_group"]) is not None
    assert fresh_sim.admin.resource(ids["public_ip"]) is not None
    again = play(delete_vm)
    assert again.rc == 0 and again.task("build")["result"]["changed"] is False
