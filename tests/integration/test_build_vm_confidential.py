"""build_vm with Trusted Launch and Confidential VMs (issue 13): what Azure requires is sent, what Azure refuses is
refused before anything exists (real ansible-playbook against azsim; azsim refuses the same)."""

from __future__ import annotations

import pytest

from tests.integration.test_build_vm import _in_group, _present, ssh_key  # noqa: F401  # fixture

VM_TYPE = "Microsoft.Compute/virtualMachines"
DISK_TYPE = "Microsoft.Compute/disks"


def _confidential_size(body):
    return body.replace("vm_size: Standard_D2s_v5", "vm_size: Standard_DC2as_v5", 1)


def _vm(sim):
    (vm,) = sim.admin.resources(VM_TYPE)
    return vm


def test_confidential_vm_gets_its_os_disk_encryption_type(play, fresh_sim, ssh_key):  # noqa: F811
    run = play(_confidential_size(_present(ssh_key, extra="security_type: ConfidentialVM\n"
                                                          "security_encryption_type: DiskWithVMGuestState")))
    assert run.rc == 0, run.stdout
    props = _vm(fresh_sim)["properties"]
    assert props["securityProfile"]["securityType"] == "ConfidentialVM"
    assert props["securityProfile"]["uefiSettings"] == {"secureBootEnabled": True, "vTpmEnabled": True}
    assert props["storageProfile"]["osDisk"]["managedDisk"]["securityProfile"]["securityEncryptionType"] == \
        "DiskWithVMGuestState"
    (disk,) = fresh_sim.admin.resources(DISK_TYPE)
    assert disk["properties"]["securityProfile"]["securityType"] == "ConfidentialVM_DiskEncryptedWithPlatformKey"


def test_trusted_launch_has_no_disk_encryption_type(play, fresh_sim, ssh_key):  # noqa: F811
    run = play(_present(ssh_key, extra="security_type: TrustedLaunch"))
    assert run.rc == 0, run.stdout
    props = _vm(fresh_sim)["properties"]
    assert props["securityProfile"]["securityType"] == "TrustedLaunch"
    assert "securityProfile" not in props["storageProfile"]["osDisk"]["managedDisk"]


@pytest.mark.parametrize("extra, named", [
    ("security_type: ConfidentialVM", "vm_size Standard_D2s_v5 is not a confidential VM size"),
    ("DC security_type: ConfidentialVM\nvtpm: false", "vtpm must be true"),
    ("DC security_type: ConfidentialVM\nsecure_boot: false\n"
     "security_encryption_type: DiskWithVMGuestState", "secure_boot must be true"),
    ("security_type: TrustedLaunch\nsecurity_encryption_type: VMGuestStateOnly",
     "security_encryption_type is only for security_type ConfidentialVM"),
])
def test_what_azure_refuses_is_refused_before_anything_exists(play, fresh_sim, ssh_key, extra, named):  # noqa: F811
    body = _present(ssh_key, extra=extra.replace("DC ", "", 1))
    if extra.startswith("DC "):  # on a confidential size: only the UEFI settings are wrong
        body = _confidential_size(body)
    since = fresh_sim.admin.last_seq()
    run = play(body)
    assert run.rc != 0
    result = run.task("build")["result"]
    assert named in result["msg"], result["msg"]
    assert [r for r in fresh_sim.admin.requests(since) if r["kind"] == "arm" and r["method"] != "GET"] == []
    assert _in_group(fresh_sim, "gi-build-b1") == []


def test_azsim_refuses_a_confidential_vm_without_its_encryption_type(compute, network, resources):
    from azure.core.exceptions import HttpResponseError

    from tests.integration import lifecycle_setup as setup

    with pytest.raises(HttpResponseError) as raised:
        setup.make_vm(compute, network, resources, size="Standard_DC2as_v5", security_type="ConfidentialVM",
                      image={"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server",
                             "version": "latest"})
    assert raised.value.error.message == ("Required parameter for Confidential VMs "
                                          "'managedDisk.securityProfile.securityEncryptionType' is missing (null).")
    with pytest.raises(HttpResponseError) as raised:
        setup.make_vm(compute, network, resources, name="vm2", size="Standard_D2s_v5", security_type="ConfidentialVM")
    assert "is not supported for creation of VMs" in raised.value.error.message
