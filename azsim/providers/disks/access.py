"""Disk and snapshot access (``beginGetAccess``/``endGetAccess``) and the upload states: the rules, no HTTP.

States (``properties.diskState``) and what moves them:

====================  ==========================================  ==================================
from                  call                                        to
====================  ==========================================  ==================================
(new, Upload)         PUT createOption Upload + uploadSizeBytes  ReadyToUpload
ReadyToUpload         grantAccess Write                          ActiveUpload
ActiveUpload          revokeAccess                               Unattached (the upload is final)
Unattached/Reserved   grantAccess Read                           ActiveSAS
ActiveSAS             revokeAccess                               the state before the grant
====================  ==========================================  ==================================

Refused (409, nothing changes): any grant on a disk attached to a running VM (Azure's ``Conflict`` "Access not
permitted because disk ... is currently attached to running VM ..."); Write on a disk that is not waiting for an
upload; Read on a disk that is (ReadyToUpload, ActiveUpload); a grant of the other access while one is active;
deleting a disk or snapshot while a SAS is active. The SAS itself is checked by the data plane (``blobdata``).
"""

from __future__ import annotations

from ...core.errors import ArmError, invalid_parameter, missing_property
from . import blobdata

ACCESS_LEVELS = {"read": "Read", "write": "Write"}
UPLOAD_STATES = ("ReadyToUpload", "ActiveUpload")
MAX_DURATION_S = 5 * 24 * 3600  # [unverified] the longest SAS duration DiskRP grants


def upload_creation(creation):
    """Size facts of ``createOption: Upload``: ``uploadSizeBytes`` includes the 512-byte VHD footer."""
    size = creation.get("uploadSizeBytes")
    if size is None:
        raise missing_property("creationData.uploadSizeBytes")
    if not isinstance(size, int) or isinstance(size, bool):
        raise invalid_parameter(f"The value '{size}' of 'creationData.uploadSizeBytes' is not an integer.",
                                target="creationData.uploadSizeBytes")
    if not blobdata.MIN_UPLOAD_BYTES <= size <= blobdata.MAX_UPLOAD_BYTES:
        raise ArmError(400, "BadRequest", f"The upload size in bytes {size} must be between "
                       f"{blobdata.MIN_UPLOAD_BYTES} (20 MiB + 512 bytes for the VHD footer) and "
                       f"{blobdata.MAX_UPLOAD_BYTES} (32 TiB + 512 bytes for the VHD footer).",
                       target="creationData.uploadSizeBytes")
    virtual = size - blobdata.FOOTER_SIZE
    if virtual % blobdata.MIB:
        raise ArmError(400, "BadRequest", f"The upload size in bytes {size} - 512 bytes for the VHD footer "
                       f"({virtual} in this case) must be a multiple of MiB.", target="creationData.uploadSizeBytes")
    size_gb = -(-virtual // blobdata.GIB)
    return {"size_gb": size_gb, "size_bytes": virtual,
            "creation_data": {"createOption": "Upload", "uploadSizeBytes": size}}


def parse_grant(body):
    """(access, durationInSeconds) of a GrantAccessData body."""
    raw = body.get("access")
    if raw is None:
        raise missing_property("access")
    access = ACCESS_LEVELS.get(str(raw).lower())
    if access is None:
        raise invalid_parameter(f"The value '{raw}' of parameter 'access' is not allowed. Allowed values are Read, "
                                "Write.", target="access")
    duration = body.get("durationInSeconds")
    if duration is None:
        raise missing_property("durationInSeconds")
    if not isinstance(duration, int) or isinstance(duration, bool) or not 0 < duration <= MAX_DURATION_S:
        raise invalid_parameter(f"The value '{duration}' of parameter 'durationInSeconds' must be between 1 and "
                                f"{MAX_DURATION_S}.", target="durationInSeconds")
    if str(body.get("fileFormat") or "VHD").upper() != "VHD":
        raise invalid_parameter("The simulator exports disks as VHD only ('fileFormat': 'VHD').", target="fileFormat")
    return access, duration


def check_grant(resource, access):
    """Refuse a grant the resource's state does not allow (409)."""
    props = resource["properties"]
    state = props.get("diskState") or "Unattached"
    name = resource["name"]
    current = blobdata.active_grant(resource)
    if state == "Attached":
        raise ArmError(409, "Conflict", f"Access not permitted because disk {name} is currently attached to running "
                       f"VM {resource.get('managedBy')}.")
    if current and current["access"] != access:
        raise ArmError(409, "OperationNotAllowed", f"Disk {name} already has an active {current['access']} SAS; "
                       "revoke access before granting " + access + " access.")
    if access == "Write" and state not in UPLOAD_STATES:
        raise ArmError(409, "OperationNotAllowed", f"Write access can only be granted to disk {name} while it is "
                       f"waiting for an upload (ReadyToUpload or ActiveUpload); its state is {state}.")
    if access == "Read" and state in UPLOAD_STATES:
        raise ArmError(409, "OperationNotAllowed", f"Read access cannot be granted to disk {name} in state {state}: "
                       "finish the upload with revokeAccess first.")


def apply_grant(resource, access, duration_s, now):
    """The grant takes effect (when its operation finishes): the record, and the new disk state."""
    record = blobdata.grant(resource, access, duration_s, now)
    resource["properties"]["diskState"] = "ActiveUpload" if access == "Write" else "ActiveSAS"
    return record


def apply_revoke(resource):
    """End any grant: an upload becomes a normal Unattached disk, an export goes back to its earlier state."""
    record = blobdata.drop_grant(resource)
    props = resource["properties"]
    if props.get("diskState") == "ActiveUpload":
        props["diskState"] = "Unattached"
    elif props.get("diskState") == "ActiveSAS":
        before = (record or {}).get("state_before")
        props["diskState"] = before if before in ("Unattached", "Reserved") else "Unattached"


def check_delete(resource):
    state = resource["properties"].get("diskState")
    if state in ("ActiveSAS", "ActiveUpload"):
        raise ArmError(409, "OperationNotAllowed", f"Disk {resource['name']} cannot be deleted while it has an active "
                       f"SAS (state {state}); call revokeAccess first.")
