# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attribute descriptions shared by the collection's modules.

Modules extend this fragment and state their support level only:

    attributes:
      check_mode: {support: full}
      diff_mode: {support: full}
      action_group: {support: full, membership: [goldenimage.azure.azure]}
"""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying Azure.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  action_group:
    description: Use C(group/goldenimage.azure.azure) in C(module_defaults) to set the authentication options once for every module.
    support: full
    membership:
      - goldenimage.azure.azure
"""

    # For read-only modules (image_facts): they change nothing, so diff mode does not apply.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying Azure.
    support: full
    details: This module never changes anything.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: N/A
    details: This module never changes anything.
  action_group:
    description: Use C(group/goldenimage.azure.azure) in C(module_defaults) to set the authentication options once for every module.
    support: full
    membership:
      - goldenimage.azure.azure
"""
