"""Shared steps of the gallery tests: a resource group, a gallery, a definition, a managed image source."""

from __future__ import annotations

RG = "rg-gallery"
LOCATION = "eastus"
GALLERY = "golden_images.v1"
VHD = "https://goldenstore01.blob.core.windows.net/vhds/ubuntu-os.vhd"
DEFINITION = "ubuntu-2404"


def make_group(resources, name=RG):
    resources.resource_groups.create_or_update(name, {"location": LOCATION})


def make_gallery(compute, name=GALLERY):
    return compute.galleries.begin_create_or_update(
        RG, name, {"location": LOCATION, "properties": {"description": "Golden images"}}
    ).result()


def make_definition(
    compute,
    name="ubuntu-2404",
    generation="V2",
    os_state="Generalized",
    security=None,
    gallery=GALLERY,
    identifier=None,
):
    props = {
        "osType": "Linux",
        "osState": os_state,
        "hyperVGeneration": generation,
        "identifier": identifier or {"publisher": "contoso", "offer": "golden-ubuntu", "sku": name},
    }
    if security:
        props["features"] = [{"name": "SecurityType", "value": security}]
    return compute.gallery_images.begin_create_or_update(
        RG, gallery, name, {"location": LOCATION, "properties": props}
    ).result()


def make_gallery_with_definition(compute, resources, name=DEFINITION):
    """The resource group, the gallery and one Linux Gen2 definition: where every version test starts."""
    make_group(resources)
    make_gallery(compute)
    return make_definition(compute, name)


def make_managed_image(compute, fresh_sim, name="img-ubuntu", generation="V2", os_state="Generalized"):
    """A managed image from a VHD, created through the real SDK."""
    return (
        compute.images.begin_create_or_update(
            RG,
            name,
            {
                "location": LOCATION,
                "properties": {
                    "hyperVGeneration": generation,
                    "storageProfile": {
                        "osDisk": {
                            "osType": "Linux",
                            "osState": os_state,
                            "blobUri": VHD,
                            "diskSizeGB": 64,
                            "caching": "ReadWrite",
                        }
                    },
                },
            },
        )
        .result()
        .id
    )


def version_body(source_id, regions=(LOCATION,), **profile):
    return {
        "location": LOCATION,
        "properties": {
            "publishingProfile": {"targetRegions": [{"name": region} for region in regions], **profile},
            "storageProfile": {"source": {"id": source_id}},
        },
    }
