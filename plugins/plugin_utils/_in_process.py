# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: run the collection's Azure modules inside the controller's worker process when they target it.

Every module task normally costs a new Python interpreter, an AnsiballZ payload and a fresh import of the
Azure SDK (about a second of CPU on a small machine). The Azure modules almost always run on the controller
(``delegate_to: localhost``, a local connection), whose Python already has the SDK. There the action plugin
runs the module's own ``main()`` in the worker, with the same argument encoding, the same ``AnsibleModule``,
and the same result decoding as a subprocess would use: only the process boundary goes. Importing this file
(the linear and free strategies load each task's action class in the main process) imports the SDK once, so
every forked worker starts with it loaded. ansible.netcommon runs network modules in the worker the same way.
azure-mgmt-network (a fifth of a second to import, as much again at exit) is loaded only by the action plugins
of the modules that create networks (``preload``): a run that creates nothing never pays for it.

Anything else runs the module as usual: another connection, become, async, a task ``environment``, another
interpreter, ansible-core without the hooks relied on here, ``ANSIBLE_KEEP_REMOTE_FILES`` (the payload is wanted on
disk), or ``GOLDENIMAGE_AZURE_IN_PROCESS=false``.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import gc
import importlib
import io
import json
import os
import sys
import traceback

from ansible import constants as C
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.goldenimage.azure.plugins.plugin_utils._progress_relay import progress_label, relay

try:  # ansible-core 2.19+: the serialization profiles that module arguments and results are encoded with
    from ansible.module_utils.common.json import Direction, get_module_encoder
    HAVE_PROFILES = True
except ImportError:  # older cores run the module in its own process
    HAVE_PROFILES = False

PROFILE = "legacy"  # what ansible-core uses for a Python module without metadata
SWITCH = "GOLDENIMAGE_AZURE_IN_PROCESS"
SDK_MODULES = ("azure.identity", "azure.mgmt.compute", "azure.mgmt.resource.resources")
NETWORK_MODULE = "azure.mgmt.network"


def preload(*names):
    """Import SDK packages now (in the strategy's process), so that no worker pays for them again. Best effort:
    False when one is missing (the module then runs in its own interpreter, which names what is missing)."""
    try:
        for name in names:
            importlib.import_module(name)
    except Exception:  # pylint: disable=broad-except  # no SDK here: modules run in their own interpreter
        return False
    return True


def freeze_at_exit():
    """At interpreter exit, move every object to the permanent generation, so the interpreter's final garbage
    collections do not walk the SDK's objects: a third of a second at the end of every run that loaded it. Python does
    not promise a finaliser call for an object still alive at exit (the language reference, ``object.__del__``), and
    files are closed and flushed by reference counting as modules are torn down, not by the collector."""
    gc.freeze()


SDK_LOADED = preload(*SDK_MODULES)
if SDK_LOADED:
    # atexit runs the last registered handler first: handlers registered after this one (by plugins loaded later)
    # still run, and collect, before it.
    atexit.register(freeze_at_exit)


def _switched_on():
    return os.environ.get(SWITCH, "true").lower() not in ("0", "false", "no", "off")


class InProcessModule(ActionBase):
    """Action plugin for a collection module that may run in the worker (see the module docstring)."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        with relay(progress_label(self._task, task_vars), getattr(self._connection, "transport", None) == "local"):
            return self._run(tmp, task_vars)

    def _run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        if self._runs_here(task_vars):
            return merge_hash(result, self._run_in_worker(task_vars))
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    # -- when -------------------------------------------------------------------------------------------------
    def _runs_here(self, task_vars):
        # ANSIBLE_KEEP_REMOTE_FILES asks for the module's payload on disk: only a module process leaves one.
        if not (HAVE_PROFILES and SDK_LOADED and _switched_on()) or C.DEFAULT_KEEP_REMOTE_FILES:
            return False
        if getattr(self._connection, "transport", None) != "local" or self._task.async_val:
            return False
        environment = self._task.environment or []
        if self._play_context.become or any(environment if isinstance(environment, list) else [environment]):
            return False
        interpreter = self._interpreter(task_vars)
        if interpreter in (None, "") or interpreter.startswith("auto"):
            return True
        return os.path.realpath(interpreter) == os.path.realpath(sys.executable)

    def _interpreter(self, task_vars):
        names = task_vars
        if self._task.delegate_to:
            names = task_vars.get("ansible_delegated_vars", {}).get(self._task.delegate_to, task_vars)
        value = names.get("ansible_python_interpreter")
        if value is None:
            return None
        return str(self._templar.template(value)).strip()

    # -- how --------------------------------------------------------------------------------------------------
    def _run_in_worker(self, task_vars):
        from ansible.module_utils import basic
        from ansible.module_utils.common import warnings as module_warnings
        from ansible.vars.clean import remove_internal_keys

        module_name = self._task.resolved_action or self._task.action
        module_args = copy.deepcopy(self._task.args)
        self._update_module_args(module_name, module_args, task_vars)
        encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=encoder).encode("utf-8")
        code = importlib.import_module("ansible_collections.%s.plugins.modules.%s" % tuple(module_name.rsplit(".", 1)))

        saved = (basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic._PARSED_MODULE_ARGS)
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic._PARSED_MODULE_ARGS = payload, PROFILE, None
        module_warnings._global_warnings.clear()  # a loop runs every item in this one process
        module_warnings._global_deprecations.clear()
        stdout = io.StringIO()
        try:
            with contextlib.redirect_stdout(stdout):
                code.main()
        except SystemExit:
            pass
        except Exception:  # pylint: disable=broad-except  # what a crashed module process would report
            return {"failed": True, "msg": "MODULE FAILURE: %s" % (sys.exc_info()[1],),
                    "module_stderr": traceback.format_exc(), "rc": 1}
        finally:
            basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic._PARSED_MODULE_ARGS = saved
        data = self._parse_returned_data({"rc": 0, "stdout": stdout.getvalue(), "stderr": ""}, PROFILE)
        remove_internal_keys(data)
        return data
