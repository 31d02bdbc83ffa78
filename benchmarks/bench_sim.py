"""Simulator load: Marketplace image-version GETs from concurrent clients, sized to this machine's cores.

Each client is its own process with one keep-alive HTTPS session and a bearer token from the
simulator's token endpoint, so the figure measures the server, not one client's GIL. There are
``max(1, cores - 1)`` clients (``cores``: the CPUs this process may run on, ``os.sched_getaffinity``, else
``os.cpu_count()``), so the server keeps a core of its own; on 2 cores that is one client. Throttling is
switched off for this run (ARM's 25 reads/s refill would otherwise answer 429, as real ARM does).

Figures:

- ``sim.load.rps``: successful replies (HTTP 200) per second over the measured ``SECONDS``. Any other
  reply, or a request that raises (connection reset, timeout), is an error: not throughput.
- ``sim.load.p50_ms`` / ``sim.load.p99_ms``: latency of the successful replies.
- ``sim.load.errors``: the error count (target 0); ``sim.load.clients``: the client processes used.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time

import requests

SECONDS = 5.0
IMAGE = ("Canonical", "ubuntu-24_04-lts", "server")
API = "2026-04-01"


def cores():
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def clients_for(count):
    """Client processes for ``count`` cores: one core stays with the server."""
    return max(1, count - 1)


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
    latencies = []  # of successful replies only
    errors = 0
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < stop_at:
        began = time.perf_counter()
        try:
            response = session.get(url, params={"api-version": API}, verify=env["REQUESTS_CA_BUNDLE"], timeout=30)
        except requests.RequestException:
            errors += 1
            continue
        elapsed = (time.perf_counter() - began) * 1000
        if response.status_code == 200:
            latencies.append(elapsed)
        else:
            errors += 1
    queue.put((latencies, errors))


def run(sim):
    sim.admin.post("settings", {"throttling": {"enabled": False}})
    try:
        return _measure(sim, clients_for(cores()))
    finally:
        sim.admin.post("settings", {"throttling": {"enabled": True}})


def _measure(sim, clients):
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
               for _ in range(clients)]
    for worker in workers:
        worker.start()
    latencies, errors = [], 0
    for _ in workers:
        got, failed = queue.get(timeout=SECONDS + 60)
        latencies.extend(got)
        errors += failed
    for worker in workers:
        worker.join()

    latencies.sort()
    p50 = round(statistics.median(latencies), 2) if latencies else None
    p99 = round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2) if latencies else None
    return [
        {"name": "sim.load.rps", "value": round(len(latencies) / SECONDS, 1), "unit": "req/s", "target": ">= 300"},
        {"name": "sim.load.p50_ms", "value": p50, "unit": "ms", "target": ""},
        {"name": "sim.load.p99_ms", "value": p99, "unit": "ms", "target": "< 100"},
        {"name": "sim.load.errors", "value": errors, "unit": "count", "target": "<= 0"},
        {"name": "sim.load.clients", "value": clients, "unit": "procs", "target": ""},
    ]
