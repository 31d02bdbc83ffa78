# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: Marketplace terms of plan images (``Microsoft.MarketplaceOrdering`` agreements), checked in the plan.

Azure refuses a VM from a plan image whose terms the subscription has not accepted, after the build's group,
network and NIC exist. The plan reads the agreement of every plan base first; it accepts the terms only when the
build says ``accept_terms: true`` (as ``az vm image terms accept`` does: GET, then PUT with ``accepted: true``).
Takes an AzureSession (the REST path); plain values out.
"""

from __future__ import annotations

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError

API_VERSION = "2021-01-01"


def agreement_path(subscription_id, plan):
    template = ("/subscriptions/%s/providers/Microsoft.MarketplaceOrdering/offerTypes/virtualmachine/publishers/%s"
                "/offers/%s/plans/%s/agreements/current")
    return template % (subscription_id, plan["publisher"], plan["product"], plan["name"])


def _facts(body, plan):
    props = (body or {}).get("properties") or {}
    return {"publisher": plan["publisher"], "product": plan["product"], "plan": plan["name"],
            "accepted": bool(props.get("accepted")), "license_text_link": props.get("licenseTextLink"),
            "privacy_policy_link": props.get("privacyPolicyLink"),
            "marketplace_terms_link": props.get("marketplaceTermsLink")}


def read_terms(session, plan):
    """The agreement of ``plan`` ({name, product, publisher}) in the session's subscription."""
    path = agreement_path(session.subscription_id, plan)
    return session.arm_get(path, API_VERSION, operation="read the Marketplace terms of plan '%s'" % plan["name"])


def ensure_terms(session, plan, accept, check_mode=False, where="build"):
    """(changed, facts): the terms of ``plan`` accepted, accepting them when ``accept``; AzureError otherwise.

    The refusal names ``accept_terms`` and the command that accepts them by hand.
    """
    body = read_terms(session, plan)
    facts = _facts(body, plan)
    if facts["accepted"]:
        return False, facts
    urn = "%s:%s:%s" % (plan["publisher"], plan["product"], plan["name"])
    if not accept:
        raise AzureError(
            "%s: the base image has the purchase plan %s, whose Marketplace terms are not accepted in subscription %s; "
            "read them (%s) and set accept_terms: true to accept them in the plan, or accept them by hand "
            "(az vm image terms accept --publisher %s --offer %s --plan %s). Nothing was created."
            % (where, urn, session.subscription_id, facts["license_text_link"] or "az vm image terms show",
               plan["publisher"], plan["product"], plan["name"]), code="MarketplaceTermsNotAccepted")
    if check_mode:
        return True, dict(facts, accepted=True)
    accepted = dict(body or {})
    accepted["properties"] = dict(accepted.get("properties") or {}, accepted=True)
    result = session.arm_put(agreement_path(session.subscription_id, plan), API_VERSION, accepted,
                             operation="accept the Marketplace terms of plan '%s'" % plan["name"])
    return True, _facts(result, plan)


def plan_terms(session, builds, plans, check_mode=False):
    """Terms of every build whose base has a plan: ({build name: facts}, changed). A plan's terms are read once and
    accepted when any build on it sets ``accept_terms``; one error lists every build whose terms stay unaccepted."""
    by_plan = {}
    for build in builds:
        plan = plans.get(build["name"]) or {}
        if all(plan.get(key) for key in ("name", "product", "publisher")):
            key = (plan["publisher"].lower(), plan["product"].lower(), plan["name"].lower())
            by_plan.setdefault(key, (plan, []))[1].append(build)
    terms, changed, problems = {}, False, []
    for plan, users in by_plan.values():
        accept = any(build.get("accept_terms") for build in users)
        where = ", ".join("build '%s'" % build["name"] for build in users)
        try:
            made, facts = ensure_terms(session, plan, accept, check_mode, where)
        except AzureError as err:
            if err.code != "MarketplaceTermsNotAccepted":
                raise
            problems.append(err.message)
            continue
        changed = changed or made
        terms.update((build["name"], facts) for build in users)
    if problems:
        raise AzureError("\n- ".join(["The Marketplace terms of %d plan(s) are not accepted:" % len(problems)]
                                     + problems), code="MarketplaceTermsNotAccepted")
    return terms, changed
