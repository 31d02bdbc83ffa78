# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the one parser of ARM resource ids and subscription ids (contract: docs/architecture.md).

    parsed = parse(rid, "Microsoft.Compute/virtualMachines", parameter="vm")
    parsed["subscription"], parsed["resource_group"], parsed["type"], parsed["name"], parsed["names"]
    rid = format_id(sub, rg, "Microsoft.Compute/galleries/images/versions", "gallery", "image", "1.0.0")
    sub = check_subscription(value, "subscription_id")

The rule the collection follows (as ``az`` does): a resource id is acted on in the subscription it
names, with the same credential; names without an id are looked up in the configured
``subscription_id``. A subscription that is not a GUID fails here, before any request, naming the
parameter. Plain values only: no SDK, no network.
"""

from __future__ import annotations

import re

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import AzureError

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
GUID_HINT = "a GUID like 00000000-0000-0000-0000-000000000000"
ID_HINT = "/subscriptions/<GUID>/resourceGroups/<group>/providers/<Namespace>/<type>/<name>[/<type>/<name>...]"
# A managed image, gallery image definition or gallery image version id, as read back from ARM bodies
# (groups ``sub``, ``rg``, ``image`` | ``gallery``, ``definition``, ``version``); ids users give go through parse().
IMAGE_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Compute/"
    r"(?:images/(?P<image>[^/]+)"
    r"|galleries/(?P<gallery>[^/]+)/images/(?P<definition>[^/]+)(?:/versions/(?P<version>[^/]+))?)/?$",
    re.IGNORECASE)


def is_subscription_id(value):
    return isinstance(value, str) and bool(GUID.match(value.strip()))


def check_subscription(value, parameter="subscription_id"):
    """The subscription id ``value`` (stripped); AzureError naming ``parameter`` when it is not a GUID."""
    if not is_subscription_id(value):
        raise AzureError("%s: %r is not a subscription id (%s)" % (parameter, value, GUID_HINT),
                         code="InvalidSubscriptionId")
    return value.strip()


def parse(rid, expected_type=None, parameter="id"):
    """Split an ARM resource id (resource-group scoped) into its parts.

    Returns ``{"id", "subscription", "resource_group", "namespace", "type", "types", "names", "name",
    "children", "last_name"}``: ``type`` is the full type (``Microsoft.Compute/galleries/images``),
    ``names`` the resource names top-down, ``name`` the top-level name and ``children`` the child names
    (``names[1:]``). ``expected_type`` (case-insensitive; a tuple for several) refuses ids of other types.
    Raises AzureError naming ``parameter``; a malformed subscription segment is refused as well.
    """
    if not isinstance(rid, str) or not rid.strip().startswith("/"):
        raise AzureError("%s: %r is not an Azure resource id (%s)" % (parameter, rid, ID_HINT), code="InvalidResourceId")
    text = rid.strip().rstrip("/")
    segments = text.split("/")[1:]
    if len(segments) < 2 or segments[0].lower() != "subscriptions" or not segments[1]:
        raise AzureError("%s: '%s' is not an Azure resource id (%s)" % (parameter, text, ID_HINT),
                         code="InvalidResourceId")
    subscription = segments[1]
    if not is_subscription_id(subscription):
        raise AzureError("%s: '%s' names subscription '%s', which is not a subscription id (%s)"
                         % (parameter, text, subscription, GUID_HINT), code="InvalidSubscriptionId")
    rest = segments[2:]
    if (len(rest) < 6 or rest[0].lower() != "resourcegroups" or not rest[1] or rest[2].lower() != "providers"
            or len(rest[4:]) % 2 or not all(rest)):
        raise AzureError("%s: '%s' is not an Azure resource id (%s)" % (parameter, text, ID_HINT),
                         code="InvalidResourceId")
    namespace = rest[3]
    pairs = rest[4:]
    types = pairs[0::2]
    names = pairs[1::2]
    full_type = "/".join([namespace] + types)
    parsed = {
        "id": text,
        "subscription": subscription,
        "resource_group": rest[1],
        "namespace": namespace,
        "type": full_type,
        "types": types,
        "names": names,
        "name": names[0],
        "children": names[1:],
        "last_name": names[-1],
    }
    if expected_type:
        wanted = (expected_type,) if isinstance(expected_type, str) else tuple(expected_type)
        if full_type.lower() not in [item.lower() for item in wanted]:
            raise AzureError("%s: '%s' is a %s id, expected %s" % (parameter, text, full_type, " or ".join(wanted)),
                             code="InvalidResourceId")
    return parsed


def format_id(subscription, resource_group, full_type, *names):
    """The id of a resource: ``format_id(sub, rg, "Microsoft.Compute/disks", "d1")``; child types name each level."""
    parts = full_type.split("/")
    namespace, types = parts[0], parts[1:]
    if len(types) != len(names) or not types:
        raise ValueError("%s needs %d names, got %d" % (full_type, len(types), len(names)))
    path = "/subscriptions/%s/resourceGroups/%s/providers/%s" % (subscription, resource_group, namespace)
    for kind, name in zip(types, names):
        path += "/%s/%s" % (kind, name)
    return path


def same_subscription(left, right):
    return bool(left) and bool(right) and left.strip().lower() == right.strip().lower()
