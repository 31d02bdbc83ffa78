# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the module front end of the client layer.

    module = AzureModule(argument_spec={...}, supports_check_mode=True)
    try:
        result = backend(module.session.compute(), module.params["name"])
    except AzureError as err:
        module.fail_azure(err)
    module.exit_json(**result)
"""

from __future__ import annotations

import importlib.util

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AZURE_AUTH_SPEC,
    AzureError,
    AzureSession,
    retries,
)

# Checked without importing them (find_spec is cheap): the SDKs load only when a call needs them.
REQUIRED_PACKAGES = (("azure.core", "azure-core"), ("azure.identity", "azure-identity"))


def _missing_package():
    for module_name, package in REQUIRED_PACKAGES:
        try:
            if importlib.util.find_spec(module_name) is None:
                return package
        except ImportError:  # the "azure" namespace itself is missing
            return package
    return None


class AzureModule:
    """An AnsibleModule with the shared auth options and a lazily built AzureSession."""

    def __init__(self, argument_spec, **ansible_module_kwargs):
        spec = dict(AZURE_AUTH_SPEC)
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, **ansible_module_kwargs)
        self._session = None
        missing = _missing_package()
        if missing:
            self.module.fail_json(msg=missing_required_lib(missing))

    @property
    def params(self):
        return self.module.params

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def diff_mode(self):
        return self.module._diff

    @property
    def session(self):
        """The AzureSession for this task's auth options; configuration errors fail the task."""
        if self._session is None:
            options = {name: self.module.params.get(name) for name in AZURE_AUTH_SPEC}
            try:
                self._session = AzureSession(options)
            except AzureError as err:
                self.fail_azure(err)
        return self._session

    def fail_azure(self, err, **result):
        """Fail the task with ``err.failure_result(**result)``: what was changed before the error (``err.partial``,
        else ``changed: false``), ``result``, and the error's msg, status_code, error_code and operation."""
        self.module.fail_json(**err.failure_result(**result))

    def require_seconds(self, **minimums):
        """Fail, before any request, naming the first option below its minimum number of seconds."""
        for key, low in minimums.items():
            if self.module.params[key] < low:
                self.module.fail_json(msg="%s must be at least %d second%s, got %d"
                                      % (key, low, "" if low == 1 else "s", self.module.params[key]))

    def exit_result(self, result):
        """Exit with ``result``; its ``diff`` only in diff mode."""
        if not self.diff_mode:
            result.pop("diff", None)
        self.exit_json(**result)

    def exit_json(self, **result):
        made = retries()
        if made:
            result.setdefault("retries", made)  # every retry of the ARM layer: operation, attempt, reason, wait
        self.module.exit_json(**result)

    def fail_json(self, **result):
        self.module.fail_json(**result)

    def warn(self, warning):
        self.module.warn(warning)

    def __getattr__(self, name):
        # everything else AnsibleModule offers (deprecate, boolean, run_command, ...)
        return getattr(self.module, name)
