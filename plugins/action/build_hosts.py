# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""goldenimage.azure.build_hosts: the builder role's controller side in one task (logic: plugin_utils/_build_hosts)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.urls import open_url
from ansible.plugins.action import ActionBase

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AZURE_AUTH_SPEC,
    AzureError,
    AzureSession,
    retries,
)
from ansible_collections.goldenimage.azure.plugins.modules.build_hosts import argument_spec
from ansible_collections.goldenimage.azure.plugins.modules.build_vm import argument_spec as build_vm_spec
from ansible_collections.goldenimage.azure.plugins.plugin_utils import _build_hosts
from ansible_collections.goldenimage.azure.plugins.plugin_utils._in_process import NETWORK_MODULE, SDK_LOADED, preload
from ansible_collections.goldenimage.azure.plugins.plugin_utils._progress_relay import progress_label, relay

NETWORK_LOADED = preload(NETWORK_MODULE)  # the SDK is imported once, in the strategy's process (see _in_process)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        spec = dict(AZURE_AUTH_SPEC)
        spec.update(argument_spec())
        validation, args = self.validate_argument_spec(argument_spec=spec)
        del validation
        if not (SDK_LOADED and NETWORK_LOADED):
            raise AnsibleActionFail("goldenimage.azure.build_hosts needs azure-identity, azure-mgmt-compute, "
                                    "azure-mgmt-network and azure-mgmt-resource in the controller's Python "
                                    "(pip install -r requirements.txt of the collection).")
        result.update(changed=False, refused="", builds={}, items=[], keys_created=[], passwords={})
        check_mode = bool(self._task.check_mode)
        try:
            items = _build_hosts.describe(args["vms"], args["defaults"], args["run_id"], args["build_dir"])
            result["passwords"] = _build_hosts.passwords(items)
            _build_hosts.controller_sources(items, args["public_address_url"],
                                            lambda url: self._fetch(url, args["public_address_ca_path"]))
            session = AzureSession({name: args.get(name) for name in AZURE_AUTH_SPEC})
        except (_build_hosts.BuildHostsError, AzureError) as err:
            result["refused"] = str(err)
            return result
        result["items"] = [{key: value for key, value in item.items() if key != "admin_password"} for item in items]
        for item in items:
            result["keys_created"] += _build_hosts.prepare_files(item)
        try:
            prepared = [_build_hosts.build_vm_params(item, result["passwords"].get(item["name"]), args["create_timeout"],
                                                     build_vm_spec(), args["lease_seconds"]) for item in items]
        except _build_hosts.BuildHostsError as err:
            result["refused"] = str(err)
            return result
        with relay(progress_label(self._task, task_vars), True):  # runs here, on the controller
            records = _build_hosts.create_all(session, items, prepared, check_mode, args["connect_timeout"],
                                              args["wait_for_port"])
        result["builds"] = {entry["name"]: entry for entry in records}
        result["changed"] = bool(result["keys_created"]) or any(entry["vm"].get("changed") for entry in records)
        made = retries()
        if made:
            result["retries"] = made  # the ARM layer's retries of every build (ansible-playbook -v)
        return result

    @staticmethod
    def _fetch(url, ca_path):
        return open_url(url, ca_path=ca_path or None, timeout=30).read().decode("utf-8", "replace")
