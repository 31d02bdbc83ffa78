"""The main job's plan with encryption at rest: a build VM on a customer-managed key needs a disk encryption set in
every gallery target region, and every set must be in its region - refused before any VM exists (real
ansible-playbook against the simulator)."""

from __future__ import annotations

import pytest

from tests.integration.test_main_job_plan import OUT, _build, _refused, outputs  # noqa: F401 (fixture)

KEY = "https://kv-golden01.vault.azure.net/keys/disk-key/0123456789abcdef0123456789abcdef"


def make_des(compute, name, location):
    return compute.disk_encryption_sets.begin_create_or_update(OUT, name, {
        "location": location, "identity": {"type": "SystemAssigned"},
        "properties": {"activeKey": {"keyUrl": KEY}, "encryptionType": "EncryptionAtRestWithCustomerKey"}}).result().id


@pytest.mark.parametrize("case", ["region-without-set", "build-set-in-another-region", "image-set-in-another-region"])
def test_plan_refuses_encryption_that_azure_would_refuse_later(outputs, compute, tmp_path, case):  # noqa: F811
    weu, neu = make_des(compute, "des-weu", "westeurope"), make_des(compute, "des-neu", "northeurope")
    build = _build()
    build["gallery"]["target_regions"] = [{"name": "westeurope", "disk_encryption_set": weu}, {"name": "northeurope"}]
    build["disk_encryption_set"] = weu
    if case != "region-without-set":
        build["gallery"]["target_regions"][1]["disk_encryption_set"] = neu
    if case == "build-set-in-another-region":
        build["disk_encryption_set"] = neu
    if case == "image-set-in-another-region":
        build["managed_image"]["disk_encryption_set"] = neu
    error = _refused(outputs, tmp_path, [build], "InvalidEncryption")
    expected = {"region-without-set": ("gallery.target_regions", "northeurope"),
                "build-set-in-another-region": ("disk_encryption_set", "westeurope"),
                "image-set-in-another-region": ("managed_image.disk_encryption_set", "westeurope")}[case]
    for word in expected:
        assert word in error
