# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: moving a VHD's bytes to or from a SAS blob in parallel, with bounded memory (disk_upload/export).

- ``send_file(blob, path, threads, ...)``: one reader walks the file in 4 MiB pieces (the Put Page maximum, all
  512-aligned since the file size is; holes are not even read), adds the non-zero ones to the digest in order,
  skips all-zero pieces (a new upload disk is zeros; with ``clear_zeros`` they are cleared instead, for a
  resumed upload) and hands the rest to ``threads`` writers.
  At most ``2 * threads`` pieces exist at once, so memory stays near ``8 * threads`` MiB whatever the VHD size.
- ``receive_file(blob, path, size, threads, ...)``: ``threads`` workers GET 4 MiB ranges and write them in
  place; all-zero ranges are not written, so the local file stays sparse.
- ``Progress`` records every tenth of the way (bytes done, seconds) for the task result.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ansible_collections.goldenimage.azure.plugins.module_utils._vhd import Digest, is_zero, pieces

PIECE = 4 * 1024 * 1024
MIB = 1024 * 1024


class Progress:
    """Milestones at each 10% of ``total`` bytes, plus the totals a result reports."""

    def __init__(self, total, threads, report=None):
        self.total = total
        self.threads = threads
        self.report = report  # optional callable(milestone dict), e.g. a log line
        self.started = time.monotonic()
        self.done = 0
        self.transferred = 0
        self.ranges = {"total": 0, "transferred": 0, "skipped_zero": 0}
        self.milestones = []
        self._next = 10
        self._lock = threading.Lock()

    def add(self, length, transferred):
        with self._lock:
            self.done += length
            self.ranges["total"] += 1
            if transferred:
                self.transferred += length
                self.ranges["transferred"] += 1
            else:
                self.ranges["skipped_zero"] += 1
            percent = 100 * self.done // self.total if self.total else 100
            while percent >= self._next:
                milestone = {"percent": self._next, "bytes": self.done, "seconds": self.seconds()}
                self.milestones.append(milestone)
                self._next += 10
                if self.report:
                    self.report(milestone)

    def seconds(self):
        return round(time.monotonic() - self.started, 3)

    def result(self):
        seconds = self.seconds()
        return {"bytes_total": self.total, "bytes_transferred": self.transferred,
                "ranges_total": self.ranges["total"], "ranges_transferred": self.ranges["transferred"],
                "ranges_skipped_zero": self.ranges["skipped_zero"], "threads": self.threads, "seconds": seconds,
                "mib_per_s": round(self.total / MIB / seconds, 1) if seconds > 0 else None,
                "progress": list(self.milestones)}


def _drain(pending, limit):
    """Wait until fewer than ``limit`` futures are pending; re-raise the first failure."""
    while len(pending) >= limit:
        finished = wait(pending, return_when=FIRST_COMPLETED).done
        for future in finished:
            pending.discard(future)
            future.result()


def send_file(blob, path, threads, progress, clear_zeros=False, want_digest=True):
    """Upload ``path`` to ``blob`` from offset 0; returns the file's digest (None without ``want_digest``)."""
    digest = Digest() if want_digest else None
    pending = set()
    size = os.path.getsize(path)

    def write(offset, data):
        blob.put_page(offset, data)
        progress.add(len(data), True)

    def clear(offset, length):
        blob.clear_pages(offset, length)
        progress.add(length, False)

    with ThreadPoolExecutor(max_workers=threads) as pool, open(path, "rb", buffering=0) as handle:
        try:
            for offset, data in pieces(handle, size, PIECE):
                _drain(pending, 2 * threads)
                length = min(PIECE, size - offset)
                if data is None:
                    if clear_zeros:
                        pending.add(pool.submit(clear, offset, length))
                    else:
                        progress.add(length, False)
                    continue
                if digest is not None:
                    digest.update(offset, data)
                pending.add(pool.submit(write, offset, data))
                del data
            _drain(pending, 1)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return digest.hexdigest(size) if digest is not None else None


def receive_file(blob, path, size, threads, progress):
    """Download ``size`` bytes of ``blob`` into ``path`` (created sparse, ``size`` long)."""
    pending = set()
    with open(path, "wb") as handle:
        handle.truncate(size)
    fd = os.open(path, os.O_WRONLY)

    def read(offset, length):
        data = blob.get_range(offset, length)
        if is_zero(data):
            progress.add(length, False)  # already zeros in the sparse file
            return
        view = memoryview(data)
        written = 0
        while written < length:
            written += os.pwrite(fd, view[written:], offset + written)
        progress.add(length, True)

    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            try:
                for offset in range(0, size, PIECE):
                    _drain(pending, 2 * threads)
                    pending.add(pool.submit(read, offset, min(PIECE, size - offset)))
                _drain(pending, 1)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        os.fsync(fd)
    finally:
        os.close(fd)
