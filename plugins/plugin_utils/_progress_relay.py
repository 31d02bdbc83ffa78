# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: print a controller-side module's progress lines (``module_utils/_progress``) while it runs.

A module's stdout is its result, so it cannot print. For a task on the local connection (the Azure modules run
``delegate_to: localhost``) the action plugin names a fresh file in ``GOLDENIMAGE_AZURE_PROGRESS_FILE`` of the
worker's environment - which the module inherits whether it runs in the worker (``_in_process``) or as its own
process - and a thread tails that file, printing each new line through ``Display``. In a forked worker Display
hands the line to the main process (ansible-core's results queue), so it appears in the play's output as the wait
goes on, not after the task. Nothing is printed on other connections: a remote module has no such file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading

from ansible.utils.display import Display

from ansible_collections.goldenimage.azure.plugins.module_utils._progress import ENV_FILE

display = Display()
_POLL = 0.2


def _tail(path, label, stop):
    offset = 0
    pending = ""
    while True:
        stopping = stop.wait(_POLL)
        try:
            with open(path, encoding="utf-8") as handle:
                handle.seek(offset)
                chunk = handle.read()
                offset = handle.tell()
        except OSError:
            chunk = ""
        pending += chunk
        *lines, pending = pending.split("\n")
        for line in lines:
            if line.strip():
                display.display("%s: %s" % (label, line.strip()))
        if stopping:
            return


def progress_label(task, task_vars):
    """``[host] module`` - which task a progress line belongs to (forks run tasks side by side)."""
    host = (task_vars or {}).get("inventory_hostname") or "?"
    return "[%s] %s" % (host, (task.resolved_action or task.action or "").rsplit(".", 1)[-1])


@contextlib.contextmanager
def relay(label, local=True):
    """While the block runs, print the lines that the module appends to its progress file, prefixed ``label``."""
    if not local or os.environ.get(ENV_FILE):  # not ours to relay (remote, or an enclosing relay already does)
        yield
        return
    handle, path = tempfile.mkstemp(prefix="goldenimage-progress-", suffix=".log")
    os.close(handle)
    stop = threading.Event()
    thread = threading.Thread(target=_tail, args=(path, label, stop), name="goldenimage-progress", daemon=True)
    os.environ[ENV_FILE] = path
    thread.start()
    try:
        yield
    finally:
        os.environ.pop(ENV_FILE, None)
        stop.set()
        thread.join(5)
        with contextlib.suppress(OSError):
            os.unlink(path)
