"""A guest's filesystem as an image: ``snapshot`` copies it out, ``reimage`` boots a guest from such a copy.

A guest's filesystem is its overlay's ``upper/`` dir: exactly what differs from the cached base, deleted files as
whiteouts (character devices 0:0) and replaced directories marked ``trusted.overlay.opaque``. ``cp -a`` keeps both
(device nodes and extended attributes, as root), so the copy over the same base is the same filesystem. The
simulator snapshots a generalized VM's guest when an image is captured from it, and reimages the guest of a VM
created from that image before provisioning it (azsim/docs/image-filesystems.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

from . import rootfs
from .errors import GuestError
from .guest import Guest, boot, halt

COPY_TIMEOUT_S = 120  # copying one guest's upper dir (a few MB for a chroot guest)


def _copy(source: Path, dest: Path) -> None:
    """``cp -a source dest`` (dest must not exist), bounded."""
    try:
        done = subprocess.run(["cp", "-a", "--", str(source), str(dest)], capture_output=True, text=True,
                              timeout=COPY_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise GuestError(f"copying {source} to {dest} timed out after {COPY_TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise GuestError(f"cp -a {source} {dest} failed: {done.stderr.strip()[-500:]}")


def _copy_atomically(source: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        _copy(source, tmp)
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def snapshot(name: str, dest, workdir=None) -> Path:
    """Copy guest ``name``'s filesystem (its overlay's upper dir) to ``dest``, atomically; running or stopped."""
    rootfs.require_root("snapshot")
    guest = Guest.load(name, workdir)
    upper = guest.dir / "upper"
    if not upper.is_dir():
        raise GuestError(f"guest {name} has no overlay upper dir at {upper}")
    dest = Path(dest).absolute()
    if dest.exists():
        raise GuestError(f"{dest} already exists")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _copy_atomically(upper, dest)
    return dest


def reimage(name: str, source, workdir=None, timeout: float = 60.0) -> Guest:
    """Restart guest ``name`` from the filesystem at ``source`` (a :func:`snapshot`): same address, port and mode,
    same simulator registration (and so the same binding). Its first boot is the image's (``image_boot``)."""
    rootfs.require_root("reimage")
    source = Path(source).absolute()
    if not source.is_dir():
        raise GuestError(f"no filesystem snapshot at {source}")
    base = rootfs.base_dir()
    if not base.is_dir():
        raise GuestError(f"no rootfs cache at {base}: run python -m localguest prepare (as root) first")
    guest = Guest.load(name, workdir)
    staged = guest.dir / "upper.reimage"
    shutil.rmtree(staged, ignore_errors=True)
    _copy(source, staged)  # before stopping: the guest is down only for the swap and the boot
    try:
        halt(guest)
        for sub in ("upper", "work"):
            shutil.rmtree(guest.dir / sub, ignore_errors=True)
        os.rename(staged, guest.dir / "upper")
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    for stale in ("console.log", "forwarder.log"):
        with contextlib.suppress(OSError):
            (guest.dir / stale).unlink()
    guest.reimaged_from = str(source)
    guest.admin_username = guest.computer_name = guest.vm_id = None
    guest.image_boot = True
    guest.save()
    return boot(guest, base, timeout, register=False, image_boot=True)
