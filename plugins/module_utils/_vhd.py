# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: fixed VHD files as Azure's direct upload needs them (disk_upload, disk_export).

A fixed VHD is the raw disk followed by a 512-byte footer (VHD spec 2006): cookie ``conectix``, disk type 2
(fixed; 3 is dynamic, 4 differencing), current size = the raw size, and a checksum (ones' complement of the
byte sum of the footer without its checksum field). Azure takes ``uploadSizeBytes`` = raw size + 512, with
the raw size a multiple of 1 MiB, between 20 MiB and 32 TiB.

``inspect_vhd(path, parameter)`` checks all of that with the file alone, before anything is sent, and raises
AzureError naming the parameter and what is allowed. ``file_digest`` (:class:`Digest`) is the checksum both
modules record; ``pieces`` walks a file in 4 MiB pieces, zero pieces (and holes, unread) marked.
"""

from __future__ import annotations

import hashlib
import os
import struct

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import AzureError

FOOTER_SIZE = 512
PAGE = 512
MIB = 1024 * 1024
GIB = 1024 * MIB
MIN_VIRTUAL = 20 * MIB
MAX_VIRTUAL = 32 * 1024 * GIB
COOKIE = b"conectix"
DISK_TYPES = {2: "fixed", 3: "dynamic", 4: "differencing"}
CONVERT_HINT = "convert it with 'qemu-img convert -O vpc -o subformat=fixed,force_size <in> <out>.vhd'"
READ_SIZE = 4 * MIB


def footer_checksum(footer):
    """The VHD checksum of a 512-byte footer (its own checksum field, bytes 64-67, counted as zero)."""
    total = sum(footer[:64]) + sum(footer[68:FOOTER_SIZE])
    return (~total) & 0xFFFFFFFF


def parse_footer(footer):
    """The fields of a VHD footer that matter here; None when it is not one (no ``conectix`` cookie)."""
    if len(footer) != FOOTER_SIZE or footer[:8] != COOKIE:
        return None
    disk_type, checksum = struct.unpack(">II", footer[60:68])
    return {
        "disk_type": DISK_TYPES.get(disk_type, "unknown (%d)" % disk_type),
        "current_size": struct.unpack(">Q", footer[48:56])[0],
        "original_size": struct.unpack(">Q", footer[40:48])[0],
        "checksum_ok": checksum == footer_checksum(footer),
        "creator": footer[28:32].decode("ascii", "replace").strip("\0 "),
    }


def inspect_vhd(path, parameter="src"):
    """Facts of a local fixed VHD that Azure's direct upload accepts; AzureError naming ``parameter`` otherwise.

    Returns ``{path, file_size, virtual_size, upload_size_bytes, creator}``.
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(FOOTER_SIZE)
            handle.seek(max(0, size - FOOTER_SIZE))
            footer = handle.read(FOOTER_SIZE)
    except OSError as err:
        raise AzureError("%s: cannot read '%s': %s" % (parameter, path, err.strerror or err),
                         code="InvalidParameter") from None
    if size < FOOTER_SIZE:
        raise AzureError("%s: '%s' is %d bytes, too small for a VHD (a fixed VHD is the disk plus a 512-byte "
                         "footer)" % (parameter, path, size), code="InvalidParameter")
    facts = parse_footer(footer)
    if facts is None:
        if head[:8] == COOKIE:
            raise AzureError("%s: '%s' has a VHD header but no footer at its end: a dynamic or damaged VHD; only "
                             "fixed VHDs can be uploaded - %s" % (parameter, path, CONVERT_HINT),
                             code="InvalidParameter")
        raise AzureError("%s: '%s' is not a VHD (no 'conectix' footer in its last 512 bytes); only fixed VHDs can be "
                         "uploaded - %s" % (parameter, path, CONVERT_HINT), code="InvalidParameter")
    if not facts["checksum_ok"]:
        raise AzureError("%s: the VHD footer of '%s' has a wrong checksum (damaged or truncated file)"
                         % (parameter, path), code="InvalidParameter")
    if facts["disk_type"] != "fixed":
        raise AzureError("%s: '%s' is a %s VHD; Azure only takes fixed VHDs - %s"
                         % (parameter, path, facts["disk_type"], CONVERT_HINT), code="InvalidParameter")
    virtual = size - FOOTER_SIZE
    if facts["current_size"] != virtual:
        raise AzureError("%s: the VHD footer of '%s' says %d bytes of disk but the file holds %d before its footer "
                         "(a fixed VHD is exactly disk + 512 bytes)" % (parameter, path, facts["current_size"], virtual),
                         code="InvalidParameter")
    if virtual % MIB:
        raise AzureError("%s: the virtual size of '%s' is %d bytes, not a multiple of 1 MiB as Azure requires; "
                         "resize the raw disk to a whole MiB (e.g. 'qemu-img resize -f raw disk.raw %dM') and convert "
                         "it with force_size" % (parameter, path, virtual, -(-virtual // MIB)),
                         code="InvalidParameter")
    if not MIN_VIRTUAL <= virtual <= MAX_VIRTUAL:
        raise AzureError("%s: the virtual size of '%s' is %d bytes; Azure uploads take 20 MiB to 32 TiB"
                         % (parameter, path, virtual), code="InvalidParameter")
    return {"path": path, "file_size": size, "virtual_size": virtual, "upload_size_bytes": size,
            "creator": facts["creator"]}


class Digest:
    """The VHD digest both modules record: SHA-256 over the non-zero 4 MiB pieces, each with its offset, then the
    file size (``sha256(offset_be64 + piece ... + size_be64)``).

    All-zero pieces are left out, so the digest of a 30 GiB image holding 2 GiB of data costs hashing 2 GiB, not
    30, and equal files (whatever their holes) have equal digests. It is not ``sha256sum`` of the file.
    """

    def __init__(self):
        self._hash = hashlib.sha256()

    def update(self, offset, data):
        self._hash.update(struct.pack(">Q", offset))
        self._hash.update(data)

    def hexdigest(self, size):
        final = self._hash.copy()
        final.update(struct.pack(">Q", size))
        return final.hexdigest()


def pieces(handle, size, piece=READ_SIZE):
    """(offset, data) for each ``piece``-sized part of an open binary file, data None when it is all zeros.

    Holes of a sparse file are found with SEEK_DATA and never read; what is read is compared with zeros."""
    fd = handle.fileno()
    next_data = 0
    for offset in range(0, size, piece):
        length = min(piece, size - offset)
        if next_data is not None and next_data < offset:
            try:
                next_data = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole remains (or SEEK_DATA is not supported: read everything)
                next_data = None if _no_more_data(fd, offset) else offset
        if next_data is None or next_data >= offset + length:
            yield offset, None
            continue
        data = os.pread(fd, length, offset)
        yield offset, (None if is_zero(data) else data)


def _no_more_data(fd, offset):
    try:
        os.lseek(fd, offset, os.SEEK_HOLE)
    except OSError:
        return False  # no SEEK_HOLE either
    return True


def file_digest(path):
    """:class:`Digest` of a file, read in bounded pieces (holes skipped)."""
    digest = Digest()
    size = os.path.getsize(path)
    with open(path, "rb", buffering=0) as handle:
        for offset, data in pieces(handle, size):
            if data is not None:
                digest.update(offset, data)
    return digest.hexdigest(size)


def is_zero(data, _zeros={}):  # pylint: disable=dangerous-default-value  # a cache of zero buffers by size
    """True when ``data`` is all zero bytes (one C-level comparison)."""
    size = len(data)
    zeros = _zeros.get(size)
    if zeros is None:
        zeros = _zeros[size] = bytes(size)
    return data == zeros
