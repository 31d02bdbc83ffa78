"""Helpers for the end-to-end tests of build-golden-image.yml: real guests in the simulator's pool, the
output resource group, the build definition, and what is left of a build afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from unittest import mock

import pytest

from tests.harness import ROOT, run_playbook

PLAYBOOK = os.path.join(ROOT, "build-golden-image.yml")
OUTPUT_RG = "rg-golden-images"
BUILD_TYPES = (
    "microsoft.compute/virtualmachines",
    "microsoft.compute/disks",
    "microsoft.network/networkinterfaces",
    "microsoft.network/publicipaddresses",
    "microsoft.network/virtualnetworks",
    "microsoft.network/networksecuritygroups",
)


def guest_skip_reason():
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root (real local guests: see localguest/README.md)"
    for tool in ("unshare", "nsenter", "socat", "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"needs {tool} on the host (python -m localguest prepare installs it)"
    return None


def require_guests():
    """Skip only without root (what this machine cannot host); a cache that cannot be built fails the test.

    ``prepare`` installs the host tools it needs, so a missing tool is no reason to skip either."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root (real local guests: see localguest/README.md)")
    from localguest import rootfs
    from localguest.errors import GuestError

    try:
        rootfs.prepare(log=lambda msg: None)
    except (GuestError, OSError) as exc:
        pytest.fail(f"cannot prepare the guest root filesystem (python -m localguest prepare): {exc}")


@contextlib.contextmanager
def guests(sim, count, prefix="gi"):
    """Start ``count`` guests registered in the simulator's pool (the pool holds only them); stop them after."""
    from localguest.guest import start_guest, stop_guest

    for entry in sim.admin.get("guests")["value"]:
        sim.admin.delete(f"guests/{entry['name']}")
    started = []
    try:
        for _ in range(count):
            name = f"{prefix}{uuid.uuid4().hex[:8]}"
            # registering in the pool is an admin call: localguest reads the token from the environment
            with mock.patch.dict(os.environ, {"AZSIM_ADMIN_TOKEN": sim.admin_token}):
                started.append(start_guest(name, sim_url=sim.url, ca=sim.ca, timeout=90))
        yield started
    finally:
        for guest in started:
            with contextlib.suppress(Exception):
                sim.admin.delete(f"guests/{guest.name}")
            with contextlib.suppress(Exception):
                stop_guest(guest.name, workdir=guest.workdir)


def prepare_outputs(resources, compute=None, gallery=None, definitions=()):
    """The output resource group (the playbook does not create it, as Packer does not); optionally a gallery
    and image definitions created beforehand (concurrent builds then share them without racing to create them)."""
    resources.resource_groups.create_or_update(OUTPUT_RG, {"location": "westeurope"})
    if compute is not None and gallery:
        compute.galleries.begin_create_or_update(OUTPUT_RG, gallery, {"location": "westeurope"}).result()
        for name in definitions:
            compute.gallery_images.begin_create_or_update(OUTPUT_RG, gallery, name, {
                "location": "westeurope",
                "properties": {"osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
                               "identifier": {"publisher": "contoso", "offer": "ubuntu-2404", "sku": name}},
            }).result()


def image_definition(name="ubuntu-2404-gen2", managed_image=True, gallery=True, create_definition=True,
                     regions=("westeurope", "northeurope"), guest=None):
    build = {
        "name": name,
        "base_image": "Canonical:ubuntu-24_04-lts:server:latest",
        "location": "westeurope",
        "os_type": "linux",
        "vm_size": "Standard_D2s_v5",
    }
    if managed_image:
        build["managed_image"] = {"name": f"img-{name}", "resource_group": OUTPUT_RG}
    if gallery:
        build["gallery"] = {"resource_group": OUTPUT_RG, "name": "golden", "image": name, "version": "auto",
                            "create_definition": create_definition, "publisher": "contoso", "offer": "ubuntu-2404",
                            "sku": name, "hyper_v_generation": "V2",
                            "target_regions": [{"name": region} for region in regions]}
    if guest is not None:
        build["public_ip_tags"] = {"azsim-guest": guest.name}
    return build


def run_build(sim, tmp_path, builds=None, vars_file=None, extra=None, timeout=900, env=None, args=(), playbook=None,
              cwd=None):
    """Run build-golden-image.yml (or ``playbook``: a path or a collection playbook's FQCN); returns
    (PlaybookRun, manifest dict or None). ``cwd``: run there (PWD too, as a shell would), not in the repository."""
    manifest = tmp_path / f"manifest-{uuid.uuid4().hex[:6]}.json"
    extra_vars = {"golden_image_manifest": str(manifest), "golden_image_build_dir": str(tmp_path / "builds"),
                  "golden_image_connect_timeout": 60}
    if builds is not None:
        extra_vars["golden_image_builds"] = builds
    extra_vars.update(extra or {})
    args = (["-e", f"@{vars_file}"] if vars_file else []) + list(args)
    if cwd is None:
        run = run_playbook(playbook or PLAYBOOK, sim_env=sim.env, extra_vars=extra_vars, args=args, timeout=timeout,
                           env=env)
    else:
        run = run_in(cwd, playbook or PLAYBOOK, sim.env, extra_vars, args, timeout, env)
    data = json.loads(manifest.read_text()) if manifest.exists() else None
    return run, data


def run_plan(sim, builds, args=(), **options):
    """goldenimage.azure.build_plan alone (task name ``plan``) on ``builds`` with the module's other ``options``."""
    lines = "".join(f"\n        {key}: {json.dumps(value)}" for key, value in options.items())
    playbook = f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: plan
      goldenimage.azure.build_plan:
        builds: {json.dumps(builds)}{lines}
"""
    return run_playbook(playbook, sim_env=sim.env, args=list(args))


def run_in(cwd, playbook, sim_env, extra_vars, args, timeout, env=None):
    """ansible-playbook started in ``cwd`` (with PWD set as a shell sets it), the harness's environment otherwise."""
    import subprocess
    import sys
    import tempfile

    from tests.harness import PlaybookRun, ansible_env, local_inventory

    tmp = tempfile.mkdtemp(prefix="gi-play-")
    dump = os.path.join(tmp, "results.jsonl")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", local_inventory(tmp),
               playbook, *args, "-e", json.dumps(extra_vars)]
    run_env = ansible_env(sim_env, dict(env or {}, AZSIM_RESULTS_FILE=dump, PWD=str(cwd)))
    proc = subprocess.run(command, env=run_env, capture_output=True, text=True, timeout=timeout, cwd=str(cwd),
                          check=False)
    results = []
    if os.path.exists(dump):
        with open(dump, encoding="utf-8") as handle:
            results = [json.loads(line) for line in handle if line.strip()]
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results)


def writes(sim, since=0, path_pattern=""):
    """ARM requests since ``since`` that change something (PUT, PATCH, POST, DELETE), optionally matching a regex."""
    import re

    return [item for item in sim.admin.requests(since)
            if item["kind"] == "arm" and item["method"] in ("PUT", "PATCH", "POST", "DELETE")
            and re.search(path_pattern, item["path"], re.IGNORECASE)]


def leftovers(sim, build_ids=()):
    """Everything a build may leave: temporary groups, VMs/disks/network, and outputs tagged with its id."""
    left = []
    for item in sim.admin.resources():
        kind = item.get("type", "").lower()
        tags = item.get("tags") or {}
        if kind == "microsoft.resources/resourcegroups" and tags.get("goldenimage-temporary") == "true":
            left.append(item["id"])
        elif kind in BUILD_TYPES:
            left.append(item["id"])
        elif kind in ("microsoft.compute/images", "microsoft.compute/galleries/images/versions") and (
                not build_ids or tags.get("goldenimage-build-id") in build_ids):
            left.append(item["id"])
    return left


def by_type(sim, kind):
    """The simulator's resources of one type (any case)."""
    return [item for item in sim.admin.resources() if item["type"].lower() == kind.lower()]


def deprovisioned(guest):
    """Host-side checks (real-guest.md section 3) that the guest was deprovisioned; returns what failed."""
    root = guest.root
    problems = []
    passwd = (root / "etc/passwd").read_text()
    user = guest.admin_username or "azureuser"
    if f"\n{user}:" in "\n" + passwd:
        problems.append(f"{user} still in /etc/passwd")
    if (root / "home" / user).exists():
        problems.append(f"/home/{user} still exists")
    if list((root / "etc/ssh").glob("ssh_host_*")):
        problems.append("SSH host keys still present")
    waagent_dir = root / "var/lib/waagent"
    if waagent_dir.exists() and any(waagent_dir.iterdir()):
        problems.append("/var/lib/waagent not empty")
    machine_id = root / "etc/machine-id"
    if machine_id.exists() and machine_id.read_text().strip():
        problems.append("/etc/machine-id not empty")
    return problems


def runs_the_image(guest, user="givalidator"):
    """The build id of the image the guest now runs (its marker), once provisioned as a validation VM: the new user
    with its key, no build user. Fails when the guest does not look like a VM made from a validated image."""
    root = guest.root
    passwd = (root / "etc/passwd").read_text()
    assert f"\n{user}:" in "\n" + passwd, f"{user} not provisioned in {guest.name}"
    assert "\nazureuser:" not in "\n" + passwd, f"the build user is back in {guest.name}"
    assert (root / "home" / user / ".ssh/authorized_keys").read_text().strip()
    return json.loads((root / "etc/goldenimage/build.json").read_text())["build_id"]


def break_waagent(guest):
    """Make the guest's waagent fail (deprovision fault)."""
    path = guest.root / "usr/sbin/waagent"
    path.write_text("#!/bin/sh\necho 'waagent: injected failure' >&2\nexit 3\n")
    path.chmod(0o755)
