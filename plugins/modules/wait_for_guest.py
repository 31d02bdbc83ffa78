#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wait_for_guest
short_description: Wait until Ansible can use a host, printing progress while it waits
version_added: 1.1.0
description:
  - "M(ansible.builtin.wait_for_connection) with progress - the same options, the same checks (the connection's
    transport test, then the C(ping) module over the host's own connection) and the same results - that prints
    C([controller -> host] wait_for_guest: waiting N s of T s for a connection) every 30 s while the host
    does not answer, so that a long wait for a new VM is never silent. The interval is
    C(GOLDENIMAGE_AZURE_PROGRESS_INTERVAL) (seconds) in the controller's environment, as for the collection's
    other waits."
  - The C(goldenimage.azure.builder) role waits for each build and validation VM with it.
  - Runs on the controller (an action plugin); C(delegate_to) names the host to wait for.
author:
  - goldenimage.azure contributors (@goldenimage)
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying anything.
    support: full
    details: In check mode nothing is waited for (the task is skipped), as with M(ansible.builtin.wait_for_connection).
  diff_mode:
    description: Will return details on what has changed, when in diff mode.
    support: none
options:
  timeout:
    description: Seconds to wait in all; the task fails naming the check that timed out (C(connection port up) or
      C(ping module test)) and its last error.
    type: int
    default: 600
  connect_timeout:
    description: Seconds each attempt may take.
    type: int
    default: 5
  delay:
    description: Seconds to wait before the first attempt.
    type: int
    default: 0
  sleep:
    description: Seconds between attempts.
    type: int
    default: 1
seealso:
  - module: ansible.builtin.wait_for_connection
"""

EXAMPLES = r"""
- name: Wait until Ansible can use the new build VM (progress every 30 s)
  goldenimage.azure.wait_for_guest:
    timeout: 300
  delegate_to: "{{ build_vm_name }}"
"""

RETURN = r"""
elapsed:
  description: Seconds the wait took.
  returned: always
  type: int
  sample: 23
"""

from ansible.module_utils.basic import AnsibleModule


def argument_spec():
    return dict(timeout=dict(type="int", default=600), connect_timeout=dict(type="int", default=5),
                delay=dict(type="int", default=0), sleep=dict(type="int", default=1))


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(msg="goldenimage.azure.wait_for_guest runs on the controller only (it is an action plugin).")


if __name__ == "__main__":
    main()
