"""build_vm runs the per-build WinRM listener script through the VM's Run Command (Azure runs no custom data by
itself): once, after the VM PUT, only for a Windows VM created with ``winrm_private_key``, never in check mode, and a
failed run command fails the build naming the operation. Against the simulator, through ansible-playbook (request
log) and the real SDK (wire bodies)."""

from __future__ import annotations

import json
import sys

import pytest

from tests.harness import ensure_collection_path
from tests.integration.test_build_vm import URN, _play, ssh_key  # noqa: F401 (fixture)

sys.path.insert(0, ensure_collection_path())  # ansible_collections.goldenimage.azure -> this repository

from ansible_collections.goldenimage.azure.plugins.module_utils import _build_vm, _winrm_cert  # noqa: E402
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError  # noqa: E402

WINDOWS = "MicrosoftWindowsServer:WindowsServer:2022-datacenter-g2:20348.2966.241205"
PASSWORD = "Gi-Build-Passw0rd!"
OPERATION = "run command to create the WinRM HTTPS listener on VM"


@pytest.fixture(scope="module")
def winrm_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _windows(build_id, key):
    return f"""
build_id: {build_id}
location: westeurope
image: {WINDOWS}
os_type: windows
admin_password: "{PASSWORD}"
winrm_private_key: {json.dumps(key)}
wait_timeout: 120
"""


def _arm(sim):
    return [r for r in sim.admin.requests() if r["path"].lower().startswith("/subscriptions/")]


def _run_commands(sim):
    return [r for r in _arm(sim) if r["method"] == "POST" and r["path"].lower().endswith("/runcommand")]


def test_windows_build_runs_the_listener_script_once_after_the_vm(play, fresh_sim, winrm_key):
    run = play(_play(_windows("wl1", winrm_key)))
    assert run.rc == 0, run.stdout
    result = run.task("build")["result"]
    assert "BEGIN CERTIFICATE" in result["winrm_certificate"]
    assert "PRIVATE KEY" not in json.dumps(run.results) + run.stdout
    requests = _arm(fresh_sim)
    commands = _run_commands(fresh_sim)
    assert [r["path"].lower() for r in commands] == [f"{result['vm_id']}/runcommand".lower()]
    assert commands[0]["status"] == 202
    vm_put = [i for i, r in enumerate(requests)
              if r["method"] == "PUT" and r["path"].lower() == result["vm_id"].lower()]
    assert vm_put and vm_put[-1] < requests.index(commands[0])
    # A second run finds the VM: nothing created, no second run command.
    again = play(_play(_windows("wl1", winrm_key)))
    assert again.rc == 0, again.stdout
    assert again.task("build")["result"]["changed"] is False
    assert len(_run_commands(fresh_sim)) == 1


def test_linux_build_and_check_mode_send_no_run_command(play, fresh_sim, ssh_key, winrm_key):  # noqa: F811
    linux = play(_play(f"""
build_id: wl2
location: westeurope
image: {URN}
ssh_public_key: "{ssh_key}"
wait_timeout: 120
"""))
    assert linux.rc == 0, linux.stdout
    check = play(_play(_windows("wl3", winrm_key), check=True))
    assert check.rc == 0, check.stdout
    assert check.task("build")["result"]["changed"] is True
    assert _run_commands(fresh_sim) == []
    assert not [r for r in _arm(fresh_sim) if "gi-build-wl3" in r["path"].lower() and r["method"] != "GET"]


def test_failed_run_command_fails_the_build_naming_the_operation(play, fresh_sim, winrm_key):
    fresh_sim.admin.faults([{"method": "POST", "path": "/runCommand$", "action": "fail_operation",
                             "code": "VMAgentStatusCommunicationError", "message": "Run command failed (injected)."}])
    run = play(_play(_windows("wl4", winrm_key)))
    assert run.rc != 0
    msg = run.task("build")["result"]["msg"]
    assert f"{OPERATION} 'gi-wl4'" in msg, msg
    assert "PRIVATE KEY" not in json.dumps(run.results) + run.stdout


class _Capture:
    """A per-call pipeline policy recording each request's method, URL and body as the SDK sends it."""

    def __init__(self):
        from azure.core.pipeline.policies import SansIOHTTPPolicy

        seen = self.seen = []

        class Policy(SansIOHTTPPolicy):
            def on_request(self, request):
                http = request.http_request
                body = http.body if http.body is not None else b""
                seen.append((http.method, http.url, body.decode() if isinstance(body, bytes) else str(body)))

        self.policy = Policy()


def test_run_command_body_reads_custom_data_and_carries_no_key(fresh_sim, winrm_key):
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    capture = _Capture()
    clients = [cls(fresh_sim.credential(), fresh_sim.subscription_id, per_call_policies=[capture.policy],
                   **fresh_sim.sdk_kwargs())
               for cls in (ResourceManagementClient, NetworkManagementClient, ComputeManagementClient)]
    spec = {"build_id": "wl5", "resource_group": "gi-build-wl5", "vm_name": "gi-wl5", "computer_name": "gi-wl5",
            "subscription_id": fresh_sim.subscription_id, "location": "westeurope", "os_type": "windows",
            "image_reference": _build_vm.image_reference(WINDOWS), "allowed_sources": ["203.0.113.7/32"],
            "admin_username": "azureuser", "admin_password": PASSWORD, "vm_size": "Standard_D2s_v5",
            "os_disk_type": "Premium_LRS", "winrm_private_key": winrm_key}
    changed, facts = _build_vm.ensure_present(*clients, spec, wait_timeout=120)
    assert changed and facts["winrm_certificate_thumbprint"]
    posts = [(url, body) for method, url, body in capture.seen if method == "POST" and "/runCommand" in url]
    assert len(posts) == 1
    body = json.loads(posts[0][1])
    assert body == {"commandId": "RunPowerShellScript", "script": list(_winrm_cert.RUN_COMMAND_SCRIPT)}
    assert "C:\\AzureData\\CustomData.bin" in body["script"][0]
    key_lines = [line for line in winrm_key.splitlines() if line and not line.startswith("-----")]
    assert "PRIVATE KEY" not in posts[0][1] and not [line for line in key_lines if line in posts[0][1]]
    # The key travels once, in the VM's custom data.
    vm_puts = [body for method, url, body in capture.seen if method == "PUT" and "/virtualMachines/gi-wl5?" in url]
    assert len(vm_puts) == 1 and json.loads(vm_puts[0])["properties"]["osProfile"]["customData"]


@pytest.mark.parametrize("statuses, failed", [
    ([{"code": "ComponentStatus/StdOut/succeeded", "message": "ok"},
      {"code": "ComponentStatus/StdErr/succeeded", "message": ""}], False),
    ([{"code": "ComponentStatus/StdOut/succeeded", "message": ""},
      {"code": "ComponentStatus/StdErr/succeeded", "message": "New-Item : Cannot find certificate " + "QUJD" * 40}],
     True),
    ([{"code": "ComponentStatus/StdOut/failed", "level": "Error", "message": ""}], True),
])
def test_run_command_result_stderr_or_failure_is_an_error(statuses, failed):
    class Poller:
        def done(self):
            return True

        def result(self):
            return {"value": statuses}

    class Compute:
        class virtual_machines:  # noqa: N801 - the SDK's attribute name
            @staticmethod
            def begin_run_command(resource_group, vm_name, body):
                return Poller()

    if not failed:
        assert _winrm_cert.create_winrm_listener(Compute, "rg", "vm1", 10) == "ok"
        return
    with pytest.raises(AzureError) as raised:
        _winrm_cert.create_winrm_listener(Compute, "rg", "vm1", 10)
    assert raised.value.operation == f"{OPERATION} 'vm1'"
    assert "QUJD" * 12 not in raised.value.message  # long base64 runs (a PKCS#12) are cut from the quoted output
