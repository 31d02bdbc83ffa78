"""Gallery version publishing rules for lifecycle settings: Shallow replication, replicationMode, Standard_ZRS."""

import pytest
from azure.core.exceptions import HttpResponseError

from tests.sim.gallery_helpers import DEFINITION, GALLERY, RG, make_gallery_with_definition, make_managed_image, \
    version_body


def create(compute, name, body):
    return compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, DEFINITION, name, body).result()


def refused(compute, name, body, status=400):
    with pytest.raises(HttpResponseError) as info:
        create(compute, name, body)
    assert info.value.status_code == status, info.value
    return info.value.error


def test_shallow_stays_in_its_region_and_mode_cannot_change(compute, resources, fresh_sim):
    make_gallery_with_definition(compute, resources)
    image_id = make_managed_image(compute, fresh_sim)
    error = refused(compute, "1.0.0", version_body(image_id, regions=("eastus", "westeurope"),
                                                   replicationMode="Shallow"))
    assert error.target == "publishingProfile.targetRegions"
    body = version_body(image_id, replicationMode="Shallow")
    body["properties"]["publishingProfile"]["targetRegions"][0]["regionalReplicaCount"] = 2
    assert refused(compute, "1.0.0", body).target == "publishingProfile.targetRegions.regionalReplicaCount"
    version = create(compute, "1.0.0", version_body(image_id, replicationMode="Shallow"))
    assert version.publishing_profile.replication_mode == "Shallow"
    error = refused(compute, "1.0.0", version_body(image_id, replicationMode="Full"), status=409)
    assert error.code == "PropertyChangeNotAllowed" and error.target == "publishingProfile.replicationMode"


def test_zone_redundant_replicas_need_a_zonal_region(compute, resources, fresh_sim):
    make_gallery_with_definition(compute, resources)
    image_id = make_managed_image(compute, fresh_sim)
    fresh_sim.admin.settings(zonal_locations=["westeurope"])
    error = refused(compute, "1.0.0", version_body(image_id, storageAccountType="Standard_ZRS"))
    assert error.target == "publishingProfile.targetRegions.storageAccountType"
    assert create(compute, "1.0.0", version_body(image_id)).provisioning_state == "Succeeded"
