"""The lease of a temporary group and the sweep (goldenimage.azure.build_sweep through cleanup.yml): only groups
tagged goldenimage-temporary=true whose lease expired are deleted, with their build directory; a live lease, a group
without the tag and one without a readable lease are left alone. State asserted from the simulator and the disk."""

from __future__ import annotations

import datetime
import os
import subprocess

from tests.harness import ROOT, run_playbook

CLEANUP = os.path.join(ROOT, "cleanup.yml")
SWEEP_TASK = "Sweep the temporary groups whose lease expired"
FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _at(hours):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)).strftime(FORMAT)


def _temporary(build_id, expires=None, **extra):
    tags = {"goldenimage-temporary": "true", "goldenimage-build-id": build_id, "goldenimage-run-id": f"run{build_id}"}
    if expires is not None:
        tags.update({"goldenimage-lease-created": _at(-10), "goldenimage-lease-expires": expires})
    tags.update(extra)
    return tags


def _groups(sim):
    return {item["name"]: item for item in sim.admin.resources()
            if item["type"].lower() == "microsoft.resources/resourcegroups"}


def _build_dir(root, build_id):
    path = root / build_id
    path.mkdir(parents=True)
    (path / "id_ed25519").write_text("PRIVATE KEY\n")
    return path


def test_sweep_deletes_only_expired_leases_and_their_build_dirs(fresh_sim, resources, tmp_path):
    builds = tmp_path / "builds"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the sweep's\n")
    groups = {
        "gi-build-old": _temporary("old", _at(-1)),  # a killed run: expired
        "gi-build-link": _temporary("link", _at(-2)),  # expired, but its build dir is a symlink: not followed
        "gi-build-live": _temporary("live", _at(+5)),  # a running build
        "gi-build-legacy": _temporary("legacy"),  # an older version's group: no lease
        "gi-build-bad": _temporary("bad", "yesterday"),  # malformed lease: never delete on doubt
        "rg-user": {"goldenimage-lease-expires": _at(-3), "goldenimage-build-id": "user"},  # not temporary
    }
    for name, tags in groups.items():
        resources.resource_groups.create_or_update(name, {"location": "westeurope", "tags": tags})
    dirs = {build_id: _build_dir(builds, build_id) for build_id in ("old", "live", "legacy", "bad", "user")}
    (builds / "link").symlink_to(outside)
    extra = {"golden_image_build_dir": str(builds)}

    checked = run_playbook(CLEANUP, sim_env=fresh_sim.env, extra_vars=extra, args=["--check"])
    assert checked.rc == 0, checked.stdout
    preview = checked.task(SWEEP_TASK)["result"]
    assert sorted(item["resource_group"] for item in preview["deleted"]) == ["gi-build-link", "gi-build-old"]
    assert set(groups) <= set(_groups(fresh_sim)) and all(path.is_dir() for path in dirs.values())

    run = run_playbook(CLEANUP, sim_env=fresh_sim.env, extra_vars=extra)
    assert run.rc == 0, run.stdout
    result = run.task(SWEEP_TASK)["result"]
    assert result["changed"] is True
    left = _groups(fresh_sim)
    assert "gi-build-old" not in left and "gi-build-link" not in left
    assert {"gi-build-live", "gi-build-legacy", "gi-build-bad", "rg-user"} <= set(left)
    assert not dirs["old"].exists()
    assert all(dirs[build_id].is_dir() for build_id in ("live", "legacy", "bad", "user"))
    assert (outside / "keep.txt").is_file()
    assert {item["resource_group"] for item in result["kept"]} == {"gi-build-live"}
    assert {item["resource_group"] for item in result["undecided"]} == {"gi-build-legacy", "gi-build-bad"}
    assert all(item["reason"] for item in result["undecided"])

    again = run_playbook(CLEANUP, sim_env=fresh_sim.env, extra_vars=extra)
    assert again.rc == 0 and again.task(SWEEP_TASK)["result"]["changed"] is False


def test_build_vm_tags_the_group_with_its_lease(fresh_sim, resources, tmp_path):
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    public = (tmp_path / "id_ed25519.pub").read_text().strip()
    playbook = f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: build
      goldenimage.azure.build_vm:
        build_id: leased
        location: westeurope
        image: Canonical:ubuntu-24_04-lts:server:24.04.202411200
        ssh_public_key: "{public}"
        allowed_sources: [203.0.113.7/32]
        lease_seconds: 5400
        wait_timeout: 120
"""
    run = run_playbook(playbook, sim_env=fresh_sim.env)
    assert run.rc == 0, run.stdout
    tags = resources.resource_groups.get("gi-build-leased").tags
    created = datetime.datetime.strptime(tags["goldenimage-lease-created"], FORMAT)
    expires = datetime.datetime.strptime(tags["goldenimage-lease-expires"], FORMAT)
    assert (expires - created).total_seconds() == 5400
    assert tags["goldenimage-temporary"] == "true"
