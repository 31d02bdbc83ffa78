#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: build_sweep
short_description: Delete the temporary resource groups and build directories of killed builds
version_added: 1.1.0
description:
  - A build killed before its cleanup (SIGKILL, a lost runner) leaves its temporary resource group - VM, disk,
    network - and its controller directory with the build's private SSH key. Every temporary group the collection
    creates carries a lease, tags C(goldenimage-lease-created) and C(goldenimage-lease-expires) (ISO 8601 UTC, see
    O(goldenimage.azure.build_vm#module:lease_seconds)); once the lease expired, the run that made the group is over.
  - Lists the resource groups of the subscription and deletes those tagged C(goldenimage-temporary=true) whose lease
    expired, concurrently, each within O(wait_timeout) (a group still there at the bound is named with what is left
    in it), then removes each deleted build's directory O(build_dir)/C(<build_id>) (never through a symlink, never
    outside O(build_dir)).
  - It never touches a group without the tag C(goldenimage-temporary=true), nor one whose lease still runs
    (RV(kept)), nor one without a readable lease - an older version's group, or malformed lease tags - or without a
    valid C(goldenimage-build-id) (RV(undecided), with the reason). Before deleting, the group is read again and must
    still carry the build and run ids it was listed with.
  - The main job (C(goldenimage.azure.build_golden_image)) runs it first unless C(golden_image_sweep=false); the
    C(goldenimage.azure.cleanup) playbook runs it on demand.
author:
  - goldenimage.azure contributors (@goldenimage)
extends_documentation_fragment:
  - goldenimage.azure.azure
  - goldenimage.azure.attributes
attributes:
  check_mode:
    support: full
    details: Reports in RV(deleted) what it would delete, and deletes nothing.
  diff_mode:
    support: none
    details: The module reports what it deleted in its return values.
  action_group:
    support: full
    membership:
      - goldenimage.azure.azure
options:
  build_dir:
    description:
      - The controller directory that holds one directory per build id (the builder role's C(builder_build_dir)).
    type: path
    default: ~/.cache/goldenimage/builds
  wait_timeout:
    description: Seconds each group's deletion may take; a timeout names the group and what is left in it.
    type: int
    default: 1800
seealso:
  - module: goldenimage.azure.build_vm
  - module: goldenimage.azure.build_hosts
notes:
  - A group deleted by hand while its directory stays leaves the directory; remove it by hand.
"""

EXAMPLES = r"""
- name: Delete what killed builds left behind
  goldenimage.azure.build_sweep:
    build_dir: "{{ lookup('ansible.builtin.env', 'HOME') }}/.cache/goldenimage/builds"
  register: sweep

- name: Report what was deleted
  ansible.builtin.debug:
    msg: "{{ sweep.deleted | map(attribute='resource_group') | list }}"
"""

RETURN = r"""
deleted:
  description:
    - The groups deleted (in check mode - those that would be), with their build and run ids, lease expiry and the
      build directory removed (null when there was none).
  returned: always
  type: list
  elements: dict
  sample:
    - {resource_group: gi-build-ubuntu-1, build_id: ubuntu-1, run_id: 3f2a9c0d1e, lease_expires: "2026-12-03T11:20:00Z",
       build_dir: /home/me/.cache/goldenimage/builds/ubuntu-1}
kept:
  description: Temporary groups whose lease still runs, with the reason.
  returned: always
  type: list
  elements: dict
  sample:
    - {resource_group: gi-build-ubuntu-2, build_id: ubuntu-2, run_id: 9b8c7d6e5f, lease_expires: "2026-12-03T19:20:00Z",
       reason: "its lease runs until 2026-12-03T19:20:00Z"}
undecided:
  description:
    - Temporary groups left alone because their lease or build id cannot be read, with the reason (never delete on
      doubt). Not named C(skipped), which Ansible reserves for a skipped task.
  returned: always
  type: list
  elements: dict
  sample:
    - {resource_group: gi-build-old, build_id: old, run_id: null, lease_expires: null,
       reason: "no lease tag goldenimage-lease-expires (a group from an older version; delete it by hand)"}
failures:
  description: Expired groups that could not be deleted (the task then fails), with the error.
  returned: always
  type: list
  elements: dict
  sample:
    - {resource_group: gi-build-ubuntu-3, build_id: ubuntu-3, run_id: 1a2b3c4d5e, lease_expires: "2026-12-03T09:00:00Z",
       msg: "resource group 'gi-build-ubuntu-3' still exists after 1800 s (provisioningState Deleting); ..."}
retries:
  description: The retries the ARM layer made during the task, one entry each (throttling, server errors, lost connections).
  returned: when a request was retried
  type: list
  elements: dict
  sample:
    - {"operation": "list resource groups", "attempt": 2, "reason": "GET 503", "wait": 1.0}
"""

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_module import AzureModule
from ansible_collections.goldenimage.azure.plugins.module_utils._sweep import sweep


def argument_spec():
    return dict(
        build_dir=dict(type="path", default="~/.cache/goldenimage/builds"),
        wait_timeout=dict(type="int", default=1800),
    )


def main():
    module = AzureModule(argument_spec(), supports_check_mode=True)
    module.require_seconds(wait_timeout=1)
    p = module.params
    try:
        result = sweep(module.session.resources(), p["build_dir"], wait_timeout=p["wait_timeout"],
                       check_mode=module.check_mode)
    except AzureError as err:
        module.fail_azure(err, deleted=[], kept=[], undecided=[], failures=[])
    if result["failures"]:
        module.fail_json(msg="Sweep: could not delete %s" % "; ".join(
            "'%s': %s" % (entry["resource_group"], entry["msg"]) for entry in result["failures"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
