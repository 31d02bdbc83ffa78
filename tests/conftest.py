"""Fixtures shared by every test suite.

- ``sim``: one simulator for the whole session (instant operations); use ``fresh_sim`` for a clean world.
- ``fresh_sim``: the same simulator, reset (no resources, faults, logged requests or guests; its clock rewound and
  running) and default settings. ``fresh_sim.admin.freeze_clock()`` / ``.advance(seconds)`` move time in a test.
- ``play``: run a playbook against the simulator -> tests.harness.PlaybookRun.

Under ``CI=true`` a skip fails the run: every skipped test (or skipped module) is reported as a failure
naming the skip's reason. A skip hides a regression unless the machine truly cannot host the test, and CI
machines are set up to host them all (root, localguest's cache).
"""

from __future__ import annotations

import os

import pytest

from azsim.testing import SimServer
from tests.harness import run_playbook


@pytest.fixture(scope="session")
def sim():
    server = SimServer(time_scale=0.0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_sim(sim):
    sim.admin.reset(settings=True)  # the session simulator started with instant operations
    yield sim
    sim.admin.clear_faults()


@pytest.fixture
def sim_env(fresh_sim):
    return fresh_sim.env


@pytest.fixture
def play(fresh_sim):
    def _play(playbook, **kwargs):
        return run_playbook(playbook, sim_env=fresh_sim.env, **kwargs)

    return _play


@pytest.fixture
def credential(fresh_sim):
    """A real azure-identity credential pointed at the simulator."""
    return fresh_sim.credential()


@pytest.fixture
def sdk_kwargs(fresh_sim):
    """Keyword arguments that point an azure-mgmt-* client at the simulator."""
    return fresh_sim.sdk_kwargs()


@pytest.fixture
def compute(credential, sdk_kwargs, fresh_sim):
    from azure.mgmt.compute import ComputeManagementClient

    return ComputeManagementClient(credential, fresh_sim.subscription_id, **sdk_kwargs)


@pytest.fixture
def resources(credential, sdk_kwargs, fresh_sim):
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient(credential, fresh_sim.subscription_id, **sdk_kwargs)


@pytest.fixture
def network(credential, sdk_kwargs, fresh_sim):
    from azure.mgmt.network import NetworkManagementClient

    return NetworkManagementClient(credential, fresh_sim.subscription_id, **sdk_kwargs)


def _skips_fail():
    return os.environ.get("CI") == "true"


def _reason(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail_skip(report):
    reason = _reason(report)
    report.outcome = "failed"
    report.longrepr = f"skipped under CI=true, which fails the run (a skip can hide a regression): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _skips_fail() and report.skipped and not hasattr(report, "wasxfail"):
        _fail_skip(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if _skips_fail() and report.skipped:
        _fail_skip(report)


def pytest_configure(config):
    os.environ.setdefault("ANSIBLE_LOCAL_TEMP", os.path.join(os.path.dirname(__file__), "output", "ansible-tmp"))


@pytest.fixture(autouse=True)
def _one_task_per_test():
    """The ARM layer records retries per process, for one task (a module run clears it at its session's start):
    each test starts with an empty record, as a task does, whatever ran before it in this worker."""
    import sys

    errors = sys.modules.get("ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors")
    if errors is not None:
        errors.retries(clear=True)
    yield
