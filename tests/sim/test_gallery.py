"""Galleries and image definitions through the real SDK (wire reference section 9)."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from tests.sim.gallery_helpers import GALLERY, LOCATION, RG, make_definition, make_gallery, make_group


@pytest.fixture
def gallery(compute, resources, fresh_sim):
    make_group(resources)
    return make_gallery(compute)


def test_gallery_lifecycle(compute, gallery, fresh_sim):
    assert gallery.provisioning_state == "Succeeded"
    assert gallery.identifier.unique_name == f"{fresh_sim.subscription_id}-{GALLERY.upper()}"
    stored = fresh_sim.admin.resource(gallery.id)
    assert stored["type"] == "Microsoft.Compute/galleries" and stored["properties"]["description"] == "Golden images"
    updated = compute.galleries.begin_update(RG, GALLERY, {"tags": {"team": "images"}}).result()
    assert updated.tags == {"team": "images"}
    assert [item.name for item in compute.galleries.list_by_resource_group(RG)] == [GALLERY]
    assert [item.name for item in compute.galleries.list()] == [GALLERY]
    compute.galleries.begin_delete(RG, GALLERY).result()
    assert fresh_sim.admin.resources("Microsoft.Compute/galleries") == []
    with pytest.raises(ResourceNotFoundError):
        compute.galleries.get(RG, GALLERY)


def test_gallery_put_is_async_on_caps_operations(fresh_sim, compute, resources):
    make_group(resources)
    poller = compute.galleries.begin_create_or_update(RG, "gal2", {"location": LOCATION})
    initial = poller._polling_method._initial_response.http_response  # what the SDK saw first
    assert initial.status_code == 201
    assert "/capsOperations/" in initial.headers["Azure-AsyncOperation"]
    assert "Location" not in initial.headers
    assert poller.result().provisioning_state == "Succeeded"


@pytest.mark.parametrize("name", ["bad-name", ".leading", "trailing.", "x" * 81])
def test_gallery_name_rules(compute, resources, fresh_sim, name):
    make_group(resources)
    with pytest.raises(HttpResponseError) as info:
        compute.galleries.begin_create_or_update(RG, name, {"location": LOCATION})
    assert info.value.status_code == 400 and info.value.error.code == "InvalidParameter"
    assert fresh_sim.admin.resources("Microsoft.Compute/galleries") == []


def test_gallery_in_missing_group(compute, fresh_sim):
    with pytest.raises(ResourceNotFoundError) as info:
        compute.galleries.begin_create_or_update("rg-absent", "gal", {"location": LOCATION})
    assert info.value.error.code == "ResourceGroupNotFound"


def test_definition_defaults_and_immutables(compute, gallery, fresh_sim):
    definition = compute.gallery_images.begin_create_or_update(
        RG,
        GALLERY,
        "plain",
        {
            "location": LOCATION,
            "properties": {
                "osType": "linux",
                "osState": "Generalized",
                "identifier": {"publisher": "contoso", "offer": "golden", "sku": "plain"},
            },
        },
    ).result()
    assert definition.hyper_v_generation == "V1" and definition.architecture == "x64"
    assert definition.os_type == "Linux"
    with pytest.raises(ResourceExistsError) as info:
        compute.gallery_images.begin_create_or_update(
            RG,
            GALLERY,
            "plain",
            {
                "location": LOCATION,
                "properties": {
                    "osType": "Linux",
                    "osState": "Specialized",
                    "identifier": {"publisher": "contoso", "offer": "golden", "sku": "plain"},
                },
            },
        )
    assert info.value.error.code == "PropertyChangeNotAllowed" and info.value.error.target == "osState"
    updated = compute.gallery_images.begin_update(
        RG,
        GALLERY,
        "plain",
        {
            "properties": {
                "osType": "Linux",
                "osState": "Generalized",
                "identifier": {"publisher": "contoso", "offer": "golden", "sku": "plain"},
                "description": "Ubuntu golden image",
                "endOfLifeDate": "2030-01-01T00:00:00+00:00",
            }
        },
    ).result()
    assert updated.description == "Ubuntu golden image"
    assert fresh_sim.admin.resource(definition.id)["properties"]["endOfLifeDate"].startswith("2030-01-01")


def test_definition_identifier_is_unique_in_gallery(compute, gallery):
    make_definition(compute, "first", identifier={"publisher": "contoso", "offer": "golden", "sku": "same"})
    with pytest.raises(ResourceExistsError) as info:
        make_definition(compute, "second", identifier={"publisher": "Contoso", "offer": "GOLDEN", "sku": "same"})
    assert info.value.status_code == 409


def test_definition_security_and_arm64_need_gen2(compute, gallery):
    with pytest.raises(HttpResponseError) as info:
        make_definition(compute, "tl-gen1", generation="V1", security="TrustedLaunch")
    assert info.value.status_code == 400
    with pytest.raises(HttpResponseError):
        compute.gallery_images.begin_create_or_update(
            RG,
            GALLERY,
            "arm",
            {
                "location": LOCATION,
                "properties": {
                    "osType": "Linux",
                    "osState": "Generalized",
                    "architecture": "Arm64",
                    "hyperVGeneration": "V1",
                    "identifier": {"publisher": "contoso", "offer": "golden", "sku": "arm"},
                },
            },
        )


def test_definition_needs_parent_gallery(compute, resources, fresh_sim):
    make_group(resources)
    with pytest.raises(ResourceNotFoundError) as info:
        make_definition(compute, "orphan", gallery="nogallery")
    assert info.value.error.code == "ParentResourceNotFound"


def test_nested_resources_block_delete(compute, gallery, fresh_sim):
    definition = make_definition(compute)
    with pytest.raises(ResourceExistsError) as info:
        compute.galleries.begin_delete(RG, GALLERY)
    assert info.value.error.code == "CannotDeleteResource"
    assert [item.name for item in compute.gallery_images.list_by_gallery(RG, GALLERY)] == ["ubuntu-2404"]
    compute.gallery_images.begin_delete(RG, GALLERY, "ubuntu-2404").result()
    compute.galleries.begin_delete(RG, GALLERY).result()
    assert fresh_sim.admin.resource(definition.id) is None
    assert fresh_sim.admin.resources("Microsoft.Compute/galleries") == []


def test_failed_gallery_create_via_fault(compute, resources, fresh_sim):
    make_group(resources)
    fresh_sim.admin.faults(
        [
            {
                "method": "PUT",
                "path": "/galleries/broken$",
                "action": "fail_operation",
                "code": "InternalOperationError",
                "message": "Gallery creation failed (injected).",
            }
        ]
    )
    with pytest.raises(HttpResponseError) as info:
        compute.galleries.begin_create_or_update(RG, "broken", {"location": LOCATION}).result()
    assert info.value.error.code == "InternalOperationError"
    stored = [item for item in fresh_sim.admin.resources("Microsoft.Compute/galleries")]
    assert stored[0]["properties"]["provisioningState"] == "Failed"


def test_permissions_select_and_paged_lists(compute, gallery, fresh_sim):
    assert compute.galleries.get(RG, GALLERY, select="Permissions").sharing_profile.permissions == "Private"
    assert compute.galleries.get(RG, GALLERY).sharing_profile is None
    for index in range(3):
        make_definition(compute, f"image-{index}")
    page_size = fresh_sim.admin.settings().get("page_size", 100)
    fresh_sim.admin.settings(page_size=2)
    try:
        names = [item.name for item in compute.gallery_images.list_by_gallery(RG, GALLERY)]
    finally:
        fresh_sim.admin.settings(page_size=page_size)
    assert names == ["image-0", "image-1", "image-2"]
