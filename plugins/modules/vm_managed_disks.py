#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vm_managed_disks
short_description: Move an Azure VM off retired unmanaged (VHD) disks onto managed disks
version_added: 1.1.0
description:
  - Azure retired unmanaged disks (VHD page blobs in a storage account, C(storageProfile.osDisk.vhd.uri)). A VM that
    still has one can no longer be started, and Azure stopped and deallocated those that were running. The way out
    that Azure supports is C(convertToManagedDisks), which this module calls.
  - The conversion needs the VM deallocated. An already deallocated VM is converted at once. A running or stopped
    VM is deallocated first when O(allow_deallocate=true); without it the task fails before changing anything,
    naming O(allow_deallocate).
  - Azure turns the OS disk and every data disk into managed disks (named as the VM's storage profile names the
    disks) and starts the VM. The module then brings the VM to O(power_state), by default the power state it had
    before the task (a VM that was deallocated is deallocated again).
  - The VHD blobs stay in their storage account and keep costing money; RV(blobs_left) lists them, so you can
    delete them once you have checked the VM.
  - A VM whose disks are all managed is left alone (one GET request, V(changed=false)).
  - If the conversion fails after the task deallocated the VM, the VM stays deallocated, because Azure does not
    start a VM that still has unmanaged disks.
  - Find the VMs to migrate with the C(goldenimage.azure.azure_images) inventory, group C(unmanaged_disks).
author:
  - goldenimage.azure contributors (@goldenimage)
options:
  allow_deallocate:
    description:
      - Allow the task to deallocate a running or stopped VM for the conversion (Azure converts only deallocated
        VMs). Without it such a VM fails the task before anything is changed.
    type: bool
    default: false
  power_state:
    description:
      - The power state the VM is left in after a conversion.
      - V(restore) (the default) is the state found before the task; V(running) starts it (now that it is on managed
        disks Azure allows it); V(deallocated) leaves it deallocated (Azure starts the VM at the end of the
        conversion, so the module deallocates it again).
      - Ignored when there is nothing to convert.
    type: str
    choices: [restore, running, deallocated]
    default: restore
  wait_timeout:
    description:
      - Seconds for all steps together (deallocation, conversion, power state). A timeout names the operation.
    type: int
    default: 1800
extends_documentation_fragment:
  - goldenimage.azure.vm
  - goldenimage.azure.azure
  - goldenimage.azure.attributes
attributes:
  check_mode:
    support: full
    details: Validates everything (including O(allow_deallocate)) and reports the predicted disks and power state.
  diff_mode:
    support: full
    details: Shows each disk (VHD URI or managed disk id) and the power state before and after.
  action_group:
    support: full
    membership:
      - goldenimage.azure.azure
notes:
  - The conversion cannot be undone. The VM gets a new dynamic IP address when it starts again.
  - Azure does not convert a generalized VM; the module refuses one before changing anything.
  - VMs in an availability set need the availability set converted (C(sku=Aligned)) first; the module does not do that.
seealso:
  - name: Migrate a Linux VM from unmanaged disks to managed disks
    description: Microsoft's procedure.
    link: https://learn.microsoft.com/azure/virtual-machines/linux/convert-unmanaged-to-managed-disks
  - name: Unmanaged disks retirement
    description: What the retirement stops and when.
    link: https://learn.microsoft.com/azure/virtual-machines/unmanaged-disks-deprecation
  - module: goldenimage.azure.disk_tier
    description: Change the SKU or tier of the managed disks afterwards.
  - plugin: goldenimage.azure.azure_images
    plugin_type: inventory
    description: Its group C(unmanaged_disks) lists the VMs that need this module.
"""

EXAMPLES = r"""
- name: Convert a VM that Azure deallocated at the retirement, and start it
  goldenimage.azure.vm_managed_disks:
    name: legacy-app
    resource_group: rg-legacy
    power_state: running

- name: Convert a running VM, deallocating it for the conversion and starting it again
  goldenimage.azure.vm_managed_disks:
    id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-legacy/providers/Microsoft.Compute/virtualMachines/legacy-app
    allow_deallocate: true

- name: Convert every VM the inventory found on unmanaged disks
  goldenimage.azure.vm_managed_disks:
    id: "{{ hostvars[item].azure_id }}"
    allow_deallocate: true
  loop: "{{ groups['unmanaged_disks'] | default([]) }}"
  delegate_to: localhost
"""

RETURN = r"""
vm:
  description: The VM.
  returned: always
  type: dict
  contains:
    id:
      description: VM resource id.
      type: str
      sample: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-legacy/providers/Microsoft.Compute/virtualMachines/legacy-app
    name:
      description: VM name.
      type: str
      sample: legacy-app
    vm_size:
      description: VM size.
      type: str
      sample: Standard_D2s_v3
disks_before:
  description: Every disk of the VM before the task.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Disk name (the VM's storage profile).
      type: str
      sample: legacy-app-osdisk
    role:
      description: V(os) or V(data).
      type: str
      sample: os
    lun:
      description: LUN of a data disk (null for the OS disk).
      type: int
      sample: null
    managed:
      description: Whether it is a managed disk.
      type: bool
      sample: false
    id:
      description: Managed disk resource id (null for a VHD).
      type: str
      sample: null
    vhd_uri:
      description: Blob URI of an unmanaged disk (null for a managed disk).
      type: str
      sample: https://legacystore.blob.core.windows.net/vhds/legacy-app-osdisk.vhd
    sku:
      description: Storage account type of a managed disk (null for a VHD, and predicted as null in check mode).
      type: str
      sample: null
    size_gb:
      description: Size in GiB as the VM reports it.
      type: int
      sample: 30
  sample: [{"name": "legacy-app-osdisk", "role": "os", "lun": null, "managed": false, "id": null,
            "vhd_uri": "https://legacystore.blob.core.windows.net/vhds/legacy-app-osdisk.vhd", "sku": null, "size_gb": 30}]
disks_after:
  description: Every disk of the VM after the task (predicted in check mode), as in RV(disks_before).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "legacy-app-osdisk", "role": "os", "lun": null, "managed": true,
            "id": "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-legacy/providers/Microsoft.Compute/disks/legacy-app-osdisk",
            "vhd_uri": null, "sku": "Standard_LRS", "size_gb": 30}]
power_state_before:
  description: Power state before the task.
  returned: always
  type: str
  sample: deallocated
power_state_after:
  description: Power state after the task (predicted in check mode).
  returned: always
  type: str
  sample: running
deallocated:
  description: Whether the task deallocated the VM for the conversion (or would, in check mode).
  returned: always
  type: bool
  sample: false
blobs_left:
  description: The VHD blobs the conversion left in their storage account (empty when nothing was converted).
  returned: always
  type: list
  elements: str
  sample: ["https://legacystore.blob.core.windows.net/vhds/legacy-app-osdisk.vhd"]
seconds:
  description: Seconds per step (deallocate, convert, start, deallocate_after, power_off).
  returned: always
  type: dict
  sample: {"convert": 95.2, "start": 25.4}
"""

from ansible_collections.goldenimage.azure.plugins.module_utils import _generalize, _managed_migration
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
            allow_deallocate=dict(type="bool", default=False),
            power_state=dict(type="str", choices=list(_managed_migration.POWER_TARGETS), default="restore"),
            wait_timeout=dict(type="int", default=1800),
        ),
        supports_check_mode=True,
        **_generalize.VM_TARGET_RULES
    )
    params = module.params
    module.require_seconds(wait_timeout=1)
    try:
        compute, resource_group, name = _generalize.target_vm(module.session, params)
        result = _managed_migration.migrate(
            compute, resource_group, name, allow_deallocate=params["allow_deallocate"],
            power_state=params["power_state"], check_mode=module.check_mode, wait_timeout=params["wait_timeout"])
    except AzureError as err:
        module.fail_azure(err)
    module.exit_result(result)


if __name__ == "__main__":
    main()
