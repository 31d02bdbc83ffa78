# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the plan of a golden-image run (build_plan), made before any VM exists.

1. ``normalize_builds``: every build definition merged with the defaults, named (build id, resource group),
   checked (name, base image, at least one output, OS type, customisation file). No request.
2. ``resolve_bases``: the base images pinned to concrete versions (one ``Resolver`` per location).
3. ``plan_outputs``: every output checked against what exists, with the facts the build VM will have
   (OS type, generalized, Hyper-V generation and architecture of the base image, security type): a managed image
   name that exists, a gallery version that exists, a gallery image definition that cannot take the version
   (OS type/state, generation, architecture, security type), a missing resource group or gallery. Reads only;
   the readers and rules are those of image_capture (``_capture``, ``_gallery``, ``_custom_images``), so the
   plan refuses what the capture at the end of the build would refuse.

Everything takes plain values and a client (``AzureSession``); errors are ``AzureError`` with ``phase`` set.
"""

from __future__ import annotations

import os
import time

from ansible_collections.goldenimage.azure.plugins.module_utils import _capture as capture_utils
from ansible_collections.goldenimage.azure.plugins.module_utils import _gallery as gallery_utils
from ansible_collections.goldenimage.azure.plugins.module_utils import _encryption as encryption_utils
from ansible_collections.goldenimage.azure.plugins.module_utils import _arm_names as arm_names
from ansible_collections.goldenimage.azure.plugins.module_utils import _marketplace_terms as terms_utils
from ansible_collections.goldenimage.azure.plugins.module_utils import _rebuild as rebuild_utils
from ansible_collections.goldenimage.azure.plugins.module_utils import _temp_disk as temp_disk_utils
from ansible_collections.goldenimage.azure.plugins.module_utils import _vm_security as vm_security
from ansible_collections.goldenimage.azure.plugins.module_utils import _vmstate as vmstate
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError, azure_call

# Every default of a build definition, written once (the playbook's golden_image_* variables override some).
BUILD_DEFAULTS = {
    "os_type": "linux",
    "location": "eastus",
    "vm_size": "Standard_D2s_v5",
    "os_disk_type": "Premium_LRS",
    "os_disk_size_gb": 0,
    "os_disk_tier": "",
    "data_disks": [],
    "security_type": "Standard",
    "admin_username": "azureuser",
    "managed_image": {},
    "gallery": {},
    "tags": {},
    "public_ip_tags": {},
    "customize_tasks": "",
    "customize_roles": [],
    "accept_terms": False,
    "create_resource_groups": False,
    "force_rebuild": False,
}
OS_TYPES = {"linux": "Linux", "windows": "Windows"}
SECURITY_TYPES = ("Standard", "TrustedLaunch", "ConfidentialVM")
SECRET_KEYS = ("admin_password",)
PHASE_PLAN = "plan"
PHASE_RESOLVE = "resolve base image"
_BUILD_ID_MAX = 60


def _error(message, code, phase=PHASE_PLAN, status_code=None):
    err = AzureError(message, status_code=status_code, code=code, operation="plan the builds")
    err.phase = phase
    return err


def _label(index, build):
    name = build.get("name") if isinstance(build, dict) else None
    return "build '%s' (builds[%d])" % (name, index) if name else "builds[%d]" % index


# -- 1. definitions -----------------------------------------------------------------------------------------
def normalize_builds(builds, defaults=None, run_id="", base_dir=None):
    """The build definitions merged with ``defaults`` and named; raises one error listing every problem."""
    from ansible_collections.goldenimage.azure.plugins.module_utils._build_vm import BUILD_ID

    merged_defaults = dict(BUILD_DEFAULTS)
    # None or "": not set (the playbook passes its golden_image_* settings, unset ones as None)
    merged_defaults.update({key: value for key, value in (defaults or {}).items() if value not in (None, "")})
    base_dir = base_dir or os.getcwd()
    problems = []
    if not builds:
        raise _error("builds: give at least one image definition (golden_image_builds: a list of dicts with name, "
                     "base_image and managed_image and/or gallery; see examples/vars/)", "InvalidBuildDefinition")
    out = []
    names = {}
    for index, raw in enumerate(builds):
        where = _label(index, raw)
        if not isinstance(raw, dict):
            problems.append("%s: is a %s, not a dict" % (where, type(raw).__name__))
            continue
        build = dict(merged_defaults)
        build.update({key: value for key, value in raw.items() if key not in SECRET_KEYS})
        for key in ("managed_image", "gallery", "tags", "public_ip_tags"):
            build[key] = dict(build.get(key) or {})
        name = str(build.get("name") or "")
        if not name:
            problems.append("%s: name is required" % where)
        elif name.lower() in names:
            problems.append("%s: name '%s' is also used by builds[%d]; names must be unique"
                            % (where, name, names[name.lower()]))
        names.setdefault(name.lower(), index)
        if not build.get("base_image"):
            problems.append("%s: base_image is required (a URN such as Canonical:ubuntu-24_04-lts:server:latest, "
                            "a managed image or a gallery image)" % where)
        if not build["managed_image"] and not build["gallery"]:
            problems.append("%s: give at least one output: managed_image and/or gallery" % where)
        os_type = str(build.get("os_type") or "").lower()
        if os_type not in OS_TYPES:
            problems.append("%s: os_type '%s' is not one of linux, windows" % (where, build.get("os_type")))
        build["os_type"] = os_type
        if build.get("security_type") not in SECURITY_TYPES:
            problems.append("%s: security_type '%s' is not one of %s"
                            % (where, build.get("security_type"), ", ".join(SECURITY_TYPES)))
        problems.extend("%s: %s" % (where, problem) for problem in _private_build_problems(build))
        if build["managed_image"] and not (build["managed_image"].get("name")
                                           and build["managed_image"].get("resource_group")):
            problems.append("%s: managed_image needs name and resource_group" % where)
        missing = [key for key in ("resource_group", "name", "image") if not build["gallery"].get(key)]
        if build["gallery"] and missing:
            problems.append("%s: gallery needs %s" % (where, ", ".join(missing)))
        try:  # build_vm's own data disk rules (LUN 0-63, unique; size; SKU; caching), before any VM exists
            from ansible_collections.goldenimage.azure.plugins.module_utils._build_vm import check_data_disks
            build["data_disks"] = check_data_disks(build.get("data_disks"), build.get("os_disk_type") or "Premium_LRS")
        except AzureError as err:
            problems.append("%s: %s" % (where, err.message))
        if build.get("target_sizes") not in (None, "", []):  # the sizes the image is for (temporary disk warning)
            try:
                build["target_sizes"] = temp_disk_utils.check_target_sizes(build["target_sizes"])
            except AzureError as err:
                problems.append("%s: %s" % (where, err.message))
        try:  # image_capture's own name rules (length, characters, version format)
            capture_utils.check_names({"managed_image": build["managed_image"], "gallery": build["gallery"]})
        except AzureError as err:
            problems.append("%s: %s" % (where, err.message))
        build["build_id"] = str(build.get("build_id") or ("%s-%s" % (name, run_id) if run_id else name)[-_BUILD_ID_MAX:])
        if name and not BUILD_ID.match(build["build_id"].lstrip("-._")):
            problems.append("%s: build id '%s' is not allowed: use letters, digits, '-', '_' or '.' in name "
                            "(and build_id)" % (where, build["build_id"]))
        build["build_id"] = build["build_id"].lstrip("-._")
        build["resource_group"] = str(build.get("resource_group") or "gi-build-" + build["build_id"])
        build["vm_name"] = ("gi-" + build["build_id"])[:64]
        tasks = build.get("customize_tasks") or ""
        if tasks:
            path = tasks if os.path.isabs(tasks) else os.path.normpath(os.path.join(base_dir, tasks))
            if not os.path.isfile(path):
                problems.append("%s: customize_tasks '%s' is not a file%s" % (
                    where, tasks, "" if os.path.isabs(tasks) else
                    " (a relative path is taken from the definition directory %s)" % base_dir))
            build["customize_tasks"] = path
        for flag in ("accept_terms", "create_resource_groups", "force_rebuild"):
            if not isinstance(build.get(flag), bool):
                problems.append("%s: %s must be true or false, not %r" % (where, flag, build.get(flag)))
        roles = build.get("customize_roles") or []
        build["customize_roles"] = [roles] if isinstance(roles, str) else list(roles)
        out.append(build)
    if problems:
        raise _error("The build definitions have %d problem(s); nothing was created:\n- %s"
                     % (len(problems), "\n- ".join(problems)), "InvalidBuildDefinition")
    return out


# -- 2. base images -----------------------------------------------------------------------------------------
def resolve_bases(client, builds, max_concurrency=8):
    """{build name: resolved details} (the dicts of image_facts), one Resolver per location."""
    from ansible_collections.goldenimage.azure.plugins.module_utils._image_sources import Resolver

    bases, warnings = {}, []
    locations = []
    for build in builds:
        if build["location"] not in locations:
            locations.append(build["location"])
    for location in locations:
        here = [build for build in builds if build["location"] == location]
        try:
            resolved = Resolver(client, location=location, max_concurrency=max_concurrency).resolve_many(
                [build["base_image"] for build in here])
        except AzureError as err:
            err.phase = PHASE_RESOLVE
            raise
        for build, details in zip(here, resolved):
            bases[build["name"]] = details
            warnings.extend(details.get("warnings") or [])
    return bases, warnings


def source_facts(build, base, subscription_id):
    """The facts image_capture will read from the build VM once it is deprovisioned and generalized."""
    vm_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (
        subscription_id, build["resource_group"], build["vm_name"])
    return {
        "type": "vm", "id": vm_id, "uri": None, "location": build["location"],
        "os_type": OS_TYPES.get(build["os_type"], build["os_type"]), "os_state": "Generalized",
        "declared_os_state": None, "power_state": "deallocated",
        "hyper_v_generation": (base.get("hyper_v_generation") or "V1").upper(),
        "security_type": build.get("security_type") or "Standard",
        "architecture": base.get("architecture") or "x64",
        "source_urn": base.get("urn"),
        "plan": capture_utils.purchase_plan(base.get("plan")),
    }


def check_build_vm(build, base):
    """The build VM itself: the base image must be what the definition says it is."""
    problems = []
    base_os = (base.get("os_type") or "").lower()
    if base_os and base_os != build["os_type"]:
        problems.append("os_type is %s, but the base image %s is %s" % (
            build["os_type"], base.get("urn") or base.get("id"), base.get("os_type")))
    architecture = base.get("architecture") or "x64"
    size_architecture = arm_names.size_architecture(build.get("vm_size"))
    if size_architecture and size_architecture.lower() != architecture.lower():
        problems.append("vm_size %s is an %s size, but the base image %s is %s: Azure refuses the VM once its network "
                        "exists; choose an %s size (for example %s)" % (
                            build.get("vm_size"), size_architecture, base.get("urn") or base.get("id"), architecture,
                            architecture, "Standard_D2ps_v5" if architecture.lower() == "arm64" else "Standard_D2s_v5"))
    problems.extend(vm_security.problems(build.get("security_type"), build.get("vm_size"),
                                         encryption_type=build.get("security_encryption_type")))
    generation = (base.get("hyper_v_generation") or "V1").upper()
    if build.get("security_type") in ("TrustedLaunch", "ConfidentialVM") and generation != "V2":
        problems.append("security_type %s needs a Gen2 (V2) base image; %s is %s" % (
            build["security_type"], base.get("urn") or base.get("id"), generation))
    return problems


# -- 3. outputs ---------------------------------------------------------------------------------------------
class _Groups:
    """Resource group existence, read once per group. A missing output group of a build with
    ``create_resource_groups: true`` is noted in ``to_create`` (created by :func:`create_groups` only once the
    whole plan passed) instead of failing."""

    def __init__(self, client, subscription_id):
        self.client, self.subscription_id, self.known, self.to_create = client, subscription_id, {}, {}

    def check(self, name, parameter, build=None, location=None):
        key = name.lower()
        if key in self.to_create:
            return
        if key not in self.known:
            from ansible_collections.goldenimage.azure.plugins.module_utils._custom_images import _missing_parent

            try:
                _missing_parent(self.client, self.subscription_id, name, "get resource group %s" % name)
                self.known[key] = None
            except AzureError as err:
                if err.code != "ResourceGroupNotFound":
                    raise
                self.known[key] = err
        if self.known[key] is not None:
            err = self.known[key]
            if build and build.get("create_resource_groups"):
                self.to_create[key] = {"name": name, "location": arm_names.normalize_location(location or build["location"]),
                                       "parameter": parameter, "tags": dict(build.get("tags") or {})}
                return
            raise AzureError("%s: %s (set create_resource_groups: true to let the job create it)"
                             % (parameter, err.message), status_code=404, code=err.code)


def create_groups(client, groups, tags=None, check_mode=False):
    """Create the output resource groups the plan found missing (``create_resource_groups``), after every check
    passed. They hold outputs, so they carry the run's tags, never the temporary build tags, and stay after the run.
    Returns [{"name", "location", "created"}] (``created`` false in check mode)."""
    out = []
    for item in groups.to_create.values():
        if not check_mode:
            azure_call("create resource group '%s'" % item["name"], client.resources().resource_groups.create_or_update,
                       item["name"], {"location": item["location"], "tags": dict(tags or {}, **item["tags"])})
        out.append({"name": item["name"], "location": item["location"], "created": not check_mode,
                    "parameter": item["parameter"]})
    return out


def plan_managed_image(compute, groups, build, facts):
    opts = build["managed_image"]
    name, rg = opts["name"], opts["resource_group"]
    capture_utils.check_image_source(facts)  # Trusted Launch / Confidential VM: Azure refuses managed images
    groups.check(rg, "managed_image.resource_group", build, opts.get("location"))
    existing = vmstate.wire(azure_call("get managed image '%s'" % name, compute.images.get, rg, name,
                                       missing_ok=True))
    action = "create"
    if existing is not None:
        state = vmstate.props(existing).get("provisioningState")
        made_from = capture_utils.image_source_ref(existing)
        if state == "Failed":
            action = "replace"
        else:
            built_by = (existing.get("tags") or {}).get(capture_utils.BUILD_ID_TAG)
            raise AzureError(
                "managed_image: image '%s' already exists in resource group '%s' (made from %s%s). The capture at "
                "the end of the build would refuse it, after the VM was created and customised. Use a name that is "
                "new for every run (with the date and time in it, as examples/vars/ubuntu-2404-gen2.yml does), or "
                "delete the image." % (name, rg, made_from, ", build %s" % built_by if built_by else ""),
                status_code=409, code="ImageExists")
    image_id = (existing or {}).get("id") or "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/" \
        "images/%s" % (groups.subscription_id, rg, name)
    return {"action": action, "name": name, "resource_group": rg, "id": image_id,
            "location": opts.get("location") or build["location"],
            "hyper_v_generation": facts["hyper_v_generation"]}


def plan_gallery(compute, groups, build, facts, tags):
    opts = dict(build["gallery"])
    groups.check(opts["resource_group"], "gallery.resource_group", build, opts.get("location"))
    user_tags = dict(tags)
    step = capture_utils._plan_gallery(compute, facts, opts, dict(tags, **{capture_utils.BUILD_ID_TAG: build["build_id"]}),
                                       False, user_tags)
    where = "gallery image definition '%s/%s'" % (step["gallery"], step["definition"])
    definition = (gallery_utils.definition_facts(step["existing_definition"]) if step["existing_definition"]
                  else step["definition_facts"])
    if (definition.get("architecture") or "x64").lower() != facts["architecture"].lower():
        raise AzureError("gallery: %s%s is %s, but the base image %s is %s. Nothing was created." % (
            "the existing " if step["existing_definition"] else "the ", where, definition.get("architecture"),
            facts.get("source_urn"), facts["architecture"]), code="DefinitionMismatch")
    if step["action"] not in ("create", "replace"):
        # "keep"/"update" only for a version made from this very VM: a build VM is new, so that is a clash
        raise AzureError("gallery.version: version %s of %s was already made from %s." % (
            step["version"], where, facts["id"]), status_code=409, code="VersionExists")
    version_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/%s/images/%s/" \
        "versions/%s" % (groups.subscription_id, step["rg"], step["gallery"], step["definition"], step["version"])
    regions = [item.get("name") for item in (opts.get("target_regions") or [{"name": step["location"]}])]
    return {"action": step["action"], "resource_group": step["rg"], "gallery": step["gallery"],
            "definition": step["definition"], "version": step["version"],
            "version_requested": str(opts.get("version") or "auto"), "id": version_id,
            "location": step["location"], "regions": regions, "create_gallery": step["create_gallery"],
            "create_definition": step["create_definition"], "definition_facts": definition}


def plan_outputs(client, builds, bases, tags=None, list_locations=None, groups=None):
    """{build name: {"managed_image": plan | None, "gallery_image_version": plan | None}}; raises one error
    listing every clash, before anything is created. ``list_locations()`` -> the subscription's regions, read once
    when a build names target regions or output locations (image_capture's region check)."""
    compute = client.compute()
    subscription_id = client.subscription_id
    groups = groups or _Groups(client, subscription_id)
    problems, codes, plans = [], [], {}
    images, versions = {}, {}
    regions = []

    def list_locations_once():
        if not regions:
            regions.append(list_locations())
        return regions[0]
    for index, build in enumerate(builds):
        where = _label(index, build)
        base = bases[build["name"]]
        facts = source_facts(build, base, subscription_id)
        build_tags = dict(tags or {}, **build.get("tags") or {})
        plan = {"managed_image": None, "gallery_image_version": None}
        for problem in check_build_vm(build, base):
            problems.append("%s: %s" % (where, problem))
            codes.append("InvalidBuildDefinition")
        if list_locations is not None:
            try:
                capture_utils.check_regions({"managed_image": build["managed_image"], "gallery": build["gallery"]},
                                            list_locations_once)
            except AzureError as err:
                problems.append("%s: %s" % (where, err.message))
                codes.append(err.code)
                plans[build["name"]] = plan
                continue
        steps = []
        if build["managed_image"]:
            steps.append(("managed_image", lambda b=build, f=facts: plan_managed_image(compute, groups, b, f)))
        if build["gallery"]:
            steps.append(("gallery_image_version",
                          lambda b=build, f=facts, t=build_tags: plan_gallery(compute, groups, b, f, t)))
        for key, step in steps:
            try:
                plan[key] = step()
            except AzureError as err:
                problems.append("%s: %s" % (where, err.message))
                codes.append(err.code)
        try:  # encryption at rest: each disk encryption set in its region; a CMK build VM needs one per region
            encryption_utils.check_build(compute, build, subscription_id,
                                         (plan["gallery_image_version"] or {}).get("regions"),
                                         (plan["managed_image"] or {}).get("location"))
        except AzureError as err:
            problems.append("%s: %s" % (where, err.message))
            codes.append(err.code)
        image = plan["managed_image"]
        if image:
            image_key = (image["resource_group"].lower(), image["name"].lower())
            if image_key in images:
                problems.append("%s: managed_image '%s/%s' is also the output of %s" % (
                    where, image["resource_group"], image["name"], images[image_key]))
                codes.append("ImageExists")
            images.setdefault(image_key, where)
        version = plan["gallery_image_version"]
        if version and version["version_requested"] != "auto":
            version_key = version["id"].lower()
            if version_key in versions:
                problems.append("%s: gallery version %s of %s/%s is also the output of %s" % (
                    where, version["version"], version["gallery"], version["definition"], versions[version_key]))
                codes.append("VersionExists")
            versions.setdefault(version_key, where)
        plans[build["name"]] = plan
    if problems:
        raise _error("Pre-flight found %d problem(s) before any VM was created; nothing was created:\n- %s"
                     % (len(problems), "\n- ".join(problems)), next((c for c in codes if c), "PreflightFailed"),
                     status_code=409 if any(c in ("ImageExists", "VersionExists") for c in codes) else None)
    return plans


# -- the build definition ----------------------------------------------------------------------------------
def definition_info(base_dir, run=None):
    """{"dir", "git_commit", "git_dirty"} of the directory holding the user's build definition ("unknown" and
    None outside a git work tree or without git)."""
    import subprocess

    run = run or subprocess.run
    info = {"dir": base_dir, "git_commit": "unknown", "git_dirty": None}

    def git(*args):
        try:
            proc = run(["git", "-C", base_dir] + list(args), capture_output=True, text=True, timeout=30,
                       check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit:
        info["git_commit"] = commit
        status = git("status", "--porcelain", "--untracked-files=no")
        info["git_dirty"] = None if status is None else bool(status)
    return info


# -- the whole plan -----------------------------------------------------------------------------------------
def base_summary(details):
    keys = ("source", "requested", "urn", "version", "id", "location", "hyper_v_generation", "architecture", "os_type",
            "image_reference")
    out = {key: details.get(key) for key in keys}
    plan = details.get("plan") or {}
    out["plan"] = {key: plan[key] for key in ("name", "product", "publisher") if plan.get(key)}
    return out


def _private_build_problems(build):
    """What is wrong with a build's private-network keys (subnet_id, public_ip, jump_host), before any request."""
    from ansible_collections.goldenimage.azure.plugins.module_utils._resource_id import parse as parse_id

    problems = []
    if build.get("subnet_id"):
        try:
            parse_id(build["subnet_id"], "Microsoft.Network/virtualNetworks/subnets", parameter="subnet_id")
        except AzureError as err:  # its message names subnet_id and what is allowed
            problems.append(err.message)
    if build.get("public_ip") is not None and not isinstance(build["public_ip"], bool):
        problems.append("public_ip must be true or false, not %r" % (build["public_ip"],))
    if build.get("jump_host") and build.get("os_type") == "windows":
        problems.append("jump_host is for SSH only; a Windows build (WinRM) through a jump host is not supported")
    return problems


def vm_item(build, base):
    """The builder role's description of the build VM (builder_vms item), without secrets."""
    keys = ("name", "build_id", "resource_group", "location", "os_type", "vm_size", "admin_username", "os_disk_type",
            "os_disk_size_gb", "os_disk_tier", "security_type", "public_ip_tags")
    item = {key: build[key] for key in keys}
    if build.get("data_disks"):
        item["data_disks"] = build["data_disks"]
    item["image"] = base.get("image_reference")
    item["plan"] = base_summary(base)["plan"]
    if build.get("security_encryption_type"):
        item["security_encryption_type"] = build["security_encryption_type"]
    item["tags"] = build["tags"]
    if build.get("run_id"):
        item["run_id"] = build["run_id"]
    # A private build (issue 13): the user's subnet, no public IP, a jump host, and the NSG sources it needs.
    for key in ("subnet_id", "jump_host", "allowed_sources"):
        if build.get(key):
            item[key] = build[key]
    if build.get("public_ip") is not None:
        item["public_ip"] = build["public_ip"]
    # Encryption at rest (issue 13): the build VM's disk encryption set and encryption at host.
    if build.get("disk_encryption_set"):
        item["disk_encryption_set"] = build["disk_encryption_set"]
    if build.get("encryption_at_host"):
        item["encryption_at_host"] = True
    return item


def describe(build, plan):
    parts = []
    image = plan.get("managed_image")
    if image:
        parts.append("managed image %s/%s (%s)" % (image["resource_group"], image["name"], image["action"]))
    version = plan.get("gallery_image_version")
    if version:
        parts.append("gallery version %s/%s/%s %s to %s (%s%s%s)" % (
            version["resource_group"], version["gallery"], version["definition"], version["version"],
            ", ".join(version["regions"]), version["action"],
            ", new gallery" if version["create_gallery"] else "",
            ", new definition" if version["create_definition"] else ""))
    return "%s: %s from %s on a %s %s VM in %s" % (
        build["name"], " and ".join(parts), build["base"]["urn"] or build["base"]["id"], build["vm_size"],
        build["os_type"], build["location"])


def _list_locations(client):
    from ansible_collections.goldenimage.azure.plugins.module_utils import _marketplace

    return _marketplace.list_locations(client, client.subscription_id)


def new_run(run_id="", run_uuid="", now=None):
    """{"id", "uuid", "started", "t0"} of a run: ``run_id`` "auto" is made from the time and a random part,
    an empty ``run_uuid`` is generated (the goldenimage-run-id tag)."""
    import datetime
    import random
    import secrets
    import string

    t0 = time.time() if now is None else now
    started = datetime.datetime.fromtimestamp(t0, datetime.timezone.utc).replace(tzinfo=None)
    if run_id == "auto":
        run_id = started.strftime("%Y%m%d%H%M%S") + "%04x" % random.randint(0, 65535)
    alphabet = string.ascii_lowercase + string.digits
    return {"id": run_id, "uuid": run_uuid or "".join(secrets.choice(alphabet) for index in range(32)),
            "started": started.isoformat() + "Z", "t0": t0}


def plan_rebuilds(compute, builds, bases, base_dir):
    """(builds to make, [up-to-date entries], warnings). Every build gets ``definition_hash``, ``output_tags``
    (the tags its outputs will carry) and ``rebuild_reason``; ``force_rebuild`` skips the comparison."""
    todo, up_to_date, warnings = [], [], []
    for build in builds:
        base = bases[build["name"]]
        digest, found_warnings = rebuild_utils.definition_hash(build, base_dir)
        warnings.extend(found_warnings)
        wanted = rebuild_utils.output_tags(rebuild_utils.base_ref(base), digest)
        build.update(definition_hash=digest, collection_version=wanted[arm_names.TAG_COLLECTION_VERSION],
                     output_tags=wanted)
        if build.get("force_rebuild"):
            build["rebuild_reason"] = "force_rebuild is true"
            todo.append(build)
            continue
        output, why_not = rebuild_utils.newest_good_output(compute, build)
        current, reason = rebuild_utils.judge(output, wanted) if output else (False, why_not)
        if not current:
            build["rebuild_reason"] = reason
            todo.append(build)
            continue
        up_to_date.append({"name": build["name"], "reason": reason, "output_id": output["id"],
                           "version": output["version"], "base_urn": wanted[arm_names.TAG_SOURCE_URN],
                           "definition_hash": digest, "collection_version": wanted[arm_names.TAG_COLLECTION_VERSION],
                           "base": base_summary(base)})
    return todo, up_to_date, warnings


def build_plan(client, builds, defaults=None, run_id="", base_dir=None, tags=None, max_concurrency=8, run_uuid="",
               check_mode=False):
    """The whole plan: {"builds": [...], "summary": [...], "warnings": [...], "timings": {...}, "changed"}.

    Builds whose newest good output is up to date (``plan_rebuilds``) are in "up_to_date", not in "builds".
    ``changed`` is True only when Marketplace terms were accepted (a build with ``accept_terms: true``) or output
    resource groups were created (``create_resource_groups: true``).
    """
    started = time.monotonic()
    base_dir = base_dir or os.getcwd()
    normalized = normalize_builds(builds, defaults, run_id, base_dir)
    bases, warnings = resolve_bases(client, normalized, max_concurrency)
    resolved = time.monotonic()
    # Rebuild only when needed: a build whose newest good output has this base and definition is left out.
    normalized, up_to_date, rebuild_warnings = plan_rebuilds(client.compute(), normalized, bases, base_dir)
    warnings = list(warnings) + rebuild_warnings
    try:  # a plan base's terms first: Azure refuses its VM only after the group, network and NIC exist
        terms, accepted = terms_utils.plan_terms(
            client, normalized, {build["name"]: bases[build["name"]].get("plan") for build in normalized}, check_mode)
    except AzureError as err:
        raise _error(err.message, err.code, status_code=err.status_code) from None
    groups = _Groups(client, client.subscription_id)
    plans = plan_outputs(client, normalized, bases, tags, list_locations=lambda: _list_locations(client), groups=groups)
    created_groups = create_groups(client, groups, tags, check_mode)
    # The temporary disk of the build size against the target sizes (only builds that give target_sizes read).
    temp_disks, temp_warnings = temp_disk_utils.plan_builds(client.compute(), normalized) if any(
        build.get("target_sizes") for build in normalized) else ({}, [])
    warnings = list(warnings) + temp_warnings
    out = []
    for build in normalized:
        base = bases[build["name"]]
        build["tags"] = dict(tags or {}, **build["tags"])
        build["tags"].update(build["output_tags"])  # what a later run compares (base, definition, collection)
        if run_uuid:
            build["run_id"] = run_uuid
        item = dict(build, base=base_summary(base), vm=vm_item(build, base), outputs=plans[build["name"]])
        if build["name"] in temp_disks:
            item["temp_disk"] = temp_disks[build["name"]]
        if build["name"] in terms:
            item["terms"] = terms[build["name"]]
        item["summary"] = describe(item, item["outputs"])
        out.append(item)
    summary = [item["summary"] for item in out] + ["%s: up to date - %s" % (item["name"], item["reason"])
                                                   for item in up_to_date]
    return {"builds": out, "summary": summary,
            "up_to_date": up_to_date, "warnings": warnings,
            "changed": accepted or bool(created_groups), "resource_groups": created_groups,
            "timings": {"resolve": round(resolved - started, 3), "plan": round(time.monotonic() - resolved, 3)}}
