"""The guest pool: admin API, and public IPs binding real guests (docs/architecture.md)."""

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from tests.sim.test_network_helpers import guest_pool, make_group, make_pip

GROUP = "rg-guests"


def _pool(admin):
    return {entry["name"]: entry for entry in admin.get("guests")["value"]}


def test_admin_api_registers_lists_and_removes(fresh_sim):
    with guest_pool(fresh_sim.admin) as register:
        entry = register("g1", "127.77.0.5", command=["true"])
        assert entry == {"name": "g1", "address": "127.77.0.5", "ports": {"ssh": 22}, "os": "linux",
                         "provision_command": ["true"], "bound_to": None, "vm": None}
        assert _pool(fresh_sim.admin)["g1"]["address"] == "127.77.0.5"
        fresh_sim.admin.delete("guests/g1")
        assert "g1" not in _pool(fresh_sim.admin)


@pytest.mark.parametrize("body", [
    {"address": "127.77.0.5"},
    {"name": "g1", "address": "not-an-address"},
    {"name": "g1", "address": "127.77.0.5", "provision_command": "a string"},
    {"name": "g1", "address": "127.77.0.5", "snapshot_command": "a string"},
    {"name": "g1", "address": "127.77.0.5", "reimage_command": [1]},
])
def test_admin_api_rejects_bad_guests(fresh_sim, body):
    with pytest.raises(requests.HTTPError) as info:
        fresh_sim.admin.post("guests", body)
    assert info.value.response.status_code == 400


def test_public_ip_binds_first_free_guest_and_delete_frees_it(network, resources, fresh_sim):
    make_group(resources, GROUP)
    with guest_pool(fresh_sim.admin) as register:
        register("g1", "127.77.0.5")
        register("g2", "127.77.0.6")
        first = make_pip(network, GROUP, "pip1")
        second = make_pip(network, GROUP, "pip2")
        third = make_pip(network, GROUP, "pip3")
        assert first.properties.ip_address == "127.77.0.5"
        assert second.properties.ip_address == "127.77.0.6"
        assert third.properties.ip_address.startswith("127.100.")  # no free guest: nothing listens there
        pool = _pool(fresh_sim.admin)
        assert pool["g1"]["bound_to"] == first.id
        assert pool["g2"]["bound_to"] == second.id

        network.public_ip_addresses.begin_delete(GROUP, "pip1").result()
        assert _pool(fresh_sim.admin)["g1"]["bound_to"] is None
        assert make_pip(network, GROUP, "pip4").properties.ip_address == "127.77.0.5"


def test_a_freed_guest_is_bound_after_the_unused_ones(network, resources, fresh_sim):
    make_group(resources, GROUP)
    with guest_pool(fresh_sim.admin) as register:
        register("g1", "127.77.0.5")
        register("g2", "127.77.0.6")
        make_pip(network, GROUP, "build")
        network.public_ip_addresses.begin_delete(GROUP, "build").result()
        assert make_pip(network, GROUP, "validate").properties.ip_address == "127.77.0.6"
        assert make_pip(network, GROUP, "next").properties.ip_address == "127.77.0.5"


def test_tag_asks_for_a_guest_by_name(network, resources, fresh_sim):
    make_group(resources, GROUP)
    with guest_pool(fresh_sim.admin) as register:
        register("g1", "127.77.0.5")
        register("g2", "127.77.0.6")
        pip = make_pip(network, GROUP, "pip", tags={"azsim-guest": "g2"})
        assert pip.properties.ip_address == "127.77.0.6"
        assert pip.tags == {"azsim-guest": "g2"}

        with pytest.raises(HttpResponseError) as busy:
            make_pip(network, GROUP, "again", tags={"azsim-guest": "g2"})
        assert busy.value.status_code == 400
        assert "already bound" in busy.value.error.message
        with pytest.raises(HttpResponseError) as unknown:
            make_pip(network, GROUP, "other", tags={"azsim-guest": "g9"})
        assert unknown.value.status_code == 400
        assert "not registered" in unknown.value.error.message
        # Refused creates leave nothing behind and bind nobody.
        assert [pip["name"] for pip in fresh_sim.admin.resources("Microsoft.Network/publicIPAddresses")] == ["pip"]
        assert _pool(fresh_sim.admin)["g1"]["bound_to"] is None


def test_group_delete_frees_the_guest_and_reset_empties_the_pool(network, resources, fresh_sim):
    make_group(resources, GROUP)
    with guest_pool(fresh_sim.admin) as register:
        register("g1", "127.77.0.5")
        make_pip(network, GROUP, "pip")
        resources.resource_groups.begin_delete(GROUP).result()
        assert _pool(fresh_sim.admin)["g1"]["bound_to"] is None

        make_group(resources, GROUP)
        make_pip(network, GROUP, "pip")
        fresh_sim.admin.reset()
        assert _pool(fresh_sim.admin) == {}  # reset empties the pool: the next test never gets this guest


def test_re_registering_keeps_the_binding(network, resources, fresh_sim):
    make_group(resources, GROUP)
    with guest_pool(fresh_sim.admin) as register:
        register("g1", "127.77.0.5")
        pip = make_pip(network, GROUP, "pip")
        register("g1", "127.77.0.5", command=["true"])  # a restarted guest registers again
        assert _pool(fresh_sim.admin)["g1"]["bound_to"] == pip.id
        assert _pool(fresh_sim.admin)["g1"]["provision_command"] == ["true"]


def test_pool_and_bindings_survive_a_restart(tmp_path):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    from azsim.testing import SimServer

    def clients(server):
        env = server.env
        credential = ClientSecretCredential(env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"],
                                            authority=env["AZURE_AUTHORITY_HOST"], disable_instance_discovery=True,
                                            connection_verify=server.ca)
        kwargs = {"base_url": server.url + "/", "credential_scopes": [server.url + "/.default"],
                  "connection_verify": server.ca, "polling_interval": 1}
        return (NetworkManagementClient(credential, server.subscription_id, **kwargs),
                ResourceManagementClient(credential, server.subscription_id, **kwargs))

    state = tmp_path / "state"
    with SimServer(time_scale=0.0, state_dir=str(state)) as first:
        network, resources = clients(first)
        first.admin.post("guests", {"name": "g1", "address": "127.77.0.5"})
        make_group(resources, GROUP)
        pip = make_pip(network, GROUP, "pip")
    with SimServer(time_scale=0.0, state_dir=str(state)) as second:
        assert _pool(second.admin)["g1"]["bound_to"] == pip.id
        network, _ = clients(second)
        network.public_ip_addresses.begin_delete(GROUP, "pip").result()
        assert _pool(second.admin)["g1"]["bound_to"] is None
