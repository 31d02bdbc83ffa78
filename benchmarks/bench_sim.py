"""Simulator load: Marketplace image-version GETs from 8 concurrent clients on this machine.

Each client is its own process with one keep-alive HTTPS session and a bearer token from the
simulator's token endpoint, so the figure measures the server, not one client's GIL. Throttling is
switched off for this run (ARM's 25 reads/s refill would otherwise answer 429, as real ARM does).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time

import requests

CLIENTS = 8
SECONDS = 5.0
IMAGE = ("Canonical", "ubuntu-24_04-lts", "server")
API = "2026-04-01"


def _token(env):
    response = requests.post(
        f"{env['AZURE_AUTHORITY_HOST']}/{env['AZURE_TENANT_ID']}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": env["AZURE_CLIENT_ID"],
              "client_secret": env["AZURE_CLIENT_SECRET"], "scope": env["AZURE_ARM_ENDPOINT"] + ".default"},
        verify=env["REQUESTS_CA_BUNDLE"], timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]


def _version_url(env, session):
    base = (f"{env['AZURE_ARM_ENDPOINT']}subscriptions/{env['AZURE_SUBSCRIPTION_ID']}/providers/Microsoft.Compute/"
            f"locations/eastus/publishers/{IMAGE[0]}/artifacttypes/vmimage/offers/{IMAGE[1]}/skus/{IMAGE[2]}/versions")
    versions = session.get(base, params={"api-version": API}, verify=env["REQUESTS_CA_BUNDLE"], timeout=30)
    versions.raise_for_status()
    return f"{base}/{versions.json()[0]['name']}"


def _client(env, token, url, start_at, stop_at, queue):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    latencies = []
    errors = 0
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < stop_at:
        began = time.perf_counter()
        response = session.get(url, params={"api-version": API}, verify=env["REQUESTS_CA_BUNDLE"], timeout=30)
        latencies.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            errors += 1
    queue.put((latencies, errors))


def run(sim):
    sim.admin.post("settings", {"throttling": {"enabled": False}})
    env = sim.env
    token = _token(env)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    url = _version_url(env, session)
    session.get(url, params={"api-version": API}, verify=env["REQUESTS_CA_BUNDLE"], timeout=30).raise_for_status()

    queue = multiprocessing.Queue()
    start_at = time.time() + 1.0  # let every process connect before the clock starts
    stop_at = start_at + SECONDS
    workers = [multiprocessing.Process(target=_client, args=(env, token, url, start_at, stop_at, queue))
               for _ in range(CLIENTS)]
    for worker in workers:
        worker.start()
    latencies, errors = [], 0
    for _ in workers:
        got, failed = queue.get(timeout=SECONDS + 60)
        latencies.extend(got)
        errors += failed
    for worker in workers:
        worker.join()
    sim.admin.post("settings", {"throttling": {"enabled": True}})

    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return [
        {"name": "sim.load.rps", "value": round(len(latencies) / SECONDS, 1), "unit": "req/s", "target": ">= 300"},
        {"name": "sim.load.p50_ms", "value": round(statistics.median(latencies), 2), "unit": "ms", "target": ""},
        {"name": "sim.load.p99_ms", "value": round(p99, 2), "unit": "ms", "target": "< 100"},
        {"name": "sim.load.errors", "value": errors, "unit": "count", "target": "<= 0"},
    ]
