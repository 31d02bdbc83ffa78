"""The admin API (/_azsim/) needs the simulator's per-start token, and settings never return secrets
(issue 10, finding "the simulator as users will run it").

Without the token (or with a wrong one) every admin route answers 401 and changes nothing; ARM and Entra
requests do not need it. ``azsim env`` prints the running simulator's token; a restart makes a new one.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
import requests

from azsim.testing import SimServer
from tests.harness import ROOT
from tests.sim.wire import Wire


def admin_routes():
    from azsim.server import Sim

    sim = Sim()
    return sorted({(route.method, route.template) for route in sim.router._routes if route.kind == "admin"})


def _call(sim, method, template, headers=None, body=None):
    path = template.replace("{name}", "g-unauth")
    return requests.request(method, sim.url + path, json=body, headers=headers or {}, verify=sim.ca, timeout=30)


def test_every_admin_route_is_admin_kind_and_listed():
    routes = admin_routes()
    assert ("POST", "/_azsim/guests") in routes and ("GET", "/_azsim/settings") in routes
    assert ("POST", "/_azsim/reset") in routes and ("GET", "/_azsim/health") in routes


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong-token"},
    {"X-Azsim-Admin-Token": "wrong-token"},
    {"Authorization": "Basic d3Jvbmc6dG9rZW4="},
], ids=["none", "wrong-bearer", "wrong-header", "basic"])
def test_without_the_token_every_admin_route_is_401(fresh_sim, headers):
    for method, template in admin_routes():
        response = _call(fresh_sim, method, template, headers, body={} if method == "POST" else None)
        assert response.status_code == 401, (method, template, response.status_code, response.text)
        assert response.json()["error"]["code"] in ("AdminTokenRequired", "InvalidAdminToken")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # a path under /_azsim/ that does not exist is 401 too, not a 404 that tells what exists
    assert _call(fresh_sim, "GET", "/_azsim/no-such-thing", headers).status_code == 401


def test_a_refused_admin_request_changes_nothing(fresh_sim, tmp_path):
    wire = Wire(fresh_sim)
    assert wire.request("PUT", wire.sub("/resourcegroups/rg-kept"), {"location": "eastus"}).status_code == 201
    seq = fresh_sim.admin.last_seq()
    settings = fresh_sim.admin.settings()
    marker = tmp_path / "provisioned"
    refused = [
        ("POST", "/_azsim/reset", {"settings": True}),
        ("POST", "/_azsim/faults", {"rules": [{"path": ".", "action": "status", "status": 500}]}),
        ("POST", "/_azsim/settings", {"time_scale": 5.0, "latency_ms": 900}),
        ("POST", "/_azsim/guests", {"name": "evil", "address": "127.77.9.9", "ports": {"ssh": 22}, "os": "linux",
                                    "provision_command": [sys.executable, "-c",
                                                          f"open({str(marker)!r}, 'w').write('root')"]}),
        ("DELETE", "/_azsim/requests", None),
        ("POST", "/_azsim/operations/finish", None),
        ("DELETE", "/_azsim/catalog", None),
    ]
    for method, path, body in refused:
        response = _call(fresh_sim, method, path, {"Authorization": "Bearer nope"}, body)
        assert response.status_code == 401, (path, response.text)
    assert [item["name"] for item in fresh_sim.admin.resources()] == ["rg-kept"]
    assert fresh_sim.admin.get("faults")["rules"] == []
    assert fresh_sim.admin.settings() == settings
    assert fresh_sim.admin.guests() == []
    assert fresh_sim.admin.last_seq() == seq  # log not cleared, and the refused calls are not ARM requests
    assert wire.request("GET", wire.sub("/resourcegroups/rg-kept")).status_code == 200  # ARM needs no admin token
    assert not marker.exists()


def test_the_token_works_in_either_header(fresh_sim):
    token = fresh_sim.admin_token
    for headers in ({"Authorization": f"Bearer {token}"}, {"X-Azsim-Admin-Token": token}):
        response = _call(fresh_sim, "GET", "/_azsim/health", headers)
        assert response.status_code == 200, response.text
    assert fresh_sim.env["AZSIM_ADMIN_TOKEN"] == token and len(token) >= 32


def test_settings_never_return_secrets(fresh_sim):
    secret = fresh_sim.env["AZURE_CLIENT_SECRET"]
    read = fresh_sim.admin.raw("GET", "settings")
    assert read.status_code == 200
    assert secret not in read.text and fresh_sim.admin_token not in read.text
    assert read.json()["auth"]["client_secret"] == "**redacted**"
    assert read.json()["auth"]["client_id"] == fresh_sim.env["AZURE_CLIENT_ID"]  # what is not secret stays
    written = fresh_sim.admin.raw("POST", "settings", {"latency_ms": 0})
    assert written.status_code == 200 and secret not in written.text
    # posting back what GET returned keeps the real secret: the credential still gets a token
    assert fresh_sim.admin.raw("POST", "settings", read.json()).status_code == 200
    assert Wire(fresh_sim).request("GET", Wire(fresh_sim).sub("/resourcegroups")).status_code == 200


def test_the_token_is_new_at_every_start_and_never_saved(tmp_path):
    state = tmp_path / "state"
    with SimServer(state_dir=str(state)) as first:
        first.admin.post("reset")
        old = first.admin_token
    saved = (state / "state.json").read_text()
    assert old not in saved
    with SimServer(state_dir=str(state)) as second:
        assert second.admin_token != old
        assert _call(second, "GET", "/_azsim/health", {"Authorization": f"Bearer {old}"}).status_code == 401
        assert second.admin.get("health")["status"] == "ok"


def _azsim(*args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("AZSIM_TLS_DIR", None)
    return subprocess.run([sys.executable, "-m", "azsim", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False, cwd=ROOT)


def _exports(text):
    return {line.split(" ", 1)[1].split("=", 1)[0]: line.split("=", 1)[1].strip("'")
            for line in text.splitlines() if line.startswith("export ")}


def test_azsim_env_prints_the_running_simulators_token(sim):
    run_dir = sim.info["run_dir"]
    server_file = os.path.join(run_dir, "server.json")
    assert stat.S_IMODE(os.stat(server_file).st_mode) == 0o600  # it holds the token
    done = _azsim("env", "--port", str(sim.info["port"]), "--run-dir", run_dir)
    assert done.returncode == 0, done.stderr
    exports = _exports(done.stdout)
    assert exports["AZSIM_ADMIN_TOKEN"] == sim.admin_token
    assert exports["AZSIM_URL"] == sim.url and exports["AZSIM_CA"] == sim.ca
    with open(server_file, encoding="utf-8") as handle:
        assert json.load(handle)["env"]["AZSIM_ADMIN_TOKEN"] == sim.admin_token


def test_azsim_env_without_a_running_simulator_has_no_token(tmp_path):
    done = _azsim("env", "--port", "8443", "--run-dir", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    exports = _exports(done.stdout)
    assert "AZSIM_ADMIN_TOKEN" not in exports
    assert os.path.exists(exports["REQUESTS_CA_BUNDLE"])
    assert "AZSIM_ADMIN_TOKEN" in done.stdout  # the comment that says how to get it
