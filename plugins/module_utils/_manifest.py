# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the manifest of a golden-image run (build_manifest), made from the per-build results.

``build_manifest(...)`` takes what the phases of ``playbooks/build_golden_image.yml`` registered - the plan
(``build_plan``'s result, success or failure), the builder role's ``builder_results``, and per build host its
``gi_result`` (``marks``: the start time of every phase, ``failure``, ``capture``) - and returns
``{"manifest": {...}, "failures": [...], "left": [...], "message": "..."}``. Plain values in, no request, no file:
``write_manifest`` writes it.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import time

UNREACHABLE = "the build host became unreachable"


def root_cause(result):
    """The message of a failed task's result, with its Azure error code when the message does not name it; a
    loop's first failed item (a loop's own message is "One or more items failed")."""
    result = result or {}
    items = [item for item in result.get("results") or [] if isinstance(item, dict) and item.get("failed")]
    first = items[0] if items else result
    msg = str(first.get("msg") or result.get("msg") or "the task failed without a message")
    code = str(first.get("error_code") or result.get("error_code") or "")
    if code not in ("", "None") and code not in msg:
        msg = "%s (%s)" % (msg, code)
    return msg


def collection_info(collection_dir):
    """{"name", "version", "path"} of the collection that runs: MANIFEST.json when installed from the artifact,
    galaxy.yml in a source tree."""
    info = {}
    try:
        with open(os.path.join(collection_dir, "MANIFEST.json"), encoding="utf-8") as handle:
            info = json.load(handle).get("collection_info") or {}
    except (OSError, ValueError):
        try:
            with open(os.path.join(collection_dir, "galaxy.yml"), encoding="utf-8") as handle:
                for line in handle:
                    match = re.match(r"^(namespace|name|version):\s*['\"]?([^'\"#\s]+)", line)
                    if match:
                        info.setdefault(match.group(1), match.group(2))
        except OSError:
            pass
    return {"name": "%s.%s" % (info.get("namespace") or "goldenimage", info.get("name") or "azure"),
            "version": str(info.get("version") or "unknown"), "path": collection_dir}


def phase_seconds(marks, end=None):
    """{phase: seconds} from {phase: start time, ..., "end": time}: each phase lasts until the next one starts."""
    items = sorted(((float(value), key) for key, value in (marks or {}).items() if value is not None),
                   key=lambda pair: pair[0])
    out = {}
    for index, (started, key) in enumerate(items):
        if key == "end":
            continue
        finished = items[index + 1][0] if index + 1 < len(items) else end
        if finished is not None:
            out[key] = round(max(finished - started, 0.0), 3)
    return out


def last_phase(marks):
    keys = [pair[0] for pair in sorted((marks or {}).items(), key=lambda pair: float(pair[1])) if pair[0] != "end"]
    return keys[-1] if keys else "customize"


def _outputs(capture, planned):
    image = capture.get("managed_image") or None
    version = capture.get("gallery_image_version") or None
    gallery_image = capture.get("gallery_image") or {}
    return {
        "managed_image": None if not image else {
            "id": image.get("id"), "name": image.get("name"), "location": image.get("location"),
            "hyper_v_generation": image.get("hyper_v_generation")
            or (image.get("properties") or {}).get("hyper_v_generation")},
        "gallery_image_version": None if not version else {
            "id": version.get("id"), "version": capture.get("version") or version.get("name"),
            "location": version.get("location"),
            "regions": (planned.get("gallery_image_version") or {}).get("regions") or [],
            "hyper_v_generation": (gallery_image.get("properties") or {}).get("hyper_v_generation"),
            "replication": (capture.get("replication") or {}).get("regions")},
    }


def _status(plan, definitions, created, create_failure, hosts, check_mode):
    """(builds, [{"ok", "phase", "msg"} per build]) in the order of the builds."""
    if plan.get("failed") or not (plan.get("builds") or plan.get("up_to_date")):
        builds = [dict(item) for item in definitions or [] if isinstance(item, dict)]
        failure = {"ok": False, "phase": plan.get("phase") or "plan", "msg": root_cause(plan)}
        return builds, [dict(failure) for build in builds]
    builds = plan["builds"]
    out = []
    for build in builds:
        name = build.get("name") or ""
        made = (created or {}).get(name) or {}
        host = (hosts or {}).get(name)
        if create_failure:
            status = {"ok": False, "phase": create_failure.get("phase") or "create build VM",
                      "msg": create_failure.get("msg") or ""}
        elif made and not made.get("ok", True):
            status = {"ok": False, "phase": made.get("phase"), "msg": made.get("msg")}
        elif check_mode:
            status = {"ok": True, "phase": "", "msg": ""}
        elif host and host.get("failure"):
            status = dict(host["failure"], ok=False)
        elif not (host or {}).get("capture"):
            status = {"ok": False, "phase": last_phase((host or {}).get("marks")), "msg": UNREACHABLE}
        else:
            status = {"ok": True, "phase": "", "msg": ""}
        out.append(status)
    return builds, out


def validation_failure(validation):
    """The build's failure {ok, phase, msg} when its validation failed, else None; the message names the checks."""
    if (validation or {}).get("status") != "failed":
        return None
    checks = validation.get("checks") or {}
    named = ["%s (%s)" % (name, (checks.get(name) or {}).get("detail") or "failed") for name in validation.get("failed") or []]
    return {"ok": False, "phase": "validate", "msg": "check %s failed" % "; ".join(named or ["?"])}


def _validation_entry(validation, status):
    """The manifest's validation record of a build: what the playbook reported, or why it did not run."""
    if validation:
        return {key: validation.get(key) for key in ("status", "failed", "checks", "reason") if key in validation}
    return {"status": "not run", "reason": "the build failed" if not status["ok"] else "check mode or no output"}


def build_manifest(plan, definitions=None, created=None, create_failure=None, hosts=None, create_finished=None,
                   collection_dir=None, manifest_path="", check_mode=False, now=None, validations=None):
    """The manifest, the failed builds, the builds whose temporary group is still to be deleted and the final
    failure message ("" when every build succeeded)."""
    now = time.time() if now is None else now
    plan = plan or {}
    run = plan.get("run") or {}
    builds, statuses = _status(plan, definitions, created, create_failure, hosts, check_mode)
    validations = validations or {}
    # a build that failed before validation keeps its own root cause
    statuses = [(validation_failure(validations.get(build.get("name") or "")) or status) if status["ok"] else status
                for build, status in zip(builds, statuses)]
    timings = plan.get("timings") or {}
    entries, failures, left = [], [], []
    for build, status in zip(builds, statuses):
        name = build.get("name")
        host = (hosts or {}).get(name or "") or {}
        marks = host.get("marks") or {}
        base = build.get("base") or {}
        planned = build.get("outputs") or {}
        phases = {"resolve": timings.get("resolve"), "plan": timings.get("plan"), "create": None}
        if plan.get("finished") is not None and not plan.get("failed"):
            created_at = marks.get("customize") or create_finished
            if created_at is not None:
                phases["create"] = round(max(float(created_at) - float(plan["finished"]), 0.0), 3)
        phases.update(phase_seconds(marks, end=None if "end" in marks else now))
        entries.append({
            "name": name,
            "build_id": build.get("build_id"),
            "status": "succeeded" if status["ok"] else "failed",
            "failed_phase": None if status["ok"] else status["phase"],
            "error": None if status["ok"] else status["msg"],
            "base_image": {
                "requested": build.get("base_image"),
                "urn": base.get("urn"), "version": base.get("version"), "id": base.get("id"),
                "hyper_v_generation": base.get("hyper_v_generation"), "architecture": base.get("architecture"),
                "os_type": base.get("os_type"), "image_reference": base.get("image_reference")},
            "build_vm": {key: build.get(key) for key in ("resource_group", "location", "vm_size", "os_disk_type",
                                                         "security_type")},
            # what the outputs are tagged with, and why the build was not up to date
            "definition_hash": build.get("definition_hash"),
            "collection_version": build.get("collection_version"),
            "rebuild_reason": build.get("rebuild_reason"),
            "planned": planned,
            "outputs": _outputs(host.get("capture") or {}, planned),
            "validation": _validation_entry(validations.get(name or ""), status),
            "phases": phases,
        })
        if not status["ok"]:
            failures.append({"name": name or "", "phase": status["phase"], "msg": status["msg"]})
        made = (created or {}).get(name or "") or {}
        if made.get("ok") and "end" not in marks and not create_failure:
            left.append(build)
    entries.extend(up_to_date_entry(item, timings) for item in (plan.get("up_to_date") or [])
                   if not plan.get("failed"))
    started = run.get("started")
    manifest = {
        "run_id": run.get("id") or plan.get("run_id"),
        "status": "succeeded" if entries and not failures else "failed",
        "started": started,
        "finished": _iso(now),
        "duration_s": round(now - float(run["t0"]), 3) if run.get("t0") is not None else None,
        "collection": collection_info(collection_dir or ""),
        # the user's build definition (by default where ansible-playbook was started), not the collection's
        "build_definition": {"dir": (plan.get("definition") or {}).get("dir"),
                             "git_commit": (plan.get("definition") or {}).get("git_commit") or "unknown",
                             "git_dirty": (plan.get("definition") or {}).get("git_dirty")},
        "builds": entries,
    }
    return {"manifest": manifest, "failures": failures, "left": left,
            "message": failure_message(failures, plan_failed=bool(plan.get("failed")), check_mode=check_mode,
                                       manifest_path=manifest_path)}


def up_to_date_entry(item, timings):
    """The manifest's record of a build the plan found up to date: nothing was built, and why."""
    base = item.get("base") or {}
    return {
        "name": item.get("name"), "build_id": None, "status": "up_to_date", "reason": item.get("reason"),
        "failed_phase": None, "error": None,
        "base_image": {"requested": base.get("requested"), "urn": base.get("urn"), "version": base.get("version"),
                       "id": base.get("id")},
        "definition_hash": item.get("definition_hash"), "collection_version": item.get("collection_version"),
        "up_to_date_output": {"id": item.get("output_id"), "version": item.get("version")},
        "outputs": {"managed_image": None, "gallery_image_version": None},
        "validation": {"status": "not run", "reason": "up to date"},
        "phases": {"resolve": timings.get("resolve"), "plan": timings.get("plan")},
    }


def failure_message(failures, plan_failed=False, check_mode=False, manifest_path=""):
    if not failures:
        return ""
    parts = ["%s: phase '%s' failed: %s" % (item["name"], item["phase"], str(item["msg"]).rstrip("."))
             for item in failures]
    tail = "Nothing was created" if plan_failed or check_mode else "The temporary resource groups were deleted"
    tail += "." if check_mode else "; see %s." % manifest_path
    return "Golden image build failed - %s. %s" % ("; ".join(parts), tail)


def _iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(tzinfo=None).isoformat() + "Z"


def write_manifest(path, manifest):
    """Write ``manifest`` as JSON to ``path`` (atomically: a reader never sees half a file)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
