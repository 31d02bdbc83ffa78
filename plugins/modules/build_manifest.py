#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: build_manifest
short_description: Write the JSON manifest of a golden-image run from the results of its phases
version_added: 1.0.0
description:
  - Takes what the phases of the playbook C(goldenimage.azure.build_golden_image) registered - the plan
    (M(goldenimage.azure.build_plan)'s result, success or failure), the builder role's C(builder_results) and the
    per-build results of customisation, deprovisioning and capture - and writes the build manifest, a JSON file
    with the run's status, the collection that ran, the git commit of the user's build definition and, per build,
    the pinned base image, the outputs, the seconds of every phase and the root cause of a failure.
  - Returns the builds that failed, the builds whose temporary resource group still has to be deleted and the
    message the run fails with.
  - Makes no Azure request; the Azure options are accepted so that the module takes the
    C(group/goldenimage.azure.azure) module defaults, and are not used.
author:
  - goldenimage.azure contributors (@goldenimage)
options:
  path:
    description: Where the manifest is written (its directory is created).
    type: path
    required: true
  plan:
    description:
      - The registered result of M(goldenimage.azure.build_plan), successful or failed (C(ignore_errors)).
    type: dict
    required: true
  definitions:
    description:
      - The build definitions as given, without secrets; the manifest lists them when the plan failed.
    type: list
    elements: dict
    default: []
  created:
    description:
      - The builder role's C(builder_results) (build name to C(ok), C(phase), C(msg)); empty when no VM was created.
    type: dict
    default: {}
  create_failure:
    description:
      - C(phase) and C(msg) when the builder role itself failed; every build then failed in that phase.
    type: dict
  hosts:
    description:
      - Per build name, what its build host recorded - C(marks) (the start time of each phase, seconds since the
        epoch, and C(end)), C(failure) (C(phase), C(msg)) and C(capture) (the capture role's C(capture_result)).
      - A build that was created but has no C(capture) and no C(failure) became unreachable.
    type: dict
    default: {}
  validations:
    description:
      - Per build name, the outcome of its validation (a VM created from the new image, see the
        C(goldenimage.azure.validate) role) - C(status) (V(passed), V(failed) or V(skipped)), C(failed) (the names of
        the checks that failed), C(checks) (each check's C(ok) and C(detail), by name) or C(reason) (why it was
        skipped).
      - A build whose validation failed failed in phase C(validate), and the error names the first failed check.
    type: dict
    default: {}
  create_finished:
    description: When the creation of the build VMs ended (seconds since the epoch).
    type: float
  collection_dir:
    description:
      - The directory of the collection that runs (its C(MANIFEST.json) or C(galaxy.yml) gives name and version).
    type: path
    required: true
extends_documentation_fragment:
  - goldenimage.azure.azure
  - goldenimage.azure.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written in check mode; the results are returned as in a real run.
  diff_mode:
    support: none
  action_group:
    support: full
    membership:
      - goldenimage.azure.azure
notes:
  - Run it on the controller (C(localhost)).
seealso:
  - module: goldenimage.azure.build_plan
"""

EXAMPLES = r"""
- name: Write the build manifest
  goldenimage.azure.build_manifest:
    path: "{{ playbook_dir }}/golden-image-manifest.json"
    plan: "{{ gi_plan }}"
    created: "{{ builder_results | default({}) }}"
    collection_dir: "{{ playbook_dir | dirname }}"
  register: manifest

- name: Fail when a build failed
  ansible.builtin.fail:
    msg: "{{ manifest.message }}"
  when: manifest.failures | length > 0
"""

RETURN = r"""
manifest:
  description: The manifest as written.
  returned: success
  type: dict
  contains:
    run_id:
      description: Id of the run.
      type: str
      sample: "20261202051200a1b2"
    status:
      description: V(succeeded) when every build succeeded or was up to date, else V(failed).
      type: str
      sample: succeeded
    started:
      description: Start of the run (UTC, ISO 8601).
      type: str
      sample: "2026-12-02T05:12:00.123456Z"
    finished:
      description: End of the run (UTC, ISO 8601).
      type: str
      sample: "2026-12-02T05:31:10.654321Z"
    duration_s:
      description: Seconds from start to end.
      type: float
      sample: 1150.53
    collection:
      description: Name, version and path of the collection that ran.
      type: dict
      sample: {"name": "goldenimage.azure", "version": "1.0.0", "path": "/home/me/.ansible/collections/goldenimage/azure"}
    build_definition:
      description: Directory and git commit of the user's build definition.
      type: dict
      sample: {"dir": "/home/me/images", "git_commit": "3f2c1e0a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e", "git_dirty": false}
    builds:
      description:
        - Per build - C(name), C(build_id), C(status), C(failed_phase), C(error) (the root cause), C(base_image)
          (requested and pinned), C(build_vm), C(planned), C(outputs) (C(managed_image),
          C(gallery_image_version)), C(validation) (C(status) V(passed), V(failed), V(skipped) or V(not run), the
          C(failed) checks and each check's C(detail)) and C(phases) (seconds per phase).
        - C(definition_hash) and C(collection_version) - what the build's outputs are tagged with - and
          C(rebuild_reason), why the build was not up to date.
        - A build the plan found up to date (RV(goldenimage.azure.build_plan#module:up_to_date)) has C(status)
          V(up_to_date), C(reason) (why), C(up_to_date_output) (C(id), C(version) of the output that is current)
          and no outputs; the task then reports C(changed=false) when no build was made.
      type: list
      elements: dict
      sample:
        - name: ubuntu
          build_id: ubuntu-20261202051200a1b2
          status: succeeded
          failed_phase: null
          error: null
          base_image: {"requested": "Canonical:ubuntu-24_04-lts:server:latest",
                       "urn": "Canonical:ubuntu-24_04-lts:server:24.04.202411200", "version": "24.04.202411200"}
          outputs: {"managed_image": {"id": "/subscriptions/.../images/img-ubuntu", "name": "img-ubuntu"},
                    "gallery_image_version": null}
          validation: {"status": "passed", "failed": [], "checks": {"machine_id_fresh": {"ok": true,
                       "detail": "machine-id 0f3c9b2e4d5a46f7a8b9c0d1e2f3a4b5 is new"}}}
          phases: {"resolve": 0.4, "plan": 0.3, "create": 95.1, "customize": 40.2, "deprovision": 6.3,
                   "capture": 180.4, "cleanup": 60.2}
path:
  description: Where the manifest was written (in check mode, where it would be).
  returned: success
  type: str
  sample: /home/me/images/golden-image-manifest.json
failures:
  description: The builds that failed, with the phase and the root cause.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "ubuntu", "phase": "capture: generalize", "msg": "Generalize refused (InvalidParameter)"}]
left:
  description: The builds (as planned) whose temporary resource group has not been deleted yet.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "ubuntu", "build_id": "ubuntu-20261202051200a1b2", "resource_group": "gi-build-ubuntu-1"}]
message:
  description: The message the run fails with; empty when every build succeeded.
  returned: success
  type: str
  sample: "Golden image build failed - ubuntu: phase 'plan' failed: Pre-flight found 1 problem(s). Nothing was created; see
    /home/me/images/golden-image-manifest.json."
"""

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_module import AzureModule
from ansible_collections.goldenimage.azure.plugins.module_utils._manifest import build_manifest, write_manifest


def main():
    module = AzureModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            plan=dict(type="dict", required=True),
            definitions=dict(type="list", elements="dict", default=[]),
            created=dict(type="dict", default={}),
            create_failure=dict(type="dict"),
            hosts=dict(type="dict", default={}),
            validations=dict(type="dict", default={}),
            create_finished=dict(type="float"),
            collection_dir=dict(type="path", required=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = build_manifest(params["plan"], definitions=params["definitions"], created=params["created"],
                            create_failure=params["create_failure"], hosts=params["hosts"],
                            validations=params["validations"],
                            create_finished=params["create_finished"], collection_dir=params["collection_dir"],
                            manifest_path=params["path"], check_mode=module.check_mode)
    if not module.check_mode:
        try:
            write_manifest(params["path"], result["manifest"])
        except OSError as err:
            module.module.fail_json(msg="path: cannot write the manifest to %s: %s" % (params["path"], err),
                                    **result)
    # a run that built nothing (every build up to date) changed no image: its report is not a change either
    built = any(item.get("status") != "up_to_date" for item in result["manifest"]["builds"])
    module.exit_json(changed=not module.check_mode and built, path=params["path"], **result)


if __name__ == "__main__":
    main()
