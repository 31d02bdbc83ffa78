# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: a build VM's security profile - Trusted Launch and Confidential VM - as Azure wants it, checked first.

Rules (checked before any request; Azure refuses the same after the group and network exist):
- ``security_encryption_type`` (the OS disk's ``managedDisk.securityProfile.securityEncryptionType``) is required
  for, and only allowed with, ``ConfidentialVM``: Azure answers 400 "Required parameter for Confidential VMs
  'managedDisk.securityProfile.securityEncryptionType' is missing (null)" otherwise (Azure/avdaccelerator#686).
- ``VMGuestStateOnly`` and ``NonPersistedTPM`` need the vTPM; ``DiskWithVMGuestState`` needs secure boot and the
  vTPM (REST API ``SecurityEncryptionTypes``; terraform-provider-azurerm#16905 checks the same).
- A Confidential VM needs a confidential size: the DC/EC families with AMD SEV-SNP (``a``: DCasv5, DCadsv5, ECasv5,
  ECadsv5, DCasv6 ...) or Intel TDX (``e``: DCesv5, DCedsv5, ECesv5, ECedsv5), v5 and later, and the NCC H100 GPU
  sizes (learn.microsoft.com/azure/confidential-computing/virtual-machine-options). DCsv2/DCsv3 are SGX enclaves,
  not confidential VMs.
- Secure boot and the vTPM are settings of TrustedLaunch and ConfidentialVM only.
"""

from __future__ import annotations

import re

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError

ENCRYPTION_TYPES = ("VMGuestStateOnly", "DiskWithVMGuestState", "NonPersistedTPM")
DEFAULT_ENCRYPTION_TYPE = "VMGuestStateOnly"
_CONFIDENTIAL_SIZE = re.compile(r"^standard_(?:(?:dc|ec)\d+(?:-\d+)?[a-z]*[ae][a-z]*_v[5-9]\d*|ncc\d+[a-z]*_h100_v5)$",
                                re.IGNORECASE)


def is_confidential_size(vm_size):
    return bool(_CONFIDENTIAL_SIZE.match(str(vm_size or "")))


def problems(security_type, vm_size, secure_boot=True, vtpm=True, encryption_type=None):
    """What Azure would refuse in this combination, as messages naming the option (empty: fine)."""
    found = []
    security_type = security_type or "Standard"
    if security_type == "ConfidentialVM":
        wanted = encryption_type or DEFAULT_ENCRYPTION_TYPE
        if wanted not in ENCRYPTION_TYPES:
            found.append("security_encryption_type must be one of %s, not %r" % (", ".join(ENCRYPTION_TYPES), wanted))
        if not vtpm:
            found.append("vtpm must be true for a ConfidentialVM (every security_encryption_type needs the vTPM)")
        if wanted == "DiskWithVMGuestState" and not secure_boot:
            found.append("secure_boot must be true with security_encryption_type DiskWithVMGuestState")
        if not is_confidential_size(vm_size):
            found.append("vm_size %s is not a confidential VM size; a ConfidentialVM needs one of the DCasv5, DCadsv5, "
                         "ECasv5, ECadsv5 (AMD SEV-SNP) or DCesv5, DCedsv5, ECesv5, ECedsv5 (Intel TDX) families, for "
                         "example Standard_DC2as_v5" % vm_size)
    elif encryption_type:
        found.append("security_encryption_type is only for security_type ConfidentialVM, not %s" % security_type)
    if security_type == "Standard" and (secure_boot is False or vtpm is False):
        pass  # the defaults (true) are ignored without Trusted Launch; an explicit false changes nothing either
    return found


def check(params):
    """Raise AzureError listing every problem of a build_vm parameter set (before any request)."""
    found = problems(params.get("security_type"), params.get("vm_size"), params.get("secure_boot", True),
                     params.get("vtpm", True), params.get("security_encryption_type"))
    if found:
        raise AzureError("; ".join(found) + ". Nothing was created.", code="InvalidSecurityProfile")


def apply(properties, os_disk, spec):
    """Put the security profile in the VM body: the VM's ``securityProfile`` and, for a Confidential VM, the OS
    disk's ``managedDisk.securityProfile.securityEncryptionType``."""
    security_type = spec.get("security_type") or "Standard"
    if security_type == "Standard":
        return
    properties["securityProfile"] = {
        "securityType": security_type,
        "uefiSettings": {"secureBootEnabled": bool(spec.get("secure_boot", True)),
                         "vTpmEnabled": bool(spec.get("vtpm", True))},
    }
    if security_type == "ConfidentialVM":
        os_disk["managedDisk"]["securityProfile"] = {
            "securityEncryptionType": spec.get("security_encryption_type") or DEFAULT_ENCRYPTION_TYPE}
