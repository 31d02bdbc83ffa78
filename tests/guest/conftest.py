"""Fixtures for tests that need real Debian guests (localguest): root, and the rootfs cache.

- ``guest_cache``: builds the cache once (``python -m localguest prepare``). Skips only when not root (the one
  thing this machine then truly cannot host; under ``CI=true`` that skip fails the run, see tests/conftest.py);
  a cache that cannot be built (no apt, no mirror, a broken package list) fails the test.
- ``make_guest(provision=True, admin_username="azureuser", **start_kwargs)``: starts a guest (provisioned as
  Azure would, with ``guest_key``), stopped after the test.
- ``linux_guest``: one provisioned guest.
- ``guest_inventory(*guests)``: an INI inventory reaching them at their addresses, as a VM's public IP.
- ``world``: a fresh simulator for a main-job run on real guests (the cache built, root checked).
"""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

import localguest


@pytest.fixture(scope="session")
def guest_cache():
    if os.geteuid() != 0:
        pytest.skip("real guests need root (overlay mounts, namespaces, chroot): run pytest as root")
    try:
        return localguest.prepare(log=lambda message: None)
    except (localguest.GuestError, OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"cannot build the guest rootfs cache (python -m localguest prepare): {exc}")


@pytest.fixture
def world(guest_cache, fresh_sim, resources, compute):
    from tests.guest import gi_build

    gi_build.require_guests()
    return fresh_sim


@pytest.fixture(scope="session")
def guest_workdir(guest_cache, tmp_path_factory):
    return tmp_path_factory.mktemp("guests")


@pytest.fixture(scope="session")
def guest_key(guest_cache, tmp_path_factory):
    return localguest.ensure_keypair(tmp_path_factory.mktemp("keys") / "id_ed25519")


@pytest.fixture
def make_guest(guest_workdir, guest_key):
    started = []

    def _make(provision=True, admin_username="azureuser", **kwargs):
        guest = localguest.start_guest(f"t{uuid.uuid4().hex[:8]}", workdir=guest_workdir, **kwargs)
        started.append(guest)
        if provision:
            guest.provision({"vm_name": guest.name, "admin_username": admin_username, "os_type": "linux",
                             "ssh_public_keys": [guest_key.with_name(guest_key.name + ".pub").read_text()]})
        return guest

    yield _make
    for guest in started:
        localguest.stop_guest(guest)


@pytest.fixture
def linux_guest(make_guest):
    return make_guest()


@pytest.fixture
def guest_inventory(tmp_path, guest_key):
    def _inventory(*guests):
        path = tmp_path / "inventory.ini"
        path.write_text(localguest.inventory(guests, key=guest_key))
        return str(path)

    return _inventory
