"""ARM basics: cloud metadata, subscriptions, resource providers and resource groups.

Deleting a resource group is asynchronous (202 + Location on ``operationresults``) and removes every
resource inside it when it completes.
"""

from __future__ import annotations

import re

from ..core.errors import ArmError, resource_group_not_found
from ..core.request import Reply
from ..core.store import public, resource_group_id
from . import lro_finish

RG_NAME = re.compile(r"^[-\w._()]{1,90}$")


def metadata_endpoints(req):
    base = req.base_url + "/"
    return {
        "name": "AzureSimulator",
        "portal": base,
        "resourceManager": base,
        "authentication": {
            "loginEndpoint": base,
            "audiences": [base, "https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "graph": base,
        "graphAudience": base,
        "microsoftGraphResourceId": base,
        "media": base,
        "batch": base,
        "sqlManagement": base,
        "activeDirectoryDataLake": base,
        "suffixes": {"storage": "core.windows.net", "keyVaultDns": "vault.azure.net", "acrLoginServer": "azurecr.io"},
    }


def _subscription_body(item, tenant):
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


def list_subscriptions(req):
    tenant = req.sim.settings["auth"]["tenant_id"]
    return {"value": [_subscription_body(item, tenant) for item in req.sim.settings["subscriptions"]]}


def get_subscription(req):
    tenant = req.sim.settings["auth"]["tenant_id"]
    for item in req.sim.settings["subscriptions"]:
        if item["subscription_id"].lower() == req.subscription.lower():
            return _subscription_body(item, tenant)
    raise ArmError(404, "SubscriptionNotFound", f"The subscription '{req.subscription}' could not be found.")


def list_locations(req):
    return {"value": [
        {"id": f"/subscriptions/{req.subscription}/locations/{name}", "name": name, "displayName": name,
         "regionalDisplayName": name, "type": "Region"}
        for name in req.sim.settings["locations"]
    ]}


def get_provider(req):
    namespace = req.params["namespace"]
    return {
        "id": f"/subscriptions/{req.subscription}/providers/{namespace}",
        "namespace": namespace,
        "registrationState": "Registered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": [],
    }


def register_provider(req):
    return get_provider(req)


# -- resource groups ------------------------------------------------------------------------------
def _rg_id(req):
    return resource_group_id(req.subscription, req.params["resourceGroupName"])


def get_group_or_raise(sim, subscription, name):
    group = sim.store.get(resource_group_id(subscription, name))
    if group is None:
        raise resource_group_not_found(name)
    return group


def validate_location(sim, location, target="location"):
    """ARM's answer to a missing or unknown location."""
    if not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.", target=target)
    normalized = location.replace(" ", "").lower()
    if normalized not in sim.settings["locations"]:
        raise ArmError(400, "LocationNotAvailableForResourceType",
                       f"The provided location '{location}' is not available for resource type. List of available "
                       f"regions for the resource type is '{','.join(sim.settings['locations'])}'.", target=target)
    return normalized


def put_group(req):
    name = req.params["resourceGroupName"]
    if not RG_NAME.match(name) or name.endswith("."):
        raise ArmError(400, "InvalidResourceGroup",
                       f"The provided resource group name '{name}' has these invalid characters or length. Resource group "
                       "names can only contain alphanumerics, underscores, parentheses, hyphens and periods, may not "
                       "end in a period and must be 1-90 characters long.")
    body = req.json()
    existing = req.sim.store.get(_rg_id(req))
    location = validate_location(req.sim, body.get("location"))
    if existing is not None:
        if existing["properties"]["provisioningState"] == "Deleting":
            raise ArmError(409, "ResourceGroupBeingDeleted", f"The resource group '{name}' is in deprovisioning state "
                           "and cannot perform this operation.")
        if existing["location"] != location:
            raise ArmError(409, "InvalidResourceGroupLocation",
                           f"Invalid resource group location '{location}'. The Resource group already exists in location "
                           f"'{existing['location']}'.")
        existing["tags"] = body.get("tags", existing.get("tags", {}))
        req.sim.store.touch()
        return Reply(200, public(existing))
    group = {
        "id": _rg_id(req),
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "tags": body.get("tags") or {},
        "properties": {"provisioningState": "Succeeded"},
    }
    if body.get("managedBy"):
        group["managedBy"] = body["managedBy"]
    req.sim.store.put(group)
    return Reply(201, public(group))


def get_group(req):
    return public(get_group_or_raise(req.sim, req.subscription, req.params["resourceGroupName"]))


def head_group(req):
    group = req.sim.store.get(_rg_id(req))
    return Reply(204 if group is not None else 404)


def patch_group(req):
    group = get_group_or_raise(req.sim, req.subscription, req.params["resourceGroupName"])
    body = req.json()
    if "tags" in body:
        group["tags"] = body["tags"] or {}
    req.sim.store.touch()
    return public(group)


def list_groups(req):
    prefix = f"/subscriptions/{req.subscription}/resourceGroups/"
    groups = [public(body) for body in req.sim.store.list(prefix, "Microsoft.Resources/resourceGroups")]
    return {"value": groups}


def delete_group(req):
    group = req.sim.store.get(_rg_id(req))
    if group is None:
        return Reply(204)  # ARM: deleting an absent group is a no-op
    if group["properties"]["provisioningState"] != "Deleting":
        group["properties"]["provisioningState"] = "Deleting"
        req.sim.store.touch()
    op = req.sim.ops.start(req, "resource_group.delete", args={"id": group["id"]},
                           duration="resource_group.delete", location=group["location"], kind="arm")
    return Reply(202, None, req.sim.ops.headers(req, op))


def list_group_resources(req):
    prefix = _rg_id(req) + "/providers/"
    items = []
    for body in req.sim.store.list(prefix):
        # only top-level resources: providers/{ns}/{type}/{name}
        if body["id"][len(prefix):].count("/") == 2:
            items.append({k: v for k, v in public(body).items() if k in ("id", "name", "type", "location", "tags")})
    return {"value": items}


def register(sim):
    add = sim.router.add
    add("GET", "/metadata/endpoints", metadata_endpoints, kind="public")
    add("GET", "/subscriptions", list_subscriptions)
    add("GET", "/subscriptions/{subscriptionId}", get_subscription)
    add("GET", "/subscriptions/{subscriptionId}/locations", list_locations)
    add("GET", "/subscriptions/{subscriptionId}/providers/{namespace}", get_provider)
    add("POST", "/subscriptions/{subscriptionId}/providers/{namespace}/register", register_provider)
    add("GET", "/subscriptions/{subscriptionId}/resourcegroups", list_groups)
    add("PUT", "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}", put_group)
    add("GET", "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}", get_group)
    add("HEAD", "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}", head_group)
    add("PATCH", "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}", patch_group)
    add("DELETE", "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}", delete_group)
    add("GET", "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}/resources", list_group_resources)
    sim.ops.register_finisher("resource_group.delete", lro_finish.remove)
