"""pytest fixtures to test your own image pipeline offline: the ARM simulator, faults, real local guests.

Installed with the wheel (``pip install goldenimage-azure-testkit``), pytest loads this through the
``pytest11`` entry point; nothing starts until a test asks for a fixture. Documentation and a complete
example: azsim/docs/testing-your-pipeline.md, examples/testkit/.

- ``azsim`` (session): one simulator (``azsim.testing.SimServer``) on a free port, instant operations
  (``--azsim-time-scale``), the catalog and settings of ``--azsim-catalog`` / ``--azsim-settings``.
- ``azsim_world``: the same simulator with a fresh world: no resources, operations, faults or logged
  requests, the starting settings and catalog. Assert on ``azsim_world.admin.resources()`` and
  ``.requests()``.
- ``azsim_faults``: inject faults (``azsim_faults.add(method="POST", path="/generalize$", status=429, times=1)``);
  cleared after the test.
- ``azsim_ansible_env``: the environment for ``ansible-playbook`` / ``ansible`` pointed at the simulator.
- ``azsim_playbook(playbook, ...)``: runs ``ansible-playbook`` with that environment; returns a
  ``PlaybookResult`` with ``rc``, ``stdout``, ``stderr`` and every task result.
- ``local_guest_factory(provision=True, register=False, ...)`` / ``local_guest``: real Debian 12 guests
  (localguest, needs root; skipped otherwise), reached over SSH at their own address;
  ``register=True`` puts one in the simulator's guest pool, so a VM your pipeline creates gets it.
- ``local_guest_inventory(*guests)``: an INI inventory file for guests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field

import pytest

CALLBACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ansible_callbacks")


def pytest_addoption(parser):
    group = parser.getgroup("azsim", "azsim: Azure Resource Manager simulator")
    group.addoption("--azsim-catalog", help="Marketplace catalog JSON for the session simulator "
                    "(azsim/schemas/catalog.schema.json); ini: azsim_catalog")
    group.addoption("--azsim-settings", help="settings JSON merged into the defaults "
                    "(azsim/schemas/settings.schema.json); ini: azsim_settings")
    group.addoption("--azsim-time-scale", type=float, default=None,
                    help="multiply every operation duration (default 0: instant); ini: azsim_time_scale")
    parser.addini("azsim_catalog", "Marketplace catalog JSON for the session simulator (relative to rootdir)")
    parser.addini("azsim_settings", "settings JSON for the session simulator (relative to rootdir)")
    parser.addini("azsim_time_scale", "operation duration multiplier (default 0)", default="0")


def _option(config, name):
    value = config.getoption(f"--{name.replace('_', '-')}")
    if value is not None:
        return value
    value = config.getini(name)
    if value and name != "azsim_time_scale":
        return str(config.rootpath / value)
    return value or None


# ------------------------------------------------------------------------------------------ simulator
@pytest.fixture(scope="session")
def azsim(request):
    """One simulator for the session (``azsim.testing.SimServer``): ``.url``, ``.env``, ``.admin``, ``.client()``."""
    from azsim.core.settings import SettingsError, load_file
    from azsim.testing import SimServer

    config = request.config
    settings_file = _option(config, "azsim_settings")
    try:
        settings = load_file(settings_file) if settings_file else None
    except SettingsError as err:
        raise pytest.UsageError(str(err)) from None
    catalog = _option(config, "azsim_catalog")
    if catalog and not os.path.exists(catalog):
        raise pytest.UsageError(f"--azsim-catalog: no such file {catalog}")
    server = SimServer(time_scale=float(_option(config, "azsim_time_scale") or 0), catalog=catalog, settings=settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def azsim_world(azsim):
    """The session simulator with a fresh world (and its starting settings and catalog)."""
    azsim.admin.reset(settings=True)
    azsim.admin.delete("catalog")  # back to the catalog the session started with
    yield azsim
    azsim.admin.clear_faults()


class Faults:
    """Fault rules for the simulator (format: azsim/core/faults.py); every rule is kept until the test ends."""

    def __init__(self, sim):
        self.sim = sim
        self.rules = []

    def add(self, path=".", **rule):
        """One rule, e.g. ``add(method="POST", path="/generalize$", status=429, times=1)``; ``action``
        defaults to ``status`` when a status is given. Returns the rule."""
        rule = {"path": path, **rule}
        if "status" in rule:
            rule.setdefault("action", "status")
        self.sim.admin.faults([rule])  # the simulator adds rules to the ones it has
        self.rules.append(rule)
        return rule

    def set(self, rules, seed=None):
        """Replace every rule (``seed``: of the ``probability`` draws)."""
        self.sim.admin.clear_faults()
        self.sim.admin.faults(list(rules), seed=seed)
        self.rules = list(rules)

    def fired(self):
        """The simulator's view of the rules: each with ``seen`` and ``fired`` counts."""
        return self.sim.admin.get("faults")["rules"]

    def clear(self):
        self.rules = []
        self.sim.admin.clear_faults()


@pytest.fixture
def azsim_faults(azsim_world):
    faults = Faults(azsim_world)
    yield faults
    faults.clear()


# ------------------------------------------------------------------------------------------ ansible
@pytest.fixture
def azsim_ansible_env(azsim_world, tmp_path):
    """``os.environ`` plus the simulator's variables (``azsim env``) and quiet, test-friendly Ansible settings.

    ANSIBLE_COLLECTIONS_PATH is left as it is: the collection is wherever you installed it."""
    env = dict(os.environ)
    env.update(azsim_world.env)
    enabled = [item for item in env.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if item.strip()]
    callback_dirs = [CALLBACKS] + [item for item in env.get("ANSIBLE_CALLBACK_PLUGINS", "").split(os.pathsep) if item]
    env.update({
        "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
        "ANSIBLE_CALLBACK_PLUGINS": os.pathsep.join(callback_dirs),
        "ANSIBLE_CALLBACKS_ENABLED": ",".join([*enabled, "azsim_results"]),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
    })
    return env


@dataclass
class PlaybookResult:
    rc: int
    stdout: str
    stderr: str
    results: list = field(default_factory=list)  # one dict per task result: host, task, action, status, result

    def task(self, name, host=None):
        """The last result of the task with this name (on ``host``)."""
        found = [item for item in self.results if item["task"] == name and host in (None, item["host"])]
        if not found:
            raise KeyError(f"no result for task {name!r}; tasks: {sorted({item['task'] for item in self.results})}")
        return found[-1]

    @property
    def failed(self):
        return [item for item in self.results if item["status"] in ("failed", "unreachable")]

    @property
    def changed(self):
        return [item for item in self.results if item["result"].get("changed")]


def _ansible_command(name):
    beside = os.path.join(os.path.dirname(sys.executable), name)
    return beside if os.path.exists(beside) else (shutil.which(name) or name)


@pytest.fixture
def azsim_playbook(azsim_ansible_env, tmp_path):
    """``azsim_playbook(playbook, *args, inventory=None, extra_vars=None, env=None, cwd=None, timeout=600)``.

    Without ``inventory`` the play runs on the implicit localhost (the controller's interpreter)."""

    def run(playbook, *args, inventory=None, extra_vars=None, env=None, cwd=None, timeout=600):
        results_file = tmp_path / f"results-{uuid.uuid4().hex[:8]}.jsonl"
        command = [_ansible_command("ansible-playbook"), str(playbook), *args]
        if inventory:
            command += ["-i", str(inventory)]
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        run_env = dict(azsim_ansible_env, AZSIM_RESULTS_FILE=str(results_file), **(env or {}))
        proc = subprocess.run(command, env=run_env, capture_output=True, text=True, timeout=timeout,
                              cwd=cwd or os.path.dirname(os.path.abspath(str(playbook))), check=False)
        results = []
        if results_file.exists():
            results = [json.loads(line) for line in results_file.read_text().splitlines() if line.strip()]
        return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, results)

    return run


# ------------------------------------------------------------------------------------------ local guests
@pytest.fixture(scope="session")
def local_guest_key(tmp_path_factory):
    """The controller's SSH key pair for guests (``key`` and ``key.with_suffix('.pub')``); root only."""
    import localguest

    if os.geteuid() != 0:
        pytest.skip("local guests need root (overlay mounts, namespaces, chroot)")
    try:
        localguest.prepare(log=lambda message: None)  # the rootfs cache, built once (~30 s) and kept
    except (localguest.GuestError, OSError, subprocess.CalledProcessError) as err:
        pytest.fail(f"cannot build the local guest rootfs cache (localguest prepare): {err}")
    return localguest.ensure_keypair(tmp_path_factory.mktemp("azsim-keys") / "id_ed25519")


@pytest.fixture
def local_guest_factory(local_guest_key, tmp_path_factory, request):
    """``local_guest_factory(provision=True, register=False, admin_username="azureuser", **start_kwargs)``.

    ``provision``: create the admin user with ``local_guest_key`` now, as Azure's provisioning would;
    ``register``: put the (unprovisioned) guest in the simulator's pool instead, so the next public IP
    binds it and the VM create provisions it. Every guest is stopped after the test."""
    import localguest

    workdir = tmp_path_factory.mktemp("azsim-guests")
    started = []

    def make(provision=True, register=False, admin_username="azureuser", **kwargs):
        if register:
            sim = request.getfixturevalue("azsim_world")
            kwargs.update(sim_url=sim.url, ca=sim.ca)
            # registering (and unregistering) is an admin call: localguest reads the token from the environment
            request.getfixturevalue("monkeypatch").setenv("AZSIM_ADMIN_TOKEN", sim.admin_token)
            provision = False
        guest = localguest.start_guest(f"g{uuid.uuid4().hex[:8]}", workdir=workdir, **kwargs)
        started.append(guest)
        if provision:
            guest.provision({"vm_name": guest.name, "admin_username": admin_username, "os_type": "linux",
                             "ssh_public_keys": [local_guest_key.with_name(local_guest_key.name + ".pub").read_text()]})
        return guest

    yield make
    for guest in started:
        localguest.stop_guest(guest)


@pytest.fixture
def local_guest(local_guest_factory):
    """One guest, provisioned with ``azureuser`` and ``local_guest_key``: ``.address``, ``.port``,
    ``.path("/etc/passwd")`` (the host path of a guest file), ``.nsenter(cmd)``."""
    return local_guest_factory()


@pytest.fixture
def local_guest_inventory(local_guest_key, tmp_path):
    """``local_guest_inventory(*guests, group="guests")`` -> path of an INI inventory reaching them over SSH."""
    import localguest

    def write(*guests, group="guests"):
        path = tmp_path / f"inventory-{uuid.uuid4().hex[:8]}.ini"
        path.write_text(localguest.inventory(guests, key=local_guest_key, group=group))
        return str(path)

    return write
