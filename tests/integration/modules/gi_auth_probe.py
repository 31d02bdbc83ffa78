#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only module (ANSIBLE_LIBRARY): authenticates through AzureModule and lists resource groups.

It exercises the client layer the way every collection module does, without depending on any
particular collection module being finished.
"""

from __future__ import annotations

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_module import AzureModule


def main():
    module = AzureModule(argument_spec={}, supports_check_mode=True)
    try:
        session = module.session
        groups = session.arm_list("/subscriptions/%s/resourcegroups" % session.subscription_id, "2022-09-01")
    except AzureError as err:
        module.fail_azure(err, changed=False)
    module.exit_json(changed=False, auth_source=session.auth_source, subscription_id=session.subscription_id,
                     resource_groups=sorted(group["name"] for group in groups))


if __name__ == "__main__":
    main()
