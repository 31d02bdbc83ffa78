"""Private builds (issue 13 item 3) against the simulator, through ansible-playbook: build_vm in the user's existing
subnet of another resource group, without a public IP; refusals before any write; cleanup keeps the user's network."""

from __future__ import annotations

from tests.integration.test_build_vm import URN, _in_group, _play, ssh_key  # noqa: F401 (fixture)

NET_GROUP = "rg-network"
SOURCE = "10.20.0.4/32"


def _subnet_id(sim, subnet="build", vnet="vnet-hub", group=NET_GROUP):
    return (f"/subscriptions/{sim.subscription_id}/resourceGroups/{group}/providers/Microsoft.Network/"
            f"virtualNetworks/{vnet}/subnets/{subnet}")


def _user_network(resources, network):
    resources.resource_groups.create_or_update(NET_GROUP, {"location": "westeurope"})
    network.virtual_networks.begin_create_or_update(NET_GROUP, "vnet-hub", {
        "location": "westeurope",
        "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]},
                       "subnets": [{"name": "build", "properties": {"addressPrefix": "10.20.1.0/24"}}]},
    }).result()


def _private(ssh_key, subnet_id, build_id="p1", extra=""):  # noqa: F811
    return _play(f"""
build_id: {build_id}
run_id: run-p1
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
subnet_id: "{subnet_id}"
public_ip: false
allowed_sources: [{SOURCE}]
wait_timeout: 120
{extra}
""")


def _writes(sim):
    return [r for r in sim.admin.requests()
            if r["path"].lower().startswith("/subscriptions/") and r["method"] in ("PUT", "POST", "PATCH", "DELETE")]


def test_private_build_uses_the_users_subnet_without_public_ip(play, fresh_sim, ssh_key, resources,  # noqa: F811
                                                                network):
    _user_network(resources, network)
    subnet_id = _subnet_id(fresh_sim)
    first = play(_private(ssh_key, subnet_id))
    assert first.rc == 0, first.stdout
    result = first.task("build")["result"]
    assert result["changed"] is True
    types = {r["type"].lower() for r in _in_group(fresh_sim, "gi-build-p1")}
    assert "microsoft.network/publicipaddresses" not in types
    assert "microsoft.network/virtualnetworks" not in types
    assert {"microsoft.network/networksecuritygroups", "microsoft.network/networkinterfaces",
            "microsoft.compute/virtualmachines"} <= types
    nic = fresh_sim.admin.resource(result["resource_ids"]["network_interface"])
    config = nic["properties"]["ipConfigurations"][0]["properties"]
    assert config["subnet"]["id"].lower() == subnet_id.lower()
    assert "publicIPAddress" not in config
    assert result["private_ip"] == config["privateIPAddress"]
    assert result["private_ip"].startswith("10.20.1.")
    assert result["public_ip"] is None
    assert result["resource_ids"]["virtual_network"] is None
    # The NSG on the NIC admits only the given source, to SSH only.
    nsg = fresh_sim.admin.resource(result["resource_ids"]["network_security_group"])
    assert nic["properties"]["networkSecurityGroup"]["id"].lower() == nsg["id"].lower()
    rules = nsg["properties"]["securityRules"]
    assert [(r["properties"]["direction"], r["properties"]["access"]) for r in rules] == [("Inbound", "Allow")]
    rule = rules[0]["properties"]
    assert [rule.get("sourceAddressPrefix")] + list(rule.get("sourceAddressPrefixes") or []) == [SOURCE]
    assert rule["destinationPortRange"] == "22"
    # Idempotent.
    second = play(_private(ssh_key, subnet_id))
    assert second.rc == 0, second.stdout
    assert second.task("build")["result"]["changed"] is False
    assert second.task("build")["result"]["private_ip"] == result["private_ip"]
    # Cleanup deletes the build group only: the user's VNet and subnet stay.
    gone = play(_play("""
state: absent
build_id: p1
run_id: run-p1
"""))
    assert gone.rc == 0, gone.stdout
    assert _in_group(fresh_sim, "gi-build-p1") == []
    vnet = fresh_sim.admin.resource(subnet_id.rsplit("/subnets/", 1)[0])
    assert vnet is not None
    assert [s["name"] for s in vnet["properties"]["subnets"]] == ["build"]


def test_missing_subnet_fails_before_any_write(play, fresh_sim, ssh_key, resources, network):  # noqa: F811
    _user_network(resources, network)
    before = len(_writes(fresh_sim))
    run = play(_private(ssh_key, _subnet_id(fresh_sim, subnet="nope")))
    assert run.rc != 0
    assert "subnet_id" in run.task("build")["result"]["msg"]
    assert len(_writes(fresh_sim)) == before
    assert _in_group(fresh_sim, "gi-build-p1") == []


def test_malformed_subnet_id_fails_before_any_request(play, fresh_sim, ssh_key):  # noqa: F811
    for bad in ("/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
                f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/rg/providers/Microsoft.Network/"
                "virtualNetworks/v", "subnet-build"):
        run = play(_private(ssh_key, bad))
        assert run.rc != 0
        assert "subnet_id" in run.task("build")["result"]["msg"]
    assert _writes(fresh_sim) == []
    assert _in_group(fresh_sim, "gi-build-p1") == []


def test_subnet_in_the_build_group_is_refused(play, fresh_sim, ssh_key):  # noqa: F811
    run = play(_private(ssh_key, _subnet_id(fresh_sim, group="gi-build-p1")))
    assert run.rc != 0
    msg = run.task("build")["result"]["msg"]
    assert "subnet_id" in msg and "temporary resource group" in msg
    assert _writes(fresh_sim) == []


def _builder_play(tmp_path, vm, wait=False):
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Create the build VMs
      ansible.builtin.include_role:
        name: goldenimage.azure.builder
      vars:
        builder_build_dir: {tmp_path}/builds
        builder_location: westeurope
        builder_wait_for_connection: {str(wait).lower()}
        builder_run_id: run-j1
        builder_vms: [{vm}]
    - name: Connection
      ansible.builtin.set_fact:
        connection:
          host: "{{{{ hostvars['one'].ansible_host }}}}"
          common_args: "{{{{ hostvars['one'].ansible_ssh_common_args }}}}"
"""


def test_builder_connects_to_the_private_address_through_the_jump_host(play, fresh_sim, resources, network,
                                                                        tmp_path):
    _user_network(resources, network)
    subnet_id = _subnet_id(fresh_sim)
    run = play(_builder_play(tmp_path, f'{{name: one, build_id: j1, image: "{URN}", subnet_id: "{subnet_id}", '
                                       f'public_ip: false, allowed_sources: ["{SOURCE}"], '
                                       'jump_host: "azureuser@10.20.0.4:2222"}'))
    assert run.rc == 0, run.stdout[-3000:]
    connection = run.task("Connection")["result"]["ansible_facts"]["connection"]
    nics = [r for r in _in_group(fresh_sim, "gi-build-j1") if r["type"].lower() == "microsoft.network/networkinterfaces"]
    (nic,) = [fresh_sim.admin.resource(r["id"]) for r in nics]
    assert connection["host"] == nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]
    assert "-o ProxyJump=azureuser@10.20.0.4:2222" in connection["common_args"]
    # the pinned host key is written for the private address
    known = (tmp_path / "builds" / "j1" / "known_hosts").read_text()
    assert known.startswith(connection["host"] + " ssh-ed25519 ")


def test_builder_refuses_bad_private_settings_before_any_write(play, fresh_sim, tmp_path):
    subnet_id = _subnet_id(fresh_sim)
    cases = [
        # WinRM through a jump host is not supported
        (f'{{name: one, build_id: j2, image: "{URN}", os_type: windows, subnet_id: "{subnet_id}", public_ip: false, '
         f'allowed_sources: ["{SOURCE}"], jump_host: "bastion.contoso.internal"}}', "jump_host"),
        # no public IP: the NSG source must be named (discovery finds the public address)
        f'{{name: one, build_id: j3, image: "{URN}", subnet_id: "{subnet_id}", public_ip: false}}',
        # a jump host that ssh would read as an option
        (f'{{name: one, build_id: j4, image: "{URN}", public_ip: false, allowed_sources: ["{SOURCE}"], '
         'jump_host: "-oProxyCommand=id"}', "jump_host"),
    ]
    for case in cases:
        vm, word = case if isinstance(case, tuple) else (case, "allowed_sources")
        run = play(_builder_play(tmp_path, vm))
        assert run.rc != 0
        refused = run.task("goldenimage.azure.builder : Refuse builds that cannot be created (nothing was created)")
        assert word in refused["result"]["msg"]
    assert _writes(fresh_sim) == []


def test_main_job_refuses_a_malformed_or_missing_subnet_before_any_write(fresh_sim, resources, network, tmp_path):
    from tests.guest import gi_build

    gi_build.prepare_outputs(resources)
    _user_network(resources, network)
    for subnet_id, phase in (("/subscriptions/x/resourceGroups/rg-network/subnets/build", "plan"),
                             (_subnet_id(fresh_sim, subnet="missing"), None)):
        since = fresh_sim.admin.last_seq()
        build = dict(gi_build.image_definition("private", gallery=False), subnet_id=subnet_id, public_ip=False,
                     allowed_sources=[SOURCE])
        run, manifest = gi_build.run_build(fresh_sim, tmp_path, builds=[build])
        assert run.rc != 0
        (result,) = manifest["builds"]
        assert manifest["status"] == "failed"
        assert "subnet_id" in result["error"], result["error"]
        if phase:
            assert result["failed_phase"] == phase
        assert gi_build.writes(fresh_sim, since) == []
        assert gi_build.leftovers(fresh_sim, ["-"]) == [
            item["id"] for item in fresh_sim.admin.resources() if item["type"] == "Microsoft.Network/virtualNetworks"]
