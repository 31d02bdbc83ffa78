"""Start and drive a simulator from tests, benchmarks and the demo.

    with SimServer(time_scale=0) as sim:
        os.environ.update(sim.env)
        sim.admin.faults([{"method": "POST", "path": "/generalize$", "status": 429, "times": 1}])
        ...
        assert sim.admin.resources() == []
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import requests


class AdminClient:
    """Thin client for ``/_azsim/`` (see azsim/providers/admin/routes.py).

    ``token``: the simulator's per-start admin token (default: ``AZSIM_ADMIN_TOKEN`` from the environment, as
    ``azsim env`` exports it); sent as ``Authorization: Bearer <token>`` with every call."""

    def __init__(self, url, ca, token=None):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.ca = ca
        self.token = token or os.environ.get("AZSIM_ADMIN_TOKEN")
        if self.token:
            self.session.headers["Authorization"] = f"Bearer {self.token}"

    @property
    def headers(self):
        """The header that authenticates an admin request (for your own HTTP client)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def raw(self, method, path, body=None, **params):
        """The ``requests.Response`` of one admin call, whatever its status (to check a 400)."""
        # verify per request: an inherited REQUESTS_CA_BUNDLE would override session.verify
        return self.session.request(method, f"{self.url}/_azsim/{path.lstrip('/')}", json=body, params=params or None,
                                    timeout=30, verify=self.ca)

    def _call(self, method, path, body=None, **params):
        response = self.raw(method, path, body, **params)
        response.raise_for_status()
        return response.json() if response.content else None

    def get(self, path, **params):
        return self._call("GET", path, **params)

    def post(self, path, body=None):
        return self._call("POST", path, body)

    def delete(self, path):
        return self._call("DELETE", path)

    def resources(self, resource_type=None):
        params = {"type": resource_type} if resource_type else {}
        return self.get("resources", **params)["value"]

    def resource(self, rid):
        """One resource body by id (case-insensitive), or None."""
        for item in self.resources():
            if item["id"].lower() == rid.lower():
                return item
        return None

    def requests(self, since=0):
        return self.get("requests", since=since)["value"]

    def last_seq(self):
        return self.get("requests", since=10**12)["last_seq"]

    def clear_requests(self):
        return self.delete("requests")

    def faults(self, rules, seed=None):
        body = {"rules": rules}
        if seed is not None:
            body["seed"] = seed
        return self.post("faults", body)

    def clear_faults(self):
        return self.delete("faults")

    def settings(self, **values):
        return self.post("settings", values) if values else self.get("settings")

    def reset(self, settings=False):
        return self.post("reset", {"settings": True} if settings else None)

    def guests(self):
        return self.get("guests")["value"]

    def add_guest(self, name, address, ports, os_type="linux", provision_command=None):
        body = {"name": name, "address": address, "ports": ports, "os": os_type}
        if provision_command:
            body["provision_command"] = list(provision_command)
        return self.post("guests", body)

    def remove_guest(self, name):
        return self.delete(f"guests/{name}")

    def finish_operations(self):
        return self.post("operations/finish")

    def clock(self):
        """The simulated clock: ``{"now", "offset", "frozen"}``."""
        return self.get("clock")

    def advance(self, seconds):
        """Move simulated time forward: operations due by then finish, throttling buckets refill."""
        return self.post("clock", {"advance": seconds})

    def freeze_clock(self, frozen=True):
        """Stop (or restart) real time flowing into the simulated clock: then only ``advance`` moves it."""
        return self.post("clock", {"freeze": frozen})


class SimServer:
    """A simulator in a child process on a free port; ``env`` points the SDKs and the collection at it."""

    def __init__(self, time_scale=0.0, state_dir=None, catalog=None, settings=None, tls_dir=None, port=0):
        self.time_scale = time_scale
        self.state_dir = state_dir
        self.catalog = catalog
        self.settings = settings
        self.tls_dir = tls_dir
        self.port = port
        self.process = None
        self.info = None
        self._tmp = None

    def start(self, timeout=30):
        self._tmp = tempfile.mkdtemp(prefix="azsim-")
        ready = os.path.join(self._tmp, "ready.json")
        # the run directory holds server.json and, without a state directory, this start's own CA
        args = [sys.executable, "-m", "azsim", "serve", "--port", str(self.port), "--ready-file", ready,
                "--run-dir", self._tmp]
        if self.time_scale is not None:
            args += ["--time-scale", str(self.time_scale)]
        if self.state_dir:
            args += ["--state", self.state_dir]
        if self.catalog:
            args += ["--catalog", self.catalog]
        if self.tls_dir:
            args += ["--tls-dir", self.tls_dir]
        if self.settings:
            path = os.path.join(self._tmp, "settings.json")
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.settings, handle)
            args += ["--settings", path]
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=open(  # noqa: SIM115
            os.path.join(self._tmp, "stderr.log"), "wb"))
        deadline = time.monotonic() + timeout
        while not os.path.exists(ready):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(os.path.join(self._tmp, "stderr.log"), encoding="utf-8", errors="replace") as handle:
                    raise RuntimeError(f"azsim did not start: {handle.read()[-2000:]}")
            time.sleep(0.05)
        with open(ready, encoding="utf-8") as handle:
            self.info = json.load(handle)
        self.admin = AdminClient(self.url, self.ca, token=self.admin_token)
        return self

    @property
    def admin_token(self):
        """This start's admin token (also ``env["AZSIM_ADMIN_TOKEN"]``)."""
        return self.info["env"]["AZSIM_ADMIN_TOKEN"]

    @property
    def url(self):
        return self.info["url"]

    @property
    def ca(self):
        return self.info["ca"]

    @property
    def env(self):
        return dict(self.info["env"])

    @property
    def subscription_id(self):
        return self.info["env"]["AZURE_SUBSCRIPTION_ID"]

    def credential(self):
        """A real azure-identity credential pointed at this simulator."""
        from azure.identity import ClientSecretCredential

        env = self.env
        return ClientSecretCredential(env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"],
                                      authority=env["AZURE_AUTHORITY_HOST"], disable_instance_discovery=True,
                                      connection_verify=self.ca)

    def sdk_kwargs(self):
        """Keyword arguments that point any azure-mgmt-* client at this simulator."""
        return {"base_url": self.url + "/", "credential_scopes": [self.url + "/.default"], "connection_verify": self.ca,
                "polling_interval": 1}

    def client(self, client_class, credential=None):
        """An azure-mgmt-* client (e.g. ComputeManagementClient) for the first subscription."""
        return client_class(credential or self.credential(), self.subscription_id, **self.sdk_kwargs())

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
