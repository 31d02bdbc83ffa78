#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vm_generalize
short_description: Deallocate and generalize an Azure VM in one task, or record that its guest was deprovisioned
version_added: 1.0.0
description:
  - With O(state=generalized) (the default) the VM ends up B(deallocated and generalized) in one task run, whatever
    its power state was. A running or stopped VM is deallocated (never just powered off, which keeps it billed),
    then the platform is told it is generalized. The module waits for the deallocation within O(wait_timeout).
  - Generalizing cannot be undone and only makes a working image if the guest was deprovisioned first
    (C(waagent -deprovision+user) on Linux, Sysprep on Windows). The module therefore refuses a VM without the
    tag C(goldenimage-deprovisioned), which the C(goldenimage.azure.deprovision) role sets after it has checked
    the guest, unless O(force=true).
  - With O(state=deprovisioned) the module only records the tag C(goldenimage-deprovisioned) (an ISO-8601 UTC time)
    with a VM PATCH. An existing tag is kept.
  - The POST actions follow the ARM layer's retry rule within O(wait_timeout) - throttling and 409 "operation in
    progress" are retried; after a lost answer or a 5xx the VM is read again and the action counts as done once the
    VM reached its state (deallocated, generalized); every retry is in RV(retries).
  - A VM that is already deallocated and generalized is left alone (one GET request).
author:
  - goldenimage.azure contributors (@goldenimage)
options:
  state:
    description:
      - V(generalized) deallocates the VM if needed and generalizes it if needed.
      - V(deprovisioned) records the tag C(goldenimage-deprovisioned) on the VM and changes nothing else.
    type: str
    choices: [generalized, deprovisioned]
    default: generalized
  force:
    description:
      - Generalize even though the VM has no C(goldenimage-deprovisioned) tag.
      - Only for guests deprovisioned by other means; generalizing a guest that was not deprovisioned gives an
        image whose VMs fail to provision.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for all steps together (deallocation, retries of throttled or conflicting requests).
      - On timeout the task fails with a message naming the operation that did not finish.
    type: int
    default: 1800
extends_documentation_fragment:
  - goldenimage.azure.vm
  - goldenimage.azure.azure
  - goldenimage.azure.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the power and OS state (or the tag) before and after.
  action_group:
    support: full
    membership:
      - goldenimage.azure.azure
notes:
  - Azure refuses to start a generalized VM. Capture it with M(goldenimage.azure.image_capture) and delete it.
seealso:
  - module: goldenimage.azure.image_capture
  - name: Remove machine-specific information by deprovisioning or generalizing a VM
    description: Microsoft's procedure (deprovision the guest, deallocate, generalize).
    link: https://learn.microsoft.com/azure/virtual-machines/generalize
"""

EXAMPLES = r"""
- name: Record that the guest was deprovisioned (the deprovision role does this after checking the guest)
  goldenimage.azure.vm_generalize:
    name: build-vm
    resource_group: rg-build
    state: deprovisioned

- name: Deallocate and generalize the build VM in one task
  goldenimage.azure.vm_generalize:
    name: build-vm
    resource_group: rg-build
    wait_timeout: 900
  register: generalized

- name: Generalize by id a VM deprovisioned outside this collection
  goldenimage.azure.vm_generalize:
    id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-build/providers/Microsoft.Compute/virtualMachines/build-vm
    force: true
"""

RETURN = r"""
power_state:
  description: Power state of the VM after the task (V(deallocated) for O(state=generalized)).
  returned: state is generalized
  type: str
  sample: deallocated
os_state:
  description: OS state of the VM after the task.
  returned: state is generalized
  type: str
  sample: generalized
actions:
  description: What the task did (or would do in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [deallocate, generalize]
seconds:
  description: Seconds each step took (empty when nothing was done or in check mode).
  returned: always
  type: dict
  sample: {"deallocate": 31.4, "generalize": 0.6}
deprovisioned_at:
  description: The value of the C(goldenimage-deprovisioned) tag.
  returned: state is deprovisioned
  type: str
  sample: "2026-11-26T01:02:03Z"
vm:
  description: The VM as the task left it.
  returned: always
  type: dict
  contains:
    id:
      description: Resource id.
      type: str
      sample: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-build/providers/Microsoft.Compute/virtualMachines/build-vm
    name:
      description: VM name.
      type: str
      sample: build-vm
    resource_group:
      description: Resource group.
      type: str
      sample: rg-build
    location:
      description: Region.
      type: str
      sample: eastus
    power_state:
      description: Power state (absent for O(state=deprovisioned)).
      type: str
      sample: deallocated
    os_state:
      description: OS state (absent for O(state=deprovisioned)).
      type: str
      sample: generalized
    security_type:
      description: V(Standard), V(TrustedLaunch) or V(ConfidentialVM).
      type: str
      sample: TrustedLaunch
    deprovisioned_at:
      description: The C(goldenimage-deprovisioned) tag, if any.
      type: str
      sample: "2026-11-26T01:02:03Z"
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

from ansible_collections.goldenimage.azure.plugins.module_utils import _generalize
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_module import (
    AzureModule,
)


def main():
    module = AzureModule(
        argument_spec=dict(
            _generalize.VM_TARGET_SPEC,
            state=dict(type="str", choices=["generalized", "deprovisioned"], default="generalized"),
            force=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=1800),
        ),
        supports_check_mode=True,
        **_generalize.VM_TARGET_RULES
    )
    params = module.params
    module.require_seconds(wait_timeout=1)
    try:
        compute, resource_group, name = _generalize.target_vm(module.session, params)
        if params["state"] == "deprovisioned":
            result = _generalize.mark_deprovisioned(compute, resource_group, name, check_mode=module.check_mode,
                                                    wait_timeout=params["wait_timeout"])
        else:
            result = _generalize.generalize_vm(compute, resource_group, name, force=params["force"],
                                               check_mode=module.check_mode, wait_timeout=params["wait_timeout"])
    except AzureError as err:
        module.fail_azure(err)
    module.exit_result(result)


if __name__ == "__main__":
    main()
