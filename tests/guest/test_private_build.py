"""Issue 13 item 3 on a real local guest (root): examples/vars/private-subnet.yml through the main job. The user's
VNet/subnet exists first (another resource group); the build has no public IP, so the simulator binds the guest to
the NIC's private address and Ansible connects there. Afterwards only the outputs and the user's network remain."""

from __future__ import annotations

import contextlib
import os
import uuid
from unittest import mock

import pytest

from tests.guest import gi_build
from tests.harness import ROOT

pytestmark = [pytest.mark.guest, pytest.mark.slow]

VARS = os.path.join(ROOT, "examples", "vars", "private-subnet.yml")
NET_GROUP = "rg-network"
# The first address Azure gives dynamically in 10.20.1.0/24 (the first four are reserved): the NIC's private IP.
PRIVATE_ADDRESS = "10.20.1.4"


@contextlib.contextmanager
def private_guest(sim):
    """One guest at PRIVATE_ADDRESS (added to the host's lo while it runs), the only one in the simulator's pool."""
    from localguest.guest import start_guest, stop_guest

    for entry in sim.admin.get("guests")["value"]:
        sim.admin.delete(f"guests/{entry['name']}")
    guest = None
    try:
        with mock.patch.dict(os.environ, {"AZSIM_ADMIN_TOKEN": sim.admin_token}):
            guest = start_guest(f"pv{uuid.uuid4().hex[:8]}", address=PRIVATE_ADDRESS, private=True, sim_url=sim.url,
                                ca=sim.ca, timeout=90)
        yield guest
    finally:
        if guest is not None:
            with contextlib.suppress(Exception):
                sim.admin.delete(f"guests/{guest.name}")
            stop_guest(guest.name, workdir=guest.workdir)


def test_private_subnet_example_builds_over_the_private_address(guest_cache, fresh_sim, resources, network,
                                                                 tmp_path):
    gi_build.require_guests()
    gi_build.prepare_outputs(resources)
    resources.resource_groups.create_or_update(NET_GROUP, {"location": "westeurope"})
    network.virtual_networks.begin_create_or_update(NET_GROUP, "vnet-build", {
        "location": "westeurope",
        "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]},
                       "subnets": [{"name": "build", "properties": {"addressPrefix": "10.20.1.0/24"}}]},
    }).result()
    with private_guest(fresh_sim) as guest:
        run, manifest = gi_build.run_build(fresh_sim, tmp_path, vars_file=VARS, cwd=ROOT)
        assert run.rc == 0, run.stdout[-4000:]
        assert manifest["status"] == "succeeded"
        # The build and its validation really ran on the guest, over the private address: the validation VM (same
        # subnet, the address the build VM had) booted the captured filesystem as a new user.
        (build,) = manifest["builds"]
        assert gi_build.runs_the_image(guest) == build["build_id"]
        assert build["validation"]["status"] == "passed"
    # No public IP was ever created; the build reached the VM on the NIC's private address.
    created = [item["path"] for item in gi_build.writes(fresh_sim, path_pattern=r"/publicIPAddresses/")]
    assert created == []
    nic_puts = gi_build.writes(fresh_sim, path_pattern=r"/networkInterfaces/")
    assert nic_puts and all("/resourcegroups/gi-build-" in item["path"].lower() for item in nic_puts)
    (image,) = gi_build.by_type(fresh_sim, "Microsoft.Compute/images")
    assert image["tags"]["network"] == "private"
    # Only the outputs and the user's network are left: its VNet and subnet, nothing attached to them any more.
    assert gi_build.leftovers(fresh_sim, ["-"]) == [
        item["id"] for item in gi_build.by_type(fresh_sim, "Microsoft.Network/virtualNetworks")]
    (vnet,) = gi_build.by_type(fresh_sim, "Microsoft.Network/virtualNetworks")
    assert f"/resourceGroups/{NET_GROUP}/".lower() in vnet["id"].lower()
    assert [subnet["name"] for subnet in vnet["properties"]["subnets"]] == ["build"]
    assert not vnet["properties"]["subnets"][0]["properties"].get("ipConfigurations")
    assert f" {PRIVATE_ADDRESS}/" not in os.popen("ip -o -4 addr show").read()  # the guest's address left the host
