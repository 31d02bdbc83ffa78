"""ARM basics (routes): cloud metadata, subscriptions, resource providers and resource groups.

Group bodies and their rules are in ``models.py``; the group lookup and location check every provider
uses are on the resource base (``core/resource.py``).

Deleting a resource group is asynchronous (202 + Location on ``operationresults``) and removes every
resource inside it when it completes.
"""

from __future__ import annotations

from ...core.errors import ArmError
from ...core.request import Reply
from ...core.resource import get_group_or_raise, validate_location
from ...core.store import public, resource_group_id
from .models import GROUP_TYPE, check_group_name, check_group_update, new_group, register_finishers, subscription_body

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


def list_subscriptions(req):
    tenant = req.sim.settings["auth"]["tenant_id"]
    return {"value": [subscription_body(item, tenant) for item in req.sim.settings["subscriptions"]]}


def get_subscription(req):
    tenant = req.sim.settings["auth"]["tenant_id"]
    for item in req.sim.settings["subscriptions"]:
        if item["subscription_id"].lower() == req.subscription.lower():
            return subscription_body(item, tenant)
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


def put_group(req):
    name = req.params["resourceGroupName"]
    check_group_name(name)
    body = req.json()
    existing = req.sim.store.get(_rg_id(req))
    location = validate_location(req.sim, body.get("location"))
    if existing is not None:
        check_group_update(existing, name, location)
        existing["tags"] = body.get("tags", existing.get("tags", {}))
        req.sim.store.touch()
        return Reply(200, public(existing))
    group = new_group(_rg_id(req), name, location, body.get("tags"), body.get("managedBy"))
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
    groups = [public(body) for body in req.sim.store.list(prefix, GROUP_TYPE)]
    return {"value": groups}


def delete_group(req):
    # ARM answers a DELETE of an absent group 404 ResourceGroupNotFound: ResourceGroups_Delete declares only 200 and
    # 202 (resources.json), and the SDK refuses anything else - a 204 here would break a retried delete
    group = get_group_or_raise(req.sim, req.subscription, req.params["resourceGroupName"])
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
    register_finishers(sim)
