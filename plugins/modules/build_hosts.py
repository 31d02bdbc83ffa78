#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: build_hosts
short_description: Create the build VMs of golden-image builds and make them ready for Ansible, in one task
version_added: 1.1.0
description:
  - The controller side of the C(goldenimage.azure.builder) role, in one process on the controller. For every
    build in O(vms) (each over O(defaults)) it checks the settings, all of them before anything is created; gives
    the builds without C(allowed_sources) the controller's public address from O(public_address_url); makes the
    per-build directory under O(build_dir) (mode 0700) with an SSH client key, an SSH host key (Linux) or a WinRM
    certificate key (Windows), each made once and kept; creates the build environment as
    M(goldenimage.azure.build_vm) does, every build concurrently; pins the guest's host key (C(known_hosts)) or
    WinRM certificate; and waits for SSH (22) or WinRM (5986) to answer at the public address.
  - A refusal (a bad build id, an NSG source that admits any address, an undiscoverable controller address)
    changes nothing and is returned in RV(refused); the task itself does not fail, so that it can run with
    C(no_log) (it returns the Windows passwords) while the role reports the refusal.
  - A build that could not be created or reached is recorded with C(ok=false), the C(phase) and the C(msg); the
    others go on.
  - Runs on the controller only (an action plugin); in check mode it makes the directory and keys, which only
    describe the builds, and writes nothing to Azure.
author:
  - goldenimage.azure contributors (@goldenimage)
extends_documentation_fragment:
  - goldenimage.azure.azure
  - goldenimage.azure.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  action_group:
    support: full
    membership:
      - goldenimage.azure.azure
options:
  vms:
    description:
      - The builds; each item takes the keys of O(defaults) - V(name), V(build_id), V(location), V(image), V(plan),
        V(os_type), V(vm_size), V(admin_username), V(admin_password), V(run_id), V(os_disk_type),
        V(os_disk_size_gb), V(os_disk_tier), V(security_type), V(allowed_sources), V(allow_any_source),
        V(winrm_certificate_url), V(key_vault_id), V(winrm_per_build_certificate), V(resource_group), V(tags),
        V(public_ip_tags), V(data_disks), V(subnet_id), V(public_ip) (see M(goldenimage.azure.build_vm) for their
        meaning), V(jump_host) (C([user@]host[:port]), an SSH ProxyJump for a private build; Linux only),
        V(disk_encryption_set) and V(encryption_at_host) (encryption at rest, see M(goldenimage.azure.build_vm)).
      - With V(public_ip=false), V(allowed_sources) must be given (the private address the connection comes from).
      - Empty means one build made of O(defaults) alone.
    type: list
    elements: dict
    default: []
  defaults:
    description: The settings of every build that its item does not give.
    type: dict
    default: {}
  run_id:
    description: The run id of builds that give none (tag C(goldenimage-run-id)).
    type: str
    required: true
  build_dir:
    description: The controller directory that holds one directory per build id.
    type: path
    required: true
  public_address_url:
    description: A "what is my IP" service answering C({"ip":"..."}) or the bare address; empty disables discovery.
    type: str
    default: ""
  public_address_ca_path:
    description: CA bundle for O(public_address_url).
    type: path
  create_timeout:
    description: Seconds each build environment may take to be created.
    type: int
    default: 1800
  connect_timeout:
    description: Seconds to wait for SSH or WinRM to answer, per build.
    type: int
    default: 600
  wait_for_port:
    description: Wait for SSH or WinRM to answer at the public address (never in check mode).
    type: bool
    default: true
  lease_seconds:
    description:
      - The lease of each build's temporary resource group, from its creation (see
        O(goldenimage.azure.build_vm#module:lease_seconds)); after it M(goldenimage.azure.build_sweep) may delete the
        group. It must cover the whole build, customisation and capture included.
    type: int
    default: 28800
    version_added: 1.1.0
seealso:
  - module: goldenimage.azure.build_vm
notes:
  - Run it with C(no_log=true) when a build is Windows - RV(passwords) holds the administrator passwords.
"""

EXAMPLES = r"""
- name: Create two build VMs and wait for SSH
  goldenimage.azure.build_hosts:
    run_id: "{{ run_id }}"
    build_dir: "{{ playbook_dir }}/.builds"
    defaults: {location: westeurope, os_type: linux, vm_size: Standard_D2s_v5, admin_username: azureuser,
               os_disk_type: Premium_LRS, security_type: Standard}
    vms:
      - {name: web, build_id: web-1, image: "Canonical:ubuntu-24_04-lts:server:24.04.202411200"}
      - {name: db, build_id: db-1, image: "Canonical:ubuntu-24_04-lts:server:24.04.202411200"}
  register: hosts
  no_log: true

- name: Fail on a refusal
  ansible.builtin.fail:
    msg: "{{ hosts.refused }}"
  when: hosts.refused | length > 0
"""

RETURN = r"""
refused:
  description: Why nothing was created (empty when the builds were attempted).
  returned: always
  type: str
  sample: "builder_allowed_sources ['*'] admits any address to the build VM; give the controller's address."
builds:
  description:
    - Per build name - C(ok), the C(phase) that failed and its C(msg), the C(build_id), C(run_id),
      C(resource_group), the build C(dir), the C(known_hosts) and C(winrm_certificate) files, and C(vm), the
      M(goldenimage.azure.build_vm) result (C(public_ip), C(private_ip), C(port), C(admin_username), C(vm_id) ...),
      C(address), where Ansible connects (the public IP, else the private one), and C(jump_host).
  returned: always
  type: dict
  sample: {web: {ok: true, phase: create build VM, msg: "", build_id: web-1, resource_group: gi-build-web-1,
                 vm: {public_ip: 20.50.1.2, port: 22, admin_username: azureuser}}}
items:
  description: The merged settings of every build, without passwords.
  returned: always
  type: list
  elements: dict
  sample: [{name: web, build_id: web-1, location: westeurope, os_type: linux, allowed_sources: [203.0.113.7/32]}]
keys_created:
  description: The key files this run made (a rerun that kept them makes none).
  returned: always
  type: list
  elements: str
  sample: [/home/me/.cache/goldenimage/builds/web-1/id_ed25519]
passwords:
  description: Per Windows build name, its administrator password (never printed with C(no_log)).
  returned: always
  type: dict
  sample: {}
retries:
  description:
    - The retries the ARM layer made for all builds, one entry each (throttling, server errors, lost connections).
  returned: when a request was retried
  type: list
  elements: dict
  sample:
    - {"operation": "create virtual machine 'vm-gi-1'", "attempt": 2, "reason": "PUT ServiceResponseError", "wait": 0.5}
"""

from ansible.module_utils.basic import AnsibleModule


def argument_spec():
    return dict(
        vms=dict(type="list", elements="dict", default=[]),
        defaults=dict(type="dict", default={}),
        run_id=dict(type="str", required=True),
        build_dir=dict(type="path", required=True),
        public_address_url=dict(type="str", default=""),
        public_address_ca_path=dict(type="path"),
        create_timeout=dict(type="int", default=1800),
        connect_timeout=dict(type="int", default=600),
        wait_for_port=dict(type="bool", default=True),
        lease_seconds=dict(type="int", default=28800),
    )


def main():
    from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AZURE_AUTH_SPEC

    spec = dict(AZURE_AUTH_SPEC)
    spec.update(argument_spec())
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    module.fail_json(msg="goldenimage.azure.build_hosts runs on the controller only (it is an action plugin).")


if __name__ == "__main__":
    main()
