#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: disk_tier
short_description: Change the SKU, performance tier, size, IOPS/throughput or encryption of managed disks, deallocating their VM when Azure requires it
version_added: 1.0.0
description:
  - Sets the storage SKU, the Premium SSD performance tier, the size, the provisioned IOPS and throughput and the
    encryption at rest (platform key, customer-managed key or both through a disk encryption set) of one managed
    disk, several, or the disks of a VM (OS disk, data disks by LUN, or all).
  - Every requested change is checked against Azure's documented rules before any call that changes something
    (tier only on Premium SSD and never below the size's baseline tier, P60-P80 only above 4 TiB, sizes never
    shrink, IOPS/throughput only on PremiumV2_LRS and UltraSSD_LRS, PremiumV2/Ultra never as an OS disk). A
    refusal names the parameter and changes nothing.
  - "VM-aware: Azure changes a disk's SKU or its encryption (and grows an OS disk, or changes the performance tier of a shared disk,
    one with C(maxShares) above 1) only while the disk is unattached or its VM is deallocated; the tier of other
    Premium SSD disks changes without downtime. With O(allow_deallocate=true) the module deallocates the VM,
    changes the disks and restores the
    previous power state (a running VM is started again, also when a disk change failed); without it the module
    fails before changing anything."
  - Refusals that only Azure knows (for example a tier downgrade within 12 hours of the last one, or a second SKU
    change of the day) fail the task with Azure's error code.
  - When Azure refuses a disk update (409 C(OperationNotAllowed)) because the VM is not deallocated, a change the
    documented rules let run online (a tier change where Azure still applies the older rule), the module
    deallocates the VM, sends the update again and restores the power state with O(allow_deallocate=true); without
    it the refusal fails the task, naming O(allow_deallocate), and nothing is changed.
  - Returns each disk's facts before and after, the IOPS and throughput Azure reports for the result, and for a VM
    its temporary disk (from the VM size) and whether each disk is managed.
author:
  - goldenimage.azure contributors (@goldenimage)
options:
  id:
    description:
      - Resource id of one managed disk. Mutually exclusive with O(name) and O(vm).
      - The disk (and its VM) is changed in the subscription the id names, with the same credential, not in
        O(subscription_id).
    type: str
  name:
    description:
      - Names of managed disks in O(resource_group).
    type: list
    elements: str
  resource_group:
    description:
      - Resource group of the disks named in O(name), or of the VM named in O(vm).
    type: str
  vm:
    description:
      - Name (with O(resource_group)) or resource id of a VM whose disks to change.
      - A resource id is acted on in the subscription it names.
    type: str
  select:
    description:
      - With O(vm), which disks. Defaults to V(os). Ignored when O(luns) is given.
    type: str
    choices: [os, data, all]
  luns:
    description:
      - With O(vm), the data disks at these LUNs.
    type: list
    elements: int
  sku:
    description:
      - Storage SKU of the disks.
    type: str
    choices: [Standard_LRS, StandardSSD_LRS, Premium_LRS, StandardSSD_ZRS, Premium_ZRS, PremiumV2_LRS, UltraSSD_LRS]
  tier:
    description:
      - Performance tier of a Premium SSD disk (V(P1) ... V(P80)); not below the baseline tier of the disk's size.
      - V(P60), V(P70) and V(P80) need a disk larger than 4,096 GiB.
    type: str
    choices: [P1, P2, P3, P4, P6, P10, P15, P20, P30, P40, P50, P60, P70, P80]
  size_gb:
    description:
      - New size in GiB; disks only grow.
    type: int
  iops:
    description:
      - Provisioned read/write IOPS (PremiumV2_LRS and UltraSSD_LRS only).
    type: int
  mbps:
    description:
      - Provisioned read/write throughput in MB/s (PremiumV2_LRS and UltraSSD_LRS only).
    type: int
  disk_encryption_set:
    description:
      - Resource id of a disk encryption set (C(Microsoft.Compute/diskEncryptionSets)) to encrypt the disks with a
        customer-managed key. The set must exist in the disks' subscription and in each disk's region; the disks get
        the set's encryption type (V(EncryptionAtRestWithCustomerKey), or V(EncryptionAtRestWithPlatformAndCustomerKeys)
        for double encryption).
      - Checked (read) before anything changes, also in check mode.
      - Leave it out with O(encryption_type=EncryptionAtRestWithPlatformKey) to go back to platform-managed keys.
      - A change of encryption is VM-aware like a SKU change (see O(allow_deallocate)). Confidential VM disks keep the
        encryption they were created with.
    type: str
  encryption_type:
    description:
      - The disks' encryption type. V(EncryptionAtRestWithPlatformKey) (no O(disk_encryption_set)) returns them to
        platform-managed keys; the customer-key types need O(disk_encryption_set) and must match its type.
      - Defaults to the type of O(disk_encryption_set).
    type: str
    choices: [EncryptionAtRestWithPlatformKey, EncryptionAtRestWithCustomerKey, EncryptionAtRestWithPlatformAndCustomerKeys]
  allow_deallocate:
    description:
      - Allow the task to deallocate the VM the disks are attached to when a change requires it, and to restore its
        power state afterwards.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds for all steps together (deallocation, disk updates, restart). A timeout names the operation.
    type: int
    default: 1800
extends_documentation_fragment:
  - goldenimage.azure.azure
  - goldenimage.azure.attributes
attributes:
  check_mode:
    support: full
    details: Validates everything and reports the predicted facts, including whether the VM would be deallocated.
  diff_mode:
    support: full
    details: Shows each disk's SKU, tier, size, IOPS, throughput and encryption before and after.
  action_group:
    support: full
    membership:
      - goldenimage.azure.azure
notes:
  - Azure allows a SKU change twice a day per disk and a tier downgrade once per 12 hours.
  - Conversion to or from PremiumV2_LRS and UltraSSD_LRS may be refused by Azure (create a new disk from a snapshot).
seealso:
  - name: Change the performance tier of a managed disk
    description: Microsoft's rules for performance tiers.
    link: https://learn.microsoft.com/azure/virtual-machines/disks-change-performance
  - name: Convert the disk type of a managed disk
    description: Microsoft's rules for SKU conversion.
    link: https://learn.microsoft.com/azure/virtual-machines/disks-convert-types
"""

EXAMPLES = r"""
- name: Build on Premium SSD, deallocating the build VM for the change and starting it again
  goldenimage.azure.disk_tier:
    vm: build-vm
    resource_group: rg-build
    select: os
    sku: Premium_LRS
    allow_deallocate: true

- name: Raise the OS disk's performance tier for the build (no downtime)
  goldenimage.azure.disk_tier:
    vm: build-vm
    resource_group: rg-build
    tier: P30

- name: Set IOPS and throughput of a Premium SSD v2 data disk
  goldenimage.azure.disk_tier:
    vm: build-vm
    resource_group: rg-build
    luns: [0]
    iops: 6000
    mbps: 250

- name: Encrypt every disk of the build VM with a customer-managed key (deallocates and restarts it)
  goldenimage.azure.disk_tier:
    vm: build-vm
    resource_group: rg-build
    select: all
    disk_encryption_set: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-keys/providers/Microsoft.Compute/diskEncryptionSets/des-weu
    allow_deallocate: true

- name: Return a detached disk to platform-managed keys
  goldenimage.azure.disk_tier:
    name: [data1]
    resource_group: rg-build
    encryption_type: EncryptionAtRestWithPlatformKey

- name: Store a detached disk on Standard SSD
  goldenimage.azure.disk_tier:
    id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-build/providers/Microsoft.Compute/disks/data1
    sku: StandardSSD_LRS
"""

RETURN = r"""
disks:
  description: Each selected disk.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Disk name.
      type: str
      sample: build-vm_OsDisk_1
    id:
      description: Resource id (null for an unmanaged disk).
      type: str
      sample: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-build/providers/Microsoft.Compute/disks/build-vm_OsDisk_1
    role:
      description: V(os) or V(data) (null for a detached disk).
      type: str
      sample: os
    lun:
      description: LUN of a data disk.
      type: int
      sample: 0
    managed:
      description: Whether it is a managed disk (false for a VHD in a storage account).
      type: bool
      sample: true
    vhd_uri:
      description: Blob URI of an unmanaged disk.
      type: str
      sample: null
    changes:
      description: What changed (or would change).
      type: list
      elements: str
      sample: [sku, tier, encryption]
    before:
      description:
        - V(sku), V(tier), V(size_gb), V(iops), V(mbps), V(disk_state), V(encryption_type) and V(disk_encryption_set)
          (the set's id, null with platform keys) before.
      type: dict
      sample: {"sku": "Standard_LRS", "tier": null, "size_gb": 30, "iops": 500, "mbps": 60, "disk_state": "Attached",
               "encryption_type": "EncryptionAtRestWithPlatformKey", "disk_encryption_set": null}
    after:
      description: The same facts after the change, as Azure reports them (predicted in check mode).
      type: dict
      sample: {"sku": "Premium_LRS", "tier": "P30", "size_gb": 30, "iops": 5000, "mbps": 200, "disk_state": "Reserved",
               "encryption_type": "EncryptionAtRestWithCustomerKey",
               "disk_encryption_set": "/subscriptions/.../resourceGroups/rg-keys/providers/Microsoft.Compute/diskEncryptionSets/des-weu"}
    iops:
      description: Read/write IOPS of the result (the disk's C(diskIOPSReadWrite)).
      type: int
      sample: 5000
    mbps:
      description: Read/write throughput in MB/s of the result (the disk's C(diskMBpsReadWrite)).
      type: int
      sample: 200
vm:
  description: The VM the disks belong to.
  returned: when the disks are attached to a VM or O(vm) is given
  type: dict
  contains:
    id:
      description: VM resource id.
      type: str
      sample: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-build/providers/Microsoft.Compute/virtualMachines/build-vm
    name:
      description: VM name.
      type: str
      sample: build-vm
    vm_size:
      description: VM size.
      type: str
      sample: Standard_D2s_v3
    power_state_before:
      description: Power state before the task.
      type: str
      sample: running
    power_state:
      description: Power state after the task (the earlier one, restored).
      type: str
      sample: running
    deallocated:
      description: Whether the task deallocated the VM (and restored it).
      type: bool
      sample: true
    temporary_disk:
      description: The VM size's temporary (resource) disk, from the region's VM size list (only with O(vm)).
      type: dict
      sample: {"present": true, "size_mb": 16384, "size_gb": 16.0}
    disks:
      description: Every disk of the VM with its role, LUN and whether it is managed.
      type: list
      elements: dict
      sample: [{"name": "build-vm_OsDisk_1", "role": "os", "lun": null, "managed": true, "id": "/subscriptions/...", "vhd_uri": null}]
temp_disk:
  description:
    - Whether the VM's size has a temporary (resource) disk (the values of RV(vm.temporary_disk)). Its data can be
      lost; an image captured from the VM must not depend on it (see the C(goldenimage.azure.deprovision) role).
  returned: when O(vm) is given
  type: dict
  contains:
    present:
      description: Whether the size has a temporary disk; null when the region does not list the size.
      type: bool
      sample: true
    size_mb:
      description: Its size in MB (0 without one).
      type: int
      sample: 16384
  sample: {"present": true, "size_mb": 16384}
seconds:
  description: Seconds per step (deallocate, update:<disk>, restore:start).
  returned: always
  type: dict
  sample: {"deallocate": 30.2, "update:build-vm_OsDisk_1": 5.1, "restore:start": 25.4}
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

from ansible_collections.goldenimage.azure.plugins.module_utils import _disks, _encryption, _vmstate
from ansible_collections.goldenimage.azure.plugins.module_utils import _temp_disk
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_module import (
    AzureModule,
)

CHANGE_OPTIONS = ("sku", "tier", "size_gb", "iops", "mbps", "disk_encryption_set", "encryption_type")


def main():
    module = AzureModule(
        argument_spec=dict(
            id=dict(type="str"),
            name=dict(type="list", elements="str"),
            resource_group=dict(type="str"),
            vm=dict(type="str"),
            select=dict(type="str", choices=["os", "data", "all"]),
            luns=dict(type="list", elements="int"),
            sku=dict(type="str", choices=list(_disks.SKUS)),
            tier=dict(type="str", choices=list(_disks.TIER_NAMES)),
            size_gb=dict(type="int"),
            iops=dict(type="int"),
            mbps=dict(type="int"),
            disk_encryption_set=dict(type="str"),
            encryption_type=dict(type="str", choices=list(_encryption.DISK_ENCRYPTION_TYPES)),
            allow_deallocate=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=1800),
        ),
        mutually_exclusive=[("id", "name", "vm"), ("select", "luns")],
        required_one_of=[("id", "name", "vm")],
        required_by={"name": "resource_group"},
        supports_check_mode=True,
    )
    p = module.params
    module.require_seconds(wait_timeout=1)
    if (p["select"] or p["luns"]) and not p["vm"]:
        module.fail_json(msg="select and luns choose the disks of a VM; they need vm")
    if not any(p[key] is not None for key in CHANGE_OPTIONS):
        module.fail_json(msg="nothing to change: give at least one of %s" % ", ".join(CHANGE_OPTIONS))
    try:
        disks = vm = None
        subscription = parameter = None  # an id is acted on in its own subscription
        if p["id"]:
            parsed = _vmstate.parse_resource_id(p["id"], "Microsoft.Compute/disks", parameter="id")
            disks = [(parsed["resource_group"], parsed["name"])]
            subscription, parameter = parsed["subscription"], "id"
        elif p["name"]:
            disks = [(p["resource_group"], name) for name in p["name"]]
        elif p["vm"].startswith("/"):
            parsed = _vmstate.parse_resource_id(p["vm"], "Microsoft.Compute/virtualMachines", parameter="vm")
            vm = (parsed["resource_group"], parsed["name"])
            subscription, parameter = parsed["subscription"], "vm"
        else:
            if not p["resource_group"]:
                module.fail_json(msg="vm: a VM name needs resource_group (or give the VM's resource id)")
            vm = (p["resource_group"], p["vm"])
        session = module.session
        if subscription:
            session = session.for_subscription(subscription, parameter=parameter)
        result = _disks.change_disks(
            session.compute(), disks=disks, vm=vm, select=p["select"], luns=p["luns"], sku=p["sku"],
            tier=p["tier"], size_gb=p["size_gb"], iops=p["iops"], mbps=p["mbps"],
            disk_encryption_set=p["disk_encryption_set"], encryption_type=p["encryption_type"],
            allow_deallocate=p["allow_deallocate"], check_mode=module.check_mode, wait_timeout=p["wait_timeout"])
    except AzureError as err:
        module.fail_azure(err)
    if vm is not None and (result.get("vm") or {}).get("temporary_disk") is not None:
        result["temp_disk"] = _temp_disk.from_size_report(result["vm"]["temporary_disk"])
    module.exit_result(result)


if __name__ == "__main__":
    main()
