#!/usr/bin/env python3
"""``make demo``: build a golden image from start to finish on this machine, then tear everything down.

1. builds (once) the root filesystem of a real local Debian guest (``python -m localguest prepare``);
2. starts the ARM simulator (``python -m azsim serve --port 0 --ready-file ...``) with a small time scale;
3. starts a guest registered in the simulator's guest pool, so the build VM's public IP is that guest and
   the simulator provisions the VM's admin user and SSH key into it;
4. creates the output resource group, runs ``ansible-playbook build-golden-image.yml -e @examples/vars/...``
   with the simulator's environment, and prints the build manifest and what is left in the simulator;
5. stops the guest and the simulator, whatever happened.

Needs root (guests use namespaces, overlayfs and nsenter). Exit status: the playbook's, 2 when the machine
cannot host a guest.

    python examples/demo/run_demo.py [--vars examples/vars/ubuntu-2404-gen2.yml] [--time-scale 0.02] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

OUTPUT_RG = "rg-golden-images"
NOT_ROOT = """\
make demo needs root: it starts a real Debian guest (unshare/chroot, overlayfs, nsenter) that stands in for
the build VM's operating system, so the playbook deprovisions a real guest over real SSH.

Run it as root on a Debian/Ubuntu machine (or in a VM/container with CAP_SYS_ADMIN):
    sudo make demo
Without root you can still run the module and role tests against the simulator:
    make pytest        (tests marked 'guest' are skipped)
"""


def say(message):
    print(f"demo: {message}", flush=True)


def collections_path():
    if os.environ.get("ANSIBLE_COLLECTIONS_PATH"):
        return os.environ["ANSIBLE_COLLECTIONS_PATH"]
    base = os.path.join(ROOT, ".build", "collections")
    link = os.path.join(base, "ansible_collections", "goldenimage", "azure")
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return base


def create_output_group(sim):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.resource.resources import ResourceManagementClient

    env = sim.env
    credential = ClientSecretCredential(env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"],
                                        authority=env["AZURE_AUTHORITY_HOST"], disable_instance_discovery=True,
                                        connection_verify=sim.ca)
    client = ResourceManagementClient(credential, sim.subscription_id, base_url=sim.url + "/",
                                      credential_scopes=[sim.url + "/.default"], connection_verify=sim.ca)
    client.resource_groups.create_or_update(OUTPUT_RG, {"location": "westeurope"})


def summary(manifest):
    lines = [f"status {manifest['status']} in {manifest['duration_s']} s (run {manifest['run_id']}, "
             f"definition commit {manifest['build_definition']['git_commit'][:12]})"]
    for build in manifest["builds"]:
        base = build["base_image"]
        lines.append(f"  {build['name']}: {build['status']}"
                     + (f" in phase '{build['failed_phase']}': {build['error']}" if build["failed_phase"] else ""))
        lines.append(f"    base image {base['requested']} -> {base['urn']}")
        image = build["outputs"]["managed_image"]
        version = build["outputs"]["gallery_image_version"]
        if image:
            lines.append(f"    managed image   {image['id']}")
        if version:
            lines.append(f"    gallery version {version['id']} (regions {', '.join(version['regions'])})")
        order = ["resolve", "plan", "create", "customize", "deprovision", "capture", "cleanup"]
        phases = sorted(build["phases"].items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
        lines.append("    phases (s): " + ", ".join(f"{k} {v}" for k, v in phases))
    return "\n".join(lines)


def guest_report(name):
    """What deprovisioning left in the guest's root filesystem (read from the host, no SSH)."""
    from localguest.guest import Guest

    root = Guest.load(name).root
    passwd = (root / "etc/passwd").read_text()
    checks = {
        "build user azureuser removed": "\nazureuser:" not in "\n" + passwd,
        "/home/azureuser removed": not (root / "home/azureuser").exists(),
        "SSH host keys removed": not list((root / "etc/ssh").glob("ssh_host_*")),
        "/var/lib/waagent emptied": not any((root / "var/lib/waagent").glob("*")),
        "machine-id reset": not (root / "etc/machine-id").exists() or not (root / "etc/machine-id").read_text().strip(),
        "customisation applied (/etc/golden-image-release)": (root / "etc/golden-image-release").exists(),
    }
    return "\n".join(f"  [{'x' if ok else ' '}] {label}" for label, ok in checks.items())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vars", default=os.path.join(ROOT, "examples", "vars", "ubuntu-2404-gen2.yml"))
    parser.add_argument("--playbook", default=os.path.join(ROOT, "build-golden-image.yml"))
    parser.add_argument("--time-scale", type=float, default=0.02,
                        help="simulated Azure durations x this (0.02: a 3-minute replication takes 3.6 s)")
    parser.add_argument("--keep", action="store_true", help="keep the manifest directory")
    parser.add_argument("ansible_args", nargs="*", help="more ansible-playbook arguments (after --)")
    args = parser.parse_args(argv)

    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        print(NOT_ROOT, file=sys.stderr)
        return 2
    python = sys.executable
    bindir = os.path.dirname(python)
    workdir = tempfile.mkdtemp(prefix="goldenimage-demo-")
    manifest_path = os.path.join(workdir, "golden-image-manifest.json")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))

    say("preparing the guest root filesystem (cached after the first run)")
    prepared = subprocess.run([python, "-m", "localguest", "prepare"], cwd=ROOT, env=env, check=False)
    if prepared.returncode != 0:
        print("demo: this machine cannot host a local guest (see the messages above; localguest/README.md lists "
              "what the host needs: util-linux, socat, mmdebstrap, network access to Debian's mirror once).",
              file=sys.stderr)
        return 2

    from azsim.testing import SimServer

    guest = f"demo{uuid.uuid4().hex[:6]}"
    sim = SimServer(time_scale=args.time_scale)
    rc = 1
    try:
        say(f"starting the ARM simulator (time scale {args.time_scale})")
        sim.start()
        say(f"simulator at {sim.url}; starting guest {guest}, registered in its guest pool")
        subprocess.run([python, "-m", "localguest", "up", guest, "--sim-url", sim.url, "--ca", sim.ca], cwd=ROOT,
                       env=dict(env, AZSIM_ADMIN_TOKEN=sim.admin_token), check=True)
        create_output_group(sim)
        say(f"created the output resource group {OUTPUT_RG}")
        run_env = dict(env, **sim.env)
        run_env.update({
            "ANSIBLE_COLLECTIONS_PATH": collections_path(),
            "ANSIBLE_PYTHON_INTERPRETER": python,
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_LOCALHOST_WARNING": "False",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
            "PATH": bindir + os.pathsep + env.get("PATH", ""),
            # the example's customize_tasks path is relative to the definition directory, the working directory
            "PWD": ROOT,
        })
        inventory = os.path.join(workdir, "inventory.ini")
        with open(inventory, "w", encoding="utf-8") as handle:
            handle.write(f"localhost ansible_connection=local ansible_python_interpreter={python}\n")
        command = [os.path.join(bindir, "ansible-playbook"), "-i", inventory, args.playbook,
                   "-e", f"@{args.vars}", "-e", json.dumps({"golden_image_manifest": manifest_path}),
                   *args.ansible_args]
        say(f"running: ansible-playbook {os.path.relpath(args.playbook, ROOT)} -e @{os.path.relpath(args.vars, ROOT)}")
        started = time.monotonic()
        rc = subprocess.run(command, cwd=ROOT, env=run_env, check=False).returncode
        say(f"ansible-playbook exited {rc} after {time.monotonic() - started:.1f} s")
        if os.path.exists(manifest_path):
            with open(manifest_path, encoding="utf-8") as handle:
                manifest = json.load(handle)
            print("\n===== build manifest =====")
            print(json.dumps(manifest, indent=2))
            print("\n===== summary =====")
            print(summary(manifest))
        left = [f"{item['type']} {item['name']}" for item in sim.admin.resources()]
        print("\n===== resources in the simulator afterwards =====")
        print("\n".join(left) if left else "(none)")
        print("\n===== the guest, read from the host =====")
        print(guest_report(guest))
        guests = sim.admin.get("guests")["value"]
        print("guest bindings: " + ", ".join(f"{g['name']} -> {g['bound_to'] or 'free'}" for g in guests))
    finally:
        say("tearing down the guest and the simulator")
        subprocess.run([python, "-m", "localguest", "down", guest, "--missing-ok"], cwd=ROOT, env=env, check=False)
        sim.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
