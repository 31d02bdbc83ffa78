# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the lookup/inventory front end of the client layer.

    session = session_from_plugin(self)          # reads the plugin's auth options
    with azure_errors():                         # AzureError -> AnsibleError
        images = backend(session, ...)
"""

from __future__ import annotations

import contextlib

from ansible.errors import AnsibleError
from ansible.utils.display import Display

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AZURE_AUTH_SPEC,
    AzureError,
    AzureSession,
    retries,
)

display = Display()


def to_ansible_error(err):
    """AnsibleError carrying the AzureError's plain values (status_code, error_code, operation)."""
    result = err.to_result()
    ansible_error = AnsibleError(result["msg"])
    ansible_error.azure = result
    return ansible_error


@contextlib.contextmanager
def azure_errors():
    """Turn AzureError raised inside the block into AnsibleError (no SDK traceback)."""
    try:
        yield
    except AzureError as err:
        raise to_ansible_error(err) from None
    finally:
        show_retries()


def show_retries():
    """Each retry the ARM layer made for a lookup or inventory, at -vvv (plugins have no task result to carry it)."""
    for entry in retries(clear=True):
        display.vvv("goldenimage.azure: retried %(operation)s (attempt %(attempt)s after %(reason)s, waited %(wait)s s)"
                    % entry)


def plugin_auth_options(plugin):
    """The AZURE_AUTH_SPEC options the plugin documents (extends goldenimage.azure.azure), None when unset."""
    options = {}
    for name in AZURE_AUTH_SPEC:
        try:
            options[name] = plugin.get_option(name)
        except KeyError:  # the plugin does not declare this option
            options[name] = None
    return options


def session_from_plugin(plugin, environ=None):
    """An AzureSession built from the plugin's options; AzureError becomes AnsibleError."""
    with azure_errors():
        return AzureSession(plugin_auth_options(plugin), environ=environ)
