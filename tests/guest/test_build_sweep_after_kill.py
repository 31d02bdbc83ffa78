"""No orphan after a kill: a main job killed with SIGKILL once its build VM exists leaves its temporary group and its
build directory (the private SSH key); once the group's lease expired, the cleanup playbook deletes both, and a
group whose lease still runs survives (root only: a real local guest)."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from tests.guest import gi_build
from tests.harness import ROOT, ansible_env, local_inventory, run_playbook

pytestmark = [pytest.mark.guest, pytest.mark.slow]

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _temporary_groups(sim):
    return {item["name"]: item for item in sim.admin.resources("Microsoft.Resources/resourceGroups")
            if (item.get("tags") or {}).get("goldenimage-temporary") == "true"}


def _descendants(pid):
    """Every live process below ``pid`` (ansible-playbook's workers leave its process group: os.setsid)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        todo += children
    return found


def _kill_all(proc):
    """SIGKILL the run as a runner's death would: its process group and every worker, with no time to clean up."""
    for pid in _descendants(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _vm_exists(sim):
    return any(item["type"].lower() == "microsoft.compute/virtualmachines" for item in sim.admin.resources())


def test_sigkill_after_the_vm_exists_then_cleanup_deletes_only_the_expired_lease(guest_cache, fresh_sim, resources,
                                                                                  tmp_path):
    gi_build.require_guests()
    sim = fresh_sim
    gi_build.prepare_outputs(resources)
    slow = tmp_path / "slow.yml"  # the customisation never ends on its own: the kill comes mid-build
    slow.write_text("- name: Take forever\n  ansible.builtin.command: sleep 900\n  changed_when: false\n")
    builds_dir = tmp_path / "builds"
    extra = {"golden_image_builds": [gi_build.image_definition("ubuntu-2404-gen2", gallery=False)],
             "golden_image_build_dir": str(builds_dir), "golden_image_manifest": str(tmp_path / "manifest.json"),
             "golden_image_connect_timeout": 60, "golden_image_customize_tasks": str(slow),
             "golden_image_validate": False}
    work = tempfile.mkdtemp(prefix="gi-play-")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", local_inventory(work),
               gi_build.PLAYBOOK, "-e", json.dumps(extra)]
    with gi_build.guests(sim, 1):
        with open(os.path.join(work, "out.log"), "w", encoding="utf-8") as log:
            proc = subprocess.Popen(command, env=ansible_env(sim.env), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # its own process group: the kill takes every worker
        try:
            deadline = time.monotonic() + 300
            while not _vm_exists(sim) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
            assert _vm_exists(sim), open(os.path.join(work, "out.log"), encoding="utf-8").read()[-3000:]
        finally:
            _kill_all(proc)

    (name, group), = _temporary_groups(sim).items()  # the killed run's group is left, with its lease
    tags = group["tags"]
    created = datetime.datetime.strptime(tags["goldenimage-lease-created"], FORMAT)
    expires = datetime.datetime.strptime(tags["goldenimage-lease-expires"], FORMAT)
    # the run's bounds: create 1800 + connect 60 + generalize 1800 + 2 x capture 7200 + delete 1800 (the group, the VM
    # with it) + margin 3600
    assert (expires - created).total_seconds() == 1800 + 60 + 1800 + 2 * 7200 + 1800 + 3600
    build_dir = builds_dir / tags["goldenimage-build-id"]
    assert (build_dir / "id_ed25519").is_file()

    # Time passes: the killed run's lease expires. Meanwhile another build runs, its lease still running.
    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)).strftime(FORMAT)
    resources.resource_groups.create_or_update(name, {"location": group["location"],
                                                      "tags": dict(tags, **{"goldenimage-lease-expires": past})})
    live = dict(tags, **{"goldenimage-build-id": "other-1", "goldenimage-run-id": "otherrun",
                         "goldenimage-lease-expires": "2099-01-01T00:00:00Z"})
    resources.resource_groups.create_or_update("gi-build-other-1", {"location": "westeurope", "tags": live})

    run = run_playbook(os.path.join(ROOT, "cleanup.yml"), sim_env=sim.env,
                       extra_vars={"golden_image_build_dir": str(builds_dir)})
    assert run.rc == 0, run.stdout[-3000:]
    assert set(_temporary_groups(sim)) == {"gi-build-other-1"}
    assert not _vm_exists(sim)
    assert not build_dir.exists()
