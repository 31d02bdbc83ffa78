"""Raw HTTPS access to the simulator, for tests that must see status codes and headers exactly."""

from __future__ import annotations

import requests

API = "2026-04-01"


class Wire:
    def __init__(self, sim):
        self.sim = sim
        self.env = sim.env
        self.session = requests.Session()
        self._token = None

    @property
    def token(self):
        if self._token is None:
            response = requests.post(
                f"{self.sim.url}/{self.env['AZURE_TENANT_ID']}/oauth2/v2.0/token",
                data={"grant_type": "client_credentials", "client_id": self.env["AZURE_CLIENT_ID"],
                      "client_secret": self.env["AZURE_CLIENT_SECRET"], "scope": self.sim.url + "/.default"},
                verify=self.sim.ca, timeout=30)
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return self._token

    def request(self, method, path, body=None, api_version=API, auth=True, params=None, headers=None, **kwargs):
        query = dict(params or {})
        if api_version is not None:
            query = {"api-version": api_version, **query}
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        url = path if path.startswith("https://") else self.sim.url + path
        return self.session.request(method, url, json=body, params=query, headers=headers, verify=self.sim.ca,
                                    timeout=30, **kwargs)

    def sub(self, suffix=""):
        return f"/subscriptions/{self.sim.subscription_id}{suffix}"

    def group(self, name, location="eastus"):
        response = self.request("PUT", self.sub(f"/resourcegroups/{name}"), {"location": location})
        assert response.status_code in (200, 201), response.text
        return response.json()
