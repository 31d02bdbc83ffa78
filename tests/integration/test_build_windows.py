"""build-golden-image.yml for a Windows image, end to end against the simulator, with fakewinrm bound in the
simulator's guest pool as the build VM's guest (WinRM over HTTPS on 5986, Basic auth with the VM's admin
password as provisioned).

What runs for real: the playbook, the builder role (VM, NSG, public IP, WinRM address), the deprovision role's
Windows path over the winrm connection plugin, the capture role. What is simulated: Azure (azsim) and Windows
(fakewinrm; see fakewinrm/README.md). Builder's `wait_for_connection` is off: it runs win_ping, a PowerShell
module that needs a real PowerShell host.
"""

from __future__ import annotations

import json
import os

import pytest

from fakewinrm.windows import GENERALIZED, SETUP_STATE_KEY
from tests.harness import ROOT, run_playbook
from tests.integration.test_deprovision_windows import SYSPREP_ARGS, serve_pooled_fakewinrm
from tests.integration.test_deprovision_windows import pooled_guest  # noqa: F401 (fixture)

WINRM_PORT = 5986
PASSWORD = "Bu1ld!Windows-2022"


def _vars(tmp_path, guest=None):
    # WinRM validates the listener's certificate (the default) against the per-build certificate alone: no user CA
    # (fakewinrm starts with a certificate from its own throw-away CA, trusted by nobody, and serves the per-build
    # one once provisioning handed it over in custom data).
    return {
        "golden_image_location": "eastus",
        "golden_image_builds": [{
            "name": "windows-2022",
            "base_image": "MicrosoftWindowsServer:WindowsServer:2019-datacenter-gensecond:latest",
            "os_type": "windows",
            "admin_username": "gibuilder",
            "admin_password": PASSWORD,
            "vm_size": "Standard_D4s_v5",
            "os_disk_type": "Premium_LRS",
            "security_type": "Standard",
            "managed_image": {"name": "img-windows-2022", "resource_group": "rg-golden-images"},
        }],
        "golden_image_manifest": str(tmp_path / "manifest.json"),
        "golden_image_build_dir": str(tmp_path / "builds"),
        "golden_image_connect_timeout": 30,
        # The double speaks Basic auth (no NTLM) and cannot run win_ping (a PowerShell module).
        "builder_winrm_transport": "basic",
        "builder_wait_for_connection": False,
    }


@pytest.mark.slow
@pytest.mark.parametrize("pooled_guest", [{"port": WINRM_PORT, "tls": True}], indirect=True)
def test_windows_image_built_through_sysprep(fresh_sim, pooled_guest, resources, tmp_path):  # noqa: F811
    resources.resource_groups.create_or_update("rg-golden-images", {"location": "eastus"})
    run = run_playbook(os.path.join(ROOT, "build-golden-image.yml"), sim_env=fresh_sim.env,
                       extra_vars=_vars(tmp_path, pooled_guest),
                       timeout=900)
    assert run.rc == 0, (run.stdout[-5000:], run.stderr[-2000:])
    # The given password reached the guest, and no task result or output line (issue 10).
    assert PASSWORD not in run.stdout + run.stderr + json.dumps(run.results)
    with open(pooled_guest["state"], encoding="utf-8") as handle:
        state = json.load(handle)
    assert state["credentials"]["source"] == "provisioning"
    # The listener served the certificate that came in custom data (the run trusted nothing else).
    assert "BEGIN CERTIFICATE" in (pooled_guest["state"].parent / "winrm-cert.pem").read_text()
    assert state["credentials"]["username"] == "gibuilder"
    assert [item["arguments"] for item in state["sysprep"]["invocations"]] == [SYSPREP_ARGS]
    assert state["registry"][SETUP_STATE_KEY]["ImageState"] == GENERALIZED
    images = [item for item in fresh_sim.admin.resources("Microsoft.Compute/images")
              if item["name"] == "img-windows-2022"]
    assert len(images) == 1
    assert images[0]["properties"]["storageProfile"]["osDisk"]["osType"] == "Windows"
    assert images[0]["properties"]["storageProfile"]["osDisk"]["osState"] == "Generalized"
    # The temporary build resource group is gone.
    assert not [item for item in fresh_sim.admin.resources("Microsoft.Compute/virtualMachines")]


@pytest.fixture
def rekeyed_guest(fresh_sim, tmp_path):
    """fakewinrm in the pool serving a look-alike of the per-build certificate (same names, dates, subject; another
    key) - what an impostor between the controller and the VM, or a re-keyed guest, would present."""
    with serve_pooled_fakewinrm(fresh_sim, tmp_path, {"winrm_certificate": "rekeyed"}, port=WINRM_PORT,
                                tls=True) as guest:
        yield guest


@pytest.mark.slow
def test_windows_build_refuses_a_listener_without_the_per_build_certificate(fresh_sim, rekeyed_guest, resources,
                                                                            tmp_path):
    resources.resource_groups.create_or_update("rg-golden-images", {"location": "eastus"})
    extra = _vars(tmp_path, rekeyed_guest)
    extra["golden_image_connect_timeout"] = 5
    run = run_playbook(os.path.join(ROOT, "build-golden-image.yml"), sim_env=fresh_sim.env, extra_vars=extra,
                       timeout=900)
    assert run.rc != 0
    failed = [r for r in run.results if r["status"] in ("failed", "unreachable")]
    assert any("CERTIFICATE_VERIFY_FAILED" in json.dumps(r) or "certificate verify failed" in json.dumps(r)
               for r in failed), failed
    # The guest did get the per-build certificate (provisioning ran), served another, and was never touched:
    # no deprovision step, no Sysprep, no image.
    assert (rekeyed_guest["state"].parent / "winrm-cert.pem").exists()
    assert (rekeyed_guest["state"].parent / "winrm-rekeyed.pem").exists()
    state = json.loads(rekeyed_guest["state"].read_text()) if rekeyed_guest["state"].exists() else {}
    assert not state.get("sysprep", {}).get("invocations")
    assert state.get("shells", {}).get("commands", 0) == 0
    assert not fresh_sim.admin.resources("Microsoft.Compute/images")
