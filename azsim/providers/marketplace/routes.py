"""Marketplace images (VirtualMachineImages), served from the catalog (wire reference section 2).

- Lists are bare JSON arrays of ``{location, name, id}``; ids use ARM's capitalised segments and the
  region's display casing (``/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/WestUS3/...``).
- ``$orderby=name asc|desc`` sorts LEXICALLY like real ARM (8.9.x after 8.10.x); ``$top`` cuts;
  ``$expand=properties`` adds each version's properties; ``$filter`` is not an operation parameter
  and is ignored. Without ``$orderby`` versions come in catalog (publication) order.
- Version GET does not accept ``latest`` (404, as ARM). VM create does: see ``resolve``.
- An unknown region is ARM's 400 ``NoRegisteredProviderFound`` for type ``locations/publishers``.

``sim.extensions["marketplace"].resolve(location, publisher, offer, sku, version)`` is what VM create
uses for ``imageReference``; the catalog is replaced with ``--catalog FILE`` or ``POST /_azsim/catalog``.
The catalog, image ids and bodies and the extension are in ``models.py``.
"""

from __future__ import annotations

from ...core.errors import ArmError
from ...core.request import Reply
from . import terms
from .models import (CatalogError, CatalogMiss, MarketplaceExtension, artifact_not_found, image_body, image_id,
                     location_id_name, normalize_location)

BASE = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}"
OFFERS = BASE + "/publishers/{publisher}/artifacttypes/vmimage/offers"
SKUS = OFFERS + "/{offer}/skus"
VERSIONS = SKUS + "/{sku}/versions"

SUPPORTED_API_VERSIONS = ("2015-05-01-preview, 2015-06-15, 2016-03-30, 2016-04-30-preview, 2017-03-30, 2017-12-01, "
                          "2018-04-01, 2018-06-01, 2018-10-01, 2019-03-01, 2019-07-01, 2019-12-01, 2020-06-01, "
                          "2020-12-01, 2021-03-01, 2021-04-01, 2021-07-01, 2021-11-01, 2022-03-01, 2022-08-01, "
                          "2022-11-01, 2023-03-01, 2023-07-01, 2023-09-01, 2024-03-01, 2024-07-01, 2024-11-01, "
                          "2025-04-01, 2025-11-01, 2026-04-01")


# -- ARM routes ---------------------------------------------------------------------------------
def _catalog(req):
    return req.sim.extensions["marketplace"].catalog


def _location(req):
    """The request's region, or ARM's answer for a region where Microsoft.Compute is not registered."""
    location = req.params["location"]
    known = req.sim.settings["locations"]
    if normalize_location(location) not in known:
        raise ArmError(400, "NoRegisteredProviderFound",
                       f"No registered resource provider found for location '{location}' and API version "
                       f"'{req.api_version}' for type 'locations/publishers'. The supported api-versions are "
                       f"'{SUPPORTED_API_VERSIONS}'. The supported locations are '{', '.join(known)}'.")
    return location


def _item(location, name, rid):
    return {"location": location_id_name(location), "name": name, "id": rid}


def list_publishers(req):
    location = _location(req)
    return Reply(200, [_item(location, name, image_id(req.subscription, location, name))
                       for name in _catalog(req).publishers(location)])


def list_offers(req):
    location = _location(req)
    try:
        publisher, offers = _catalog(req).offers(location, req.params["publisher"])
    except CatalogMiss:
        raise artifact_not_found() from None
    return Reply(200, [_item(location, name, image_id(req.subscription, location, publisher.name, name))
                       for name in offers])


def list_skus(req):
    location = _location(req)
    try:
        publisher, offer, skus = _catalog(req).skus(location, req.params["publisher"], req.params["offer"])
    except CatalogMiss:
        raise artifact_not_found() from None
    return Reply(200, [_item(location, name, image_id(req.subscription, location, publisher.name, offer.name, name))
                       for name in skus])


def _order_and_cut(req, versions):
    orderby = req.query.get("$orderby")
    if orderby:
        words = orderby.split()
        direction = words[1].lower() if len(words) == 2 else "asc"
        if not words or words[0].lower() != "name" or len(words) > 2 or direction not in ("asc", "desc"):
            raise ArmError(400, "InvalidParameter", f"The value '{orderby}' of parameter '$orderby' is not valid. "
                           "Only 'name', 'name asc' and 'name desc' are supported.", target="$orderby")
        # Lexical on the version string, exactly the quirk clients must cope with.
        versions = sorted(versions, key=lambda item: item.name, reverse=direction == "desc")
    top = req.query.get("$top")
    if top is not None:
        if not top.isdigit():
            raise ArmError(400, "InvalidParameter", f"The value '{top}' of parameter '$top' is not valid.",
                           target="$top")
        versions = versions[:int(top)]
    return versions


def list_versions(req):
    location = _location(req)
    params = req.params
    try:
        versions = _catalog(req).versions(location, params["publisher"], params["offer"], params["sku"])
    except CatalogMiss:
        raise artifact_not_found() from None
    expand = (req.query.get("$expand") or "").lower() == "properties"
    items = []
    for version in _order_and_cut(req, versions):
        body = image_body(req.subscription, location, version)
        if not expand:
            body.pop("properties")
        items.append(body)
    return Reply(200, items)


def get_version(req):
    location = _location(req)
    params = req.params
    try:
        version = _catalog(req).version(location, params["publisher"], params["offer"], params["sku"],
                                        params["version"])
    except CatalogMiss:
        raise artifact_not_found() from None
    return image_body(req.subscription, location, version)


# -- admin routes -------------------------------------------------------------------------------
def get_catalog(req):
    return req.sim.extensions["marketplace"].catalog.data


def put_catalog(req):
    try:
        req.sim.extensions["marketplace"].replace(req.json())
    except CatalogError as err:
        raise ArmError(400, "InvalidCatalog", str(err)) from None
    req.sim.store.touch()  # persist the new catalog with --state
    return req.sim.extensions["marketplace"].catalog.data


def restore_catalog(req):
    req.sim.extensions["marketplace"].restore()
    req.sim.store.touch()
    return req.sim.extensions["marketplace"].catalog.data


def register(sim):
    sim.extensions["marketplace"] = MarketplaceExtension(sim)
    terms.register(sim)  # Microsoft.MarketplaceOrdering agreements
    add = sim.router.add
    add("GET", BASE + "/publishers", list_publishers)
    add("GET", OFFERS, list_offers)
    add("GET", SKUS, list_skus)
    add("GET", VERSIONS, list_versions)
    add("GET", VERSIONS + "/{version}", get_version)
    add("GET", "/_azsim/catalog", get_catalog, kind="admin")
    add("POST", "/_azsim/catalog", put_catalog, kind="admin")
    add("DELETE", "/_azsim/catalog", restore_catalog, kind="admin")
