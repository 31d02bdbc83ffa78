#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: disk_upload
short_description: Upload a local fixed-format VHD as a managed disk (Azure direct upload)
version_added: 1.1.0
description:
  - Creates a managed disk with C(createOption=Upload) and C(uploadSizeBytes) (the file's size, VHD footer included),
    gets a write SAS with C(beginGetAccess), writes the file with Put Page requests of at most 4 MiB
    (512-byte aligned), and ends the upload with C(endGetAccess). The disk can then be captured like any other
    (see M(goldenimage.azure.image_capture) with a disk source).
  - Before any request that changes something, the VHD file is checked - a C(conectix) footer at its end with a
    valid checksum, disk type fixed (dynamic and differencing VHDs are refused), footer size equal to the data
    before it, a virtual size that is a whole number of MiB between 20 MiB and 32 TiB. A refusal names the
    parameter and says how to convert the file (C(qemu-img convert -O vpc -o subformat=fixed,force_size)).
  - The file is streamed with bounded memory (about 8 MiB per thread whatever its size), written by O(threads)
    parallel writers; all-zero 4 MiB ranges are not sent, as a new upload disk reads as zeros.
  - The disk is tagged C(goldenimage-vhd-digest) with the file's digest (SHA-256 over its non-zero 4 MiB
    pieces and their offsets, so the holes of a sparse image cost nothing) once the upload is complete. A re-run with
    the same file and disk changes nothing. An unfinished upload (disk still C(ReadyToUpload) or C(ActiveUpload),
    same size) is resumed. A disk with other content is refused unless O(force=true), which deletes it first.
  - The write SAS goes only to the storage endpoint Azure returns, never to ARM, and appears in no result or error.
author:
  - goldenimage.azure contributors (@goldenimage)
options:
  src:
    description:
      - Path of the local fixed VHD on the controller's host that runs the module.
    type: path
    required: true
  name:
    description:
      - Name of the managed disk.
    type: str
    required: true
  resource_group:
    description:
      - Resource group of the disk.
    type: str
    required: true
  location:
    description:
      - Region of the disk. Required when the disk is created.
    type: str
  sku:
    description:
      - Storage SKU of the new disk.
    type: str
    default: Standard_LRS
    choices: [Standard_LRS, StandardSSD_LRS, StandardSSD_ZRS, Premium_LRS, Premium_ZRS]
  os_type:
    description:
      - OS type recorded on the disk, so that images made from it know it. Leave unset for a data disk.
    type: str
    choices: [Linux, Windows]
  hyper_v_generation:
    description:
      - Hyper-V generation of the VM the VHD boots (V2 for UEFI, V1 for BIOS).
    type: str
    default: V2
    choices: [V1, V2]
  tags:
    description:
      - Tags of the new disk (the checksum tag is added).
    type: dict
  threads:
    description:
      - Parallel page writers, 1 to 32.
    type: int
    default: 4
  force:
    description:
      - Delete an existing disk of that name that holds other content (or an upload that cannot be resumed) and
        upload anew. The disk must be detached.
    type: bool
    default: false
  sas_duration:
    description:
      - Seconds the write SAS stays valid (it is revoked as soon as the upload ends).
    type: int
    default: 86400
  wait_timeout:
    description:
      - Seconds to wait for each Azure operation (create, grant, revoke). A timeout names the operation.
    type: int
    default: 1800
extends_documentation_fragment:
  - goldenimage.azure.azure
  - goldenimage.azure.attributes
attributes:
  check_mode:
    support: full
    details: Checks the VHD file and the existing disk, computes the checksum to compare, and reports the disk it would
      create; nothing is written.
  diff_mode:
    support: full
    details: Shows the disk's facts (state, size, SKU, tags with the checksum) before and after.
  action_group:
    support: full
    membership:
      - goldenimage.azure.azure
notes:
  - Make a fixed VHD from a raw image with C(qemu-img convert -f raw -O vpc -o subformat=fixed,force_size disk.raw
    disk.vhd); the raw size must be a whole number of MiB.
  - Progress (every tenth of the file) is the C(progress) list of RV(upload); C(-v) shows it with the result.
  - Requires the C(requests) Python package (a dependency of the Azure SDKs).
seealso:
  - module: goldenimage.azure.disk_export
  - module: goldenimage.azure.image_capture
  - name: Upload a VHD to Azure
    description: Microsoft's direct-upload walk-through.
    link: https://learn.microsoft.com/azure/virtual-machines/linux/disks-upload-vhd-to-managed-disk-cli
"""

EXAMPLES = r"""
- name: Upload a Debian image built locally
  goldenimage.azure.disk_upload:
    src: /srv/images/debian-12.vhd
    name: debian-12-os
    resource_group: rg-images
    location: westeurope
    os_type: Linux
    hyper_v_generation: V2
  register: uploaded

- name: Capture it as a managed image and a gallery version
  goldenimage.azure.image_capture:
    source: "{{ uploaded.disk.id }}"
    managed_image: {name: debian-12, resource_group: rg-images}
    gallery: {name: gallery1, resource_group: rg-images, definition: debian-12, version: auto}

- name: Upload a data disk with 8 writers, replacing an older upload of another file
  goldenimage.azure.disk_upload:
    src: /srv/images/data.vhd
    name: data-disk
    resource_group: rg-images
    location: westeurope
    sku: Premium_LRS
    threads: 8
    force: true
"""

RETURN = r"""
action:
  description: What the task did (or would do) - V(none), V(create), V(resume) or V(replace).
  returned: always
  type: str
  sample: create
actions:
  description: The Azure steps taken, in order.
  returned: always
  type: list
  elements: str
  sample: [create, grant_write, upload, revoke, tag]
disk:
  description: The disk after the task (predicted in check mode).
  returned: always
  type: dict
  sample:
    id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-images/providers/Microsoft.Compute/disks/debian-12-os
    name: debian-12-os
    resource_group: rg-images
    location: westeurope
    sku: Standard_LRS
    size_gb: 1
    size_bytes: 1073741824
    disk_state: Unattached
    create_option: Upload
    upload_size_bytes: 268435968
    os_type: Linux
    hyper_v_generation: V2
    provisioning_state: Succeeded
    tags: {"goldenimage-vhd-digest": "9f2c0d6e4f0b8c1a5e7d3b2a1c0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f"}
vhd:
  description: The local file.
  returned: always
  type: dict
  sample:
    path: /srv/images/debian-12.vhd
    size_bytes: 268435968
    virtual_size_bytes: 268435456
    digest: 9f2c0d6e4f0b8c1a5e7d3b2a1c0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f
upload:
  description: Transfer statistics, with a milestone at every tenth of the file.
  returned: when the file was uploaded
  type: dict
  sample:
    bytes_total: 268435968
    bytes_transferred: 92274688
    ranges_total: 65
    ranges_transferred: 22
    ranges_skipped_zero: 43
    threads: 4
    seconds: 1.42
    mib_per_s: 180.3
    progress: [{"percent": 10, "bytes": 29360128, "seconds": 0.21}, {"percent": 100, "bytes": 268435968, "seconds": 1.42}]
diff:
  description: The disk's facts before and after.
  returned: in diff mode
  type: dict
  sample: {"before": {}, "after": {"name": "debian-12-os", "disk_state": "Unattached"}}
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

from ansible_collections.goldenimage.azure.plugins.module_utils import _vhd_upload
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_module import AzureModule


def main():
    module = AzureModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            name=dict(type="str", required=True),
            resource_group=dict(type="str", required=True),
            location=dict(type="str"),
            sku=dict(type="str", default="Standard_LRS", choices=list(_vhd_upload.SKUS)),
            os_type=dict(type="str", choices=["Linux", "Windows"]),
            hyper_v_generation=dict(type="str", default="V2", choices=["V1", "V2"]),
            tags=dict(type="dict"),
            threads=dict(type="int", default=4),
            force=dict(type="bool", default=False),
            sas_duration=dict(type="int", default=86400),
            wait_timeout=dict(type="int", default=1800),
        ),
        supports_check_mode=True,
    )
    p = module.params
    module.require_seconds(wait_timeout=1, sas_duration=60)
    try:
        session = module.session
        result = _vhd_upload.upload_vhd(
            session.compute(), p["resource_group"], p["name"], p["src"], location=p["location"], sku=p["sku"],
            os_type=p["os_type"], hyper_v_generation=p["hyper_v_generation"], tags=p["tags"], threads=p["threads"],
            force=p["force"], check_mode=module.check_mode, wait_timeout=p["wait_timeout"],
            sas_duration=p["sas_duration"], verify=session.settings.ca_bundle or True)
    except AzureError as err:
        module.fail_azure(err)
    module.exit_result(result)


if __name__ == "__main__":
    main()
