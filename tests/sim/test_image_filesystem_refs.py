"""Images carry the filesystem of their source VM's guest: the simulator snapshots it at capture, reimages the guest
of a VM created from the image before provisioning it, and deletes the snapshot with the last resource using it
(azsim/docs/image-filesystems.md). Fake guest commands record what the simulator asks; real guests:
tests/guest/test_image_filesystem.py."""

import json
import os
import sys

from tests.sim.test_network_helpers import LOCATION, build_vm_network, create_vm

SNAPSHOT = ("import os, sys; os.mkdir(sys.argv[2]); open(os.path.join(sys.argv[2], 'marker'), 'w').write('x'); "
            "open(sys.argv[1], 'a').write(sys.argv[2] + '\\n')")
RECORD = "import sys; open(sys.argv[1], 'a').write(' '.join(sys.argv[2:]) + '\\n')"


def _python(code, *args):
    return [sys.executable, "-c", code, *map(str, args)]


def _vm_from_image(compute, group, name, nic_id, image_id):
    os_profile = {"computerName": name, "adminUsername": "validator", "linuxConfiguration": {
        "disablePasswordAuthentication": True,
        "ssh": {"publicKeys": [{"path": "/home/validator/.ssh/authorized_keys",
                                "keyData": "ssh-ed25519 AAAA validator"}]}}}
    props = {"hardwareProfile": {"vmSize": "Standard_D2s_v5"},
             "storageProfile": {"imageReference": {"id": image_id}, "osDisk": {
                 "createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
             "osProfile": os_profile,
             "networkProfile": {"networkInterfaces": [{"id": nic_id, "properties": {"primary": True}}]}}
    return compute.virtual_machines.begin_create_or_update(group, name, {"location": LOCATION,
                                                                         "properties": props}).result()


def test_snapshot_reaches_the_new_vm_and_goes_with_the_last_user(compute, network, resources, fresh_sim, tmp_path):
    snapshots, reimages = tmp_path / "snapshots.txt", tmp_path / "reimages.txt"
    for name, address in (("g1", "127.77.0.5"), ("g2", "127.77.0.6")):  # the reset of the next test removes them
        fresh_sim.admin.post("guests", {
            "name": name, "address": address, "os": "linux", "provision_command": ["true"],
            "snapshot_command": _python(SNAPSHOT, snapshots), "reimage_command": _python(RECORD, reimages, name)})
    build = build_vm_network(network, resources, "rg-build")
    create_vm(compute, "rg-build", "build", build["nic"].id)
    assert not reimages.exists()  # a marketplace image carries no filesystem
    compute.virtual_machines.begin_deallocate("rg-build", "build").result()
    compute.virtual_machines.generalize("rg-build", "build")
    vm_id = compute.virtual_machines.get("rg-build", "build").id
    image = compute.images.begin_create_or_update("rg-build", "img", {
        "location": LOCATION, "properties": {"hyperVGeneration": "V2", "sourceVirtualMachine": {"id": vm_id}},
    }).result()
    taken = snapshots.read_text().split()
    assert len(taken) == 1 and os.path.isfile(os.path.join(taken[0], "marker"))
    assert taken[0] not in json.dumps(fresh_sim.admin.resource(image.id))  # private, never in the body

    target = build_vm_network(network, resources, "rg-new")
    _vm_from_image(compute, "rg-new", "new", target["nic"].id, image.id)
    assert reimages.read_text().split() == ["g2", "--from", taken[0]]

    os_disk_id = compute.virtual_machines.get("rg-build", "build").storage_profile.os_disk.managed_disk.id
    compute.snapshots.begin_create_or_update("rg-build", "os-snap", {
        "location": LOCATION, "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": os_disk_id}},
    }).result()
    assert len(snapshots.read_text().split()) == 2  # a snapshot of the generalized VM's OS disk keeps it too

    compute.images.begin_delete("rg-build", "img").result()
    assert os.path.isdir(taken[0])  # the new VM still refers to it
    resources.resource_groups.begin_delete("rg-new").result()
    assert not os.path.exists(taken[0])

    # a disk copied from that snapshot keeps it, and so does an image made from the disk
    snapshot_id = compute.snapshots.get("rg-build", "os-snap").id
    disk = compute.disks.begin_create_or_update("rg-build", "os-copy", {
        "location": LOCATION, "sku": {"name": "Premium_LRS"},
        "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": snapshot_id}},
    }).result()
    from_disk = compute.images.begin_create_or_update("rg-build", "img-disk", {
        "location": LOCATION, "properties": {"hyperVGeneration": "V2", "storageProfile": {"osDisk": {
            "osType": "Linux", "osState": "Generalized", "managedDisk": {"id": disk.id}}}},
    }).result()
    again = build_vm_network(network, resources, "rg-again")
    _vm_from_image(compute, "rg-again", "again", again["nic"].id, from_disk.id)
    assert reimages.read_text().split()[-2:] == ["--from", snapshots.read_text().split()[1]]
