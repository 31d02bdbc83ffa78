"""Images that carry their guest's filesystem (docs: azsim/docs/image-filesystems.md).

- Capturing a generalized VM whose guest registered a ``snapshot_command`` (a managed image from
  ``sourceVirtualMachine``, a gallery version from ``source.virtualMachineId``) runs ``snapshot_command + [DIR]``;
  DIR, under :func:`root`, is recorded in the resource's private data as ``filesystem`` (never in the public body).
- A gallery version made from a managed image, another version, a snapshot or a disk that has one inherits it
  (the same DIR), as do a disk or snapshot copied from one; so does the VM created from such an image
  (``image_filesystem``, read when it is provisioned).
- A DIR is deleted when the last resource that records it is deleted; a simulator reset deletes them all.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import uuid

from ...core.errors import ArmError
from ...core.store import private
from .models import run_command

SNAPSHOT_TIMEOUT_S = 180
KEY = "filesystem"          # on images, gallery versions, snapshots, disks
VM_KEY = "image_filesystem"  # on a VM created from such an image


class Filesystems:
    """The directory that holds the snapshots: ``<state>/filesystems`` with ``--state``, else a temporary one."""

    def __init__(self, sim):
        self.sim = sim
        self._root = None
        self._dying = {}  # id -> body announced deleted but still stored (see on_deleted)

    def root(self):
        if self._root is None:
            if self.sim.state_dir:
                self._root = os.path.join(self.sim.state_dir, "filesystems")
            else:
                self._root = tempfile.mkdtemp(prefix="azsim-filesystems-")
                atexit.register(shutil.rmtree, self._root, True)
            os.makedirs(self._root, exist_ok=True)
        return self._root

    def reset(self):
        self._dying = {}
        root = self._root or (os.path.join(self.sim.state_dir, "filesystems") if self.sim.state_dir else None)
        if root and os.path.isdir(root):
            for name in os.listdir(root):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)

    def on_deleted(self, body):
        """Deletion hook: drop the snapshot dirs that no resource still records.

        A group delete tells the hooks about every resource before removing any, so the ones already announced
        (``_dying``, by identity: a later resource with the same id is another body) no longer count."""
        self._dying = {rid: dying for rid, dying in self._dying.items()
                       if self.sim.store.get(rid) is dying}
        self._dying[body.get("id", "").lower()] = body
        if not (private(body).get(KEY) or private(body).get(VM_KEY)):
            return
        root = self.root()  # also after a restart with --state
        live = set()
        for other in self.sim.store.all():
            if self._dying.get(other.get("id", "").lower()) is other:
                continue
            extra = other.get("_sim") or {}
            live.update((extra.get(key) or {}).get("dir") for key in (KEY, VM_KEY))
        for name in os.listdir(root):  # only what the simulator made
            path = os.path.join(root, name)
            if path not in live and not name.startswith("."):
                shutil.rmtree(path, ignore_errors=True)


def filesystems(sim) -> Filesystems:
    return sim.extensions["filesystems"]


def record_of(body):
    """The filesystem record of a stored resource (None when it has none or its dir is gone)."""
    record = (body or {}).get("_sim", {}).get(KEY)
    return dict(record) if record and os.path.isdir(record.get("dir", "")) else None


def inherit(body, source_body):
    """``body`` carries the filesystem ``source_body`` has (a version from an image, a VM from an image...)."""
    record = record_of(source_body)
    if record:
        private(body)[KEY] = record
    return record


def capture(sim, body, vm):
    """Snapshot the guest of a generalized ``vm`` into a new dir recorded on ``body`` (an image or version).

    Nothing happens when the VM is not generalized or has no guest with a ``snapshot_command``. A failing or
    hanging command is refused (409 GuestSnapshotFailed: a simulator-only error) before anything is stored."""
    if not private(vm).get("generalized"):
        return None
    guests = sim.extensions["guests"].guests.values()
    guest = next((entry for entry in guests if (entry.get("vm") or "").lower() == vm["id"].lower()), None)
    if guest is None or not guest.get("snapshot_command"):
        return None
    digest = hashlib.sha256(body["id"].lower().encode()).hexdigest()[:16]
    path = os.path.join(filesystems(sim).root(), f"{digest}-{uuid.uuid4().hex[:8]}")
    # A few MB for a chroot guest: the copy blocks the simulator, as provisioning does.
    status, detail = run_command(list(guest["snapshot_command"]) + [path], timeout=SNAPSHOT_TIMEOUT_S)
    if status != 0 or not os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
        reason = f"exited with code {status}: {detail}" if status is not None else f"{detail} (SNAPSHOT_TIMEOUT_S)"
        raise ArmError(409, "GuestSnapshotFailed", f"azsim: the snapshot command of guest '{guest['name']}' "
                       f"(VM '{vm['name']}') {reason}")
    record = {"dir": path, "guest": guest["name"], "vm": vm["id"]}
    private(body)[KEY] = record
    return record


def register(sim):
    store = Filesystems(sim)
    sim.extensions["filesystems"] = store
    sim.deletion_hooks.append(store.on_deleted)
