"""Resource groups and subscriptions: bodies and rules (the routes are in ``routes.py``).

A resource group is stored like any resource (``/subscriptions/{sub}/resourceGroups/{name}``); deleting it
removes everything whose id lies below it (``core.lro_finish.remove``).
"""

from __future__ import annotations

import re

from ...core import lro_finish
from ...core.errors import ArmError

GROUP_TYPE = "Microsoft.Resources/resourceGroups"
RG_NAME = re.compile(r"^[-\w._()]{1,90}$")


def check_group_name(name):
    if not RG_NAME.match(name) or name.endswith("."):
        raise ArmError(400, "InvalidResourceGroup",
                       f"The provided resource group name '{name}' has these invalid characters or length. Resource group "
                       "names can only contain alphanumerics, underscores, parentheses, hyphens and periods, may not "
                       "end in a period and must be 1-90 characters long.")


def check_group_update(existing, name, location):
    """A PUT on an existing group: refused while it is being deleted, or to move it."""
    if existing["properties"]["provisioningState"] == "Deleting":
        raise ArmError(409, "ResourceGroupBeingDeleted", f"The resource group '{name}' is in deprovisioning state "
                       "and cannot perform this operation.")
    if existing["location"] != location:
        raise ArmError(409, "InvalidResourceGroupLocation",
                       f"Invalid resource group location '{location}'. The Resource group already exists in location "
                       f"'{existing['location']}'.")


def new_group(rid, name, location, tags=None, managed_by=None):
    group = {
        "id": rid,
        "name": name,
        "type": GROUP_TYPE,
        "location": location,
        "tags": tags or {},
        "properties": {"provisioningState": "Succeeded"},
    }
    if managed_by:
        group["managedBy"] = managed_by
    return group


def subscription_body(item, tenant):
    sub = item["subscription_id"]
    return {
        "id": f"/subscriptions/{sub}",
        "subscriptionId": sub,
        "tenantId": tenant,
        "displayName": item.get("display_name", "azsim"),
        "state": "Enabled",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def register_finishers(sim):
    sim.ops.register_finisher("resource_group.delete", lro_finish.remove)
