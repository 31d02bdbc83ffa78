# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: Azure Compute Gallery galleries, image definitions and versions (image_capture).

- ``check_definition`` compares a definition (existing or about to be created) with the source's facts
  (OS type, OS state, Hyper-V generation, security type) so that a mismatch fails before anything is created.
- ``next_version`` picks the next patch version after the highest existing one, in numeric order.
- ``create_version`` PUTs a version, waits within a deadline, reads per-region replication status and
  deletes a version that failed or timed out (unless asked to keep it).
"""

from __future__ import annotations

import time

from ansible_collections.goldenimage.azure.plugins.module_utils import _vmstate as vmstate
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import (  # noqa: F401  # pylint: disable=unused-import
    VERSION_RE,
    validate_version_name,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_wire import replication  # noqa: F401  # re-exported
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
    azure_call,
    wait_for,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._versions import newest


SECURITY_TYPES = ("Standard", "TrustedLaunch", "TrustedLaunchSupported", "ConfidentialVM",
                  "ConfidentialVMSupported", "TrustedLaunchAndConfidentialVmSupported")
# A Standard/TrustedLaunch/ConfidentialVM definition takes sources of exactly that security type. The
# "...Supported" definitions take Standard sources and the matching secure ones, but never a VM directly.
SUPPORTED_TYPES = ("TrustedLaunchSupported", "ConfidentialVMSupported", "TrustedLaunchAndConfidentialVmSupported")
ACCEPTED_BY_SUPPORTED = {
    "TrustedLaunchSupported": ("TrustedLaunch",),
    "ConfidentialVMSupported": ("ConfidentialVM",),
    "TrustedLaunchAndConfidentialVmSupported": ("TrustedLaunch", "ConfidentialVM"),
}


def next_version(existing):
    """The next patch after the highest MAJOR.MINOR.PATCH in ``existing`` (numeric order), or 1.0.0."""
    names = [name for name in existing if VERSION_RE.match(name or "")]
    highest = newest(names)
    if highest is None:
        return "1.0.0"
    major, minor, patch = (int(part) for part in highest.split("."))
    return "%d.%d.%d" % (major, minor, patch + 1)


def definition_security_type(definition):
    for feature in vmstate.props(definition).get("features") or []:
        if (feature.get("name") or "").lower() == "securitytype":
            return feature.get("value") or "Standard"
    return "Standard"


def definition_facts(definition):
    p = vmstate.props(definition)
    return {
        "os_type": p.get("osType"),
        "os_state": p.get("osState"),
        "hyper_v_generation": p.get("hyperVGeneration") or "V1",
        "security_type": definition_security_type(definition),
        "architecture": p.get("architecture") or "x64",
    }


def check_definition(facts, source, where):
    """Raise AzureError when a definition with ``facts`` cannot take a version from ``source`` (its facts)."""
    problems = []
    if (facts.get("os_type") or "").lower() != (source["os_type"] or "").lower():
        problems.append("OS type: the definition is %s, the source is %s" % (facts.get("os_type"), source["os_type"]))
    if (facts.get("os_state") or "").lower() != (source["os_state"] or "").lower():
        problems.append("OS state: the definition is %s, the source is %s%s" % (
            facts.get("os_state"), source["os_state"],
            " (generalize the VM with goldenimage.azure.vm_generalize first)"
            if source["os_state"] == "Specialized" and source["type"] == "vm" else ""))
    if (facts.get("hyper_v_generation") or "V1").upper() != (source["hyper_v_generation"] or "V1").upper():
        problems.append("Hyper-V generation: the definition is %s, the source is %s (a definition's generation "
                        "cannot change; use another definition)"
                        % (facts.get("hyper_v_generation"), source["hyper_v_generation"]))
    wanted = facts.get("security_type") or "Standard"
    have = source["security_type"] or "Standard"
    if wanted in SUPPORTED_TYPES:
        if source["type"] == "vm":
            problems.append("security type: a %s definition takes versions from managed images, VHDs, disks and "
                            "snapshots, not from a VM; capture a managed image (or a snapshot) first, or use a "
                            "%s definition" % (wanted, "TrustedLaunch" if have == "TrustedLaunch" else "Standard"
                                               if have == "Standard" else have))
        elif (source["hyper_v_generation"] or "V1").upper() != "V2":
            problems.append("security type: %s needs a V2 (Gen2) source" % wanted)
        if have != "Standard" and have not in ACCEPTED_BY_SUPPORTED.get(wanted, ()):
            problems.append("security type: the definition is %s, which does not accept a %s source" % (wanted, have))
    elif have != wanted:
        problems.append("security type: the definition is %s, the source is %s (a %s source needs a %s definition)"
                        % (wanted, have, have, have))
    if problems:
        raise AzureError("%s does not match the source %s: %s. Nothing was created."
                         % (where, source.get("id") or source.get("uri"), "; ".join(problems)),
                         code="DefinitionMismatch")


def _source_noun(kind):
    return {"vm": "VM", "disk": "managed disk", "snapshot": "snapshot", "image": "managed image",
            "vhd": "VHD"}.get(kind, kind)


def get_gallery(compute, resource_group, name):
    # a missing resource group is an error (nothing here creates one), not a missing gallery
    return vmstate.wire(vmstate.get_or_none("get gallery '%s'" % name, compute.galleries.get, resource_group, name))


def get_definition(compute, resource_group, gallery, name):
    return vmstate.wire(azure_call("get gallery image definition '%s/%s'" % (gallery, name),
                                   compute.gallery_images.get, resource_group, gallery, name, missing_ok=True))


def list_versions(compute, resource_group, gallery, definition):
    operation = "list versions of gallery image '%s/%s'" % (gallery, definition)
    pages = azure_call(operation, compute.gallery_image_versions.list_by_gallery_image, resource_group, gallery,
                       definition)
    return [vmstate.wire(item) for item in azure_call(operation, list, pages)]


def get_version(compute, resource_group, gallery, definition, version, replication=True):
    kwargs = {"expand": "ReplicationStatus"} if replication else {}
    return vmstate.wire(azure_call("get gallery image version '%s/%s/%s'" % (gallery, definition, version),
                                   compute.gallery_image_versions.get, resource_group, gallery, definition, version,
                                   missing_ok=True, **kwargs))


def create_gallery(compute, resource_group, name, location, tags, deadline):
    operation = "create gallery '%s'" % name
    poller = azure_call(operation, compute.galleries.begin_create_or_update, resource_group, name,
                        {"location": location, "tags": tags or {}, "properties": {}})
    return vmstate.wire(wait_for(poller, operation, max(1, deadline - time.monotonic())))


def definition_body(location, facts, identifier, description=None, end_of_life_date=None, tags=None):
    body = {"location": location, "tags": tags or {}, "properties": {
        "osType": facts["os_type"],
        "osState": facts["os_state"],
        "hyperVGeneration": facts["hyper_v_generation"],
        "architecture": facts.get("architecture") or "x64",
        "identifier": identifier,
    }}
    if facts.get("purchase_plan"):  # VMs from a plan image need the plan: the definition carries it
        body["properties"]["purchasePlan"] = dict(facts["purchase_plan"])
    if facts.get("security_type") and facts["security_type"] != "Standard":
        body["properties"]["features"] = [{"name": "SecurityType", "value": facts["security_type"]}]
    if description:
        body["properties"]["description"] = description
    if end_of_life_date:
        body["properties"]["endOfLifeDate"] = end_of_life_date
    return body


def create_definition(compute, resource_group, gallery, name, body, deadline):
    operation = "create gallery image definition '%s/%s'" % (gallery, name)
    poller = azure_call(operation, compute.gallery_images.begin_create_or_update, resource_group, gallery, name, body)
    return vmstate.wire(wait_for(poller, operation, max(1, deadline - time.monotonic())))


def delete_version(compute, resource_group, gallery, definition, version, timeout):
    operation = "delete gallery image version '%s/%s/%s'" % (gallery, definition, version)
    poller = azure_call(operation, compute.gallery_image_versions.begin_delete, resource_group, gallery, definition,
                        version, missing_ok=True)
    if poller is not None:
        wait_for(poller, operation, max(1, timeout))


def create_version(compute, resource_group, gallery, definition, version, body, deadline, keep_failed=False,
                   cleanup_timeout=600):
    """PUT a version and wait for replication. Returns the version (with replication status).

    A version that ends Failed or does not finish by ``deadline`` is deleted (unless ``keep_failed``), then
    AzureError is raised with ``replication`` (per-region status) attached.
    """
    operation = "create gallery image version '%s/%s/%s'" % (gallery, definition, version)
    poller = azure_call(operation, compute.gallery_image_versions.begin_create_or_update, resource_group, gallery,
                        definition, version, body)
    try:
        wait_for(poller, operation, max(1, deadline - time.monotonic()),
                 progress=_replication_progress(compute, resource_group, gallery, definition, version))
    except AzureError as err:
        current = None
        try:
            current = get_version(compute, resource_group, gallery, definition, version)
        except AzureError:
            pass
        err.replication = replication(current) if current else None
        err.cleanup = "kept" if keep_failed else "deleted"
        if not keep_failed and current is not None:
            try:
                # the delete gets its own budget (the task's deadline may be spent): started, it removes the
                # version even if it does not finish within the budget
                delete_version(compute, resource_group, gallery, definition, version, cleanup_timeout)
            except AzureError as cleanup_err:
                err.cleanup = "deleting" if cleanup_err.code == "OperationTimedOut" else \
                    "delete failed: %s" % cleanup_err
        suffix = {
            "deleted": " The failed version was deleted.",
            "kept": " The failed version was kept (keep_failed=true).",
            "deleting": " Deleting the failed version was started; it was not finished after %s seconds."
                        % cleanup_timeout,
        }.get(err.cleanup, " Deleting the failed version also failed: %s" % err.cleanup)
        if err.replication and err.replication["regions"]:
            suffix += " Replication: %s." % ", ".join(
                "%s %s %s%%" % (item["region"], item["state"], item["progress"]) for item in err.replication["regions"])
        err.message = err.message + suffix
        raise
    return get_version(compute, resource_group, gallery, definition, version)


def update_version(compute, resource_group, gallery, definition, version, body, deadline):
    """PATCH publishing settings/tags of an existing version; new regions replicate within the deadline."""
    operation = "update gallery image version '%s/%s/%s'" % (gallery, definition, version)
    poller = azure_call(operation, compute.gallery_image_versions.begin_update, resource_group, gallery, definition,
                        version, body)
    wait_for(poller, operation, max(1, deadline - time.monotonic()),
             progress=_replication_progress(compute, resource_group, gallery, definition, version))
    return get_version(compute, resource_group, gallery, definition, version)


def replication_text(status):
    """"replication InProgress - East US 40%, West Europe 35% (Replicating)" from ``replication()``."""
    if not status or not status.get("regions"):
        return None
    return "replication %s - %s" % (status.get("aggregated_state") or "Unknown", ", ".join(
        "%s %s%%%s" % (item["region"], item.get("progress") if item.get("progress") is not None else "?",
                       "" if item.get("state") in ("Completed", "Replicating") else " (%s)" % item.get("state"))
        for item in status["regions"]))


def _replication_progress(compute, resource_group, gallery, definition, version):
    """The progress detail of a version's write: its per-region replication, read when a line is due."""
    def detail():
        return replication_text(replication(get_version(compute, resource_group, gallery, definition, version)))
    return detail
