"""The deprovision role's Windows path (Sysprep) through real ansible-playbook and the winrm connection plugin
(pywinrm, HTTP, Basic auth) against fakewinrm, a WinRS test double with a simulated Windows guest.

Assertions read the double's recorded Windows state (fakewinrm.FakeWindows.state), the simulator's resources and
the task results; never log text, never timing. What this cannot prove (real Sysprep, real services, PowerShell
semantics): fakewinrm/README.md.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import time

import pytest
import winrm

from fakewinrm import UNKNOWN_SCRIPT_RC, FakeWinRM
from fakewinrm.windows import GENERALIZED, SETUP_STATE_KEY, SETUPACT, SETUPERR
from tests.harness import ROOT, run_playbook
from tests.integration import lifecycle_setup as setup

TAG = "goldenimage-deprovisioned"
USER, PASSWORD = "gibuilder", "Passw0rd!Passw0rd!"
SYSPREP_ARGS = ["/oobe", "/generalize", "/quiet", "/quit", "/mode:vm"]
UNATTEND = [r"C:\Windows\System32\Sysprep\unattend.xml", r"C:\Windows\Panther\unattend.xml"]
APPX = {"name": "Microsoft.WidgetsPlatformRuntime",
        "full_name": "Microsoft.WidgetsPlatformRuntime_1.6.1.0_x64__8wekyb3d8bbwe", "users": ["BUILD\\gibuilder"]}
FAIL_WAIT = "Fail naming what was not ready"
FAIL_BLOCKERS = "Fail on Sysprep blockers"
FAIL_SYSPREP = "Fail with Sysprep's state and logs"

PLAY = """
- name: Seal the Windows build VM
  hosts: win
  gather_facts: false
  tasks:
    - name: Deprovision
      ansible.builtin.include_role:
        name: goldenimage.azure.deprovision
    - name: After the role
      ansible.builtin.raw: "# goldenimage-step: never-reached"
      changed_when: false
"""
FAST = {"deprovision_windows_poll_interval": 0, "deprovision_windows_agent_timeout": 4,
        "deprovision_windows_sysprep_timeout": 6}


def inventory(tmp_path, host, port, user=USER, password=PASSWORD):
    path = tmp_path / "inventory.ini"
    path.write_text(
        f"win ansible_host={host} ansible_port={port} ansible_connection=winrm ansible_winrm_transport=basic "
        f"ansible_winrm_scheme=http ansible_user={user} ansible_password='{password}'\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def guest(tmp_path):
    """Start a fake Windows guest with a scenario; returns (FakeWinRM, inventory path)."""
    started = []

    def _start(scenario=None):
        double = FakeWinRM(scenario, state_path=str(tmp_path / "state.json")).start()
        started.append(double)
        return double, inventory(tmp_path, "127.0.0.1", double.port)

    yield _start
    for double in started:
        double.stop()


def deprovision(inv, sim_env=None, args=(), **extra):
    return run_playbook(PLAY, sim_env=sim_env, inventory=inv, extra_vars=dict(FAST, **extra), args=args)


def steps(state):
    return [item["step"] for item in state["steps"]]


ROLE = "goldenimage.azure.deprovision : "


def task(run, name):
    """The last result of the role's task with this name (results name role tasks "<role> : <name>")."""
    return run.task(ROLE + name)


def ran(run, name):
    return any(item["task"] in (name, ROLE + name) for item in run.results)


def failed_task(run):
    """The last failed task's result, with the role prefix removed from its name."""
    failed = [item for item in run.results if item["status"] == "failed"]
    assert failed, run.stdout[-3000:]
    return dict(failed[-1], task=failed[-1]["task"].removeprefix(ROLE))


# -- the double's own contract (pywinrm straight at it) -------------------------------------------------
def test_double_rejects_unknown_scripts_and_wrong_passwords():
    with FakeWinRM() as double:
        session = winrm.Session(f"http://127.0.0.1:{double.port}/wsman", auth=(USER, PASSWORD), transport="basic")
        reply = session.run_ps("Get-Process")
        assert reply.status_code == UNKNOWN_SCRIPT_RC
        reply = session.run_ps("# goldenimage-step: format-disk")
        assert reply.status_code == UNKNOWN_SCRIPT_RC
        too_long = "# goldenimage-step: preflight\n" + "#" * 4000
        assert session.run_ps(too_long).status_code == UNKNOWN_SCRIPT_RC  # cmd.exe's 8191-character limit
        reply = session.run_ps("# goldenimage-step: sysprep-state")
        assert reply.status_code == 0 and json.loads(reply.std_out)["image_state"] == "IMAGE_STATE_COMPLETE"
        with pytest.raises(winrm.exceptions.InvalidCredentialsError):
            winrm.Session(f"http://127.0.0.1:{double.port}/wsman", auth=(USER, "wrong"), transport="basic").run_ps("x")
        state = double.state
    reasons = [item["reason"] for item in state["rejected"]]
    assert len(reasons) == 3
    assert reasons[0].startswith("unrecognised script") and "'format-disk'" in reasons[1]
    assert reasons[2].startswith("The command line is too long")
    assert steps(state) == ["sysprep-state"]
    assert state["shells"]["opened"] == state["shells"]["deleted"] >= 4


def test_every_role_script_fits_the_command_line_and_carries_a_marker():
    """The role's scripts are what the double dispatches on; raw sends them as one -EncodedCommand."""
    files = os.path.join(ROOT, "roles", "deprovision", "files")
    for name in sorted(os.listdir(files)):
        if not name.endswith(".ps1"):
            continue
        with open(os.path.join(files, name), encoding="utf-8") as handle:
            text = handle.read()
        assert text.startswith(f"# goldenimage-step: {name[:-4]}\n"), name
        config = "{" + '"x": "' + "y" * 300 + '"}'  # room for a few hundred characters of settings
        script = "\n".join(line.strip() for line in text.replace("__CONFIG__", config).splitlines() if line.strip())
        encoded = base64.b64encode(script.encode("utf-16-le")).decode()
        command = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand " + encoded
        assert len(command) <= 8191, (name, len(command))


# -- the role ----------------------------------------------------------------------------------------------
def test_success_removes_answer_files_runs_sysprep_once_and_reaches_generalized(guest):
    double, inv = guest({"sysprep": {"outcome": "generalize", "polls": 3}})
    run = deprovision(inv)
    assert run.rc == 0, run.stdout[-3000:]
    state = double.state
    assert state["rejected"] == []
    assert steps(state)[:4] == ["agent-services", "preflight", "cleanup", "sysprep-start"]
    assert set(steps(state)[4:-1]) == {"sysprep-state"} and steps(state)[-1] == "build-account"
    invocations = state["sysprep"]["invocations"]
    assert len(invocations) == 1
    assert invocations[0]["path"] == r"C:\Windows\System32\Sysprep\Sysprep.exe"
    assert invocations[0]["arguments"] == SYSPREP_ARGS
    # Answer files and Panther leftovers were gone before Sysprep started, and stay gone.
    for files in (invocations[0]["files_present"], state["files"]):
        assert not [name for name in files if name.lower().startswith(r"c:\windows\panther")]
        assert not set(UNATTEND) & set(files)
    assert invocations[0]["services"] == {"WindowsAzureGuestAgent": "Running", "RdAgent": "Running"}
    assert state["registry"][SETUP_STATE_KEY]["ImageState"] == GENERALIZED
    assert state["logs_read"] == []
    result = task(run, "Record the result")["result"]["ansible_facts"]["deprovision_result"]
    assert result["ok"] is True and result["image_state"] == GENERALIZED and result["succeeded_tag"] is True
    assert result["sysprep_command"].split()[1:] == SYSPREP_ARGS
    assert task(run, "Mark the VM deprovisioned")["status"] == "skipped"
    # The play ended for the sealed guest: nothing ran after the role.
    assert not ran(run, "After the role")
    assert "never-reached" not in steps(state)


def test_services_starting_late_are_waited_for(guest):
    double, inv = guest({"services": {"WindowsAzureGuestAgent": 3, "RdAgent": 2}})
    run = deprovision(inv)
    assert run.rc == 0, run.stdout[-3000:]
    state = double.state
    assert state["services"]["WindowsAzureGuestAgent"]["polls"] == 3
    assert state["sysprep"]["invocations"][0]["services"] == {"WindowsAzureGuestAgent": "Running", "RdAgent": "Running"}


def test_services_never_ready_fail_within_the_bound_before_anything_changes(guest):
    double, inv = guest({"services": {"WindowsAzureGuestAgent": None, "RdAgent": 0}})
    run = deprovision(inv)
    assert run.rc != 0
    failure = failed_task(run)
    assert failure["task"] == FAIL_WAIT
    assert "WindowsAzureGuestAgent is StartPending" in failure["result"]["msg"]
    assert "RdAgent" not in failure["result"]["msg"]
    state = double.state
    polls = state["services"]["WindowsAzureGuestAgent"]["polls"]
    assert 1 < polls <= FAST["deprovision_windows_agent_timeout"] + 1  # bounded: retries = timeout / interval
    assert steps(state) == ["agent-services"] * polls
    assert state["sysprep"]["invocations"] == []
    assert set(UNATTEND) <= set(state["files"])


def test_sysprep_waits_for_windows_setup_to_finish(guest):
    """A VM still in its first boot (IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE) would leave Sysprep stuck there."""
    double, inv = guest({"setup_polls": 3})
    run = deprovision(inv)
    assert run.rc == 0, run.stdout[-3000:]
    state = double.state
    assert state["setup"]["polls"] == 3
    assert state["sysprep"]["invocations"][0]["image_state_before"] == "IMAGE_STATE_COMPLETE"


def test_setup_never_finishing_fails_within_the_bound_naming_the_state(guest):
    double, inv = guest({"setup_polls": None})
    run = deprovision(inv)
    failure = failed_task(run)
    assert failure["task"] == FAIL_WAIT
    assert "IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE" in failure["result"]["msg"]
    state = double.state
    assert 1 < state["setup"]["polls"] <= FAST["deprovision_windows_agent_timeout"] + 1
    assert state["sysprep"]["invocations"] == [] and set(steps(state)) == {"agent-services"}


def test_stuck_state_fails_early_with_the_log_tails_and_does_not_mark(guest, fresh_sim, compute, network, resources):
    vm = setup.make_vm(compute, network, resources)
    error = "Error [0x0f0073] SYSPRP RunExternalDlls:An error occurred while running registry sysprep DLLs"
    double, inv = guest({"sysprep": {"outcome": "stop", "polls": 2, "final_state": "IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE",
                                     "errors": [error]}})
    run = deprovision(inv, sim_env=fresh_sim.env, deprovision_azure_vm={"id": vm["id"]})
    assert run.rc != 0
    failure = failed_task(run)
    assert failure["task"] == FAIL_SYSPREP
    state = double.state
    # The wait ended as soon as Sysprep had exited in a state that never turns, long before the bound.
    assert state["sysprep"]["state_polls"] == 2 < FAST["deprovision_windows_sysprep_timeout"]
    assert state["registry"][SETUP_STATE_KEY]["ImageState"] == "IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE"
    assert sorted(state["logs_read"]) == sorted([SETUPACT, SETUPERR])
    message = failure["result"]["msg"]
    assert error in message and "IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE" in message
    assert not ran(run, "Mark the VM deprovisioned")
    assert TAG not in (fresh_sim.admin.resource(vm["id"]).get("tags") or {})


@pytest.mark.parametrize("final_state", ["IMAGE_STATE_COMPLETE", "IMAGE_STATE_UNDEPLOYABLE"])
def test_other_states_that_never_turn_end_the_wait(guest, final_state):
    double, inv = guest({"sysprep": {"outcome": "stop", "polls": 1, "final_state": final_state}})
    run = deprovision(inv)
    assert failed_task(run)["task"] == FAIL_SYSPREP
    state = double.state
    assert state["sysprep"]["state_polls"] == 1
    assert state["registry"][SETUP_STATE_KEY]["ImageState"] == final_state
    assert SETUPERR in state["logs_read"]


def test_sysprep_that_never_finishes_times_out_within_the_bound(guest):
    double, inv = guest({"sysprep": {"outcome": "hang"}})
    run = deprovision(inv)
    failure = failed_task(run)
    assert failure["task"] == FAIL_SYSPREP
    state = double.state
    assert state["sysprep"]["running"] is True
    assert 1 < state["sysprep"]["state_polls"] <= FAST["deprovision_windows_sysprep_timeout"] + 1
    assert len(state["sysprep"]["invocations"]) == 1
    assert sorted(state["logs_read"]) == sorted([SETUPACT, SETUPERR])
    assert "deprovision_windows_sysprep_timeout" in failure["result"]["msg"]


@pytest.mark.parametrize("scenario", [
    {"appx_per_user": [APPX]},
    {"bitlocker": [{"mount_point": "C:", "protection_status": "On", "conversion_status": "FullyEncrypted"}]},
    {"bitlocker": [{"mount_point": "D:", "protection_status": "Off", "conversion_status": "DecryptionInProgress"}]},
    {"image_state": "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"},
], ids=["appx-per-user", "bitlocker-on", "bitlocker-decrypting", "already-sysprepped"])
def test_blockers_fail_before_sysprep_and_change_nothing(guest, scenario):
    double, inv = guest(scenario)
    run = deprovision(inv)
    failure = failed_task(run)
    assert failure["task"] == FAIL_BLOCKERS
    state = double.state
    assert state["sysprep"]["invocations"] == []
    assert steps(state) == ["agent-services", "preflight"]
    assert set(UNATTEND) <= set(state["files"])
    assert state["appx"]["removed"] == []
    message = failure["result"]["msg"]
    if "appx_per_user" in scenario:
        assert APPX["full_name"] in message and "deprovision_windows_remove_appx_per_user" in message
    if "bitlocker" in scenario:
        assert scenario["bitlocker"][0]["mount_point"] in message


def test_per_user_appx_removed_when_asked(guest):
    double, inv = guest({"appx_per_user": [APPX]})
    run = deprovision(inv, deprovision_windows_remove_appx_per_user=True)
    assert run.rc == 0, run.stdout[-3000:]
    state = double.state
    assert state["appx"]["removed"] == [APPX["full_name"]] and state["appx"]["per_user"] == []
    assert steps(state)[:5] == ["agent-services", "preflight", "appx-remove", "preflight", "cleanup"]
    assert state["sysprep"]["invocations"][0]["appx_per_user"] == []
    assert state["registry"][SETUP_STATE_KEY]["ImageState"] == GENERALIZED
    result = task(run, "Record the result")["result"]["ansible_facts"]["deprovision_result"]
    assert result["appx_removed"] == [APPX["full_name"]]


def test_appx_removal_failure_stops_before_sysprep(guest):
    double, inv = guest({"appx_per_user": [APPX], "appx_removal_fails": [APPX["full_name"]]})
    run = deprovision(inv, deprovision_windows_remove_appx_per_user=True)
    failure = failed_task(run)
    assert failure["task"] == FAIL_BLOCKERS
    assert "0x80073CFA" in failure["result"]["msg"]  # the removal error, as the guest reported it
    state = double.state
    assert state["sysprep"]["invocations"] == []
    assert state["appx"]["per_user"] == [APPX]


def test_check_mode_reads_the_guest_and_changes_nothing(guest):
    double, inv = guest({"appx_per_user": [APPX]})
    run = deprovision(inv, args=("--check",), deprovision_windows_remove_appx_per_user=True)
    assert run.rc == 0, run.stdout[-3000:]
    state = double.state
    assert steps(state) == ["agent-services", "preflight"]
    assert state["sysprep"]["invocations"] == [] and state["appx"]["per_user"] == [APPX]
    assert set(UNATTEND) <= set(state["files"])
    for name in ("Remove answer files and setup leftovers", "Start Sysprep (/oobe /generalize /quiet /quit /mode:vm)",
                 "Mark the VM deprovisioned"):
        assert task(run, name)["status"] == "skipped"


def test_without_the_role_checks_the_double_fails_sysprep_like_windows(guest):
    """The double is not a rubber stamp: Sysprep started with per-user AppX present stops at IMAGE_STATE_COMPLETE."""
    double, _ = guest({"appx_per_user": [APPX]})
    session = winrm.Session(f"http://127.0.0.1:{double.port}/wsman", auth=(USER, PASSWORD), transport="basic")
    with open(os.path.join(ROOT, "roles", "deprovision", "files", "sysprep-start.ps1"), encoding="utf-8") as handle:
        assert session.run_ps(handle.read()).status_code == 0
    for _ in range(3):
        reply = json.loads(session.run_ps("# goldenimage-step: sysprep-state").std_out)
    assert reply == {"image_state": "IMAGE_STATE_COMPLETE", "sysprep_running": False, "succeeded_tag": False}
    assert "was installed for a user, but not provisioned for all users" in double.state["files"][SETUPERR]


# -- with the simulator: the double bound in the guest pool, a Windows VM, the mark ---------------------------
def _free_loopback(port=5985):
    # random order: xdist workers probing in the same order would pick the same free address at once
    for last in random.sample(range(10, 250), 240):
        address = f"127.77.1.{last}"
        with socket.socket() as probe:
            try:
                probe.bind((address, port))
            except OSError:
                continue
        return address
    pytest.skip("no free 127.77.1.x address for port 5985")
    return None


@contextlib.contextmanager
def serve_pooled_fakewinrm(fresh_sim, tmp_path, scenario, port=5985, tls=False):
    """`python -m fakewinrm serve --sim-url ...` in the simulator's guest pool (the CLI path), with ``scenario``."""
    address = _free_loopback(port)
    name = f"fakewin-{address.rsplit('.', 1)[1]}"
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(scenario), encoding="utf-8")
    state_dir = tmp_path / "guest"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               AZSIM_ADMIN_TOKEN=fresh_sim.admin_token)  # registering in the pool is an admin call
    command = [sys.executable, "-m", "fakewinrm", "serve", "--address", address, "--port", str(port),
               "--scenario", str(scenario_file), "--state-dir", str(state_dir), "--sim-url", fresh_sim.url,
               "--ca", fresh_sim.ca, "--name", name] + (["--tls"] if tls else [])
    errors = tmp_path / "serve.err"
    with errors.open("w") as err:
        proc = subprocess.Popen(command, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        ready = json.loads(proc.stdout.readline() or "{}")
        assert ready.get("address") == address, errors.read_text()
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex((address, port)) == 0:
                    break
            time.sleep(0.1)
        yield {"name": name, "address": address, "port": port, "state": state_dir / "state.json"}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        # The CLI deregisters itself on SIGTERM; make sure the pool is clean for the next test either way.
        if any(entry["name"] == name for entry in fresh_sim.admin.guests()):
            fresh_sim.admin.remove_guest(name)


@pytest.fixture
def pooled_guest(request, fresh_sim, tmp_path):
    """fakewinrm in the guest pool, Sysprep generalizing after two polls. Indirect parameters: {"port": 5985, "tls": False}."""
    options = dict({"port": 5985, "tls": False}, **getattr(request, "param", {}))
    with serve_pooled_fakewinrm(fresh_sim, tmp_path, {"sysprep": {"outcome": "generalize", "polls": 2}},
                                port=options["port"], tls=options["tls"]) as guest:
        yield guest

def make_windows_vm(compute, network, resources, guest_name, rg="rg-build-win", name="win-build"):
    setup.make_group(resources, rg)
    pip = setup.wire(network.public_ip_addresses.begin_create_or_update(rg, f"{name}-pip", {
        "location": "eastus", "sku": {"name": "Standard"}, "tags": {"azsim-guest": guest_name},
        "properties": {"publicIPAllocationMethod": "Static"}}).result())
    vnet = setup.wire(network.virtual_networks.begin_create_or_update(rg, f"{name}-vnet", {
        "location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]},
                                             "subnets": [{"name": "default", "properties": {"addressPrefix": "10.20.0.0/24"}}]},
    }).result())
    nic = setup.wire(network.network_interfaces.begin_create_or_update(rg, f"{name}-nic", {
        "location": "eastus", "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
            "subnet": {"id": vnet["properties"]["subnets"][0]["id"]}, "privateIPAllocationMethod": "Dynamic",
            "publicIPAddress": {"id": pip["id"]}}}]}}).result())
    compute.virtual_machines.begin_create_or_update(rg, name, {
        "location": "eastus",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v3"},
            "storageProfile": {
                "imageReference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                                   "sku": "2019-datacenter-gensecond", "version": "latest"},
                "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Standard_LRS"}}},
            "osProfile": {"computerName": name, "adminUsername": "winadmin", "adminPassword": "Pr0vis10ned!Secret",
                          "windowsConfiguration": {"provisionVMAgent": True}},
            "networkProfile": {"networkInterfaces": [{"id": nic["id"], "properties": {"primary": True}}]},
        }}).result()
    return setup.get_vm(compute, rg, name), setup.wire(network.public_ip_addresses.get(rg, f"{name}-pip"))


def test_marks_the_windows_vm_reached_through_the_guest_pool(fresh_sim, pooled_guest, compute, network, resources,
                                                             tmp_path):
    vm, pip = make_windows_vm(compute, network, resources, pooled_guest["name"])
    address = pip["properties"]["ipAddress"]
    assert address == pooled_guest["address"]
    assert TAG not in (vm.get("tags") or {})
    # Basic auth now takes the credentials the VM was created with, not the scenario's.
    inv = inventory(tmp_path, address, 5985, user="winadmin", password="Pr0vis10ned!Secret")
    run = deprovision(inv, sim_env=fresh_sim.env, deprovision_azure_vm={"name": "win-build",
                                                                        "resource_group": "rg-build-win"})
    assert run.rc == 0, run.stdout[-3000:]
    with open(pooled_guest["state"], encoding="utf-8") as handle:
        state = json.load(handle)
    assert state["credentials"]["source"] == "provisioning" and state["provisioned"]["vm_name"] == "win-build"
    assert state["sysprep"]["invocations"][0]["arguments"] == SYSPREP_ARGS
    assert state["registry"][SETUP_STATE_KEY]["ImageState"] == GENERALIZED
    tags = fresh_sim.admin.resource(vm["id"]).get("tags") or {}
    assert tags.get(TAG) == task(run, "Mark the VM deprovisioned")["result"]["deprovisioned_at"]


# -- what Sysprep leaves: the build account and the VM's custom data (issue 10 item 5) ---------------------------------
CUSTOM_DATA = r"C:\AzureData\CustomData.bin"
FAIL_ACCOUNT = "Verify the build account's change"


def profile_files(state, user):
    return [name for name in state["files"] if name.lower().startswith(f"c:\\users\\{user.lower()}\\")]


def test_custom_data_is_deleted_before_sysprep_and_checked(guest):
    double, inv = guest()
    assert CUSTOM_DATA in double.state["files"]
    run = deprovision(inv)
    assert run.rc == 0, run.stdout[-3000:]
    state = double.state
    assert CUSTOM_DATA not in state["sysprep"]["invocations"][0]["files_present"]
    assert CUSTOM_DATA not in state["files"]
    cleanup = [item for item in state["steps"] if item["step"] == "cleanup"][0]
    assert r"%SystemDrive%\AzureData\CustomData.bin" in cleanup["config"]["paths"]
    assert CUSTOM_DATA in task(run, "Record the result")["result"]["ansible_facts"]["deprovision_result"]["removed"]


def test_custom_data_goes_whatever_the_cleanup_paths_and_stays_only_when_asked(guest):
    double, inv = guest()
    run = deprovision(inv, deprovision_windows_cleanup_paths=[])
    assert run.rc == 0, run.stdout[-3000:]
    assert CUSTOM_DATA not in double.state["files"]
    kept, inv = guest()
    run = deprovision(inv, deprovision_windows_remove_custom_data=False)
    assert run.rc == 0, run.stdout[-3000:]
    assert CUSTOM_DATA in kept.state["files"]


def test_builtin_build_admin_is_disabled_after_sysprep_and_its_logon_refused(guest):
    """Azure's admin account is the built-in Administrator (RID 500), which Windows cannot delete: disabled, with a
    random password and its profile deleted, after Sysprep, by a process that outlives the WinRM command."""
    double, inv = guest()
    run = deprovision(inv)
    assert run.rc == 0, run.stdout[-3000:]
    state = double.state
    account = state["accounts"][USER]
    assert account["enabled"] is False and account["password_reset"] is True
    assert profile_files(state, USER) == []
    assert state["account_actions"] == [{"user": USER, "action": "disable", "deferred": True, "result": "disabled"}]
    # After Sysprep had generalized the guest, and as the last command the role sent over this account.
    names = steps(state)
    assert names.index("build-account") > max(i for i, name in enumerate(names) if name == "sysprep-state")
    assert names[-1] == "build-account"  # every check after it was refused: the account no longer logs on
    with pytest.raises(winrm.exceptions.InvalidCredentialsError):
        winrm.Session(f"http://127.0.0.1:{double.port}/wsman", auth=(USER, PASSWORD), transport="basic").run_ps("x")
    result = task(run, "Record the account change")["result"]["ansible_facts"]["deprovision_result"]
    assert result["build_account"]["action"] == "disable" and result["build_account"]["builtin"] is True
    assert result["build_account"]["logon_refused"] is True
    assert task(run, "Verify the build account's change")["status"] == "ok"


def test_regular_build_account_is_removed(guest):
    double, inv = guest({"build_account_builtin": False})
    run = deprovision(inv)
    assert run.rc == 0, run.stdout[-3000:]
    state = double.state
    assert USER not in state["accounts"] and profile_files(state, USER) == []
    assert state["account_actions"][0]["result"] == "removed"


def test_disable_option_keeps_a_regular_account_disabled(guest):
    double, inv = guest({"build_account_builtin": False})
    run = deprovision(inv, deprovision_windows_build_account="disable")
    assert run.rc == 0, run.stdout[-3000:]
    account = double.state["accounts"][USER]
    assert account["enabled"] is False and account["password_reset"] is True


def test_keep_option_leaves_the_account(guest):
    double, inv = guest()
    run = deprovision(inv, deprovision_windows_build_account="keep")
    assert run.rc == 0, run.stdout[-3000:]
    state = double.state
    assert state["accounts"][USER]["enabled"] is True and "build-account" not in steps(state)
    assert state["account_actions"] == []


def test_another_build_account_is_removed_at_once_and_checked_in_the_guest(guest):
    double, inv = guest({"extra_accounts": ["customizer"]})
    run = deprovision(inv, deprovision_windows_build_user="customizer")
    assert run.rc == 0, run.stdout[-3000:]
    state = double.state
    assert "customizer" not in state["accounts"] and profile_files(state, "customizer") == []
    assert state["accounts"][USER]["enabled"] is True  # the connection's account was not the one asked for
    assert state["account_actions"] == [{"user": "customizer", "action": "remove", "deferred": False,
                                         "result": "removed"}]
    assert task(run, "Check that the build account no longer accepts logons")["status"] == "skipped"


def test_missing_build_account_fails_before_anything_changes(guest):
    double, inv = guest()
    run = deprovision(inv, deprovision_windows_build_user="nobody")
    failure = failed_task(run)
    assert failure["task"] == FAIL_BLOCKERS and "nobody" in failure["result"]["msg"]
    state = double.state
    assert steps(state) == ["agent-services", "preflight"] and state["sysprep"]["invocations"] == []
    assert CUSTOM_DATA in state["files"]


def test_account_that_still_logs_on_fails_within_the_bound(guest):
    """The check is real: when the detached change never happens, the build credentials still work and the role
    fails after deprovision_windows_build_account_timeout, naming the account."""
    double, inv = guest({"account_change_lost": True})
    run = deprovision(inv, deprovision_windows_build_account_timeout=3)
    failure = failed_task(run)
    assert failure["task"] == FAIL_ACCOUNT and USER in failure["result"]["msg"]
    state = double.state
    assert steps(state).count("build-account-check") == 3
    assert state["accounts"][USER]["enabled"] is True
    assert not ran(run, "Mark the VM deprovisioned")


def test_check_mode_leaves_the_account_and_custom_data(guest):
    double, inv = guest()
    run = deprovision(inv, args=("--check",))
    assert run.rc == 0, run.stdout[-3000:]
    state = double.state
    assert CUSTOM_DATA in state["files"] and state["accounts"][USER]["enabled"] is True
    assert state["account_actions"] == [] and "build-account" not in steps(state)
