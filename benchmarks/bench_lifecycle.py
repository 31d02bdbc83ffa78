"""VM-to-image lifecycle: ARM requests that vm_generalize needs, counted from the simulator's request log.

Each figure is one real ``ansible-playbook`` run (tests.harness.run_playbook) against ``sim``; the count is
the ARM requests the simulator logged during that run (token requests to Entra are not ARM requests).
Operations are instant (time_scale 0), so every long-running operation finishes before its first poll:
the counts are the minimum a client can reach, which is what the targets compare. The peer
(azure.azcollection's azure_rm_virtualmachine) needs 9 requests and two runs for the same end state
(docs: peers.md 2.3, 2.7).
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.harness import run_playbook

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: generalize
      goldenimage.azure.vm_generalize:
        name: bench-vm
        resource_group: rg-bench
"""


def _clients(sim):
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    credential = sim.credential()
    return (sim.client(ComputeManagementClient, credential), sim.client(NetworkManagementClient, credential),
            sim.client(ResourceManagementClient, credential))


def _arm_requests(sim, since):
    return len([entry for entry in sim.admin.requests(since=since) if entry["kind"] == "arm"])


def run(sim):
    from tests.integration import lifecycle_setup as setup

    previous = sim.admin.settings()["time_scale"]
    sim.admin.settings(time_scale=0.0)
    try:
        compute, network, resources = _clients(sim)
        setup.make_vm(compute, network, resources, rg="rg-bench", name="bench-vm",
                      tags={"goldenimage-deprovisioned": "2026-11-26T00:00:00Z"})
        figures = []
        for name, target in (("generalize.arm_requests_running_vm", "<= 6"), ("generalize.arm_requests_rerun", "<= 2")):
            since = sim.admin.last_seq()
            result = run_playbook(PLAY, sim_env=sim.env)
            if result.rc != 0:
                raise RuntimeError("vm_generalize failed: %s" % result.stdout[-2000:])
            figures.append({"name": name, "value": _arm_requests(sim, since), "unit": "requests", "target": target})
        return figures
    finally:
        sim.admin.settings(time_scale=previous)
