# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs goldenimage.azure.build_vm in the controller's worker when it targets the controller (plugin_utils/_in_process)."""

from __future__ import annotations

from ansible_collections.goldenimage.azure.plugins.plugin_utils._in_process import NETWORK_MODULE, InProcessModule, preload

preload(NETWORK_MODULE)  # it creates networks: loaded once, in the strategy's process (see _in_process)


class ActionModule(InProcessModule):
    pass
