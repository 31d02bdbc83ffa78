"""The main job as a user runs it: the collection built into its Galaxy artifact and installed into a fresh
collections path outside the repository, `ansible-playbook goldenimage.azure.build_golden_image -e @my-vars.yml`
run from the user's own directory (a git repository holding copies of the examples), twice, against the simulator
and a real local guest (root only)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.guest import gi_build
from tests.harness import ROOT

pytestmark = [pytest.mark.guest, pytest.mark.slow]

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}


def _galaxy(tmp_path, *args):
    env = dict(os.environ, ANSIBLE_GALAXY_CACHE_DIR=str(tmp_path / "galaxy-cache"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "none"))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-galaxy"), "collection", *args]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd=str(tmp_path), timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _git(cwd, *args):
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True,
                          env=dict(os.environ, **GIT_ENV)).stdout.strip()


def _kinds(sim, kind):
    return [item for item in sim.admin.resources() if item["type"].lower() == kind.lower()]


def test_installed_artifact_builds_the_example_and_a_second_run_is_safe(guest_cache, fresh_sim, resources, tmp_path):
    gi_build.require_guests()
    sim = fresh_sim
    # the artifact, installed into a fresh collections path outside the repository
    _galaxy(tmp_path, "build", ROOT, "--output-path", str(tmp_path / "dist"))
    (tarball,) = (tmp_path / "dist").glob("goldenimage-azure-*.tar.gz")
    collections = tmp_path / "collections"
    _galaxy(tmp_path, "install", "-p", str(collections), str(tarball))
    installed = collections / "ansible_collections" / "goldenimage" / "azure"
    assert (installed / "playbooks" / "build_golden_image.yml").is_file()
    assert not (installed / "examples").exists()  # not shipped: nothing may depend on it

    # the user's directory: the example vars file and its customisation copied, committed
    user = tmp_path / "images"
    shutil.copytree(os.path.join(ROOT, "examples", "customize"), user / "examples" / "customize")
    shutil.copy(os.path.join(ROOT, "examples", "vars", "ubuntu-2404-gen2.yml"), user / "my-vars.yml")
    _git(user, "init", "-q")
    _git(user, "add", ".")
    _git(user, "commit", "-q", "-m", "my images")
    commit = _git(user, "rev-parse", "HEAD")

    env = {"ANSIBLE_COLLECTIONS_PATH": str(collections)}
    gi_build.prepare_outputs(resources)
    with gi_build.guests(sim, 2) as (guest, _spare):  # the spare serves the validation VM
        run, manifest = gi_build.run_build(sim, tmp_path, vars_file=str(user / "my-vars.yml"), env=env, cwd=user,
                                           playbook="goldenimage.azure.build_golden_image")
        assert run.rc == 0, run.stdout[-4000:]
        assert "build-id=" in guest.path("/etc/golden-image-release").read_text()  # the user's customisation ran
        assert gi_build.deprovisioned(guest) == []

    assert manifest["status"] == "succeeded"
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        version = str(yaml.safe_load(handle)["version"])
    # the installed copy ran (MANIFEST.json exists only in the artifact), on the user's commit
    assert manifest["collection"]["version"] == version
    assert os.path.realpath(manifest["collection"]["path"]) == os.path.realpath(installed)
    assert manifest["build_definition"]["git_commit"] == commit
    assert manifest["build_definition"]["dir"] == str(user)
    (image,) = _kinds(sim, "Microsoft.Compute/images")
    assert re.fullmatch(r"img-ubuntu-2404-gen2-\d{12}", image["name"])
    assert len(_kinds(sim, "Microsoft.Compute/galleries/images/versions")) == 1

    # the same vars file again, nothing changed: the gallery version is up to date, so nothing is built or written
    since = sim.admin.last_seq()
    with gi_build.guests(sim, 1):
        again, second = gi_build.run_build(sim, tmp_path, vars_file=str(user / "my-vars.yml"), env=env, cwd=user,
                                           playbook="goldenimage.azure.build_golden_image")
    assert again.rc == 0, again.stdout[-4000:]
    (build,) = second["builds"]
    assert second["status"] == "succeeded" and build["status"] == "up_to_date", build
    assert gi_build.writes(sim, since) == []
    assert len(_kinds(sim, "Microsoft.Compute/images")) == 1
    for kind in gi_build.BUILD_TYPES:
        assert _kinds(sim, kind) == [], kind
