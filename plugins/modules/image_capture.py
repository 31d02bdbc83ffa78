#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_capture
short_description: Capture a generalized VM, disk, snapshot, managed image or VHD as a managed image and/or a Compute Gallery image version
version_added: 1.0.0
description:
  - Creates a managed image, an Azure Compute Gallery image version, or both, from one source.
  - "Sources: a generalized VM, a managed image, a managed disk, a snapshot, or a VHD blob URI (unmanaged disks and
    uploaded VHDs)."
  - Infers the OS type, OS state, Hyper-V generation and security type (Standard, Trusted Launch, Confidential VM)
    from the source, so that the targets carry the right values without being told.
  - Data disks come along with a VM or managed image source - a build VM's data disks (M(goldenimage.azure.build_vm)
    O(goldenimage.azure.build_vm#module:data_disks)) become the managed image's data disks and the gallery version's
    data disk images, each at its LUN, as RV(source.data_disks) lists them. Disk, snapshot and VHD sources have
    an OS disk only.
  - Before any request, the module checks the names (managed image, gallery, image definition, resource groups) and
    the gallery version format against Azure's naming rules, so check mode refuses what the real run would.
    Regions (target regions and locations) are checked against the subscription's region list, with the closest
    names for a typo, before anything is created.
  - Before anything is created, the module checks every target against the source and fails with a message that
    names the problem, leaving Azure unchanged. It refuses a managed image from a Trusted Launch or Confidential VM
    source (Azure does, after the fact) and points to the gallery target; it refuses a gallery image definition
    (existing, or about to be created with O(gallery.create_definition)) whose OS type, OS state, Hyper-V generation
    or security type does not fit the source.
  - O(gallery.version=auto) picks the next patch version after the highest existing one in numeric order
    (C(1.0.10) after C(1.0.9)); when a version made from the same source exists it is reused, so a re-run changes
    nothing.
  - The gallery version is awaited within O(wait_timeout), including replication to every target region, and the
    per-region replication status is returned. A version that fails or times out is deleted, unless
    O(gallery.keep_failed=true), so no broken version is left for C(latest) to pick.
  - Tags C(goldenimage-source-urn) (the base image URN with its concrete version, when the source knows it) and
    C(goldenimage-build-id) (O(build_id)) are added to what is created.
  - A re-run after the source was deleted (the build VM usually is) finds the image and version made from it and
    reports them unchanged; only creating something needs the source.
  - "Idempotent: an existing image or version with the same name made from the same source is kept (C(changed=false));
    only its mutable settings are brought in line (tags; a version's target regions, replica counts, storage type,
    C(exclude_from_latest) and end-of-life date, with new regions replicated). One made from another source is an
    error unless O(force=true), which replaces it."
author:
  - goldenimage.azure contributors (@goldenimage)
options:
  source:
    description:
      - What to capture.
      - A resource id of a VM, managed image, managed disk or snapshot, or the HTTPS URI of a C(.vhd) page blob.
      - A resource id is read in the subscription it names, with the same credential; the targets are created in
        O(subscription_id).
      - Or a dictionary with V(type) (V(vm), V(image), V(disk), V(snapshot) or V(vhd)) and either V(id), V(name) plus
        V(resource_group), or V(uri) (for V(vhd)).
      - A VM must be generalized and deallocated (see M(goldenimage.azure.vm_generalize)) unless the gallery image
        definition is C(Specialized).
    type: raw
    required: true
  os_type:
    description:
      - OS type of the source. Inferred for every source except a VHD, where it is required.
    type: str
    choices: [Linux, Windows]
  os_state:
    description:
      - OS state of the source. A VM's comes from its instance view; a managed image records it.
      - Disks, snapshots and VHDs do not record it; they are taken as V(Generalized) unless set here.
    type: str
    choices: [Generalized, Specialized]
  hyper_v_generation:
    description:
      - Hyper-V generation of the source. Inferred from the VM, disk, snapshot or image; V(V1) for a VHD unless set.
    type: str
    choices: [V1, V2]
  storage_account_id:
    description:
      - Resource id of the storage account that holds a VHD source; Azure needs it for a gallery version from a VHD.
    type: str
  managed_image:
    description:
      - Create a managed image. Not possible from Trusted Launch or Confidential VM sources.
    type: dict
    suboptions:
      name:
        description:
          - Image name, checked before any request against Azure's rule (1-80 letters, digits, underscores, periods
            and hyphens; starts with a letter or digit; ends with a letter, digit or underscore).
        type: str
        required: true
      resource_group:
        description: Resource group of the image.
        type: str
        required: true
      location:
        description: Region; defaults to the source's.
        type: str
      zone_resilient:
        description: Store the image on zone-redundant storage.
        type: bool
      storage_account_type:
        description: Storage type of the image's OS disk (not for VM sources).
        type: str
        choices: [Standard_LRS, Premium_LRS, StandardSSD_LRS, Premium_ZRS, StandardSSD_ZRS]
      disk_encryption_set:
        description:
          - Resource id of a disk encryption set that encrypts the image's OS and data disks with a customer-managed
            key (C(storageProfile.osDisk.diskEncryptionSet)). It must exist in the image's region; checked before
            anything is created, naming this option.
        type: str
  gallery:
    description:
      - Create a Compute Gallery image version.
    type: dict
    suboptions:
      name:
        description:
          - Gallery name, checked before any request (1-80 letters, digits, underscores and periods; no hyphens;
            starts with a letter or digit; does not end with a period).
        type: str
        required: true
      resource_group:
        description: Resource group of the gallery.
        type: str
        required: true
      image:
        description:
          - Name of the image definition in the gallery, checked before any request (1-80 letters, digits,
            underscores, periods and hyphens; starts with a letter or digit; does not end with a period or hyphen).
        type: str
        required: true
      version:
        description:
          - Version name C(MAJOR.MINOR.PATCH), or V(auto) for the next patch after the highest existing version
            (V(1.0.0) in an empty definition), or the existing version made from the same source.
          - Each part must fit a 32-bit integer; a malformed version fails before any request.
        type: str
        default: auto
      create_definition:
        description:
          - Create the gallery and the image definition when they do not exist. The definition takes the source's
            OS type, OS state, Hyper-V generation and security type (or O(gallery.security_type)).
          - Requires O(gallery.publisher), O(gallery.offer) and O(gallery.sku) for a new definition.
        type: bool
        default: false
      publisher:
        description: Publisher of the definition's identifier (for O(gallery.create_definition)).
        type: str
      offer:
        description: Offer of the definition's identifier.
        type: str
      sku:
        description: SKU of the definition's identifier.
        type: str
      security_type:
        description:
          - Security type of the definition. Defaults to the source's.
          - The V(*Supported) types accept only managed image and VHD sources of generation V2.
        type: str
        choices: [Standard, TrustedLaunch, TrustedLaunchSupported, ConfidentialVM, ConfidentialVMSupported,
                  TrustedLaunchAndConfidentialVmSupported]
      hyper_v_generation:
        description: Generation of a new definition; must match the source. Defaults to the source's.
        type: str
        choices: [V1, V2]
      architecture:
        description:
          - CPU architecture of a new definition. Defaults to the source's (a VM's OS disk, a disk or snapshot, as
            Azure records it), else V(x64); a version whose architecture differs from its definition's is refused.
        type: str
        choices: [x64, Arm64]
      description:
        description: Description of a new definition.
        type: str
      location:
        description: Region of a new gallery; defaults to the source's. An existing gallery keeps its own.
        type: str
      target_regions:
        description:
          - Regions to replicate to. Defaults to the gallery's region only, which must be in the list.
        type: list
        elements: dict
        suboptions:
          name:
            description: Region name. A region that the subscription does not have fails before anything is created,
              naming the closest regions.
            type: str
            required: true
          replica_count:
            description: Replicas in this region (C(regionalReplicaCount)); defaults to O(gallery.replica_count).
            type: int
            aliases: [regional_replica_count]
          storage_account_type:
            description: Storage of this region's replicas; defaults to O(gallery.storage_account_type).
            type: str
            choices: [Standard_LRS, Standard_ZRS, Premium_LRS, PremiumV2_LRS]
          exclude_from_latest:
            description: Exclude this version from C(latest) in this region only.
            type: bool
          disk_encryption_set:
            description:
              - Resource id of a disk encryption set in this region; it encrypts the version's OS disk image and every
                data disk image there (C(encryption.osDiskImage) and C(encryption.dataDiskImages)).
              - A source encrypted with a customer-managed key needs one in every target region (disk encryption
                sets are regional); a missing one, or one in another region, fails before anything is created.
            type: str
      replica_count:
        description: Default replicas per region.
        type: int
        default: 1
      storage_account_type:
        description: Default storage of the replicas.
        type: str
        choices: [Standard_LRS, Standard_ZRS, Premium_LRS, PremiumV2_LRS]
        default: Standard_LRS
      exclude_from_latest:
        description:
          - Exclude the version from C(latest) (VMs created from the definition without a version).
          - A new version is included unless this is V(true); an existing version keeps its setting unless this is
            set.
        type: bool
      end_of_life_date:
        description:
          - End-of-life date of the version (ISO 8601, for example V(2027-12-31T00:00:00Z)),
            C(publishingProfile.endOfLifeDate). An existing version is brought to this date.
          - Mutually exclusive with O(gallery.end_of_life_days).
        type: str
      end_of_life_days:
        description:
          - End of life of a new version this many days after the day it is created (midnight UTC).
          - Only a version the task creates gets it; an existing version keeps its date, so a re-run on a later day
            changes nothing.
        type: int
      replication_mode:
        description:
          - C(publishingProfile.replicationMode) of a new version. V(Shallow) publishes without copying the image
            (faster, for tests and short-lived images) and keeps the version in the gallery's region with one replica;
            other target regions or replica counts are refused before anything is created.
          - A version's replication mode cannot change; an existing version with another mode fails unless
            O(force=true), which replaces it. Unset, a new version gets Azure's default (V(Full)).
        type: str
        choices: [Full, Shallow]
      keep_versions:
        description:
          - After a successful task, keep the newest this many versions of the definition (numeric version order,
            counting the version just made) and delete the older ones.
          - Never deleted - the version C(latest) resolves to (for the definition or in one of its target regions,
            as O(gallery.exclude_from_latest) and the regions' C(exclude_from_latest) decide); a version that a VM of
            O(subscription_id) runs (its C(imageReference.id) names the version, or names the definition and its
            C(exactVersion) is that version); a version still being written. RV(kept_versions) gives each reason.
          - VMs in other subscriptions and scale sets are not looked at.
          - The deletes get at least 300 seconds, even when the capture used up O(wait_timeout).
          - Check mode reports what would be deleted (RV(pruned_versions)), counting the version it would create.
        type: int
      keep_failed:
        description: Keep a version that failed or did not finish replicating in time (for diagnosis).
        type: bool
        default: false
  build_id:
    description: Recorded in the tag C(goldenimage-build-id) of the created image and version.
    type: str
  tags:
    description: More tags for the created image, definition and version.
    type: dict
  force:
    description:
      - Replace an image or version of the same name that was made from another source.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for everything the task creates, including gallery replication.
      - On timeout the task fails naming the operation; a version that did not finish is deleted unless
        O(gallery.keep_failed=true).
    type: int
    default: 3600
extends_documentation_fragment:
  - goldenimage.azure.azure
  - goldenimage.azure.attributes
attributes:
  check_mode:
    support: full
    details: Reads the source and targets, runs every check and reports what would be created.
  diff_mode:
    support: full
    details: Shows the image and version (source, regions, tags) before and after, and with O(gallery.keep_versions) the
      definition's versions before and after pruning (C(gallery_versions)).
  action_group:
    support: full
    membership:
      - goldenimage.azure.azure
notes:
  - Managed images are regional and cannot be made from Trusted Launch or Confidential VMs; the gallery is the
    target for those, and for anything shared across regions.
seealso:
  - module: goldenimage.azure.vm_generalize
  - name: Create an image definition and an image version
    description: Microsoft's guide to Compute Gallery versions.
    link: https://learn.microsoft.com/azure/virtual-machines/image-version
"""

EXAMPLES = r"""
- name: Publish a generalized build VM as the next gallery version, creating the definition if needed
  goldenimage.azure.image_capture:
    source: "{{ build_vm.id }}"
    build_id: "{{ build_id }}"
    gallery:
      name: gal_golden
      resource_group: rg-images
      image: ubuntu-2404-hardened
      version: auto
      create_definition: true
      publisher: Contoso
      offer: ubuntu-hardened
      sku: 24_04-lts-gen2
      target_regions:
        - name: eastus
          replica_count: 2
          storage_account_type: Standard_ZRS
        - name: westeurope
      end_of_life_date: "2027-12-31T00:00:00Z"
  register: captured

- name: Also keep a regional managed image (not for Trusted Launch sources)
  goldenimage.azure.image_capture:
    source:
      type: vm
      name: build-vm
      resource_group: rg-build
    managed_image:
      name: img-ubuntu-2404
      resource_group: rg-images

- name: A gallery version encrypted with customer-managed keys in two regions (a disk encryption set in each)
  goldenimage.azure.image_capture:
    source:
      type: vm
      name: build-vm
      resource_group: rg-build
    gallery:
      name: gal_golden
      resource_group: rg-images
      image: ubuntu-2404-cmk
      target_regions:
        - name: westeurope
          disk_encryption_set: "/subscriptions/{{ subscription_id }}/resourceGroups/rg-keys/providers/Microsoft.Compute/diskEncryptionSets/des-westeurope"
        - name: northeurope
          disk_encryption_set: "/subscriptions/{{ subscription_id }}/resourceGroups/rg-keys/providers/Microsoft.Compute/diskEncryptionSets/des-northeurope"
    managed_image:
      name: img-ubuntu-2404-cmk
      resource_group: rg-images
      disk_encryption_set: "/subscriptions/{{ subscription_id }}/resourceGroups/rg-keys/providers/Microsoft.Compute/diskEncryptionSets/des-westeurope"

- name: Import an uploaded VHD into the gallery
  goldenimage.azure.image_capture:
    source: https://stimages.blob.core.windows.net/vhds/base.vhd
    storage_account_id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-images/providers/Microsoft.Storage/storageAccounts/stimages
    os_type: Linux
    hyper_v_generation: V2
    gallery:
      name: gal_golden
      resource_group: rg-images
      image: imported-base
      version: 1.0.0
"""

RETURN = r"""
version:
  description: The gallery image version name used (resolved from V(auto)).
  returned: when O(gallery) is given
  type: str
  sample: 1.0.3
source:
  description: The source and what was inferred from it (V(exists=false) and no facts when it was deleted since).
  returned: always
  type: dict
  sample:
    type: vm
    id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-build/providers/Microsoft.Compute/virtualMachines/build-vm
    uri: null
    location: eastus
    os_type: Linux
    os_state: Generalized
    hyper_v_generation: V2
    security_type: TrustedLaunch
    source_urn: Canonical:ubuntu-24_04-lts:server:24.04.202411200
    power_state: deallocated
    exists: true
    data_disks:
      - {lun: 0, size_gb: 64, caching: ReadOnly, storage_account_type: Premium_LRS,
         id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-build/providers/Microsoft.Compute/disks/build-vm-datadisk-0}
  contains:
    data_disks:
      description:
        - The data disks of a VM or managed image source, by LUN (C(lun), C(size_gb), C(caching),
          C(storage_account_type), C(id) of the managed disk or snapshot); empty for disks, snapshots and VHDs.
        - A managed image made from the VM keeps each one at its LUN (C(storage_profile.data_disks)), and so does a
          gallery version made from the VM or from a managed image (C(storage_profile.data_disk_images)).
      type: list
      elements: dict
tags:
  description: Tags given to what was created.
  returned: always
  type: dict
  sample: {"goldenimage-source-urn": "Canonical:ubuntu-24_04-lts:server:24.04.202411200", "goldenimage-build-id": "b-42"}
managed_image:
  description: The managed image (snake_case ARM resource), when O(managed_image) is given.
  returned: when O(managed_image) is given
  type: dict
  sample:
    id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-images/providers/Microsoft.Compute/images/img-ubuntu-2404
    name: img-ubuntu-2404
    location: eastus
    tags: {"goldenimage-build-id": "b-42"}
    properties:
      hyper_v_generation: V2
      provisioning_state: Succeeded
      source_virtual_machine:
        id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-build/providers/Microsoft.Compute/virtualMachines/build-vm
      storage_profile:
        os_disk: {os_type: Linux, os_state: Generalized}
        data_disks:
          - lun: 0
            caching: ReadOnly
            disk_size_gb: 64
            storage_account_type: Premium_LRS
            managed_disk:
              id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-build/providers/Microsoft.Compute/disks/build-vm-datadisk-0
managed_image_action:
  description: V(create), V(replace), V(update) (tags added) or V(keep).
  returned: when O(managed_image) is given
  type: str
  sample: create
gallery:
  description: The gallery (snake_case ARM resource).
  returned: when O(gallery) is given
  type: dict
  sample: {"id": "/subscriptions/.../galleries/gal_golden", "name": "gal_golden", "location": "eastus"}
gallery_image:
  description: The image definition (snake_case ARM resource).
  returned: when O(gallery) is given
  type: dict
  sample:
    name: ubuntu-2404-hardened
    properties:
      os_type: Linux
      os_state: Generalized
      hyper_v_generation: V2
      identifier: {publisher: Contoso, offer: ubuntu-hardened, sku: 24_04-lts-gen2}
      features: [{name: SecurityType, value: TrustedLaunch}]
gallery_image_version:
  description: The image version (snake_case ARM resource, with replication status).
  returned: when O(gallery) is given
  type: dict
  sample:
    name: 1.0.3
    properties:
      provisioning_state: Succeeded
      publishing_profile:
        target_regions:
          - {name: East US, regional_replica_count: 2, storage_account_type: Standard_ZRS}
          - name: West Europe
            regional_replica_count: 1
            storage_account_type: Standard_LRS
            encryption:
              os_disk_image: {disk_encryption_set_id: /subscriptions/.../diskEncryptionSets/des-westeurope}
        exclude_from_latest: false
      storage_profile:
        source: {virtual_machine_id: /subscriptions/.../virtualMachines/build-vm}
        os_disk_image: {size_in_gb: 30, host_caching: ReadWrite}
        data_disk_images: [{lun: 0, size_in_gb: 64, host_caching: ReadOnly}]
gallery_image_version_action:
  description:
    - V(create), V(replace), V(keep), or V(update) (same source; target regions, replica counts, storage,
      O(gallery.exclude_from_latest), O(gallery.end_of_life_date) or tags brought to what the task asks).
  returned: when O(gallery) is given
  type: str
  sample: keep
replication:
  description: Per-region replication status of the version (also on failure).
  returned: when a version exists after the task
  type: dict
  sample:
    aggregated_state: Completed
    regions:
      - {region: East US, state: Completed, progress: 100, details: ""}
timings:
  description: Seconds spent per step.
  returned: always
  type: dict
  sample: {"read_source": 0.2, "managed_image": 41.3, "gallery_image_version": 188.0}
pruned_versions:
  description:
    - The versions of the definition that O(gallery.keep_versions) deleted (in check mode - would delete), newest
      first.
  returned: when O(gallery.keep_versions) is given
  type: list
  elements: str
  sample: ["1.0.2", "1.0.1"]
kept_versions:
  description:
    - Every other version of the definition with why it stays - C(one of the newest N (keep_versions)),
      C(latest resolves to it (definition)) or a region name, C(used by VM name), or C(provisioning state ...).
  returned: when O(gallery.keep_versions) is given
  type: list
  elements: dict
  sample:
    - {"name": "1.0.5", "reason": "one of the newest 2 (keep_versions)"}
    - {"name": "1.0.4", "reason": "one of the newest 2 (keep_versions)"}
    - {"name": "1.0.1", "reason": "used by VM app-vm-1"}
  contains:
    name:
      description: The version.
      type: str
    reason:
      description: Why it was not deleted.
      type: str
cleanup:
  description: On a failed version, V(deleted) or V(kept).
  returned: on failure of the gallery version
  type: str
  sample: deleted
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

from ansible_collections.goldenimage.azure.plugins.module_utils import _capture, _inventory_vms, _marketplace
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_module import (
    AzureModule,
)

IMAGE_STORAGE = ["Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS"]
REPLICA_STORAGE = ["Standard_LRS", "Standard_ZRS", "Premium_LRS", "PremiumV2_LRS"]
SECURITY_TYPES = ["Standard", "TrustedLaunch", "TrustedLaunchSupported", "ConfidentialVM", "ConfidentialVMSupported",
                  "TrustedLaunchAndConfidentialVmSupported"]


def argument_spec():
    return dict(
        source=dict(type="raw", required=True),
        os_type=dict(type="str", choices=["Linux", "Windows"]),
        os_state=dict(type="str", choices=["Generalized", "Specialized"]),
        hyper_v_generation=dict(type="str", choices=["V1", "V2"]),
        storage_account_id=dict(type="str"),
        managed_image=dict(type="dict", options=dict(
            name=dict(type="str", required=True),
            resource_group=dict(type="str", required=True),
            location=dict(type="str"),
            zone_resilient=dict(type="bool"),
            storage_account_type=dict(type="str", choices=IMAGE_STORAGE),
            disk_encryption_set=dict(type="str"),
        )),
        gallery=dict(type="dict", options=dict(
            name=dict(type="str", required=True),
            resource_group=dict(type="str", required=True),
            image=dict(type="str", required=True),
            version=dict(type="str", default="auto"),
            create_definition=dict(type="bool", default=False),
            publisher=dict(type="str"),
            offer=dict(type="str"),
            sku=dict(type="str"),
            security_type=dict(type="str", choices=SECURITY_TYPES),
            hyper_v_generation=dict(type="str", choices=["V1", "V2"]),
            architecture=dict(type="str", choices=["x64", "Arm64"]),
            description=dict(type="str"),
            location=dict(type="str"),
            target_regions=dict(type="list", elements="dict", options=dict(
                name=dict(type="str", required=True),
                replica_count=dict(type="int", aliases=["regional_replica_count"]),
                storage_account_type=dict(type="str", choices=REPLICA_STORAGE),
                exclude_from_latest=dict(type="bool"),
                disk_encryption_set=dict(type="str"),
            )),
            replica_count=dict(type="int", default=1),
            storage_account_type=dict(type="str", choices=REPLICA_STORAGE, default="Standard_LRS"),
            exclude_from_latest=dict(type="bool"),
            end_of_life_date=dict(type="str"),
            end_of_life_days=dict(type="int"),
            replication_mode=dict(type="str", choices=["Full", "Shallow"]),
            keep_versions=dict(type="int"),
            keep_failed=dict(type="bool", default=False),
        ), mutually_exclusive=[("end_of_life_date", "end_of_life_days")]),
        build_id=dict(type="str"),
        tags=dict(type="dict"),
        force=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=3600),
    )


def main():
    module = AzureModule(argument_spec=argument_spec(), required_one_of=[("managed_image", "gallery")],
                         supports_check_mode=True)
    params = dict(module.params)
    # A VHD URI's SAS (sig=...) is a credential: masked wherever it could still appear, and scrubbed from results.
    module.module.no_log_values.update(_capture.sas_queries(params.get("source")))
    module.require_seconds(wait_timeout=1)
    gallery = params.get("gallery")
    if gallery:
        if gallery["replica_count"] < 1:
            module.fail_json(msg="gallery.replica_count must be at least 1")
        for region in gallery.get("target_regions") or []:
            if region.get("replica_count") is not None and region["replica_count"] < 1:
                module.fail_json(msg="gallery.target_regions: replica_count of %s must be at least 1" % region["name"])
        for name in ("keep_versions", "end_of_life_days"):
            if gallery.get(name) is not None and gallery[name] < 1:
                module.fail_json(msg="gallery.%s must be at least 1" % name)
        gallery["keep_failed"] = gallery.get("keep_failed")
    try:
        session = module.session
        result = _capture.capture(
            session.compute(), session.subscription_id, params, check_mode=module.check_mode,
            # a source id is read in its own subscription, with the same credential
            compute_for=lambda sub: session.for_subscription(sub, parameter="source").compute(),
            list_locations=lambda: _marketplace.list_locations(session, session.subscription_id),
            list_vms=lambda: _inventory_vms.list_vms(session, session.subscription_id))
    except AzureError as err:
        err.partial, err.message, err.operation = (_capture.scrub_sas(value)
                                                   for value in (err.partial, err.message, err.operation))
        module.fail_azure(err)
    if not module.diff_mode:
        result.pop("diff", None)
    module.exit_json(**_capture.scrub_sas(result))


if __name__ == "__main__":
    main()
