# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""goldenimage.azure.wait_for_guest: ansible.builtin.wait_for_connection, with a progress line per interval."""

from __future__ import annotations

import contextlib
import threading
import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.goldenimage.azure.plugins.module_utils._progress import interval
from ansible_collections.goldenimage.azure.plugins.modules.wait_for_guest import argument_spec

display = Display()


@contextlib.contextmanager
def ticking(label, timeout, every):
    """While the block runs, print "<label>: waiting N s of T s for a connection" once per ``every`` seconds."""
    stop = threading.Event()
    started = time.monotonic()

    def tick():
        while not stop.wait(every):
            display.display("%s: waiting %d s of %d s for a connection" % (label, time.monotonic() - started, timeout))

    thread = threading.Thread(target=tick, name="goldenimage-wait-for-guest", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(argument_spec())

    def run(self, tmp=None, task_vars=None):
        validation, args = self.validate_argument_spec(argument_spec=argument_spec())
        del validation
        # The builtin action does the waiting, on this task's connection (to the delegated host) and arguments.
        inner = self._shared_loader_obj.action_loader.get(
            "ansible.builtin.wait_for_connection", task=self._task, connection=self._connection,
            play_context=self._play_context, loader=self._loader, templar=self._templar,
            shared_loader_obj=self._shared_loader_obj)
        if self._task.check_mode:
            return inner.run(tmp, task_vars)
        host = (task_vars or {}).get("inventory_hostname") or "?"
        label = "[%s] wait_for_guest" % (host if not self._task.delegate_to else "%s -> %s" % (host, self._task.delegate_to))
        with ticking(label, args["timeout"], interval()):
            return inner.run(tmp, task_vars)
