# Test-only callback: records EVERYTHING a result-recording callback (AWX, ARA) can be handed - every
# v2_runner_* result including loop items, retries and async polls, and every include's arguments and variables -
# as JSON lines in the file named by SECRET_DUMP_FILE, so tests can assert that no secret reaches any of them.
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: secret_dump
type: aggregate
short_description: record every result and include handed to callbacks, for secret-leak tests
description: Writes one JSON object per callback event to the file in SECRET_DUMP_FILE.
requirements: [enable in configuration]
"""


def _plain(value):
    return json.loads(json.dumps(value, default=str))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "secret_dump"
    CALLBACK_NEEDS_ENABLED = True

    def _emit(self, event, **data):
        path = os.environ.get("SECRET_DUMP_FILE")
        if not path:
            return
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(dict(data, event=event), default=str) + "\n")

    def _result(self, event, result, **extra):
        self._emit(event, host=result._host.get_name(), task=result._task.get_name(),
                   result=_plain(result._result), **extra)

    def v2_runner_on_ok(self, result):
        self._result("runner_on_ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("runner_on_failed", result)

    def v2_runner_on_unreachable(self, result):
        self._result("runner_on_unreachable", result)

    def v2_runner_on_skipped(self, result):
        self._result("runner_on_skipped", result)

    def v2_runner_item_on_ok(self, result):
        self._result("runner_item_on_ok", result)

    def v2_runner_item_on_failed(self, result):
        self._result("runner_item_on_failed", result)

    def v2_runner_item_on_skipped(self, result):
        self._result("runner_item_on_skipped", result)

    def v2_runner_retry(self, result):
        self._result("runner_retry", result)

    def v2_runner_on_async_poll(self, result):
        self._result("runner_on_async_poll", result)

    def v2_runner_on_async_ok(self, result):
        self._result("runner_on_async_ok", result)

    def v2_runner_on_async_failed(self, result):
        self._result("runner_on_async_failed", result)

    def v2_playbook_on_include(self, included_file):
        self._emit("playbook_on_include", filename=str(included_file._filename), args=_plain(included_file._args),
                   vars=_plain(included_file._vars))
