"""Progress lines of a long wait (module_utils/_progress + plugin_utils/_progress_relay) through ansible-playbook.

Printing during the wait is the feature here, so this test reads the play's output; it asserts no timing.
"""

from __future__ import annotations

import re

import pytest

from tests.integration.test_image_capture import VERSION_TYPE, gallery, playbook, vm  # noqa: F401  # fixture

PROGRESS = re.compile(r"\[localhost\] image_capture: create gallery image version 'gal_golden/ubuntu-2404/1\.0\.0': "
                      r"waiting, \d+ s, replication \w+ - East US \d+%, West Europe \d+%")


# in the worker (ansible-core 2.19+) and as a module process (older cores, or GOLDENIMAGE_AZURE_IN_PROCESS=false)
@pytest.mark.parametrize("in_process", ["true", "false"])
def test_replication_reports_per_region_progress_and_results_stay_the_same(fresh_sim, play, vm, in_process):  # noqa: F811
    fresh_sim.admin.settings(time_scale=0.02)  # replication takes a few seconds
    options = {"source": vm["id"], "gallery": gallery(target_regions=[{"name": "eastus"}, {"name": "westeurope"}])}
    env = {"GOLDENIMAGE_AZURE_PROGRESS_INTERVAL": "0.3", "GOLDENIMAGE_AZURE_IN_PROCESS": in_process}
    run = play(playbook(options), env=env)
    assert run.rc == 0, run.stdout
    lines = [line for line in run.stdout.splitlines() if PROGRESS.search(line)]
    assert lines, run.stdout
    assert run.task("capture")["result"]["changed"] is True
    assert [item["name"] for item in fresh_sim.admin.resources(VERSION_TYPE)] == ["1.0.0"]

    again = play(playbook(options), env=env)
    assert again.rc == 0 and again.task("capture")["result"]["changed"] is False
    check = play(playbook(options), env=env, args=("--check",))
    assert check.rc == 0 and check.task("capture")["result"]["changed"] is False
