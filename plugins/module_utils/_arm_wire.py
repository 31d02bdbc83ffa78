# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: ARM bodies as plain values, written once.

SDK models become their wire dicts (``wire``) or snake_case results (``to_snake``); ``props`` reads a body's
``properties``; ``power_state`` and ``os_state`` a VM's instance view; ``replication`` and ``replication_state``
a gallery image version's replication status. The same functions serve SDK results (after ``wire``) and the
REST path's JSON. No Azure SDK import.
"""

from __future__ import annotations

# the key rule of camel_dict_to_snake_dict (amazon.aws's convention for SDK output), applied recursively below
from ansible.module_utils.common.dict_transformations import _camel_to_snake

from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import normalize_location

# Keys whose values are user data or resource ids, not wire names: keep them as they are.
_SNAKE_IGNORE = ["tags", "Tags", "userAssignedIdentities", "user_assigned_identities"]


def wire(model):
    """An SDK model (or None, or a dict) as its wire-format (camelCase) dict."""
    if model is None:
        return None
    if hasattr(model, "as_dict"):
        return model.as_dict()
    return dict(model)


def to_snake(model_or_dict):
    """An SDK model (or list of them, or a wire dict) as plain snake_case data; tags are kept as they are.

    SDK 38+ models' ``as_dict()`` returns nested camelCase wire names (``hyperVGeneration``), which
    become ``hyper_v_generation`` as ``camel_dict_to_snake_dict`` converts them. Unlike that function,
    whose ``ignore_list`` only applies at the top level, tags and identity maps are left untouched at
    every depth (list pages hold many tagged resources).
    """
    if model_or_dict is None:
        return None
    as_dict = getattr(model_or_dict, "as_dict", None)
    return _snake(as_dict() if callable(as_dict) else model_or_dict)


def _snake(value):
    if isinstance(value, dict):
        return {_camel_to_snake(key): (item if key in _SNAKE_IGNORE else _snake(item)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_snake(item) for item in value]
    return value


def props(body):
    return (body or {}).get("properties") or {}


# -- VM instance view ---------------------------------------------------------------------------------------
def statuses(vm):
    view = props(vm).get("instanceView") or {}
    return [str(status.get("code") or "") for status in view.get("statuses") or []]


def power_state(vm):
    """One of ``_arm_names.POWER_STATES`` (``running``, ``deallocated``...) from a VM body's instance view
    (``unknown`` when it has none)."""
    for code in statuses(vm):
        if code.lower().startswith("powerstate/"):
            return code.split("/", 1)[1].lower()
    return "unknown"


def os_state(vm):
    """``generalized`` or ``specialized`` from a VM body's instance view."""
    for code in statuses(vm):
        if code.lower() == "osstate/generalized":
            return "generalized"
    return "specialized"


# -- gallery image version replication ------------------------------------------------------------------
def replication(version):
    """Per-region replication status of a version body as plain snake_case dicts."""
    status = props(version).get("replicationStatus") or {}
    return {
        "aggregated_state": status.get("aggregatedState"),
        "regions": [{"region": item.get("region"), "state": item.get("state"), "progress": item.get("progress"),
                     "details": item.get("details")} for item in status.get("summary") or []],
    }


def replication_state(version, location):
    """The replication state (``Completed``, ``Replicating``, ...) of a version body in ``location``, or None."""
    wanted = normalize_location(location)
    for item in (props(version).get("replicationStatus") or {}).get("summary") or []:
        if normalize_location(item.get("region")) == wanted:
            return item.get("state")
    return None
