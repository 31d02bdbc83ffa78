"""Helpers (no tests): VHD files for the disk_upload/disk_export tests, and the playbook snippets they run.

``fixed_vhd(path, mib, data_ranges)`` writes a sparse fixed VHD whose listed MiB ranges hold non-zero bytes;
``dynamic_vhd`` and ``unaligned_vhd`` are the bad inputs. Footers are written here from the VHD spec, independently
of the collection's parser, so a parser bug cannot hide in both.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import uuid

MIB = 1024 * 1024
PIECE = 4 * MIB


def footer(size, disk_type=2, data_offset=0xFFFFFFFFFFFFFFFF):
    raw = struct.pack(">8sIIQI4sI4sQQHBBII16sB", b"conectix", 2, 0x00010000, data_offset, 0, b"test", 0x00010000,
                      b"Wi2k", size, size, 1024, 16, 63, disk_type, 0, uuid.uuid4().bytes, 0)
    block = bytearray(raw.ljust(512, b"\0"))
    struct.pack_into(">I", block, 64, (~sum(block)) & 0xFFFFFFFF)
    return bytes(block)


def fill(index):
    """A recognisable, non-zero MiB for range ``index``."""
    return hashlib.sha256(str(index).encode()).digest() * (MIB // 32)


def fixed_vhd(path, mib=32, data_ranges=(0, 5, 6, 30), zero_ranges=()):
    """``data_ranges``: MiB holding data; ``zero_ranges``: MiB written as zeros (allocated, not holes)."""
    size = mib * MIB
    with open(path, "wb") as handle:
        handle.truncate(size)
        for index in zero_ranges:
            handle.seek(index * MIB)
            handle.write(bytes(MIB))
        for index in data_ranges:
            handle.seek(index * MIB)
            handle.write(fill(index))
        handle.seek(size)
        handle.write(footer(size))
    return str(path)


def dynamic_vhd(path, mib=32):
    """A dynamic VHD's shape: footer copy at the start, header, and the footer (type 3) at the end."""
    size = mib * MIB
    with open(path, "wb") as handle:
        handle.write(footer(size, disk_type=3, data_offset=512))
        handle.write(b"cxsparse".ljust(1024, b"\0"))
        handle.write(footer(size, disk_type=3, data_offset=512))
    return str(path)


def unaligned_vhd(path, mib=32):
    """A fixed VHD whose disk is 3.5 KiB short of a whole MiB (Azure: 'must be a multiple of MiB')."""
    size = mib * MIB - 3584
    with open(path, "wb") as handle:
        handle.truncate(size)
        handle.seek(0)
        handle.write(b"\x01" * 4096)
        handle.seek(size)
        handle.write(footer(size))
    return str(path)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(PIECE), b""):
            digest.update(block)
    return digest.hexdigest()


def vhd_digest(path):
    """The digest disk_upload records, computed here on its own: SHA-256 of (offset, piece) for each non-zero 4 MiB
    piece, then the file size, each number 8 bytes big-endian."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        offset = 0
        for block in iter(lambda: handle.read(PIECE), b""):
            if block.count(0) != len(block):
                digest.update(struct.pack(">Q", offset) + block)
            offset += len(block)
    digest.update(struct.pack(">Q", offset))
    return digest.hexdigest()


def nonzero_pieces(path):
    """How many 4 MiB pieces of the file hold a non-zero byte (the Put Page requests an upload needs)."""
    count = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(PIECE), b""):
            count += block.count(0) != len(block)
    return count


def task_play(module, options, name="task"):
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: {name}
      goldenimage.azure.{module}: {json.dumps(options)}
"""


def blob_requests(sim, since):
    return [entry for entry in sim.admin.requests(since=since) if entry["kind"] == "blob"]


def disk_blob_path(state_dir, disk):
    return os.path.join(state_dir, "blobs", disk["properties"]["uniqueId"] + ".vhd")
