"""Gallery image versions through the real SDK: sources, the checks against the definition, updates."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from tests.sim.gallery_helpers import (
    DEFINITION,
    GALLERY,
    LOCATION,
    RG,
    make_definition,
    make_gallery_with_definition,
    make_managed_image,
    version_body,
)



@pytest.fixture
def definition(compute, resources, fresh_sim):
    return make_gallery_with_definition(compute, resources)


def create_version(compute, name, body):
    return compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, DEFINITION, name, body).result()


def test_version_from_managed_image(compute, definition, fresh_sim):
    image_id = make_managed_image(compute, fresh_sim)
    version = create_version(compute, "1.0.0", version_body(image_id, endOfLifeDate="2030-06-30T00:00:00Z"))
    assert version.provisioning_state == "Succeeded"
    assert version.storage_profile.source.id == image_id
    assert version.storage_profile.os_disk_image.size_in_gb == 64
    assert version.storage_profile.os_disk_image.host_caching == "ReadWrite"
    profile = version.publishing_profile
    assert profile.published_date is not None and profile.end_of_life_date.year == 2030
    stored = fresh_sim.admin.resource(version.id)
    assert stored["type"] == "Microsoft.Compute/galleries/images/versions"
    assert stored["properties"]["publishingProfile"]["targetRegions"] == [
        {"name": "East US", "regionalReplicaCount": 1, "storageAccountType": "Standard_LRS", "excludeFromLatest": False}
    ]
    assert stored["properties"]["publishingProfile"]["replicaCount"] == 1
    assert compute.gallery_image_versions.get(RG, GALLERY, DEFINITION, "1.0.0").replication_status is None
    listed = compute.gallery_image_versions.list_by_gallery_image(RG, GALLERY, DEFINITION)
    assert [item.name for item in listed] == ["1.0.0"]
    compute.gallery_image_versions.begin_delete(RG, GALLERY, DEFINITION, "1.0.0").result()
    assert fresh_sim.admin.resource(version.id) is None


@pytest.mark.parametrize("name", ["1.0", "1.0.a", "v1.0.0", "1.0.4294967296", "1.2.3.4"])
def test_version_name_rules(compute, definition, fresh_sim, name):
    image_id = make_managed_image(compute, fresh_sim)
    with pytest.raises(HttpResponseError) as info:
        create_version(compute, name, version_body(image_id))
    assert info.value.status_code == 400 and info.value.error.code == "InvalidParameter"


def test_os_state_mismatch(compute, definition, fresh_sim):
    image_id = make_managed_image(compute, fresh_sim, os_state="Specialized")
    with pytest.raises(HttpResponseError) as info:
        create_version(compute, "1.0.0", version_body(image_id))
    assert info.value.status_code == 400 and info.value.error.code == "BadRequest"
    assert info.value.error.message == (
        f"The resource with id '{image_id}' has a different OS state ['Specialized'] than "
        "the parent gallery image OS state ['Generalized']."
    )
    assert fresh_sim.admin.resources("Microsoft.Compute/galleries/images/versions") == []


def test_hyperv_generation_mismatch(compute, definition, fresh_sim):
    image_id = make_managed_image(compute, fresh_sim, name="img-gen1", generation="V1")
    with pytest.raises(HttpResponseError) as info:
        create_version(compute, "1.0.0", version_body(image_id))
    assert info.value.status_code == 400
    assert "different Hypervisor generation ['V1'] than the parent gallery image ['V2']" in info.value.error.message


def test_source_cannot_change(compute, definition, fresh_sim):
    first = make_managed_image(compute, fresh_sim, name="img-a")
    second = make_managed_image(compute, fresh_sim, name="img-b")
    create_version(compute, "1.0.0", version_body(first))
    with pytest.raises(ResourceExistsError) as info:
        create_version(compute, "1.0.0", version_body(second))
    assert info.value.error.code == "PropertyChangeNotAllowed" and info.value.error.target == "storageProfile"
    again = create_version(compute, "1.0.0", version_body(first))  # same source: an idempotent PUT
    assert again.provisioning_state == "Succeeded"


def test_update_publishing_profile(compute, definition, fresh_sim):
    image_id = make_managed_image(compute, fresh_sim)
    create_version(compute, "1.0.0", version_body(image_id))
    updated = compute.gallery_image_versions.begin_update(
        RG,
        GALLERY,
        DEFINITION,
        "1.0.0",
        {
            "tags": {"goldenimage-build-id": "b42"},
            "properties": {
                "publishingProfile": {
                    "targetRegions": [
                        {"name": "eastus"},
                        {"name": "West US 3", "regionalReplicaCount": 2, "storageAccountType": "Standard_ZRS"},
                    ],
                    "excludeFromLatest": True,
                    "endOfLifeDate": "2031-01-01T00:00:00Z",
                }
            },
        },
    ).result()
    assert updated.tags == {"goldenimage-build-id": "b42"}
    assert updated.publishing_profile.exclude_from_latest is True
    regions = {item.name: item for item in updated.publishing_profile.target_regions}
    assert set(regions) == {"East US", "West US 3"}
    assert (
        regions["West US 3"].storage_account_type == "Standard_ZRS" and regions["West US 3"].regional_replica_count == 2
    )
    status = compute.gallery_image_versions.get(
        RG, GALLERY, DEFINITION, "1.0.0", expand="ReplicationStatus"
    ).replication_status
    assert status.aggregated_state == "Completed"
    assert {item.region for item in status.summary} == {"East US", "West US 3"}


def test_own_region_must_be_a_target(compute, definition, fresh_sim):
    image_id = make_managed_image(compute, fresh_sim)
    with pytest.raises(HttpResponseError) as info:
        create_version(compute, "1.0.0", version_body(image_id, regions=("westus3",)))
    assert info.value.status_code == 400 and info.value.error.target == "publishingProfile.targetRegions"


def test_version_from_version_and_trusted_launch_supported(compute, definition, fresh_sim):
    image_id = make_managed_image(compute, fresh_sim)
    first = create_version(compute, "1.0.0", version_body(image_id))
    make_definition(compute, "ubuntu-tls", security="TrustedLaunchSupported")
    copied = compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, "ubuntu-tls", "1.0.0", version_body(first.id)
    ).result()
    assert copied.storage_profile.os_disk_image.size_in_gb == 64
    from_image = compute.gallery_image_versions.begin_create_or_update(
        RG, GALLERY, "ubuntu-tls", "1.0.1", version_body(image_id)
    ).result()
    assert from_image.provisioning_state == "Succeeded"


def test_missing_parent_and_source(compute, definition, fresh_sim):
    with pytest.raises(ResourceNotFoundError) as info:
        compute.gallery_image_versions.begin_create_or_update(RG, GALLERY, "absent", "1.0.0", version_body("/x"))
    assert info.value.error.code == "ParentResourceNotFound"
    missing = f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Compute/images/nope"
    with pytest.raises(ResourceNotFoundError):
        create_version(compute, "1.0.0", version_body(missing))


def test_vhd_source(compute, definition, fresh_sim):
    group = f"/subscriptions/{fresh_sim.subscription_id}/resourceGroups/{RG}"
    source = {
        "uri": "https://goldenstore01.blob.core.windows.net/vhds/os.vhd",
        "storageAccountId": f"{group}/providers/Microsoft.Storage/storageAccounts/goldenstore01",
    }
    os_image = {"hostCaching": "ReadOnly", "source": source}
    body = {"location": LOCATION, "properties": {"storageProfile": {"osDiskImage": os_image}}}
    version = create_version(compute, "2.0.0", body)
    assert version.storage_profile.os_disk_image.host_caching == "ReadOnly"
    assert version.publishing_profile.target_regions[0].name == "East US"


def test_source_must_be_in_the_version_region(compute, definition, fresh_sim):
    image_id = make_managed_image(compute, fresh_sim)
    body = version_body(image_id, regions=("westus3",))
    body["location"] = "westus3"
    with pytest.raises(HttpResponseError) as info:
        create_version(compute, "1.0.0", body)
    assert info.value.status_code == 400 and info.value.error.target == "storageProfile.source.id"
