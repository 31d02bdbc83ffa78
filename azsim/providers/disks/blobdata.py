"""The bytes behind managed disks and snapshots, and their access grants (the model of the data plane).

Azure keeps each disk as a page blob reached through a SAS that ``beginGetAccess`` hands out. Here:

- :class:`BlobStore` (``sim.extensions["disk_blobs"]``) keeps one sparse file per disk or snapshot, named after
  its ``uniqueId``, under ``<--state>/blobs/`` (a temporary directory without ``--state``). A blob is a fixed VHD:
  the disk's bytes and a 512-byte footer. An uploaded disk's blob is ``uploadSizeBytes`` long and holds what the
  client wrote (its footer included); any other disk's blob is created on first use as zeros of ``diskSizeGB``
  plus a footer written here. Copies (createOption Copy, snapshots) copy the source's file, holes kept.
- Grants live in the resource's private bookkeeping (``_sim.access``), so they survive ``--state``: one grant id
  (the SAS ``si``), its access (Read or Write), its expiry, and the disk state to go back to on revoke.
- :func:`sign` / :func:`check_sas` make and check the SAS: an HMAC of the blob, grant id, permissions and expiry
  with the simulator's token key. A revoked or replaced grant, an expired one or a changed parameter fails.

The HTTP side (Put Page, Get Blob, Get Blob Properties) is ``dataplane.py``; grant/revoke routes are ``routes.py``.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import os
import shutil
import struct
import tempfile
import time
import uuid

from ...core.store import private

PAGE = 512
FOOTER_SIZE = 512
MAX_PAGE_WRITE = 4 * 1024 * 1024
GIB = 1024 ** 3
MIB = 1024 ** 2
# uploadSizeBytes bounds: 20 MiB and 32 TiB, each plus the 512-byte footer (DiskRP CreationData docs).
MIN_UPLOAD_BYTES = 20 * MIB + FOOTER_SIZE
MAX_UPLOAD_BYTES = 32 * 1024 ** 4 + FOOTER_SIZE
SAS_VERSION = "2018-03-28"
BLOB_PREFIX = "/_disk-blobs/"  # the data plane's path on the simulator's own endpoint
VHD_EPOCH = 946684800  # 2000-01-01T00:00:00Z, the VHD timestamp origin


def fixed_vhd_footer(size):
    """A fixed-disk VHD footer (VHD spec 2006) for ``size`` bytes of disk, checksum included."""
    cylinders, heads, sectors = _geometry(size // PAGE)
    fields = struct.pack(">8sIIQI4sI4sQQHBBII16sB", b"conectix", 2, 0x00010000, 0xFFFFFFFFFFFFFFFF,
                         max(0, int(time.time()) - VHD_EPOCH), b"azsm", 0x00010000, b"Wi2k", size, size,
                         cylinders, heads, sectors, 2, 0, uuid.uuid4().bytes, 0)
    footer = bytearray(fields.ljust(FOOTER_SIZE, b"\0"))
    struct.pack_into(">I", footer, 64, (~sum(footer)) & 0xFFFFFFFF)
    return bytes(footer)


def _geometry(total_sectors):
    """CHS geometry of the VHD spec's appendix (only informative for fixed disks)."""
    total_sectors = min(total_sectors, 65535 * 16 * 255)
    if total_sectors >= 65535 * 16 * 63:
        sectors, heads = 255, 16
    else:
        sectors = 17
        per_head = total_sectors // sectors
        heads = max(4, (per_head + 1023) // 1024)
        if per_head >= heads * 1024 or heads > 16:
            sectors, heads = 31, 16
            per_head = total_sectors // sectors
        if per_head >= heads * 1024:
            sectors, heads = 63, 16
            per_head = total_sectors // sectors
    return min(65535, total_sectors // sectors // heads), heads, sectors


def blob_length(resource):
    """The page blob's length: ``uploadSizeBytes`` for an upload, else ``diskSizeBytes`` plus the VHD footer."""
    props = resource["properties"]
    upload = (props.get("creationData") or {}).get("uploadSizeBytes")
    if upload:
        return int(upload)
    return int(props.get("diskSizeBytes") or int(props.get("diskSizeGB") or 0) * GIB) + FOOTER_SIZE


# -- grants and SAS ------------------------------------------------------------------------------------
def grant(resource, access, duration_s, now):
    """Record a grant (a repeated grant of the same access keeps its id) and return it."""
    current = private(resource).get("access")
    if current and current["access"] == access:
        current["expires"] = max(current["expires"], now + duration_s)
        return current
    record = {"id": str(uuid.uuid4()), "access": access, "expires": now + duration_s,
              "state_before": resource["properties"].get("diskState")}
    private(resource)["access"] = record
    return record


def active_grant(resource):
    return private(resource).get("access")


def drop_grant(resource):
    return private(resource).pop("access", None)


def permissions(access):
    # A write SAS also reads (Get Blob Properties) [unverified: what real upload SAS tokens allow besides writes].
    return "rw" if access == "Write" else "r"


def _signature(key, unique_id, grant_id, perms, expiry):
    text = "\n".join((unique_id.lower(), grant_id, perms, expiry)).encode("utf-8")
    return base64.urlsafe_b64encode(hmac.new(key.encode("utf-8"), text, hashlib.sha256).digest()).decode().rstrip("=")


def expiry_text(timestamp):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def sas_url(base_url, key, resource, record):
    unique_id = resource["properties"]["uniqueId"]
    perms = permissions(record["access"])
    expiry = expiry_text(record["expires"])
    sig = _signature(key, unique_id, record["id"], perms, expiry)
    return (f"{base_url}{BLOB_PREFIX}{unique_id}/abcd?sv={SAS_VERSION}&sr=b&si={record['id']}&sp={perms}"
            f"&se={expiry}&sig={sig}")


def check_sas(key, resource, query, now, want):
    """None when the SAS in ``query`` may ``want`` ('r' or 'w') now, else the blob error code that says why."""
    record = active_grant(resource)
    fields = [query.get(name) or "" for name in ("si", "sp", "se", "sig")]
    if record is None or not all(fields):
        return "AuthenticationFailed"
    grant_id, perms, expiry, sig = fields
    expected = _signature(key, resource["properties"]["uniqueId"], grant_id, perms, expiry)
    if grant_id != record["id"] or not hmac.compare_digest(sig, expected):
        return "AuthenticationFailed"
    try:
        expires = calendar.timegm(time.strptime(expiry, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return "AuthenticationFailed"
    if expires < now:
        return "AuthenticationFailed"
    if want not in perms:
        return "AuthorizationPermissionMismatch"
    return None


# -- bytes -------------------------------------------------------------------------------------------
class BlobStore:
    """Sparse files, one per disk or snapshot, keyed by ``uniqueId``."""

    def __init__(self, sim):
        self.sim = sim
        if sim.state_dir:
            self.root = os.path.join(sim.state_dir, "blobs")
            self._temporary = False
        else:
            self.root = tempfile.mkdtemp(prefix="azsim-blobs-")
            self._temporary = True
        os.makedirs(self.root, exist_ok=True)
        self._by_unique_id = {}

    def path(self, resource):
        return os.path.join(self.root, resource["properties"]["uniqueId"] + ".vhd")

    def find(self, unique_id):
        """The disk or snapshot whose uniqueId this is, or None."""
        rid = self._by_unique_id.get(unique_id.lower())
        body = self.sim.store.get(rid) if rid else None
        if body is not None and (body["properties"].get("uniqueId") or "").lower() == unique_id.lower():
            return body
        for body in self.sim.store.all():
            if (body.get("properties") or {}).get("uniqueId", "").lower() == unique_id.lower() and \
                    body.get("type", "").lower() in ("microsoft.compute/disks", "microsoft.compute/snapshots"):
                self._by_unique_id[unique_id.lower()] = body["id"]
                return body
        return None

    def ensure(self, resource):
        """The blob's file, created when missing: an upload starts as zeros, any other disk as a zeroed fixed VHD."""
        path = self.path(resource)
        if not os.path.exists(path):
            length = blob_length(resource)
            with open(path, "wb") as handle:
                handle.truncate(length)
                if not (resource["properties"].get("creationData") or {}).get("uploadSizeBytes"):
                    handle.seek(length - FOOTER_SIZE)
                    handle.write(fixed_vhd_footer(length - FOOTER_SIZE))
        return path

    def length(self, resource):
        path = self.path(resource)
        return os.path.getsize(path) if os.path.exists(path) else blob_length(resource)

    def write(self, resource, offset, data):
        fd = os.open(self.ensure(resource), os.O_WRONLY)
        try:
            os.pwrite(fd, data, offset)
        finally:
            os.close(fd)

    def clear(self, resource, offset, length):
        zeros = bytes(min(length, MAX_PAGE_WRITE))
        fd = os.open(self.ensure(resource), os.O_WRONLY)
        try:
            done = 0
            while done < length:
                done += os.pwrite(fd, zeros[:length - done], offset + done)
        finally:
            os.close(fd)

    def open_read(self, resource):
        return open(self.ensure(resource), "rb")  # noqa: SIM115 - the caller streams and closes it

    def copy(self, source, target):
        """Give ``target`` the bytes of ``source`` (Copy, snapshots); holes stay holes."""
        src = self.path(source)
        if not os.path.exists(src):
            return  # never written: the copy is created from its own size on first use
        dst = self.path(target)
        with open(src, "rb") as reader, open(dst, "wb") as writer:
            size = os.fstat(reader.fileno()).st_size
            writer.truncate(size)
            offset = 0
            while offset < size:
                try:
                    data_at = os.lseek(reader.fileno(), offset, os.SEEK_DATA)
                except OSError:  # only holes remain
                    break
                hole_at = os.lseek(reader.fileno(), data_at, os.SEEK_HOLE)
                reader.seek(data_at)
                writer.seek(data_at)
                remaining = hole_at - data_at
                while remaining:
                    chunk = reader.read(min(remaining, 8 * MIB))
                    writer.write(chunk)
                    remaining -= len(chunk)
                offset = hole_at

    def forget(self, body):
        """Deletion hook: a deleted disk or snapshot takes its bytes with it."""
        unique_id = (body.get("properties") or {}).get("uniqueId")
        if unique_id and body.get("type", "").lower() in ("microsoft.compute/disks", "microsoft.compute/snapshots"):
            self._by_unique_id.pop(unique_id.lower(), None)
            try:
                os.unlink(os.path.join(self.root, unique_id + ".vhd"))
            except FileNotFoundError:
                pass

    def reset(self):
        self._by_unique_id.clear()
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root, exist_ok=True)

    def close(self):
        if self._temporary:
            shutil.rmtree(self.root, ignore_errors=True)
