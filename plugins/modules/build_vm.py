#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: build_vm
short_description: Create or delete the temporary build environment of a golden-image build
version_added: 0.1.0
description:
  - With O(state=present), creates in one task everything a build VM needs, in a resource group of its own
    tagged C(goldenimage-build-id) and C(goldenimage-temporary=true) - a virtual network and subnet, a network
    security group that admits only SSH (22) or WinRM over HTTPS (5986) from O(allowed_sources), a Standard
    static public IP, a network interface and the VM itself from a resolved image reference.
  - With O(subnet_id) the VM joins an existing subnet instead (no VNet is created), and with O(public_ip=false) no
    public IP is created (a private build, reached on RV(private_ip)).
  - The VNet, NSG and public IP are created concurrently; every wait is bounded by O(wait_timeout) and a
    timeout names the operation that did not finish.
  - Idempotent - resources that exist are kept; a run where the VM exists reports C(changed=false).
  - With O(state=absent) and O(scope=group), deletes the temporary resource group and everything in it. Only a group
    with both tags C(goldenimage-temporary=true) and C(goldenimage-build-id=<build_id>) (and, with O(run_id),
    C(goldenimage-run-id=<run_id>)) is deleted (Packer deleted users' own groups, packer#5658); O(build_id) is
    required. A group that is already gone, or disappears meanwhile, counts as deleted.
  - With O(state=absent) and O(scope=vm), deletes only the VM and its OS disk (after capture), keeping the group.
    As with O(scope=group), only a VM tagged C(goldenimage-temporary=true) and C(goldenimage-build-id=<build_id>)
    (and, with O(run_id), C(goldenimage-run-id=<run_id>)) is deleted; a VM of the same name without them (a user's)
    is refused and nothing is deleted.
  - With O(state=absent) and O(scope=outputs), deletes the images and gallery versions tagged with O(build_id) and
    O(run_id) - what this run created, never an earlier run's output of the same build id (rollback after a failed
    capture or replication).
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
    details: The module reports what it created or deleted in its return values.
  action_group:
    support: full
    membership:
      - goldenimage.azure.azure
options:
  state:
    description:
      - V(present) creates the build environment, V(absent) deletes it (see O(scope)).
    type: str
    choices: [present, absent]
    default: present
  scope:
    description:
      - With O(state=absent), V(group) deletes the whole temporary resource group, V(vm) only the VM and its OS disk.
      - V(outputs) rolls back a failed build - it deletes the managed images in the resource group of O(managed_image)
        and the versions of the gallery image O(gallery) whose C(goldenimage-build-id) tag is O(build_id), and nothing
        else. O(run_id) is required - only outputs tagged C(goldenimage-run-id=<run_id>) are deleted.
    type: str
    choices: [group, vm, outputs]
    default: group
  build_id:
    description:
      - Identifier of the build, written to the C(goldenimage-build-id) tag of the group and every resource.
      - 1-60 letters, digits, C(-), C(_) or C(.), starting with a letter or digit, not ending with C(.), no C(..)
        or C(/) (it names the resource group and, in the builder role, a directory on the controller).
      - Required. With O(state=absent) the group is deleted only if its tag matches.
    type: str
  run_id:
    description:
      - Identifier of this run (for example a random UUID per playbook run), written to the C(goldenimage-run-id)
        tag. A build id can be reused; the run id tells this run's resources from an earlier run's.
      - With O(state=present), an existing group of the same O(build_id) but another run id is refused.
      - With O(state=absent), only resources with this tag are deleted. Required with O(scope=outputs).
      - 1-64 letters, digits, C(-) or C(_).
    type: str
  resource_group:
    description:
      - Name of the temporary resource group. It must not exist, or be the temporary group of the same O(build_id).
      - Defaults to C(gi-build-<build_id>).
    type: str
  location:
    description: Azure region of the build. Required with O(state=present).
    type: str
  vm_name:
    description:
      - Name of the build VM; the other resources are named after it (C(<vm_name>-vnet), C(-nsg), C(-pip), C(-nic),
        C(-osdisk)). Defaults to C(gi-<build_id>), shortened to 64 characters.
    type: str
  computer_name:
    description:
      - Host name inside the guest. Defaults to O(vm_name) (Windows - its first 15 characters).
    type: str
  image:
    description:
      - The source image, already resolved to a concrete version (see M(goldenimage.azure.image_facts)).
      - A URN C(Publisher:Offer:Sku:Version), a managed image or gallery image version resource id, or a dict with
        C(publisher), C(offer), C(sku) and C(version), or with C(id), or with C(urn).
      - The version V(latest) is refused, so every build records what it was built from.
      - Required with O(state=present).
    type: raw
  plan:
    description: Marketplace purchase plan of the image, when it has one.
    type: dict
    suboptions:
      name:
        description: Plan name.
        type: str
        required: true
      product:
        description: Plan product (the offer).
        type: str
        required: true
      publisher:
        description: Plan publisher.
        type: str
        required: true
  os_type:
    description: Operating system of the image; decides SSH or WinRM.
    type: str
    choices: [linux, windows]
    default: linux
  vm_size:
    description: Size of the build VM.
    type: str
    default: Standard_D2s_v5
  admin_username:
    description: Administrator user created in the guest.
    type: str
    default: azureuser
  ssh_public_key:
    description: OpenSSH public key for O(admin_username). Required for Linux.
    type: str
  ssh_host_key:
    description:
      - A controller-generated ed25519 host key for the Linux guest, handed over as cloud-init custom data
        (C(#cloud-config) C(ssh_keys)), so the controller can pin it (C(StrictHostKeyChecking=yes)).
      - Never logged. Mutually exclusive with O(custom_data).
    type: dict
    suboptions:
      private_key:
        description: The OpenSSH private key (content, not a path).
        type: str
        required: true
      public_key:
        description: The matching C(ssh-ed25519 ...) public key.
        type: str
        required: true
  admin_password:
    description: Administrator password. Required for Windows. Never logged.
    type: str
  winrm_certificate_url:
    description:
      - Key Vault secret URL of a certificate for the WinRM HTTPS listener (Windows), passed as
        C(osProfile.windowsConfiguration.winRM.listeners[{protocol=Https, certificateUrl}]).
      - With O(key_vault_id), also installed from C(osProfile.secrets) into C(LocalMachine\My), as Azure requires.
    type: str
  key_vault_id:
    description: Resource id of the Key Vault holding O(winrm_certificate_url).
    type: str
  winrm_private_key:
    description:
      - PEM private key (unencrypted, RSA or EC; content, not a path) of the per-build WinRM HTTPS certificate (Windows).
      - Once the public IP exists and before the VM, the module self-signs a certificate for it, valid 24 hours, with
        the public address (IP SAN) and the computer name (DNS SAN), returns it in RV(winrm_certificate) and hands the
        certificate and key to the guest as custom data - a PowerShell script that imports them into
        C(LocalMachine\My) and creates the 5986 listener. Azure runs no custom data by itself - once it created the
        VM (not in check mode, not when the VM existed), the module runs the script through the VM's Run Command
        (C(RunPowerShellScript) reading C(C:\AzureData\CustomData.bin), so the key is not sent again), within
        O(wait_timeout); a failed run command or any output on its StdErr fails the task. Trust exactly
        RV(winrm_certificate) to pin the listener.
      - Never logged. Mutually exclusive with O(custom_data) and O(winrm_certificate_url).
    type: str
  custom_data:
    description: Base64-encoded custom data passed to the guest. Never logged.
    type: str
  os_disk_type:
    description: Storage type of the OS disk while building.
    type: str
    choices: [Standard_LRS, StandardSSD_LRS, Premium_LRS, StandardSSD_ZRS, Premium_ZRS]
    default: Premium_LRS
  os_disk_size_gb:
    description: Size of the OS disk in GiB; at least the image's size. Defaults to the image's size.
    type: int
  os_disk_tier:
    description:
      - Performance tier of the Premium SSD OS disk while building (for example V(P30)), set right after creation.
      - For tier changes with the VM deallocated, use M(goldenimage.azure.disk_tier).
    type: str
  data_disks:
    description:
      - Data disks of the build VM, created blank (C(createOption=Empty)) with it as managed disks named
        C(<vm_name>-datadisk-<lun>), deleted with the VM (C(deleteOption=Delete)).
      - Your customisation tasks can partition and format them; a managed image or gallery version captured
        from the VM (M(goldenimage.azure.image_capture)) carries them as data disk images with the same LUNs.
      - Checked before anything is created - each O(data_disks[].lun) 0-63 and used once, no more disks than
        O(vm_size) takes, and Premium SSD only on a size with premium storage (capabilities C(MaxDataDiskCount) and
        C(PremiumIO) of the region's Resource SKUs list, read once, only when there are data disks).
      - Only for a VM this run creates; a VM that exists is kept as it is.
    type: list
    elements: dict
    default: []
    suboptions:
      lun:
        description: Logical unit number, 0-63, unique per VM; the guest sees the disk under this LUN.
        type: int
        required: true
      size_gb:
        description: Size in GiB, 1-32767.
        type: int
        required: true
      sku:
        description:
          - Storage type of the disk. Defaults to O(os_disk_type). Premium SSD needs a premium-capable O(vm_size)
            (an C(s) size).
          - V(PremiumV2_LRS) and V(UltraSSD_LRS) are not offered - they need a zonal VM.
        type: str
        choices: [Standard_LRS, StandardSSD_LRS, Premium_LRS, StandardSSD_ZRS, Premium_ZRS]
      caching:
        description: Host caching of the disk.
        type: str
        choices: ["None", ReadOnly, ReadWrite]
        default: "None"
  security_type:
    description:
      - Security type of the VM. V(TrustedLaunch) and V(ConfidentialVM) need a Gen2 image and a gallery as output.
    type: str
    choices: [Standard, TrustedLaunch, ConfidentialVM]
    default: Standard
  secure_boot:
    description: Secure boot, with O(security_type=TrustedLaunch) or V(ConfidentialVM).
    type: bool
    default: true
  vtpm:
    description:
      - Virtual TPM, with O(security_type=TrustedLaunch) or V(ConfidentialVM). A ConfidentialVM needs it.
    type: bool
    default: true
  security_encryption_type:
    description:
      - With O(security_type=ConfidentialVM) only - how the OS disk is encrypted (the disk's
        C(managedDisk.securityProfile.securityEncryptionType), which Azure requires for a Confidential VM).
      - V(VMGuestStateOnly) (the default) encrypts the VM guest state (vTPM); V(DiskWithVMGuestState) also the OS disk
        (needs O(secure_boot)); V(NonPersistedTPM) keeps no TPM state.
      - A ConfidentialVM also needs a confidential size (DCasv5, DCadsv5, ECasv5, ECadsv5, DCesv5, ECesv5...). Every
        rule is checked before anything is created, naming the option.
    type: str
    choices: [VMGuestStateOnly, DiskWithVMGuestState, NonPersistedTPM]
  disk_encryption_set:
    description:
      - Resource id of a disk encryption set (C(Microsoft.Compute/diskEncryptionSets)) that encrypts the OS disk and
        every data disk with a customer-managed key (C(managedDisk.diskEncryptionSet.id)); the disks take the set's
        encryption type (customer key, or platform and customer keys).
      - The set must exist, in the build's subscription and in O(location); both are checked before anything is
        created, naming this option.
    type: str
  encryption_at_host:
    description:
      - Encrypt the VM's temporary disk and disk caches on the host (C(securityProfile.encryptionAtHost)).
      - The subscription needs the C(Microsoft.Compute/EncryptionAtHost) feature registered
        (C(az feature register --namespace Microsoft.Compute --name EncryptionAtHost)); Azure refuses the VM otherwise.
    type: bool
    default: false
  allowed_sources:
    description:
      - Address prefixes (the controller's public address or CIDR) allowed to reach SSH or WinRM. Required with
        O(state=present); the builder role discovers the controller's public address.
      - V(*), V(Internet), V(Any), V(0.0.0.0/0) admit any source and are refused unless O(allow_any_source=true).
    type: list
    elements: str
  allow_any_source:
    description: Allow O(allowed_sources) to admit any address (for example V(*)). Off by default.
    type: bool
    default: false
  tags:
    description: Extra tags for the group and every resource of the build.
    type: dict
    default: {}
  public_ip_tags:
    description: Extra tags for the public IP only (ignored with O(public_ip=false)).
    type: dict
    default: {}
  subnet_id:
    description:
      - Resource id of an existing subnet to build in (a private build), for example a subnet of a hub or spoke VNet
        in another resource group, or another subscription (read with the same credential).
      - The subnet is read before anything is created - it must exist, lie in a VNet of O(location) and not in the
        build's own temporary group; a malformed id, a missing subnet or another region fails naming this option.
      - With it the build creates no VNet. The NSG (only O(allowed_sources) to SSH 22 or WinRM 5986) is still
        created in the build group and attached to the NIC only, so the build opens nothing else of your subnet.
      - Deleting the build (O(state=absent)) deletes only the temporary group - never your VNet or subnet.
    type: str
  public_ip:
    description:
      - Whether to create a public IP for the build VM. With V(false) none is created; the VM is reached on its
        private address RV(private_ip) (from a controller or jump host inside the network, see the builder role's
        C(jump_host)). Usually with O(subnet_id) and O(allowed_sources) naming the controller's or jump host's
        private address.
    type: bool
    default: true
  managed_image:
    description:
      - With O(scope=outputs), where the build's managed image went - C(resource_group) (other keys are ignored,
        so the C(managed_image) option of M(goldenimage.azure.image_capture) can be passed as it is).
    type: dict
  gallery:
    description:
      - With O(scope=outputs), where the build's gallery version went - C(resource_group), C(name) and C(image)
        (other keys are ignored, as for O(managed_image)).
    type: dict
  wait:
    description: With O(state=absent), wait until the deletion finished.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for all the operations of this task together; a timeout names the operation.
    type: int
    default: 1800
  lease_seconds:
    description:
      - With O(state=present), the lease of the temporary resource group it creates - tags
        C(goldenimage-lease-created) and C(goldenimage-lease-expires) (ISO 8601 UTC, for example
        V(2026-12-03T11:20:00Z)), the creation time plus O(lease_seconds).
      - After the expiry M(goldenimage.azure.build_sweep) deletes the group, so O(lease_seconds) must cover the whole
        build - creation, connection, customisation, generalization, capture and replication, deletion. The main job
        sets it from its timeouts. At least 60; an existing group keeps its lease.
    type: int
    default: 28800
    version_added: 1.1.0
  build_dir:
    description:
      - With O(state=absent) and O(scope=group), the controller directory that holds one directory per build id (the
        builder role's C(builder_build_dir)). C(<build_dir>/<build_id>), which holds the build's private SSH key, is
        removed in the same task, after the group's deletion and also when the deletion failed, so the key never
        outlives the cleanup. Never through a symlink, never outside O(build_dir).
      - Unset, no directory is touched.
    type: path
    version_added: 1.1.0
notes:
  - Names follow O(vm_name); the resource group's tags mark it as temporary, so the builder role's cleanup and any
    later O(state=absent) run can remove it safely, on success and on failure alike.
seealso:
  - module: goldenimage.azure.image_facts
  - module: goldenimage.azure.vm_generalize
  - module: goldenimage.azure.image_capture
  - name: The goldenimage.azure.builder role
    description: Creates build VMs with this module, waits for them and cleans up.
    link: https://github.com/goldenimage/azure/blob/main/roles/builder/README.md
"""

EXAMPLES = r"""
- name: Resolve the base image
  goldenimage.azure.image_facts:
    location: westeurope
    urn: Canonical:ubuntu-24_04-lts:server:latest
  register: base

- name: Create the build VM
  goldenimage.azure.build_vm:
    build_id: ubuntu-2404-20261126t0100
    location: westeurope
    image: "{{ base.image.urn }}"
    ssh_public_key: "{{ lookup('ansible.builtin.file', build_dir ~ '/id_ed25519.pub') }}"
    vm_size: Standard_D4s_v5
    os_disk_type: Premium_LRS
    os_disk_tier: P30
    security_type: TrustedLaunch
    allowed_sources: [203.0.113.7/32]
    run_id: "{{ run_id }}"
  register: build

- name: Create a build VM with two blank data disks (LUNs 0 and 3)
  goldenimage.azure.build_vm:
    build_id: ubuntu-2404-data-20261126t0100
    location: westeurope
    image: "{{ base.image.urn }}"
    ssh_public_key: "{{ lookup('ansible.builtin.file', build_dir ~ '/id_ed25519.pub') }}"
    vm_size: Standard_D4s_v5
    data_disks:
      - {lun: 0, size_gb: 64, sku: Premium_LRS, caching: ReadOnly}
      - {lun: 3, size_gb: 128, sku: StandardSSD_LRS}
    allowed_sources: [203.0.113.7/32]
    run_id: "{{ run_id }}"
  register: build_with_data

- name: Build privately in an existing subnet of another resource group, without a public IP
  goldenimage.azure.build_vm:
    build_id: ubuntu-2404-private-20261126t0100
    location: westeurope
    image: "{{ base.image.urn }}"
    ssh_public_key: "{{ lookup('ansible.builtin.file', build_dir ~ '/id_ed25519.pub') }}"
    subnet_id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/build
    public_ip: false
    allowed_sources: [10.20.0.4/32]   # the controller's (or jump host's) private address
    run_id: "{{ run_id }}"
  register: private_build   # connect to private_build.private_ip

- name: Encrypt the build VM's disks with a customer-managed key, and its temp disk and caches on the host
  goldenimage.azure.build_vm:
    build_id: ubuntu-2404-cmk-20261126t0100
    location: westeurope
    image: "{{ base.image.urn }}"
    ssh_public_key: "{{ lookup('ansible.builtin.file', build_dir ~ '/id_ed25519.pub') }}"
    disk_encryption_set: "/subscriptions/{{ subscription_id }}/resourceGroups/rg-keys/providers/Microsoft.Compute/diskEncryptionSets/des-westeurope"
    encryption_at_host: true   # needs the subscription feature Microsoft.Compute/EncryptionAtHost
    allowed_sources: [203.0.113.7/32]
    run_id: "{{ run_id }}"
  register: cmk_build

- name: Delete the build environment and the build's directory (its SSH key)
  goldenimage.azure.build_vm:
    state: absent
    build_id: ubuntu-2404-20261126t0100
    run_id: "{{ run_id }}"
    resource_group: "{{ build.resource_group }}"
    build_dir: "{{ lookup('ansible.builtin.env', 'HOME') }}/.cache/goldenimage/builds"
"""

RETURN = r"""
build_id:
  description: The build's id.
  returned: always
  type: str
  sample: ubuntu-2404-20261126t0100
resource_group:
  description: Name of the temporary resource group.
  returned: always
  type: str
  sample: gi-build-ubuntu-2404-20261126t0100
location:
  description: Region of the build.
  returned: state=present
  type: str
  sample: westeurope
vm_name:
  description: Name of the build VM.
  returned: always
  type: str
  sample: gi-ubuntu-2404-20261126t0100
vm_id:
  description: Resource id of the build VM.
  returned: state=present
  type: str
  sample: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/gi-build-b1/providers/Microsoft.Compute/virtualMachines/gi-b1
vm_unique_id:
  description: The VM's unique id (C(properties.vmId)); null in check mode.
  returned: state=present
  type: str
  sample: 0b5f0a51-44a4-4d4e-9a0e-1d1f2b3c4d5e
os_type:
  description: V(linux) or V(windows).
  returned: state=present
  type: str
  sample: linux
winrm_certificate:
  description:
    - The per-build WinRM certificate (PEM, no key) issued for O(winrm_private_key) when this run created the VM.
  returned: when O(winrm_private_key) is given and the VM was created
  type: str
  sample: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
winrm_certificate_thumbprint:
  description: SHA-1 thumbprint of RV(winrm_certificate), as Windows names it in the listener.
  returned: when O(winrm_private_key) is given and the VM was created
  type: str
  sample: 3F2A9C0D6E1B4A7F8C5D2E9B0A1C3D5E7F9A2B4C
public_ip:
  description: Public address of the build VM; null in check mode and with O(public_ip=false).
  returned: state=present
  type: str
  sample: 20.31.4.17
private_ip:
  description:
    - Private address of the build VM (the NIC's primary IP configuration); what a private build connects to. Null in
      check mode.
  returned: state=present
  type: str
  sample: 10.20.1.4
subnet_id:
  description: Id of the subnet the NIC is in - O(subnet_id) when given, else the build VNet's subnet.
  returned: state=present
  type: str
  sample: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/build
port:
  description: Port to reach the guest on (22 for SSH, 5986 for WinRM over HTTPS).
  returned: state=present
  type: int
  sample: 22
admin_username:
  description: Administrator user in the guest.
  returned: state=present
  type: str
  sample: azureuser
os_disk_id:
  description: Resource id of the VM's OS disk.
  returned: state=present
  type: str
  sample: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/gi-build-b1/providers/Microsoft.Compute/disks/gi-b1-osdisk
os_disk_name:
  description: Name of the VM's OS disk.
  returned: state=present
  type: str
  sample: gi-ubuntu-2404-20261126t0100-osdisk
os_disk_tier:
  description: Performance tier set by this run, or null.
  returned: state=present
  type: str
  sample: P30
image_reference:
  description: The image reference the VM was created from (wire form).
  returned: state=present
  type: dict
  sample: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server, version: 24.04.202611110}
security_type:
  description: Security type of the VM.
  returned: state=present
  type: str
  sample: TrustedLaunch
disk_encryption_set:
  description:
    - Id of the disk encryption set that encrypts the OS and data disks (as stored by Azure), or null for
      platform-managed keys.
  returned: state=present
  type: str
  sample: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-keys/providers/Microsoft.Compute/diskEncryptionSets/des-westeurope
encryption_at_host:
  description: Whether the VM encrypts its temporary disk and caches on the host (C(securityProfile.encryptionAtHost)).
  returned: state=present
  type: bool
  sample: true
temp_disk:
  description:
    - Whether the VM size has a temporary (resource) disk, from the location's Resource SKUs (capability
      C(MaxResourceVolumeMB)). Both values are null when the location does not list the size.
    - An image built on a size with one carries what waagent and cloud-init set up for it; the
      C(goldenimage.azure.deprovision) role makes the image boot on sizes without one (C(deprovision_temp_disk_mount)).
  returned: state=present
  type: dict
  contains:
    present:
      description: Whether the size has a temporary disk.
      type: bool
      sample: false
    size_mb:
      description: Its size in MB (0 without one).
      type: int
      sample: 0
  sample: {"present": true, "size_mb": 76800}
data_disks:
  description:
    - The VM's data disks, by LUN (from the VM; in check mode, what would be created). Empty without O(data_disks).
  returned: state=present
  type: list
  elements: dict
  contains:
    lun:
      description: Logical unit number.
      type: int
    name:
      description: Name of the managed disk.
      type: str
    id:
      description: Resource id of the managed disk.
      type: str
    size_gb:
      description: Size in GiB.
      type: int
    sku:
      description: Storage type.
      type: str
    caching:
      description: Host caching.
      type: str
  sample:
    - lun: 0
      name: gi-b1-datadisk-0
      id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/gi-build-b1/providers/Microsoft.Compute/disks/gi-b1-datadisk-0
      size_gb: 64
      sku: Premium_LRS
      caching: ReadOnly
    - lun: 3
      name: gi-b1-datadisk-3
      id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/gi-build-b1/providers/Microsoft.Compute/disks/gi-b1-datadisk-3
      size_gb: 128
      sku: StandardSSD_LRS
      caching: None
resource_ids:
  description: Ids of everything the build created.
  returned: state=present
  type: dict
  contains:
    resource_group:
      description: The temporary resource group.
      type: str
    virtual_network:
      description: The VNet; null with O(subnet_id) (the build created none).
      type: str
    subnet:
      description: The subnet (with O(subnet_id), the user's).
      type: str
    network_security_group:
      description: The NSG.
      type: str
    public_ip:
      description: The public IP; null with O(public_ip=false).
      type: str
    network_interface:
      description: The NIC.
      type: str
    virtual_machine:
      description: The VM.
      type: str
    os_disk:
      description: The OS disk.
      type: str
  sample:
    resource_group: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/gi-build-b1
    virtual_machine: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/gi-build-b1/providers/Microsoft.Compute/virtualMachines/gi-b1
deleted:
  description: Whether this run deleted the group (O(scope=group)) or the VM (O(scope=vm)).
  returned: state=absent
  type: bool
  sample: true
deleted_ids:
  description: With O(scope=outputs), ids of the images and gallery versions deleted (or to delete, in check mode).
  returned: state=absent and scope=outputs
  type: list
  elements: str
  sample: [/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-images/providers/Microsoft.Compute/images/img-ubuntu]
build_dir_removed:
  description:
    - With O(scope=group) and O(build_dir), the build directory removed (in check mode, to remove); null when there
      was none.
  returned: state=absent and scope=group
  type: str
  sample: /home/me/.cache/goldenimage/builds/b1
already_absent:
  description: With O(scope=group), the group did not exist when the task started.
  returned: state=absent and scope=group
  type: bool
  sample: false
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

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_module import AzureModule
from ansible_collections.goldenimage.azure.plugins.module_utils._build_dir import remove_build_directory_of
from ansible_collections.goldenimage.azure.plugins.module_utils._build_vm import (
    check_build_id,
    check_ids,
    check_run_id,
    create,
    default_names,
    delete_group,
    delete_outputs,
    delete_vm,
)


def argument_spec():
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        scope=dict(type="str", choices=["group", "vm", "outputs"], default="group"),
        build_id=dict(type="str"),
        run_id=dict(type="str"),
        resource_group=dict(type="str"),
        location=dict(type="str"),
        vm_name=dict(type="str"),
        computer_name=dict(type="str"),
        image=dict(type="raw"),
        plan=dict(type="dict", options=dict(
            name=dict(type="str", required=True),
            product=dict(type="str", required=True),
            publisher=dict(type="str", required=True),
        )),
        os_type=dict(type="str", choices=["linux", "windows"], default="linux"),
        vm_size=dict(type="str", default="Standard_D2s_v5"),
        admin_username=dict(type="str", default="azureuser"),
        ssh_public_key=dict(type="str", no_log=False),
        ssh_host_key=dict(type="dict", no_log=True, options=dict(
            private_key=dict(type="str", required=True, no_log=True),
            public_key=dict(type="str", required=True, no_log=False),
        )),
        admin_password=dict(type="str", no_log=True),
        winrm_certificate_url=dict(type="str", no_log=False),
        key_vault_id=dict(type="str", no_log=False),
        winrm_private_key=dict(type="str", no_log=True),
        custom_data=dict(type="str", no_log=True),
        os_disk_type=dict(type="str", default="Premium_LRS",
                          choices=["Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS"]),
        os_disk_size_gb=dict(type="int"),
        os_disk_tier=dict(type="str"),
        data_disks=dict(type="list", elements="dict", default=[], options=dict(
            lun=dict(type="int", required=True),
            size_gb=dict(type="int", required=True),
            sku=dict(type="str", choices=["Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS",
                                          "Premium_ZRS"]),
            caching=dict(type="str", choices=["None", "ReadOnly", "ReadWrite"], default="None"),
        )),
        security_type=dict(type="str", choices=["Standard", "TrustedLaunch", "ConfidentialVM"], default="Standard"),
        secure_boot=dict(type="bool", default=True),
        vtpm=dict(type="bool", default=True),
        security_encryption_type=dict(type="str", choices=["VMGuestStateOnly", "DiskWithVMGuestState",
                                                           "NonPersistedTPM"]),
        disk_encryption_set=dict(type="str"),
        encryption_at_host=dict(type="bool", default=False),
        allowed_sources=dict(type="list", elements="str"),
        allow_any_source=dict(type="bool", default=False),
        tags=dict(type="dict", default={}),
        public_ip_tags=dict(type="dict", default={}),
        subnet_id=dict(type="str"),
        public_ip=dict(type="bool", default=True),
        managed_image=dict(type="dict"),
        gallery=dict(type="dict"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        lease_seconds=dict(type="int", default=28800),
        build_dir=dict(type="path"),
    )


def main():
    module = AzureModule(
        argument_spec(),
        supports_check_mode=True,
        required_if=[
            ("state", "present", ("build_id", "location", "image")),
            ("os_type", "windows", ("admin_password",)),
        ],
        mutually_exclusive=[("ssh_host_key", "custom_data"), ("winrm_private_key", "custom_data"),
                            ("winrm_private_key", "winrm_certificate_url")],
    )
    p = module.params
    build_id = p["build_id"]
    resource_group, vm_name = p["resource_group"], p["vm_name"]
    result = {"changed": False, "build_id": build_id, "resource_group": resource_group, "vm_name": vm_name}
    if p["state"] == "present":
        try:
            result = create(module.session, p, module.check_mode)
        except AzureError as err:
            if build_id:
                result["resource_group"], result["vm_name"] = default_names(build_id, resource_group, vm_name)
            module.fail_azure(err, **result)
        module.exit_json(**result)
    try:
        # Before any request: the build id names a group and tags what may be deleted.
        check_build_id(build_id)
        check_run_id(p["run_id"])
        check_ids(p)
    except AzureError as err:
        module.fail_json(msg=err.message, **result)
    resource_group, vm_name = default_names(build_id, resource_group, vm_name)
    result.update(resource_group=resource_group, vm_name=vm_name)
    try:
        session = module.session
        if p["scope"] == "outputs":
            changed, facts = delete_outputs(session.compute(), build_id, p["managed_image"], p["gallery"],
                                            p["wait_timeout"], module.check_mode, run_id=p["run_id"])
        elif p["scope"] == "vm":
            changed, facts = delete_vm(session.compute(), resource_group, vm_name, p["wait_timeout"],
                                       module.check_mode, build_id=build_id, run_id=p["run_id"],
                                       resources=session.resources())
        else:
            try:
                changed, facts = delete_group(session.resources(), resource_group, build_id, p["wait"],
                                              p["wait_timeout"], module.check_mode, run_id=p["run_id"])
            finally:  # the build's private key never outlives its cleanup, not even a failed deletion
                removed = remove_build_directory_of(p["build_dir"], build_id, module.check_mode)
                result["build_dir_removed"] = removed["path"]
            if removed["msg"]:
                module.fail_json(msg=removed["msg"], **dict(result, **facts))
            changed = changed or bool(removed["path"])
    except AzureError as err:
        module.fail_azure(err, **result)
    result.update(facts)
    result["changed"] = changed
    module.exit_json(**result)


if __name__ == "__main__":
    main()
