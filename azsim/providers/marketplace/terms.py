"""Marketplace terms (``Microsoft.MarketplaceOrdering`` agreements) and the check VM create makes on a plan image.

Routes, as ``az vm image terms show|accept`` and azure-mgmt-marketplaceordering call them
(REST spec ``marketplaceordering/resource-manager/Microsoft.MarketplaceOrdering/stable/2021-01-01/Agreements.json``,
``MarketplaceAgreements_Get`` / ``_Create``):

- ``GET  /subscriptions/{s}/providers/Microsoft.MarketplaceOrdering/offerTypes/virtualmachine/publishers/{p}/offers/{o}/plans/{plan}/agreements/current``
  -> ``AgreementTerms`` with ``properties.accepted`` (false until accepted), the links and a ``signature``;
- ``PUT`` on the same path with ``properties.accepted: true`` accepts them for the subscription (``false`` withdraws);
- a plan the catalog does not offer is 404 (``ResourceNotFound``) [unverified: the exact code].

Agreements are kept in the store (one body per subscription and plan), so ``--state`` keeps them and a reset
clears them. VM create with a ``plan`` whose terms the subscription has not accepted is refused, as ARM does,
with 400 ``MarketplacePurchaseEligibilityFailed`` and an inner ``BadRequest`` saying the legal terms were not
accepted [observed in user reports of ``az vm create``; the wording is not in the REST spec].
"""

from __future__ import annotations

import hashlib

from ...core.errors import ArmError

AGREEMENT_TYPE = "Microsoft.MarketplaceOrdering/offertypes"
AGREEMENT = ("/subscriptions/{subscriptionId}/providers/Microsoft.MarketplaceOrdering/offerTypes/{offerType}"
             "/publishers/{publisher}/offers/{offer}/plans/{plan}/agreements/current")


def _now_iso(sim):
    import datetime as dt

    return dt.datetime.fromtimestamp(sim.clock.time(), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def agreement_id(subscription, publisher, offer, plan):
    return (f"/subscriptions/{subscription}/providers/Microsoft.MarketplaceOrdering/offerTypes/VirtualMachine"
            f"/publishers/{publisher}/offers/{offer}/plans/{plan}/agreements/current").lower()


def _offered(sim, publisher, offer, plan):
    """True when some SKU of the catalog sells this plan."""
    for entry in sim.extensions["marketplace"].plans():
        if (entry.get("publisher", "").lower(), entry.get("product", "").lower(), entry.get("name", "").lower()) == (
                publisher.lower(), offer.lower(), plan.lower()):
            return True
    return False


def _body(sim, subscription, publisher, offer, plan, accepted):
    rid = agreement_id(subscription, publisher, offer, plan)
    return {
        "id": rid, "name": plan, "type": AGREEMENT_TYPE,
        "properties": {
            "publisher": publisher, "product": offer, "plan": plan,
            "licenseTextLink": f"https://mpcprodsa.blob.core.windows.net/legalterms/{publisher}-{offer}-{plan}.txt",
            "privacyPolicyLink": f"https://{publisher}.example/privacy",
            "marketplaceTermsLink": "https://mpcprodsa.blob.core.windows.net/marketplaceterms/marketplace-terms.txt",
            "retrieveDatetime": _now_iso(sim),
            "signature": hashlib.sha256(rid.encode()).hexdigest()[:52].upper(),
            "accepted": bool(accepted),
        },
    }


def accepted(sim, subscription, plan):
    """Whether ``subscription`` accepted the terms of a VM's ``plan`` block ({name, product, publisher})."""
    stored = sim.store.get(agreement_id(subscription, plan.get("publisher", ""), plan.get("product", ""),
                                        plan.get("name", "")))
    return bool(stored and stored["properties"].get("accepted"))


def check_terms(sim, subscription, plan):
    """VM create: refuse a plan whose terms the subscription has not accepted."""
    if not plan or accepted(sim, subscription, plan):
        return
    publisher, offer, name = plan.get("publisher", ""), plan.get("product", ""), plan.get("name", "")
    raise ArmError(400, "MarketplacePurchaseEligibilityFailed",
                   "Marketplace purchase eligibilty check returned errors. See inner errors for details. ",
                   details=[{"code": "BadRequest", "message": (
                       f"Offer with PublisherId: '{publisher}', OfferId: '{offer}' cannot be purchased due to "
                       f"validation errors. You have not accepted the legal terms on this subscription: "
                       f"'{subscription}' for this plan. Before the subscription can be used, you need to accept "
                       f"the legal terms of the image. To read and accept legal terms, use the Azure CLI commands "
                       f"described at https://go.microsoft.com/fwlink/?linkid=2110637 or the PowerShell commands "
                       f"available at https://go.microsoft.com/fwlink/?linkid=862451. Alternatively, deploying via "
                       f"the Azure portal provides a UI experience for reading and accepting the legal terms. "
                       f"Plan: '{name}'.")}])


def _params(req):
    params = req.params
    if params["offerType"].lower() != "virtualmachine":
        raise ArmError(400, "InvalidOfferType", f"The offer type '{params['offerType']}' is not supported; "
                       "use 'virtualmachine'.")
    if not _offered(req.sim, params["publisher"], params["offer"], params["plan"]):
        raise ArmError(404, "ResourceNotFound", f"The plan '{params['plan']}' of offer '{params['offer']}' by "
                       f"publisher '{params['publisher']}' was not found.")
    return req.subscription, params["publisher"], params["offer"], params["plan"]


def get_agreement(req):
    subscription, publisher, offer, plan = _params(req)
    stored = req.sim.store.get(agreement_id(subscription, publisher, offer, plan))
    return stored or _body(req.sim, subscription, publisher, offer, plan, False)


def put_agreement(req):
    subscription, publisher, offer, plan = _params(req)
    props = (req.json() or {}).get("properties") or {}
    if not isinstance(props.get("accepted"), bool):
        raise ArmError(400, "InvalidRequestContent", "properties.accepted must be true or false.")
    body = _body(req.sim, subscription, publisher, offer, plan, props["accepted"])
    req.sim.store.put(body)
    return body


def register(sim):
    sim.router.add("GET", AGREEMENT, get_agreement)
    sim.router.add("PUT", AGREEMENT, put_agreement)
