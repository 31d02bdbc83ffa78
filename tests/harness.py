"""Shared test harness: the collection on ANSIBLE_COLLECTIONS_PATH and a playbook runner.

Tests run as a user does: real ``ansible-playbook`` processes, the real SDKs, the simulator.
Assertions read the simulator's state (``sim.admin``) or the task results that the test-only
``azsim_results`` callback (azsim/ansible_callbacks) records, never log text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")


def ensure_collection_path():
    """Expose the repository as ansible_collections/goldenimage/azure (a symlink; tests only)."""
    target = os.path.join(COLLECTIONS, "ansible_collections", "goldenimage", "azure")
    if not os.path.islink(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.lexists(target):
            os.remove(target)
        os.symlink(ROOT, target)
    return COLLECTIONS


def ansible_env(sim_env=None, extra=None):
    """Environment for ansible-playbook/ansible: collection path, interpreter, simulator variables."""
    env = dict(os.environ)
    env.update(sim_env or {})
    bindir = os.path.dirname(sys.executable)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": ensure_collection_path(),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        # azsim_results (the test kit's callback) records every task result; tests/callbacks holds test-only ones
        "ANSIBLE_CALLBACK_PLUGINS": os.pathsep.join([os.path.join(ROOT, "azsim", "ansible_callbacks"),
                                                     os.path.join(ROOT, "tests", "callbacks")]),
        "ANSIBLE_CALLBACKS_ENABLED": "azsim_results",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        "ANSIBLE_NOCOLOR": "1",
        "PATH": bindir + os.pathsep + env.get("PATH", ""),
        "PYTHONPATH": ROOT + os.pathsep + env.get("PYTHONPATH", ""),
    })
    env.update(extra or {})
    return env


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    results: list  # one dict per task result: host, task, action, status, result

    def task(self, name):
        """The last result of the task with this name."""
        found = [item for item in self.results if item["task"] == name]
        if not found:
            raise KeyError(f"no result for task {name!r}; tasks: {[item['task'] for item in self.results]}")
        return found[-1]

    def by_action(self, action):
        return [item for item in self.results if item["action"].endswith(action)]


def local_inventory(directory):
    """An inventory holding localhost with the local connection and this interpreter."""
    path = os.path.join(directory, "inventory.ini")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    return path


def run_playbook(playbook, sim_env=None, extra_vars=None, args=(), inventory=None, env=None, timeout=600):
    """Run a playbook given as a path or as YAML text; return rc, output and per-task results.

    Without ``inventory`` the play runs against localhost over the local connection."""
    tmp = tempfile.mkdtemp(prefix="gi-play-")
    inventory = inventory or local_inventory(tmp)
    if "\n" in playbook:
        path = os.path.join(tmp, "play.yml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(textwrap.dedent(playbook))
    else:
        path = playbook
    dump = os.path.join(tmp, "results.jsonl")
    command = ["ansible-playbook", "-i", inventory, path, *args]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    run_env = ansible_env(sim_env, dict(env or {}, AZSIM_RESULTS_FILE=dump))
    bindir = os.path.dirname(sys.executable)
    command[0] = os.path.join(bindir, "ansible-playbook")
    proc = subprocess.run(command, env=run_env, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False)
    results = []
    if os.path.exists(dump):
        with open(dump, encoding="utf-8") as handle:
            results = [json.loads(line) for line in handle if line.strip()]
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results)
