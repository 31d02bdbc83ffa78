"""Issue 15 item 1 on real local guests (root): an image captured from a generalized VM carries its guest's
filesystem; a VM created from the image (here through a gallery version made from it) gets a guest restarted from
that filesystem and provisioned as Azure's agent would: a new user and key, fresh host keys and machine-id. An
image whose agent state says "provisioned" fails the create with OSProvisioningTimedOut
(azsim/docs/image-filesystems.md)."""

from __future__ import annotations

import subprocess

import pytest
from azure.core.exceptions import HttpResponseError

from tests.guest import gi_build
from tests.sim.test_network_helpers import LOCATION, build_vm_network, create_vm

pytestmark = [pytest.mark.guest]

MARKER = "/etc/golden-customisation"
HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"


def _read(guest, path):
    return guest.path(path).read_text()


def _deprovision(guest, keep_provisioned_marker=False):
    """The essential removals of the deprovision role (waagent -deprovision+user, cloud-init clean --machine-id)."""
    guest.nsenter("userdel", "-f", "-r", "azureuser")
    guest.nsenter("truncate", "-s", "0", "/etc/machine-id")
    guest.nsenter("sh", "-c", "rm -f /etc/ssh/ssh_host_* /var/lib/waagent/ovf-env.xml")
    if not keep_provisioned_marker:
        guest.nsenter("rm", "-f", "/var/lib/waagent/provisioned")


def _capture(compute, network, resources, build_guest, keep_provisioned_marker=False):
    """Build VM on the first guest, customised and deprovisioned, generalized and captured: the managed image."""
    built = build_vm_network(network, resources, "rg-build")
    create_vm(compute, "rg-build", "build", built["nic"].id)
    assert "azureuser:" in _read(build_guest, "/etc/passwd")
    build_guest.path(MARKER).write_text("customised by the build\n")
    # a base file deleted (an overlay whiteout) and a base dir replaced (an opaque dir): both must survive the copy
    build_guest.nsenter("sh", "-c", "rm /etc/motd && rm -r /usr/share/doc/sudo && mkdir /usr/share/doc/sudo "
                        "&& touch /usr/share/doc/sudo/replaced")
    before = {"host_key": _read(build_guest, HOST_KEY), "machine_id": _read(build_guest, "/etc/machine-id")}
    _deprovision(build_guest, keep_provisioned_marker)
    compute.virtual_machines.begin_deallocate("rg-build", "build").result()
    compute.virtual_machines.generalize("rg-build", "build")
    vm_id = compute.virtual_machines.get("rg-build", "build").id
    image = compute.images.begin_create_or_update("rg-build", "golden", {
        "location": LOCATION, "properties": {"hyperVGeneration": "V2", "sourceVirtualMachine": {"id": vm_id}},
    }).result()
    return image, before


def _create_from(compute, network, resources, image_id, public_key):
    built = build_vm_network(network, resources, "rg-validate")
    props = {"hardwareProfile": {"vmSize": "Standard_D2s_v5"},
             "storageProfile": {"imageReference": {"id": image_id}, "osDisk": {
                 "createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
             "osProfile": {"computerName": "validate", "adminUsername": "validator", "linuxConfiguration": {
                 "disablePasswordAuthentication": True,
                 "ssh": {"publicKeys": [{"path": "/home/validator/.ssh/authorized_keys", "keyData": public_key}]}}},
             "networkProfile": {"networkInterfaces": [{"id": built["nic"].id, "properties": {"primary": True}}]}}
    return compute.virtual_machines.begin_create_or_update("rg-validate", "validate", {
        "location": LOCATION, "properties": props}).result()


def _gallery_version(compute, resources, image_id):
    """A gallery version made from the managed image; returns the definition id (VMs use its latest version)."""
    resources.resource_groups.create_or_update("rg-gallery", {"location": LOCATION})
    compute.galleries.begin_create_or_update("rg-gallery", "golden", {"location": LOCATION}).result()
    definition = compute.gallery_images.begin_create_or_update("rg-gallery", "golden", "debian", {
        "location": LOCATION, "properties": {
            "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
            "identifier": {"publisher": "contoso", "offer": "golden", "sku": "debian-12"}}}).result()
    compute.gallery_image_versions.begin_create_or_update("rg-gallery", "golden", "debian", "1.0.0", {
        "location": LOCATION, "properties": {"storageProfile": {"source": {"id": image_id}}}}).result()
    return definition.id


@pytest.fixture
def new_key(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "validator", "-f", str(tmp_path / "op")],
                   check=True)
    return tmp_path / "op"


def test_vm_from_the_captured_gallery_version_boots_the_build_filesystem(compute, network, resources, fresh_sim,
                                                                         new_key):
    gi_build.require_guests()
    with gi_build.guests(fresh_sim, 2, prefix="fs") as (build_guest, new_guest):
        image, before = _capture(compute, network, resources, build_guest)
        definition_id = _gallery_version(compute, resources, image.id)
        public_key = new_key.with_suffix(".pub").read_text().strip()
        vm = _create_from(compute, network, resources, definition_id, public_key)

        assert vm.properties.provisioning_state == "Succeeded"
        assert _read(new_guest, MARKER) == "customised by the build\n"  # the build's filesystem
        assert not new_guest.path("/etc/motd").exists()
        assert [p.name for p in new_guest.path("/usr/share/doc/sudo").iterdir()] == ["replaced"]
        passwd = _read(new_guest, "/etc/passwd")
        assert "azureuser:" not in passwd and "validator:" in passwd
        assert _read(new_guest, "/home/validator/.ssh/authorized_keys").strip() == public_key
        assert _read(new_guest, HOST_KEY) != before["host_key"]
        machine_id = _read(new_guest, "/etc/machine-id").strip()
        assert machine_id and machine_id != before["machine_id"].strip()
        whoami = subprocess.run(new_guest.ssh_args(user="validator", key=new_key) + ["id", "-un"],
                                capture_output=True, text=True, timeout=60, check=False)
        assert whoami.stdout.strip() == "validator", whoami.stderr


def test_image_still_marked_provisioned_times_out(compute, network, resources, fresh_sim, new_key):
    gi_build.require_guests()
    with gi_build.guests(fresh_sim, 2, prefix="fs") as (build_guest, new_guest):
        image, _ = _capture(compute, network, resources, build_guest, keep_provisioned_marker=True)
        with pytest.raises(HttpResponseError) as failed:
            _create_from(compute, network, resources, image.id, new_key.with_suffix(".pub").read_text().strip())

        assert failed.value.error.code == "OSProvisioningTimedOut"
        assert _read(new_guest, MARKER) == "customised by the build\n"  # it did boot the image
        assert "validator:" not in _read(new_guest, "/etc/passwd")
        vm = fresh_sim.admin.resource(compute.virtual_machines.get("rg-validate", "validate").id)
        assert vm["properties"]["provisioningState"] == "Failed"
