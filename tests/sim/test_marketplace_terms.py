"""azsim's Marketplace terms (Microsoft.MarketplaceOrdering agreements) and VM create's check on a plan image."""

from __future__ import annotations

import sys

import pytest
from azure.core.exceptions import HttpResponseError

from tests.harness import ensure_collection_path
from tests.sim.test_vm_create import create_vm, marketplace, nic, vm_body  # noqa: F401  # fixtures

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils import _marketplace_terms as terms  # noqa: E402
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError, AzureSession  # noqa: E402

CIS = {"publisher": "center-for-internet-security-inc", "product": "cis-ubuntu-linux-2204-l1",
       "name": "cis-ubuntu2204-l1-gen2"}
CIS_IMAGE = {"publisher": CIS["publisher"], "offer": CIS["product"], "sku": CIS["name"], "version": "latest"}


@pytest.fixture
def session(fresh_sim, tmp_path):
    return AzureSession({}, environ=dict(fresh_sim.env, HOME=str(tmp_path)))


def test_terms_are_not_accepted_until_put_accepts_them(session, fresh_sim):
    body = terms.read_terms(session, CIS)
    assert body["properties"]["accepted"] is False
    assert body["properties"]["licenseTextLink"].startswith("https://")
    changed, facts = terms.ensure_terms(session, CIS, accept=True)
    assert changed and facts["accepted"] is True
    assert terms.read_terms(session, CIS)["properties"]["accepted"] is True
    stored = fresh_sim.admin.resources("Microsoft.MarketplaceOrdering/offertypes")
    assert [item["name"] for item in stored] == [CIS["name"]]
    assert terms.ensure_terms(session, CIS, accept=True)[0] is False  # accepted already: nothing to do


def test_terms_not_accepted_and_not_to_accept_are_refused_naming_accept_terms(session, fresh_sim):
    with pytest.raises(AzureError) as caught:
        terms.ensure_terms(session, CIS, accept=False)
    assert caught.value.code == "MarketplaceTermsNotAccepted"
    assert "accept_terms: true" in caught.value.message
    assert not fresh_sim.admin.resources("Microsoft.MarketplaceOrdering/offertypes")


def test_a_plan_the_catalog_does_not_sell_is_404(session):
    with pytest.raises(AzureError) as caught:
        terms.read_terms(session, dict(CIS, name="no-such-plan"))
    assert caught.value.status_code == 404


def test_vm_from_a_plan_image_needs_its_terms_accepted(session, compute, nic, marketplace, fresh_sim):  # noqa: F811
    body = vm_body(nic, image=CIS_IMAGE)
    body["plan"] = dict(CIS)
    with pytest.raises(HttpResponseError) as raised:
        create_vm(compute, "rg-vm", "vm1", body)
    assert raised.value.error.code == "MarketplacePurchaseEligibilityFailed"
    assert "You have not accepted the legal terms" in raised.value.error.details[0].message
    assert not fresh_sim.admin.resources("Microsoft.Compute/virtualMachines")
    terms.ensure_terms(session, CIS, accept=True)
    assert create_vm(compute, "rg-vm", "vm1", body).plan.name == CIS["name"]
