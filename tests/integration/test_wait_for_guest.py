"""goldenimage.azure.wait_for_guest: wait_for_connection with progress lines, through ansible-playbook.

The progress lines are the feature, so this test reads the play's output; it asserts no timing.
"""

from __future__ import annotations

import re
import socket
import sys

from tests.harness import run_playbook

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: wait
      goldenimage.azure.wait_for_guest: {timeout: 3, connect_timeout: 1}
      delegate_to: "{{ target }}"
"""
PROGRESS = re.compile(r"\[localhost -> ghost\] wait_for_guest: waiting \d+ s of 3 s for a connection")


def _inventory(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = tmp_path / "hosts.ini"
    path.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
                    f"ghost ansible_host=127.0.0.1 ansible_port={port} ansible_connection=ssh ansible_user=nobody\n")
    return str(path)


def test_a_host_that_never_answers_fails_at_the_bound_with_progress_lines_meanwhile(tmp_path):
    run = run_playbook(PLAYBOOK, inventory=_inventory(tmp_path), extra_vars={"target": "ghost"},
                       env={"GOLDENIMAGE_AZURE_PROGRESS_INTERVAL": "0.3"})
    task = run.task("wait")
    assert run.rc != 0 and task["status"] == "failed"
    assert "timed out waiting for ping module test" in task["result"]["msg"]
    assert [line for line in run.stdout.splitlines() if PROGRESS.search(line)], run.stdout


def test_a_host_that_answers_is_ok_unchanged_and_check_mode_waits_for_nothing(tmp_path):
    inventory = _inventory(tmp_path)
    run = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={"target": "localhost"})
    assert run.rc == 0, run.stdout
    assert run.task("wait")["result"]["changed"] is False and "elapsed" in run.task("wait")["result"]
    check = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={"target": "ghost"}, args=("--check",))
    assert check.rc == 0 and check.task("wait")["status"] == "skipped", check.stdout


def test_an_unknown_option_is_refused_naming_it(tmp_path):
    run = run_playbook(PLAYBOOK.replace("connect_timeout: 1", "connect_timeout: 1, interval: 5"),
                       inventory=_inventory(tmp_path), extra_vars={"target": "localhost"})
    assert run.rc != 0 and "interval" in run.task("wait")["result"]["msg"], run.stdout
