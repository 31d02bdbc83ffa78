"""build_vm's encryption at rest (disk_encryption_set, encryption_at_host) through ansible-playbook against azsim;
state asserted from the simulator's resources."""

from __future__ import annotations

import pytest

from tests.integration.test_build_vm import _in_group, _present, ssh_key  # noqa: F401 (the module fixture)
from tests.sim.test_vm_helpers import changed_settings

KEY = "https://kv-golden01.vault.azure.net/keys/disk-key/0123456789abcdef0123456789abcdef"
KEYS_RG = "rg-keys"


def make_des(resources, compute, name, location="westeurope", kind="EncryptionAtRestWithPlatformAndCustomerKeys"):
    resources.resource_groups.create_or_update(KEYS_RG, {"location": location})
    return compute.disk_encryption_sets.begin_create_or_update(KEYS_RG, name, {
        "location": location, "identity": {"type": "SystemAssigned"},
        "properties": {"activeKey": {"keyUrl": KEY}, "encryptionType": kind}}).result().id


def test_cmk_and_encryption_at_host_reach_every_disk(play, fresh_sim, resources, compute, ssh_key):  # noqa: F811
    des_id = make_des(resources, compute, "des-weu")
    extra = f"disk_encryption_set: {des_id}\nencryption_at_host: true\ndata_disks: [{{lun: 0, size_gb: 32}}]"
    with changed_settings(fresh_sim.admin, features={"Microsoft.Compute/EncryptionAtHost": True}):
        first = play(_present(ssh_key, "cmk1", extra))
        assert first.rc == 0, first.stdout
        again = play(_present(ssh_key, "cmk1", extra))
    assert again.rc == 0 and again.task("build")["result"]["changed"] is False
    result = first.task("build")["result"]
    assert result["disk_encryption_set"].lower() == des_id.lower() and result["encryption_at_host"] is True
    vm = fresh_sim.admin.resource(result["vm_id"])
    assert vm["properties"]["securityProfile"]["encryptionAtHost"] is True
    storage = vm["properties"]["storageProfile"]
    entries = [storage["osDisk"]] + storage["dataDisks"]
    assert len(entries) == 2
    for entry in entries:
        assert entry["managedDisk"]["diskEncryptionSet"]["id"].lower() == des_id.lower()
        disk = fresh_sim.admin.resource(entry["managedDisk"]["id"])
        assert disk["properties"]["encryption"] == {"type": "EncryptionAtRestWithPlatformAndCustomerKeys",
                                                    "diskEncryptionSetId": des_id}


@pytest.mark.parametrize("case", ["other-region", "missing", "malformed"])
def test_a_bad_disk_encryption_set_fails_before_anything_exists(play, fresh_sim, resources, compute,
                                                                ssh_key, case):  # noqa: F811
    des_id = make_des(resources, compute, "des-neu", location="northeurope")
    wanted = {"other-region": des_id, "missing": des_id[:-3] + "gone",
              "malformed": des_id.replace("diskEncryptionSets", "disks")}[case]
    run = play(_present(ssh_key, "cmk2", f"disk_encryption_set: {wanted}"))
    assert run.rc != 0
    message = run.task("build")["result"]["msg"]
    assert "disk_encryption_set" in message
    expected = {"other-region": "westeurope", "missing": "does not exist", "malformed": "Microsoft.Compute/diskEncryptionSets"}[case]
    assert expected in message
    assert _in_group(fresh_sim, "gi-build-cmk2") == []


def test_builder_role_passes_the_encryption_options(play, fresh_sim, resources, compute, tmp_path):
    """The builder role (as the main job runs it): no guest answers, but the VM exists with its disks encrypted."""
    des_id = make_des(resources, compute, "des-weu", kind="EncryptionAtRestWithCustomerKey")
    with changed_settings(fresh_sim.admin, features={"Microsoft.Compute/EncryptionAtHost": True}):
        run = play(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Create the build VM
      ansible.builtin.include_role:
        name: goldenimage.azure.builder
      vars:
        builder_build_dir: {tmp_path}/builds
        builder_location: westeurope
        builder_connect_timeout: 2
        builder_encryption_at_host: true
        builder_vms:
          - {{name: one, build_id: e1, image: "Canonical:ubuntu-24_04-lts:server:24.04.202411200",
              disk_encryption_set: "{des_id}"}}
""")
    assert run.rc != 0  # nothing answers on port 22
    vms = [item for item in fresh_sim.admin.resources() if item["type"] == "Microsoft.Compute/virtualMachines"]
    assert len(vms) == 1
    assert vms[0]["properties"]["securityProfile"]["encryptionAtHost"] is True
    disk = fresh_sim.admin.resource(vms[0]["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"])
    assert disk["properties"]["encryption"] == {"type": "EncryptionAtRestWithCustomerKey",
                                                "diskEncryptionSetId": des_id}
