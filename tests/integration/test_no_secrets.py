"""No secret in any task result at any verbosity (issue 10): the main job for a Windows image at -vvv, against the
simulator with fakewinrm as the guest, with a callback that records every result handed to callbacks (items,
retries, async polls, includes - what AWX or ARA would store); and image_capture from a VHD URI with a SAS.

The secrets: the build's Windows password (generated per build: the test reads it from the guest), the per-build
WinRM certificate's private key (read from the guest too), the client secret, a VHD URI's SAS signature."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.harness import ROOT, run_playbook
from tests.integration import lifecycle_setup as setup
from tests.integration.test_build_windows import WINRM_PORT, _vars
from tests.integration.test_deprovision_windows import pooled_guest  # noqa: F401 (fixture)
from tests.integration.test_image_capture import gallery, playbook


def _recorded(tmp_path, run):
    path = tmp_path / "secret-dump.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
    return events, json.dumps(events) + json.dumps(run.results) + run.stdout + run.stderr


def _env(tmp_path):
    return {"ANSIBLE_CALLBACKS_ENABLED": "azsim_results,secret_dump", "SECRET_DUMP_FILE": str(tmp_path / "secret-dump.jsonl")}


@pytest.mark.slow
@pytest.mark.parametrize("pooled_guest", [{"port": WINRM_PORT, "tls": True}], indirect=True)
def test_windows_build_leaks_no_password_at_vvv(fresh_sim, pooled_guest, resources, tmp_path):  # noqa: F811
    resources.resource_groups.create_or_update("rg-golden-images", {"location": "eastus"})
    extra = _vars(tmp_path, pooled_guest)
    del extra["golden_image_builds"][0]["admin_password"]  # the default: a random password per build
    run = run_playbook(os.path.join(ROOT, "build-golden-image.yml"), sim_env=fresh_sim.env, extra_vars=extra,
                       args=["-vvv"], env=_env(tmp_path), timeout=900)
    (tmp_path / "stdout.txt").write_text(run.stdout)
    assert run.rc == 0, ([r for r in run.results if r["status"] in ("failed", "unreachable")], run.stderr[-2000:])
    with open(pooled_guest["state"], encoding="utf-8") as handle:
        password = json.load(handle)["credentials"]["password"]
    # Random, long, and meeting Azure's complexity rule (lower, upper, digit, special).
    assert len(password) >= 24
    assert all(re.search(p, password) for p in ("[a-z]", "[A-Z]", "[0-9]", "[^A-Za-z0-9]"))
    events, text = _recorded(tmp_path, run)
    assert len(events) > 50 and any(e["event"].startswith("runner_item_") for e in events)
    secrets = {"password": password, "client secret": fresh_sim.env["AZURE_CLIENT_SECRET"]}
    # The per-build WinRM certificate's private key, as the guest got it from custom data: each PEM body line, so a
    # key rendered raw or JSON-escaped in any result is found.
    key_pem = (pooled_guest["state"].parent / "winrm-key.pem").read_text()
    key_lines = [line for line in key_pem.splitlines() if line and not line.startswith("-----")]
    assert key_lines
    secrets.update({f"WinRM private key (line {n})": line for n, line in enumerate(key_lines)})
    for what, secret in secrets.items():
        assert secret not in text, f"the {what} is in a recorded result or the -vvv output"
    # The image was built with it: the run did reach the guest.
    assert [i["name"] for i in fresh_sim.admin.resources("Microsoft.Compute/images")] == ["img-windows-2022"]


def test_capture_from_a_vhd_sas_leaks_no_signature(fresh_sim, play, resources, tmp_path):
    setup.make_group(resources)
    sig = "Zm9vYmFyc2VjcmV0c2lnbmF0dXJlMTIzNDU2Nzg5MA%3D%3D"
    uri = f"https://stimages.blob.core.windows.net/vhds/base.vhd?sv=2022-11-02&sr=b&sp=r&se=2030-01-01&sig={sig}"
    account = ("/subscriptions/%s/resourceGroups/rg-build/providers/Microsoft.Storage/storageAccounts/stimages"
               % fresh_sim.subscription_id)
    options = {"source": uri, "os_type": "Linux", "hyper_v_generation": "V2", "storage_account_id": account,
               "gallery": gallery(image="imported", location="eastus")}
    run = play(playbook(options), args=["-vvv"], env=_env(tmp_path))
    assert run.rc == 0, run.stdout
    result = run.task("capture")["result"]
    assert result["source"]["uri"] == "https://stimages.blob.core.windows.net/vhds/base.vhd"
    # Azure itself is given the SAS (it needs it to read the blob).
    [version] = fresh_sim.admin.resources("Microsoft.Compute/galleries/images/versions")
    assert version["properties"]["storageProfile"]["osDiskImage"]["source"]["uri"] == uri
    # A failure message naming the source carries no SAS either.
    fresh_sim.admin.faults([{"method": "PUT", "path": "/versions/", "status": 400, "code": "InvalidParameter",
                             "message": f"Blob {uri} cannot be read."}])
    failed = play(playbook(dict(options, gallery=gallery(image="imported2", location="eastus"))), args=["-vvv"],
                  env=_env(tmp_path))
    assert failed.rc != 0
    _events, text = _recorded(tmp_path, run)
    _events, failed_text = _recorded(tmp_path, failed)
    for blob in (text, failed_text):
        assert sig not in blob and "sig=" not in blob
