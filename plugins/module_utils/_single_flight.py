# Copyright: (c) 2026, goldenimage.azure contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thread-safe read-once cache: the first caller of a key computes, concurrent callers wait for it.

Resolving twenty images of one SKU on many threads then costs one versions list, not twenty.
"""

from __future__ import annotations

import threading

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import AzureError


class SingleFlight:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries = {}

    def run(self, key, func, operation="read"):
        """``func()``'s value for ``key``, computed once; its exception is raised to every caller."""
        with self._lock:
            entry = self._entries.get(key)
            owner = entry is None
            if owner:
                entry = self._entries[key] = {"event": threading.Event()}
        if owner:
            try:
                entry["value"] = func()
            except Exception as err:  # pylint: disable=broad-except  # handed to every waiter
                entry["error"] = err
            finally:
                entry["event"].set()
        else:
            entry["event"].wait()
        if "error" in entry:
            raise entry["error"]
        if "value" not in entry:  # the owner was interrupted (BaseException)
            raise AzureError("Interrupted while reading %s." % (key,), operation=operation)
        return entry["value"]
