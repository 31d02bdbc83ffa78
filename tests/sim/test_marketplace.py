"""Marketplace images through the real SDK: every list level, ARM's lexical ordering, ids, 404s."""

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

JAMMY = ("Canonical", "0001-com-ubuntu-server-jammy")
RHEL = ("RedHat", "RHEL")


def raw_get(sim, path, **query):
    """A plain HTTPS GET, to see the wire shape the SDK hides."""
    from azure.identity import ClientSecretCredential

    env = sim.env
    credential = ClientSecretCredential(
        env["AZURE_TENANT_ID"],
        env["AZURE_CLIENT_ID"],
        env["AZURE_CLIENT_SECRET"],
        authority=env["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True,
        connection_verify=sim.ca,
    )
    token = credential.get_token(sim.url + "/.default").token
    query.setdefault("api-version", "2026-04-01")
    return requests.get(
        f"{sim.url}/subscriptions/{sim.subscription_id}/providers/Microsoft.Compute/locations/{path}",
        params=query,
        headers={"Authorization": f"Bearer {token}"},
        verify=sim.ca,
        timeout=30,
    )


def test_publishers_offers_skus(compute):
    publishers = {item.name for item in compute.virtual_machine_images.list_publishers("westus3")}
    assert {"Canonical", "Debian", "RedHat", "MicrosoftWindowsServer"} <= publishers
    offers = [item.name for item in compute.virtual_machine_images.list_offers("westus3", "Canonical")]
    assert offers == ["0001-com-ubuntu-server-jammy", "ubuntu-24_04-lts"]
    skus = [item.name for item in compute.virtual_machine_images.list_skus("eastus", *JAMMY)]
    assert skus == ["22_04-lts", "22_04-lts-gen2", "22_04-lts-arm64"]
    windows = {
        item.name
        for item in compute.virtual_machine_images.list_skus("eastus", "MicrosoftWindowsServer", "WindowsServer")
    }
    assert {"2019-datacenter-gensecond", "2022-datacenter-azure-edition", "2025-datacenter-azure-edition"} <= windows


def test_ids_are_capitalised_with_display_location(compute, fresh_sim):
    sku = compute.virtual_machine_images.list_skus("westus3", *JAMMY)[1]
    assert sku.id == (
        f"/Subscriptions/{fresh_sim.subscription_id}/Providers/Microsoft.Compute/Locations/WestUS3"
        "/Publishers/Canonical/ArtifactTypes/VMImage/Offers/0001-com-ubuntu-server-jammy/Skus/22_04-lts-gen2"
    )
    assert sku.location == "WestUS3"


def test_lists_are_bare_arrays(fresh_sim):
    response = raw_get(fresh_sim, "eastus/publishers/RedHat/artifacttypes/vmimage/offers/RHEL/skus/8-lvm-gen2/versions")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert set(body[0]) == {"location", "name", "id"}


def test_orderby_is_lexical_like_arm(compute):
    newest_first = compute.virtual_machine_images.list("eastus", *RHEL, "8-lvm-gen2", orderby="name desc")
    assert [item.name for item in newest_first] == [
        "8.9.2024022012",
        "8.8.2023121916",
        "8.10.2025010210",
        "8.10.2024070513",
    ]
    top = compute.virtual_machine_images.list("eastus", *RHEL, "8-lvm-gen2", top=1, orderby="name desc")
    assert [item.name for item in top] == ["8.9.2024022012"]  # the trap azcollection falls into
    ascending = compute.virtual_machine_images.list("eastus", *RHEL, "8-lvm-gen2", orderby="name asc")
    assert [item.name for item in ascending] == sorted(item.name for item in newest_first)


def test_without_orderby_versions_keep_publication_order(compute):
    versions = compute.virtual_machine_images.list("eastus", *RHEL, "9-lvm-gen2")
    assert [item.name for item in versions] == ["9.4.2024081412", "9.6.2025061713", "9.8.2026052008", "9.4.2026092611"]
    assert all("properties" not in item.as_dict() for item in versions)


def test_stray_filter_is_ignored(fresh_sim):
    response = raw_get(
        fresh_sim,
        "eastus/publishers/Debian/artifacttypes/vmimage/offers/debian-12/skus/12-gen2/versions",
        **{"$filter": "name eq 'x'"},
    )
    assert response.status_code == 200 and len(response.json()) == 3


def test_list_with_properties(compute):
    versions = compute.virtual_machine_images.list_with_properties(
        "eastus", *JAMMY, "22_04-lts-gen2", expand="Properties"
    )
    assert len(versions) == 3
    assert all(item.hyper_v_generation == "V2" for item in versions)


def test_version_get_matches_arm_shape(compute, fresh_sim):
    image = compute.virtual_machine_images.get("westus3", *JAMMY, "22_04-lts-gen2", "22.04.202411190")
    assert image.hyper_v_generation == "V2" and image.architecture == "x64"
    assert image.os_disk_image.operating_system == "Linux"
    assert image.disallowed.vm_disk_type == "Unmanaged"
    assert image.image_deprecation_status.image_state == "Active"
    features = {feature.name: feature.value for feature in image.features}
    assert features["SecurityType"] == "TrustedLaunchAndConfidentialVmSupported"
    assert features["IsAcceleratedNetworkSupported"] == "True"
    raw = raw_get(
        fresh_sim,
        "westus3/publishers/canonical/artifacttypes/vmimage/offers/0001-com-ubuntu-server-jammy"
        "/skus/22_04-LTS-GEN2/versions/22.04.202411190",
    ).json()
    assert raw["properties"]["osDiskImage"] == {"operatingSystem": "Linux", "sizeInGb": 30}
    assert raw["properties"]["replicaType"] == "Managed"
    assert raw["name"] == "22.04.202411190" and raw["location"] == "WestUS3"
    assert "/Skus/22_04-lts-gen2/Versions/" in raw["id"]  # catalog casing, whatever the request used


def test_arm64_windows_plan_and_deprecation(compute):
    arm = compute.virtual_machine_images.get(
        "eastus", "Canonical", "ubuntu-24_04-lts", "server-arm64", "24.04.202411030"
    )
    assert arm.architecture == "Arm64"
    windows = compute.virtual_machine_images.get(
        "eastus", "MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition", "20348.2849.241109"
    )
    assert windows.os_disk_image.operating_system == "Windows"
    assert windows.automatic_os_upgrade_properties.automatic_os_upgrade_supported is True
    plan = compute.virtual_machine_images.get(
        "eastus", "center-for-internet-security-inc", "cis-ubuntu-linux-2204-l1", "cis-ubuntu2204-l1-gen2", "1.1.12"
    ).plan
    assert (plan.publisher, plan.name, plan.product) == (
        "center-for-internet-security-inc",
        "cis-ubuntu2204-l1-gen2",
        "cis-ubuntu-linux-2204-l1",
    )
    scheduled = compute.virtual_machine_images.get(
        "eastus", *JAMMY, "22_04-lts", "22.04.202410020"
    ).image_deprecation_status
    assert scheduled.image_state == "ScheduledForDeprecation"
    assert scheduled.alternative_option.value == "ubuntu-24_04-lts"
    gone = compute.virtual_machine_images.get("eastus", *JAMMY, "22_04-lts", "22.04.202404090").image_deprecation_status
    assert gone.image_state == "Deprecated"


def test_regional_availability(compute):
    assert "center-for-internet-security-inc" not in {
        item.name for item in compute.virtual_machine_images.list_publishers("westus3")
    }
    assert "22_04-lts-arm64" not in {item.name for item in compute.virtual_machine_images.list_skus("westus3", *JAMMY)}
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machine_images.get("westus3", *JAMMY, "22_04-lts-arm64", "22.04.202411190")


@pytest.mark.parametrize(
    "call",
    [
        lambda vmi: vmi.list_offers("eastus", "NoSuchPublisher"),
        lambda vmi: vmi.list_skus("eastus", "Canonical", "no-such-offer"),
        lambda vmi: vmi.list("eastus", "Canonical", "ubuntu-24_04-lts", "no-such-sku"),
        lambda vmi: vmi.get("eastus", "Canonical", "ubuntu-24_04-lts", "server", "24.04.000000000"),
        lambda vmi: vmi.get("eastus", "Canonical", "ubuntu-24_04-lts", "server", "latest"),  # GET never takes latest
    ],
)
def test_unknown_artifacts_are_404(compute, call):
    with pytest.raises(ResourceNotFoundError) as info:
        call(compute.virtual_machine_images)
    assert info.value.error.code == "NotFound"
    assert info.value.error.message == "Artifact: VMImage was not found."


def test_unknown_location_is_no_registered_provider(compute):
    with pytest.raises(HttpResponseError) as info:
        compute.virtual_machine_images.list_publishers("atlantis")
    assert info.value.status_code == 400
    assert info.value.error.code == "NoRegisteredProviderFound"


def test_invalid_orderby_is_refused(compute):
    with pytest.raises(HttpResponseError) as info:
        compute.virtual_machine_images.list("eastus", *RHEL, "8-lvm-gen2", orderby="publishedDate desc")
    assert info.value.status_code == 400
