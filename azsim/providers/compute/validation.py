"""CRP's synchronous checks on a VM PUT: names, size, OS profile, security type, image/size compatibility.

Each check raises the ``ArmError`` CRP answers with (codes and messages from wire reference 3.1, 7.2 and
public traces); the VM provider calls them before anything is created.
"""

from __future__ import annotations

import re

from ...core.errors import ArmError, invalid_parameter, missing_property
from . import sizes as vm_sizes

VM_NAME_RULE = r"^[^_\W][\w\-._]{0,79}(?<![-.])$"
LINUX_FORBIDDEN = set("`~!@#$%^&*()=+_[]{}\\|;:'\",<>/?")
WINDOWS_FORBIDDEN = LINUX_FORBIDDEN | {"."}
RESERVED_USERNAMES = {
    "administrator", "admin", "user", "user1", "test", "user2", "test1", "user3", "admin1", "1", "123", "a",
    "actuser", "adm", "admin2", "aspnet", "backup", "console", "david", "guest", "john", "owner", "root", "server",
    "sql", "support", "support_388945a0", "sys", "test2", "test3", "user4", "user5",
}
SECURE_TYPES = ("trustedlaunch", "confidentialvm")
MAX_LUN = 63


def check_vm_name(name):
    if len(name) > 64 or not re.match(VM_NAME_RULE, name):
        raise invalid_parameter(f"The entity name '{name}' is invalid according to its validation rule: "
                                f"{VM_NAME_RULE}.", target="vmName")


def check_size(props):
    size_name = (props.get("hardwareProfile") or {}).get("vmSize")
    if not size_name:
        raise missing_property("hardwareProfile.vmSize")
    size = vm_sizes.find(size_name)
    if size is None:
        raise vm_sizes.unknown_size_error(size_name)
    return size


def check_computer_name(computer_name, os_type):
    if (os_type or "").lower() == "windows":
        if len(computer_name) > 15 or computer_name.isdigit() or set(computer_name) & WINDOWS_FORBIDDEN:
            raise invalid_parameter(
                "Windows computer name cannot be more than 15 characters long, be entirely numeric, or contain the "
                "following characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : . ' \" , < > / ?.",
                target="computerName")
    elif len(computer_name) > 64 or set(computer_name) & LINUX_FORBIDDEN:
        raise invalid_parameter(
            "Linux host name cannot exceed 64 characters in length or contain the following characters: "
            "` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : ' \" , < > / ?.", target="computerName")


def check_os_profile(vm_name, os_profile, source):
    """Generalized sources need an osProfile, specialized ones refuse it (wire reference 3.1)."""
    if source.generalized and not os_profile:
        raise missing_property("osProfile")
    if not source.generalized:
        if os_profile:
            raise invalid_parameter("Parameter 'osProfile' is not allowed.")
        return
    check_computer_name(os_profile.get("computerName") or vm_name, source.os_type)
    username = os_profile.get("adminUsername")
    if not username:
        raise missing_property("adminUsername")
    if username.lower() in RESERVED_USERNAMES:
        raise invalid_parameter("The Admin Username specified is not allowed.", target="adminUsername")
    windows = source.os_type.lower() == "windows"
    if windows and not os_profile.get("adminPassword"):
        raise missing_property("adminPassword")
    if not windows:
        linux = os_profile.get("linuxConfiguration") or {}
        keys = (linux.get("ssh") or {}).get("publicKeys") or []
        if linux.get("disablePasswordAuthentication") and not keys:
            raise invalid_parameter("Authentication using either SSH or by user name and password must be enabled in "
                                    "Linux profile.", target="linuxConfiguration")
        if not linux.get("disablePasswordAuthentication") and not os_profile.get("adminPassword") and not keys:
            raise missing_property("adminPassword")


def check_security(props, source):
    """TrustedLaunch / ConfidentialVM need a Gen2 image that supports them; some gallery images demand them."""
    security_type = ((props.get("securityProfile") or {}).get("securityType") or "").strip()
    wanted = source.feature("SecurityType") or ""
    if security_type.lower() in SECURE_TYPES:
        supported = source.hyper_v_generation.upper() == "V2"
        if security_type.lower() == "confidentialvm" and source.kind in ("marketplace", "gallery"):
            supported = supported and "confidential" in wanted.lower()
        if not supported:
            raise ArmError(400, "BadRequest",
                           f"Use of {security_type} setting is not supported for the provided image. Please select "
                           f"Trusted Launch Supported Gen2 OS Image. For more information, see "
                           "https://aka.ms/TrustedLaunch-FAQ.")
    elif source.kind == "gallery" and wanted.lower() in SECURE_TYPES:
        raise ArmError(400, "BadRequest", f"The provided gallery image only supports creation of VMs and VM Scale Sets "
                       f"with '{wanted}' security type.")


ENCRYPTION_TYPES = ("VMGuestStateOnly", "DiskWithVMGuestState", "NonPersistedTPM")


def check_confidential(props, size):
    """A ConfidentialVM's own rules: a confidential size, the OS disk's securityEncryptionType, and the UEFI
    settings that type needs; the encryption type on any other VM is refused.

    Sources: "Required parameter for Confidential VMs 'managedDisk.securityProfile.securityEncryptionType' is missing
    (null)" (400 BadRequest, Azure/avdaccelerator#686, bicep-registry-modules#5561); VMGuestStateOnly needs the vTPM,
    DiskWithVMGuestState secure boot and the vTPM (REST API SecurityEncryptionTypes, openshift/api#1403);
    [unverified] the wording of the size, UEFI and non-CVM refusals.
    """
    security = props.get("securityProfile") or {}
    security_type = (security.get("securityType") or "").strip().lower()
    os_disk = ((props.get("storageProfile") or {}).get("osDisk") or {})
    encryption = ((os_disk.get("managedDisk") or {}).get("securityProfile") or {}).get("securityEncryptionType")
    if security_type != "confidentialvm":
        if encryption:
            raise invalid_parameter("securityEncryptionType can be set only when securityProfile.securityType is "
                                    "ConfidentialVM.", target="managedDisk.securityProfile.securityEncryptionType")
        return
    if not size.confidential:
        raise ArmError(400, "BadRequest", f"The VM size '{size.name}' is not supported for creation of VMs and Virtual "
                       "Machine Scale Sets with 'ConfidentialVM' security type.")
    if not encryption:
        raise ArmError(400, "BadRequest", "Required parameter for Confidential VMs "
                       "'managedDisk.securityProfile.securityEncryptionType' is missing (null).")
    if encryption not in ENCRYPTION_TYPES:
        raise invalid_parameter(f"The value '{encryption}' of parameter 'securityEncryptionType' is invalid.",
                                target="managedDisk.securityProfile.securityEncryptionType")
    uefi = security.get("uefiSettings") or {}
    if not uefi.get("vTpmEnabled"):
        raise invalid_parameter("vTPM must be enabled for a Confidential VM (uefiSettings.vTpmEnabled).",
                                target="securityProfile.uefiSettings.vTpmEnabled")
    if encryption == "DiskWithVMGuestState" and not uefi.get("secureBootEnabled"):
        raise invalid_parameter("Secure boot must be enabled with securityEncryptionType DiskWithVMGuestState.",
                                target="securityProfile.uefiSettings.secureBootEnabled")


DISK_SECURITY_TYPES = {  # the OS disk's securityProfile.securityType for each CVM encryption type (DiskSecurityTypes)
    "VMGuestStateOnly": "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey",
    "DiskWithVMGuestState": "ConfidentialVM_DiskEncryptedWithPlatformKey",
    "NonPersistedTPM": "ConfidentialVM_NonPersistedTPM",
}


def disk_security_type(props):
    """The OS disk's security type for a VM body: TrustedLaunch, a ConfidentialVM_* type, or None."""
    security_type = (props.get("securityProfile") or {}).get("securityType")
    if (security_type or "").lower() != "confidentialvm":
        return security_type
    os_disk = ((props.get("storageProfile") or {}).get("osDisk") or {})
    encryption = ((os_disk.get("managedDisk") or {}).get("securityProfile") or {}).get("securityEncryptionType")
    return DISK_SECURITY_TYPES.get(encryption, security_type)


def check_size_fits_image(size, source):
    generation = source.hyper_v_generation.upper()
    if generation not in size.hyper_v_generations:
        number = generation[1:]
        other = size.hyper_v_generations[0][1:]
        raise ArmError(400, "BadRequest",
                       f"The selected VM size '{size.name}' cannot boot Hypervisor Generation '{number}'. If this "
                       "was a Create operation please check that the Hypervisor Generation of the Image matches the "
                       "Hypervisor Generation of the selected VM Size. If this was an Update operation please select "
                       f"a Hypervisor Generation '{other}' VM Size. For more information, see "
                       "https://aka.ms/azuregen2vm")
    if source.architecture.lower() != size.architecture.lower():
        raise ArmError(400, "BadRequest",
                       f"The selected VM size '{size.name}' has architecture '{size.architecture}' but the image has "
                       f"architecture '{source.architecture}'. Select a VM size that matches the image architecture.")


def check_plan(body, source):
    if source.plan and not body.get("plan"):
        raise ArmError(400, "VMMarketplaceInvalidInput",
                       "Creating a virtual machine from Marketplace image or a custom image sourced from a Marketplace "
                       "image requires Plan information in the request.")


def check_data_disk_count(size, data_disks):
    if len(data_disks) > size.max_data_disks:
        raise ArmError(409, "OperationNotAllowed", f"The maximum number of data disks allowed to be attached to a VM "
                       f"of this size is {size.max_data_disks}.", target="dataDisks")
    luns = [disk.get("lun") for disk in data_disks]
    if any(lun is None for lun in luns):
        raise missing_property("dataDisk.lun")
    for lun in luns:
        if isinstance(lun, bool) or not isinstance(lun, int) or not 0 <= lun <= MAX_LUN:
            # CRP's words (microsoft/lisa#692): 400 InvalidParameter, target dataDisk.lun
            raise invalid_parameter(f"The value '{lun}' of parameter 'dataDisk.lun' is out of range. Value '{lun}' "
                                    f"must be between '0' and '{MAX_LUN}' inclusive.", target="dataDisk.lun")
    duplicates = sorted({lun for lun in luns if luns.count(lun) > 1})
    if duplicates:
        raise invalid_parameter(f"A disk at LUN {duplicates[0]} already exists.", target="dataDisks")
