#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: build_plan
short_description: Plan golden-image builds and check every output before any VM is created
version_added: 1.0.0
description:
  - Merges each build definition with the defaults, names the build (build id, temporary resource group, VM name),
    pins the base image to its concrete version and checks every output against what exists in Azure, with the
    facts the build VM will have once it is generalized (OS type, Hyper-V generation and architecture of the base
    image, security type).
  - Refuses, before anything is created, what the capture at the end of the build would refuse - a managed image
    name that exists, a gallery version that exists, a gallery image definition that cannot take the version
    (OS type or state, Hyper-V generation, architecture, security type), a missing gallery or resource group, a
    managed image from a Trusted Launch VM - and two builds of one run that have the same output.
  - Only reads, except for the writes the user asks for - accepting a plan image's Marketplace terms (C(accept_terms))
    and creating missing output resource groups (C(create_resource_groups)), both only after every check passed.
    It runs in check mode too, and reports what a run would build.
  - The first step of the playbook C(goldenimage.azure.build_golden_image); usable on its own to check a vars file.
author:
  - goldenimage.azure contributors (@goldenimage)
options:
  builds:
    description:
      - The image definitions, as in C(golden_image_builds) (see the README); each needs C(name), C(base_image) and
        C(managed_image) and/or C(gallery) (the options of M(goldenimage.azure.image_capture)).
      - Keys that are not given come from O(defaults), then from the module's own defaults (C(os_type=linux),
        C(vm_size=Standard_D2s_v5), C(os_disk_type=Premium_LRS), C(security_type=Standard),
        C(admin_username=azureuser)).
      - C(admin_password) is never returned; leave it out, the builder role takes it.
      - C(target_sizes) (optional, in a build or in O(defaults)) lists the VM sizes the image is meant for. The plan
        reads the build location's Resource SKUs (one list per location, only when a build gives C(target_sizes)) and
        warns when the build's C(vm_size) has a temporary (resource) disk and target sizes have none (the image must
        not wait for it at boot - see the C(goldenimage.azure.deprovision) role's C(deprovision_temp_disk_mount)),
        or the reverse, and names target sizes the location does not offer. It must be a list of size names.
      - C(accept_terms) (optional, V(false) by default, in a build or in O(defaults)). A base image with a purchase
        plan needs its Marketplace terms accepted in the subscription, or Azure refuses the build VM after its group
        and network exist. The plan reads the terms of every plan base (C(Microsoft.MarketplaceOrdering) agreements).
        Terms not accepted fail the plan, before anything is created, naming C(accept_terms), unless it is V(true);
        the plan then accepts them (C(changed=true); in check mode it only reports it), as
        C(az vm image terms accept) does. Gallery definitions created from such a build carry the plan
        (C(purchasePlan)), so VMs from the image can be deployed.
      - C(create_resource_groups) (optional, V(false) by default, in a build or in O(defaults)). A missing output
        resource group (C(managed_image.resource_group), C(gallery.resource_group)) fails the plan, naming the
        parameter, unless it is V(true); the plan then creates it in the output's location (C(managed_image.location)
        or C(gallery.location), else the build's C(location)) with the run's tags, once every other check passed
        (C(changed=true); in check mode it only reports it). The group holds outputs and stays after the run.
      - C(force_rebuild) (optional, V(false) by default, in a build or in O(defaults)). A build is left out of
        RV(builds) and listed in RV(up_to_date) when the newest good output of its target - the highest gallery
        image version of its definition that succeeded, is not excluded from C(latest) and is not tagged
        C(goldenimage-validation=failed); for a build with only a managed image, that image - carries this run's
        pinned base (tag C(goldenimage-source-urn)), definition hash (C(goldenimage-definition-hash)) and collection
        version (C(goldenimage-collection-version)). V(true) builds it anyway.
      - The definition hash is a sha256 over the build as merged with O(defaults) (without C(admin_password),
        C(build_id), C(resource_group), the managed image name, the gallery version, the base image, which is
        compared on its own, and the flags C(accept_terms), C(create_resource_groups), C(force_rebuild)) and the
        bytes of the C(customize_tasks) file and of every file of each C(customize_roles) role (found from
        O(base_dir), its C(roles/), E(ANSIBLE_ROLES_PATH) or the installed collections). A managed image named with
        the time of the run is new every run, so a build with only such an image is never up to date.
    type: list
    elements: dict
    required: true
  defaults:
    description:
      - Values for the keys a build does not set (for example C(location), C(vm_size), C(customize_tasks)).
    type: dict
    default: {}
  run_id:
    description:
      - The run's id; the build id is C(<name>-<run_id>) (its last 60 characters) unless a build sets C(build_id).
      - V(auto) makes one from the time and a random part (C(YYYYmmddHHMMSS) and four hex digits).
      - Empty makes the build id the build's name.
    type: str
    default: ""
  run_uuid:
    description:
      - The random id of the run written to the C(goldenimage-run-id) tag of everything it creates (cleanup and
        rollback delete only what carries it); set as C(run_id) in every build and RV(builds[].vm).
      - Empty generates one (32 lowercase letters and digits).
    type: str
    default: ""
  tags:
    description:
      - Tags of every build's outputs (a build's own C(tags) are added to them).
    type: dict
    default: {}
  base_dir:
    description:
      - The directory of the build definition (your vars files, customisation tasks). A relative
        C(customize_tasks) path is taken from it (the paths returned are absolute), and its git commit is returned
        in RV(definition).
      - Defaults to the working directory of the module. For C(localhost) that is the playbook's directory (Ansible
        runs local modules there), so the build playbook passes the shell's working directory (E(PWD)).
    type: path
  max_concurrency:
    description:
      - How many base images are resolved at the same time.
    type: int
    default: 8
extends_documentation_fragment:
  - goldenimage.azure.azure
  - goldenimage.azure.attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode does the same.
  diff_mode:
    support: none
  action_group:
    support: full
    membership:
      - goldenimage.azure.azure
notes:
  - Run it on the controller (C(localhost)), which holds the C(customize_tasks) files it checks.
  - The checks read the outputs as they are when the plan is made; a concurrent writer can still make the capture
    fail, which the build playbook then reports and rolls back.
seealso:
  - module: goldenimage.azure.image_capture
  - module: goldenimage.azure.build_vm
"""

EXAMPLES = r"""
- name: Check a vars file without building anything
  goldenimage.azure.build_plan:
    builds: "{{ golden_image_builds }}"
    defaults:
      location: westeurope
  register: plan

- name: Show what would be built
  ansible.builtin.debug:
    var: plan.summary
"""

RETURN = r"""
summary:
  description: One line per build, what it would build from what, or why it is up to date.
  returned: success
  type: list
  elements: str
  sample:
    - "ubuntu: managed image rg-golden-images/img-ubuntu-202612020512 (create) and gallery version
      rg-golden-images/golden/ubuntu 1.0.1 to westeurope (create) from Canonical:ubuntu-24_04-lts:server:24.04.202411200
      on a Standard_D2s_v5 linux VM in westeurope"
builds:
  description: Every build, merged with the defaults and named, with its base image and planned outputs.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Name of the build.
      type: str
      sample: ubuntu-2404-gen2
    build_id:
      description: The build id (tag C(goldenimage-build-id) of everything the build makes).
      type: str
      sample: ubuntu-2404-gen2-20261202051200a1b2
    resource_group:
      description: The temporary resource group of the build VM.
      type: str
      sample: gi-build-ubuntu-2404-gen2-20261202051200a1b2
    vm_name:
      description: Name of the build VM.
      type: str
      sample: gi-ubuntu-2404-gen2-20261202051200a1b2
    customize_tasks:
      description: Absolute path of the customisation tasks file, or empty.
      type: str
      sample: /home/me/images/customize.yml
    base:
      description: The base image pinned to its concrete version (keys of M(goldenimage.azure.image_facts)).
      type: dict
      sample: {"urn": "Canonical:ubuntu-24_04-lts:server:24.04.202411200", "hyper_v_generation": "V2",
               "architecture": "x64", "os_type": "Linux"}
    vm:
      description: The build VM for the builder role (an item of C(builder_vms)), without secrets.
      type: dict
      sample: {"name": "ubuntu", "build_id": "ubuntu-1", "vm_size": "Standard_D2s_v5", "image": {"publisher": "Canonical"}}
    outputs:
      description: The planned outputs; C(action) is V(create) or V(replace) (a failed leftover of that name).
      type: dict
      sample: {"managed_image": {"action": "create", "name": "img-ubuntu", "resource_group": "rg-images"},
               "gallery_image_version": {"action": "create", "version": "1.0.1", "regions": ["westeurope"]}}
    temp_disk:
      description:
        - Only for a build with C(target_sizes) - the temporary (resource) disk of the build size (C(build)) and of
          each target size (C(targets)), as C(present) and C(size_mb) (both null for a size the location does not
          offer).
      type: dict
      sample: {"build": {"present": true, "size_mb": 76800},
               "targets": {"Standard_D2s_v5": {"present": false, "size_mb": 0}}}
    terms:
      description:
        - Only for a build whose base image has a purchase plan - its Marketplace terms after the plan
          (C(accepted) is true when they were accepted already, or the plan accepted them with C(accept_terms)).
      type: dict
      sample: {"publisher": "center-for-internet-security-inc", "product": "cis-ubuntu-linux-2204-l1",
               "plan": "cis-ubuntu2204-l1-gen2", "accepted": true,
               "license_text_link": "https://mpcprodsa.blob.core.windows.net/legalterms/cis.txt",
               "privacy_policy_link": "https://www.cisecurity.org/privacy", "marketplace_terms_link": null}
    definition_hash:
      description: The sha256 of the build's definition and customisation files (see C(force_rebuild) in O(builds)).
      type: str
      sample: 3b1f0c9d2e4a5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8
    collection_version:
      description: The version of this collection, tagged on the outputs.
      type: str
      sample: 0.1.0
    output_tags:
      description: The tags the build's outputs get (they are in C(tags) too), compared by the next run.
      type: dict
      sample: {"goldenimage-source-urn": "Canonical:ubuntu-24_04-lts:server:24.04.202411200",
               "goldenimage-definition-hash": "3b1f0c9d2e4a5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
               "goldenimage-collection-version": "0.1.0"}
    rebuild_reason:
      description: Why the build is not up to date.
      type: str
      sample: "the definition hash is now 3b1f0c9d2e4a; gallery version 1.0.3 of gallery image golden/ubuntu has 9a8b7c6d5e4f
        (vars or a customisation file changed)"
    summary:
      description: The build's line of RV(summary).
      type: str
      sample: "ubuntu: managed image rg-images/img-ubuntu (create) from Canonical:ubuntu-24_04-lts:server:24.04.202411200"
up_to_date:
  description:
    - The builds left out because their newest good output matches this run (see C(force_rebuild) in O(builds)),
      with the reason, that output's id and version (null for a managed image), the pinned base, the definition hash
      and the collection version, and the base image (as RV(builds[].base)).
  returned: success
  type: list
  elements: dict
  sample:
    - {"name": "ubuntu", "reason": "base Canonical:ubuntu-24_04-lts:server:24.04.202411200 and definition hash 3b1f0c9d2e4a
        match gallery version 1.0.3 of gallery image golden/ubuntu (collection 0.1.0)",
       "output_id": "/subscriptions/.../galleries/golden/images/ubuntu/versions/1.0.3", "version": "1.0.3",
       "base_urn": "Canonical:ubuntu-24_04-lts:server:24.04.202411200",
       "definition_hash": "3b1f0c9d2e4a5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8", "collection_version": "0.1.0",
       "base": {"urn": "Canonical:ubuntu-24_04-lts:server:24.04.202411200"}}
resource_groups:
  description:
    - The output resource groups the plan created (or, in check mode, would create) for builds with
      C(create_resource_groups), each with the parameter that named it.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "rg-golden-images", "location": "westeurope", "created": true, "parameter": "gallery.resource_group"}]
definition:
  description:
    - Where the build definition lives (O(base_dir)) and its git commit (V(unknown) outside a git work tree);
      C(git_dirty) is true when tracked files differ from that commit.
  returned: always
  type: dict
  sample: {"dir": "/home/me/images", "git_commit": "3f2c1e0a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e", "git_dirty": false}
timings:
  description:
    - Seconds spent resolving the base images and checking the outputs; on failure, the seconds until the failing
      phase failed.
  returned: always
  type: dict
  sample: {"resolve": 0.41, "plan": 0.32}
run:
  description:
    - The run - C(id) (O(run_id), made when V(auto)), C(uuid) (O(run_uuid)), C(started) (UTC, ISO 8601) and C(t0)
      (the same instant, seconds since the epoch).
  returned: always
  type: dict
  sample: {"id": "20261202051200a1b2", "uuid": "k2v9q0x7c1m3n5b8z4l6j0h2g4f6d8s1", "started": "2026-12-02T05:12:00.123456Z",
           "t0": 1796188320.123456}
finished:
  description: When the plan was finished (seconds since the epoch); the creation of the build VMs starts then.
  returned: success
  type: float
  sample: 1796188321.2
phase:
  description: On failure, V(plan) (definitions and outputs) or V(resolve base image).
  returned: failure
  type: str
  sample: plan
retries:
  description:
    - The retries the ARM layer made during the task, one entry each, in order (throttling, server errors, lost
      connections; a POST action is re-read before it is sent again). Shown with C(ansible-playbook -v) and above.
    - Absent when nothing was retried.
  returned: when a request was retried
  type: list
  elements: dict
  sample:
    - {"operation": "deallocate VM 'vm-gi-1'", "attempt": 2, "reason": "ServiceResponseError", "wait": 0}
    - {"operation": "read resource group 'gi-build-1'", "attempt": 2, "reason": "GET 503", "wait": 1.0}
"""

import os
import time

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_module import AzureModule
from ansible_collections.goldenimage.azure.plugins.module_utils._preflight import build_plan, definition_info, new_run


def main():
    module = AzureModule(
        argument_spec=dict(
            builds=dict(type="list", elements="dict", required=True),
            defaults=dict(type="dict", default={}),
            run_id=dict(type="str", default=""),
            run_uuid=dict(type="str", default=""),
            tags=dict(type="dict", default={}),
            base_dir=dict(type="path"),
            max_concurrency=dict(type="int", default=8),
        ),
        supports_check_mode=True,
    )
    params = module.params
    run = new_run(params["run_id"], params["run_uuid"])
    definition = definition_info(params["base_dir"] or os.getcwd())
    try:
        result = build_plan(module.session, params["builds"], defaults=params["defaults"], run_id=run["id"],
                            base_dir=params["base_dir"], tags=params["tags"],
                            max_concurrency=params["max_concurrency"], run_uuid=run["uuid"],
                            check_mode=module.check_mode)
    except AzureError as err:
        phase = getattr(err, "phase", "plan")
        module.fail_azure(err, changed=False, phase=phase, definition=definition, run=run,
                          timings={phase.split(" ", maxsplit=1)[0]: round(time.time() - run["t0"], 3)})
    for warning in result.pop("warnings"):
        module.warn(warning)
    module.exit_json(definition=definition, run=run, finished=time.time(), **result)


if __name__ == "__main__":
    main()
