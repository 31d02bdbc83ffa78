# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: progress lines from long waits, at most one per interval per wait.

A module cannot print while it runs (its stdout is its result). The collection's action plugins
(``plugin_utils/_progress_relay``) name a file in ``GOLDENIMAGE_AZURE_PROGRESS_FILE`` before the module runs,
in the worker or in a module process on the controller alike, and print each line appended to it while the
module runs. Without that variable (a module run on a remote host, or through another action) ``report`` does
nothing. ``GOLDENIMAGE_AZURE_PROGRESS_INTERVAL`` (seconds, default 30) sets how often a wait reports.
"""

from __future__ import annotations

import os
import time

ENV_FILE = "GOLDENIMAGE_AZURE_PROGRESS_FILE"
ENV_INTERVAL = "GOLDENIMAGE_AZURE_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 30.0


def interval():
    try:
        return max(0.05, float(os.environ.get(ENV_INTERVAL) or DEFAULT_INTERVAL))
    except ValueError:
        return DEFAULT_INTERVAL


def enabled():
    return bool(os.environ.get(ENV_FILE))


def report(text):
    """Append one line for the action plugin to print; never fails the task."""
    path = os.environ.get(ENV_FILE)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(" ".join(str(text).split()) + "\n")
    except OSError:
        pass


class Ticker:
    """``tick()`` reports "<operation>: waiting N s[, detail()]" when an interval has passed since the last line.

    ``detail`` (optional) is called only when a line is due, e.g. to read replication status; its errors are
    ignored (progress must not change the outcome).
    """

    def __init__(self, operation, detail=None):
        self.operation = operation
        self.detail = detail
        self.started = self.last = time.monotonic()
        self.every = interval()
        self.on = enabled()

    def slice(self, default):
        """How long one poll may block so that no line is late."""
        return min(default, self.every) if self.on else default

    def tick(self):
        if not self.on:
            return
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        text = "%s: waiting, %d s" % (self.operation, now - self.started)
        if self.detail is not None:
            try:
                extra = self.detail()
            except Exception:  # pylint: disable=broad-except  # a failed status read is not the wait's failure
                extra = None
            if extra:
                text += ", " + extra
        report(text)
