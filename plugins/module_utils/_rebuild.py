# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: rebuild only when needed (build_plan).

* ``definition_hash``: sha256 over a canonical JSON of a build's effective definition (the merged, normalized build
  without run-specific values, secrets and the base image, which is compared on its own) and the bytes of every
  customisation file (the ``customize_tasks`` file, every file under each ``customize_roles`` role directory).
* ``newest_good_output``: the newest good output of a build - the highest gallery image version of its definition
  that succeeded and is not excluded from ``latest`` (nor tagged ``goldenimage-validation: failed``), or, for a
  managed-image-only build, its managed image.
* ``judge``: up to date when the output's base, definition hash and collection version tags equal this run's.

Plain values and a compute client in; a missing gallery, definition or image is "nothing to compare with".
"""

from __future__ import annotations

import hashlib
import json
import os

from ansible_collections.goldenimage.azure.plugins.module_utils import _arm_names as arm_names
from ansible_collections.goldenimage.azure.plugins.module_utils import _gallery as gallery_utils
from ansible_collections.goldenimage.azure.plugins.module_utils import _vmstate as vmstate
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import COLLECTION_VERSION, azure_call
from ansible_collections.goldenimage.azure.plugins.module_utils._versions import version_key

# Keys of a normalized build that change every run or only steer the job, never the image.
RUN_KEYS = ("build_id", "resource_group", "vm_name", "run_id", "admin_password", "base_image", "force_rebuild",
            "accept_terms", "create_resource_groups")
# Output keys that name one run's output (a managed image named with the time, a gallery version).
RUN_OUTPUT_KEYS = {"managed_image": ("name",), "gallery": ("version",)}


def output_tags(base_ref, digest):
    """The tags every output of a build carries, so a later run can tell whether it is up to date."""
    return {arm_names.TAG_SOURCE_URN: base_ref, arm_names.TAG_DEFINITION_HASH: digest,
            arm_names.TAG_COLLECTION_VERSION: COLLECTION_VERSION}


def base_ref(base):
    """The pinned base: its URN (publisher:offer:sku:version), else the id of the image or gallery version."""
    return str(base.get("urn") or base.get("id") or "")


def role_dir(role, base_dir, environ=None):
    """The directory of a customisation role, found as Ansible would (a path, roles/ beside the definition,
    ANSIBLE_ROLES_PATH, an installed collection's roles/), or None."""
    environ = os.environ if environ is None else environ
    candidates = [role if os.path.isabs(role) else os.path.join(base_dir, role)]
    parts = role.split(".")
    if len(parts) == 3:  # namespace.collection.role
        paths = (environ.get("ANSIBLE_COLLECTIONS_PATH") or environ.get("ANSIBLE_COLLECTIONS_PATHS") or
                 "~/.ansible/collections:/usr/share/ansible/collections")
        for root in paths.split(os.pathsep):
            candidates.append(os.path.join(os.path.expanduser(root), "ansible_collections", parts[0], parts[1],
                                           "roles", parts[2]))
    roles_path = environ.get("ANSIBLE_ROLES_PATH") or "~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles"
    candidates.append(os.path.join(base_dir, "roles", role))
    candidates.extend(os.path.join(os.path.expanduser(root), role) for root in roles_path.split(os.pathsep) if root)
    return next((os.path.realpath(path) for path in candidates if os.path.isdir(path)), None)


def customisation_files(build, base_dir, environ=None):
    """([(label, absolute path)] in sorted label order, [warnings]): the files whose bytes enter the hash."""
    files, warnings = [], []
    tasks = build.get("customize_tasks") or ""
    if tasks and os.path.isfile(tasks):
        files.append(("customize_tasks", tasks))
    for role in build.get("customize_roles") or []:
        found = role_dir(str(role), base_dir, environ)
        if found is None:
            warnings.append("build '%s': customize role '%s' was not found from %s; only its name is in the "
                            "definition hash" % (build.get("name"), role, base_dir))
            continue
        for root, dirs, names in os.walk(found):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".git"))
            for name in names:
                path = os.path.join(root, name)
                files.append(("role %s/%s" % (role, os.path.relpath(path, found)), path))
    return sorted(files), warnings


def definition(build, base_dir):
    """The effective definition of a build as it enters the hash: no run-specific value, no secret, paths
    relative to the definition directory."""
    out = {key: value for key, value in build.items() if key not in RUN_KEYS}
    for key, dropped in RUN_OUTPUT_KEYS.items():
        out[key] = {name: value for name, value in (out.get(key) or {}).items() if name not in dropped}
    tasks = out.get("customize_tasks") or ""
    if tasks and os.path.isabs(tasks):
        out["customize_tasks"] = os.path.relpath(tasks, base_dir)
    return out


def definition_hash(build, base_dir, environ=None):
    """(hex sha256, [warnings]) of the build's effective definition and its customisation files."""
    digest = hashlib.sha256()
    digest.update(json.dumps(definition(build, base_dir), sort_keys=True, separators=(",", ":"),
                             default=str).encode("utf-8"))
    files, warnings = customisation_files(build, base_dir, environ)
    for label, path in files:
        with open(path, "rb") as handle:
            data = handle.read()
        digest.update(b"\0%s\0%d\0" % (label.encode("utf-8"), len(data)))
        digest.update(data)
    return digest.hexdigest(), warnings


def _good(resource):
    props = vmstate.props(resource)
    tags = resource.get("tags") or {}
    return (str(props.get("provisioningState") or "").lower() == "succeeded"
            and not (props.get("publishingProfile") or {}).get("excludeFromLatest")
            and str(tags.get(arm_names.TAG_VALIDATION) or "").lower() != "failed")


def newest_good_output(compute, build):
    """({"kind", "id", "name", "version", "tags"}, "") of the build's newest good output, or (None, why not)."""
    gallery = build.get("gallery") or {}
    if gallery:
        rg, name, image = gallery["resource_group"], gallery["name"], gallery["image"]
        where = "gallery image %s/%s" % (name, image)
        found = gallery_utils.get_definition(compute, rg, name, image)
        if found is None:
            return None, "%s does not exist" % where
        good = [item for item in gallery_utils.list_versions(compute, rg, name, image) if _good(item)]
        if not good:
            return None, "%s has no good version (succeeded, not excluded from latest)" % where
        newest = max(good, key=lambda item: version_key(item["name"]))
        return {"kind": "gallery version", "id": newest.get("id"), "name": where, "version": newest["name"],
                "tags": newest.get("tags") or {}}, ""
    image = build.get("managed_image") or {}
    found = vmstate.wire(azure_call("get managed image '%s'" % image["name"], compute.images.get,
                                    image["resource_group"], image["name"], missing_ok=True))
    where = "managed image %s/%s" % (image["resource_group"], image["name"])
    if found is None:
        return None, "%s does not exist" % where
    if not _good(found):
        return None, "%s did not succeed or failed validation" % where
    return {"kind": "managed image", "id": found.get("id"), "name": where, "version": None,
            "tags": found.get("tags") or {}}, ""


def judge(output, wanted):
    """(up to date, reason): compares the output's tags with this run's ``wanted`` (``output_tags``)."""
    what = "%s %s" % (output["kind"], output["version"]) if output["version"] else output["kind"]
    tags = output["tags"]
    base, digest = wanted[arm_names.TAG_SOURCE_URN], wanted[arm_names.TAG_DEFINITION_HASH]
    have_base = tags.get(arm_names.TAG_SOURCE_URN)
    if str(have_base or "").lower() != base.lower():
        return False, "the base is now %s; %s of %s was built from %s" % (base, what, output["name"], have_base or "?")
    if tags.get(arm_names.TAG_DEFINITION_HASH) != digest:
        return False, "the definition hash is now %s; %s of %s has %s (vars or a customisation file changed)" % (
            digest[:12], what, output["name"], (tags.get(arm_names.TAG_DEFINITION_HASH) or "none")[:12])
    version = wanted[arm_names.TAG_COLLECTION_VERSION]
    if tags.get(arm_names.TAG_COLLECTION_VERSION) != version:
        return False, "the collection is now %s; %s of %s was built by %s" % (
            version, what, output["name"], tags.get(arm_names.TAG_COLLECTION_VERSION) or "?")
    return True, "base %s and definition hash %s match %s of %s (collection %s)" % (
        base, digest[:12], what, output["name"], version)
