# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options that name one existing VM (vm_generalize, vm_managed_disks)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  name:
    description:
      - Name of the VM. Requires O(resource_group).
      - Mutually exclusive with O(id).
    type: str
  resource_group:
    description:
      - Resource group of the VM named O(name).
    type: str
  id:
    description:
      - Resource id of the VM, instead of O(name) and O(resource_group).
      - The VM is acted on in the subscription the id names (with the same credential), not in O(subscription_id).
    type: str
"""
