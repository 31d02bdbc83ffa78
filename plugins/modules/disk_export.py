#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: disk_export
short_description: Download a managed disk or snapshot as a local fixed VHD
version_added: 1.1.0
description:
  - Gets a read SAS for a managed disk or snapshot with C(beginGetAccess), reads its VHD with parallel ranged
    GETs (4 MiB each, O(threads) at a time, bounded memory), and revokes the access with C(endGetAccess) at the
    end, also when the download failed.
  - The file is written to C(<dest>.part) and moved to O(dest) only once it is complete and is a fixed VHD. All-zero
    ranges are not written, so the file is sparse on file systems that support it.
  - A record C(<dest>.json) keeps the file's digest (as M(goldenimage.azure.disk_upload) computes it), size and the
    source's unique id. A re-run whose O(dest) has that size and digest for the same source changes nothing. When
    the source carries the C(goldenimage-vhd-digest) tag of M(goldenimage.azure.disk_upload), the export must have
    that digest, or the task fails.
  - A disk attached to a running VM cannot be exported (Azure refuses the SAS); deallocate the VM, or export a
    snapshot.
author:
  - goldenimage.azure contributors (@goldenimage)
options:
  name:
    description:
      - Name of the managed disk or snapshot.
    type: str
    required: true
  resource_group:
    description:
      - Resource group of the disk or snapshot.
    type: str
    required: true
  type:
    description:
      - Whether O(name) is a managed disk or a snapshot.
    type: str
    default: disk
    choices: [disk, snapshot]
  dest:
    description:
      - Path of the local VHD to write. Its folder must exist.
    type: path
    required: true
  threads:
    description:
      - Parallel ranged readers, 1 to 32.
    type: int
    default: 4
  sas_duration:
    description:
      - Seconds the read SAS stays valid (it is revoked as soon as the download ends).
    type: int
    default: 86400
  wait_timeout:
    description:
      - Seconds to wait for each Azure operation (grant, revoke). A timeout names the operation.
    type: int
    default: 1800
extends_documentation_fragment:
  - goldenimage.azure.azure
  - goldenimage.azure.attributes
attributes:
  check_mode:
    support: full
    details: Reads the source and compares it with O(dest) and its record; downloads nothing.
  diff_mode:
    support: full
    details: Shows the record of O(dest) (checksum, size, source) before and after.
  action_group:
    support: full
    membership:
      - goldenimage.azure.azure
notes:
  - Requires the C(requests) Python package (a dependency of the Azure SDKs).
seealso:
  - module: goldenimage.azure.disk_upload
"""

EXAMPLES = r"""
- name: Export a build's OS disk for an on-premises hypervisor
  goldenimage.azure.disk_export:
    name: debian-12-os
    resource_group: rg-images
    dest: /srv/export/debian-12.vhd

- name: Export a snapshot with 8 readers
  goldenimage.azure.disk_export:
    name: debian-12-snap
    resource_group: rg-images
    type: snapshot
    dest: /srv/export/debian-12-snap.vhd
    threads: 8
"""

RETURN = r"""
source:
  description: The disk or snapshot.
  returned: always
  type: dict
  sample:
    id: /subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-images/providers/Microsoft.Compute/disks/debian-12-os
    name: debian-12-os
    resource_group: rg-images
    disk_state: Unattached
    size_gb: 1
    upload_size_bytes: 268435968
vhd:
  description: The local VHD (its checksum is null in check mode when it would be downloaded).
  returned: always
  type: dict
  sample: {"path": "/srv/export/debian-12.vhd", "size_bytes": 268435968, "digest": "9f2c0d6e4f0b8c1a5e7d3b2a1c0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f"}
dest:
  description: The path written.
  returned: always
  type: str
  sample: /srv/export/debian-12.vhd
record:
  description: The record next to the VHD that makes a re-run idempotent.
  returned: always
  type: str
  sample: /srv/export/debian-12.vhd.json
actions:
  description: The Azure steps taken, in order.
  returned: always
  type: list
  elements: str
  sample: [grant_read, download, revoke]
download:
  description: Transfer statistics. Every range is downloaded; V(bytes_transferred) and V(ranges_transferred) count
    what was written, V(ranges_skipped_zero) the all-zero ranges left as holes.
  returned: when the VHD was downloaded
  type: dict
  sample:
    bytes_total: 268435968
    bytes_transferred: 92274688
    ranges_total: 65
    ranges_transferred: 22
    ranges_skipped_zero: 43
    threads: 4
    seconds: 1.1
    mib_per_s: 232.7
    progress: [{"percent": 10, "bytes": 29360128, "seconds": 0.12}]
diff:
  description: The record of O(dest) before and after.
  returned: in diff mode
  type: dict
  sample: {"before": {}, "after": {"path": "/srv/export/debian-12.vhd", "size_bytes": 268435968, "digest": "9f2c..."}}
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

from ansible_collections.goldenimage.azure.plugins.module_utils import _vhd_export
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_module import AzureModule


def main():
    module = AzureModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            resource_group=dict(type="str", required=True),
            type=dict(type="str", default="disk", choices=list(_vhd_export.SOURCE_TYPES)),
            dest=dict(type="path", required=True),
            threads=dict(type="int", default=4),
            sas_duration=dict(type="int", default=86400),
            wait_timeout=dict(type="int", default=1800),
        ),
        supports_check_mode=True,
    )
    p = module.params
    module.require_seconds(wait_timeout=1, sas_duration=60)
    try:
        session = module.session
        result = _vhd_export.export_vhd(
            session.compute(), p["type"], p["resource_group"], p["name"], p["dest"], threads=p["threads"],
            check_mode=module.check_mode, wait_timeout=p["wait_timeout"], sas_duration=p["sas_duration"],
            verify=session.settings.ca_bundle or True)
    except AzureError as err:
        module.fail_azure(err)
    module.exit_result(result)


if __name__ == "__main__":
    main()
