"""Marketplace listing and resolution (plugins/module_utils/_marketplace.py, _image_sources.py).

Through the client layer's AzureSession, against the simulator.
"""

from __future__ import annotations

import sys

import pytest

from tests.harness import ensure_collection_path
from tests.image_sets import TWENTY

sys.path.insert(0, ensure_collection_path())

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (  # noqa: E402
    AzureError,
    AzureSession,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._image_sources import (  # noqa: E402
    Resolver,
    parse_spec,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._marketplace import (  # noqa: E402
    Marketplace,
    closest,
    features_from_wire,
    parse_urn,
)

LOC = "eastus"


def arm_requests(sim, since=0):
    return [item for item in sim.admin.requests(since) if item["kind"] == "arm"]


@pytest.fixture
def session(fresh_sim):
    return AzureSession({}, environ=fresh_sim.env)


@pytest.fixture
def client(session):
    """The client the backend takes: the client layer's AzureSession (its light ARM REST path)."""
    return session


# -- listing ---------------------------------------------------------------------------------------------

def test_every_listing_level(client):
    market = Marketplace(client)
    assert {"Canonical", "RedHat", "Debian", "MicrosoftWindowsServer"} <= set(market.listing("publishers", LOC))
    assert market.listing("offers", LOC, "canonical") == ["0001-com-ubuntu-server-jammy", "ubuntu-24_04-lts"]
    assert market.listing("skus", LOC, "Canonical", "ubuntu-24_04-lts") == ["server", "server-arm64", "server-gen1"]
    assert market.listing("versions", LOC, "RedHat", "RHEL", "8-lvm-gen2") == [
        "8.10.2025010210", "8.10.2024070513", "8.9.2024022012", "8.8.2023121916"]


def test_listing_filters(client):
    market = Marketplace(client)
    assert market.listing("skus", LOC, "Canonical", "ubuntu-24_04-lts", name_filter="SERVER-*") == [
        "server-arm64", "server-gen1"]
    assert market.listing("skus", LOC, "MicrosoftWindowsServer", "WindowsServer", name_filter=r"^2022-.*g2$",
                          filter_type="regex") == ["2022-datacenter-g2"]
    assert market.listing("versions", LOC, "RedHat", "RHEL", "9-lvm-gen2", name_filter="9.4.*") == [
        "9.4.2026092611", "9.4.2024081412"]
    with pytest.raises(AzureError, match="Invalid regular expression"):
        market.listing("publishers", LOC, name_filter="(", filter_type="regex")
    with pytest.raises(AzureError, match="needs publisher and offer"):
        market.listing("skus", LOC)


def test_versions_with_details_in_one_request(client, fresh_sim):
    since = fresh_sim.admin.last_seq()
    items = Marketplace(client).versions_with_details(LOC, "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts")
    assert len(arm_requests(fresh_sim, since)) == 1
    assert [item["version"] for item in items] == [
        "22.04.202411190", "22.04.202411010", "22.04.202410020", "22.04.202404090"]
    assert [item["deprecation"]["state"] for item in items][-2:] == ["ScheduledForDeprecation", "Deprecated"]
    assert items[0]["urn"] == "Canonical:0001-com-ubuntu-server-jammy:22_04-lts:22.04.202411190"
    filtered = Marketplace(client).versions_with_details(LOC, "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts",
                                                         name_filter="22.04.20241*")
    assert len(filtered) == 3
    with pytest.raises(AzureError, match="SKU '22_04-ltss'"):
        Marketplace(client).versions_with_details(LOC, "Canonical", "0001-com-ubuntu-server-jammy", "22_04-ltss")


def test_listing_unknown_names_suggest(client):
    market = Marketplace(client)
    with pytest.raises(AzureError) as err:
        market.listing("skus", LOC, "Canonical", "ubuntu-24_04-lst")
    assert "Offer 'ubuntu-24_04-lst'" in str(err.value) and "ubuntu-24_04-lts" in str(err.value)


# -- latest, prefixes, exact ---------------------------------------------------------------------------------

@pytest.mark.parametrize("urn, expected", [
    ("RedHat:RHEL:8-lvm-gen2:latest", "8.10.2025010210"),      # not 8.9 (lexical)
    ("RedHat:RHEL:9-lvm-gen2:latest", "9.8.2026052008"),       # not the re-published 9.4
    ("RedHat:RHEL:8-lvm-gen2:8.9.*", "8.9.2024022012"),
    ("RedHat:RHEL:9-lvm-gen2:9.4.*", "9.4.2026092611"),
    ("RedHat:RHEL:8-lvm-gen2:8.*", "8.10.2025010210"),
    ("redhat:rhel:8-LVM-gen2", "8.10.2025010210"),            # no version = latest, names case-insensitive
    ("Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.*", "22.04.202411190"),
    ("Canonical:ubuntu-24_04-lts:server:24.04.202409120", "24.04.202409120"),   # an older exact version
])
def test_resolve_versions(client, fresh_sim, urn, expected):
    since = fresh_sim.admin.last_seq()
    details = Marketplace(client).resolve(LOC, *parse_urn(urn).values(), requested=urn)
    assert details["version"] == expected
    assert details["urn"].endswith(":" + expected)
    assert details["image_reference"]["version"] == expected
    reads = arm_requests(fresh_sim, since)
    exact = "*" not in urn and urn.count(":") == 3 and not urn.endswith("latest")
    assert len(reads) == (1 if exact else 2), reads
    assert all(item["status"] == 200 for item in reads)
    assert not any("$orderby" in item["query"] for item in reads)


def test_display_name_locations_are_accepted(session):
    details = Resolver(session, "East US").resolve("Debian:debian-12:12:latest")
    assert details["location"] == "eastus"
    assert details["version"] == "0.20241201.1948"


def test_details_are_complete(client):
    details = Marketplace(client).resolve(LOC, "Canonical", "ubuntu-24_04-lts", "server-arm64", "latest")
    assert details["urn"] == "Canonical:ubuntu-24_04-lts:server-arm64:24.04.202411030"
    assert details["publisher"] == "Canonical" and details["offer"] == "ubuntu-24_04-lts"
    assert details["id"].endswith("/Versions/24.04.202411030")
    assert details["architecture"] == "Arm64"
    assert details["hyper_v_generation"] == "V2"
    assert details["os_type"] == "Linux"
    assert isinstance(details["os_disk_size_gb"], int)
    assert details["data_disk_images"] == []
    assert details["plan"] is None
    assert details["features"]["security_type"] == "TrustedLaunchSupported"
    assert details["features"]["trusted_launch"] is True
    assert details["features"]["disk_controller_types"]
    assert details["disallowed"] == {"vm_disk_type": "Unmanaged"}
    assert details["deprecation"]["state"] == "Active"
    assert details["automatic_os_upgrade_supported"] is False


def test_plan_image(client):
    details = Marketplace(client).resolve(LOC, "center-for-internet-security-inc", "cis-ubuntu-linux-2204-l1",
                                          "cis-ubuntu2204-l1-gen2", "latest")
    assert details["version"] == "1.1.12"  # 1.1.12 > 1.1.9
    assert details["plan"]["name"] == "cis-ubuntu2204-l1-gen2"
    assert details["plan"]["product"] == "cis-ubuntu-linux-2204-l1"
    assert details["plan"]["publisher"] == "center-for-internet-security-inc"
    assert details["plan"]["terms_required"] is True


def test_deprecated_and_scheduled_versions(client):
    market = Marketplace(client)
    old = market.resolve(LOC, "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", "22.04.202404090")
    assert old["deprecation"]["state"] == "Deprecated"
    assert old["deprecation"]["deployable"] is False
    assert old["deprecation"]["alternative"] == {"type": "Offer", "value": "ubuntu-24_04-lts"}
    assert old["deprecation"]["scheduled_time"].startswith("2025-04-09")
    scheduled = market.resolve(LOC, "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", "22.04.202410020")
    assert scheduled["deprecation"]["state"] == "ScheduledForDeprecation"
    assert scheduled["deprecation"]["deployable"] is True
    warned = Resolver(client, LOC).resolve("Canonical:0001-com-ubuntu-server-jammy:22_04-lts:22.04.202404090")
    assert warned["warnings"] and "Deprecated" in warned["warnings"][0]


def test_latest_steps_over_a_deprecated_newest(client, fresh_sim):
    # Only the deprecated 22.04.202404090 matches this prefix: latest-style selection refuses it.
    with pytest.raises(AzureError) as err:
        Marketplace(client).resolve(LOC, "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", "22.04.20240409*")
    assert "No deployable version" in str(err.value) and "22.04.202404090 (Deprecated)" in str(err.value)


# -- bad input -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("urn, location, bad, suggestion", [
    ("Canonicl:ubuntu-24_04-lts:server:latest", LOC, "Publisher 'Canonicl'", "Canonical"),
    ("Canonical:ubuntu-24_04-ltss:server:latest", LOC, "Offer 'ubuntu-24_04-ltss'", "ubuntu-24_04-lts"),
    ("RedHat:RHEL:8-lvm-gen3:latest", LOC, "SKU '8-lvm-gen3'", "8-lvm-gen2"),
    ("RedHat:RHEL:8-lvm-gen2:8.10.2024070514", LOC, "Version '8.10.2024070514'", "8.10.2024070513"),
    ("RedHat:RHEL:8-lvm-gen2:latest", "eastuss", "Location 'eastuss'", "eastus"),
    ("RedHat:RHEL:8-lvm-gen2:8.10.2024070513", "estus", "Location 'estus'", "eastus"),
    ("RedHat:RHEL:8-lvm-gen2:7.*", LOC, "matches '7.*'", "8.10.2025010210"),
])
def test_bad_input_names_the_part_and_suggests(client, urn, location, bad, suggestion):
    with pytest.raises(AzureError) as err:
        Resolver(client, location).resolve(urn)
    message = str(err.value)
    assert bad in message
    assert suggestion in message
    assert err.value.status_code == 404


@pytest.mark.parametrize("spec, fragment", [
    ("Canonical:ubuntu", "Invalid image URN"),
    ("a:b:c:d:e", "Invalid image URN"),
    ({"publisher": "Canonical"}, "lacks offer, sku"),
    (42, "must be a URN string"),
    ("/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/disks/d",
     "is not the id of"),
    ("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/images/i", "^image: .*'x', which is not a "
                                                                              "subscription id"),
    ({"urn": "RedHat:RHEL:8-lvm-gen2:latest", "sku": "9-lvm"}, "urn together with sku"),
    ({"managed_image": {"name": "i", "resource_group": "rg", "subscription_id": "nope"}},
     "^managed_image.subscription_id: 'nope' is not a subscription id"),
])
def test_malformed_specs(spec, fragment):
    with pytest.raises(AzureError, match=fragment):
        parse_spec(spec)


def test_location_needed_for_marketplace(session):
    with pytest.raises(AzureError, match="location is needed"):
        Resolver(session, None).resolve("RedHat:RHEL:8-lvm-gen2:latest")


def test_closest_and_features_helpers():
    assert closest("ubunt", ["ubuntu-24_04-lts", "debian-12", "RHEL"])[0] == "ubuntu-24_04-lts"
    assert closest("zzz", ["a", "b"]) == []
    assert features_from_wire([{"name": "IsHibernateSupported", "value": "False"},
                               {"name": "DiskControllerTypes", "value": " SCSI ,NVMe"}]) == {
        "security_type": None, "trusted_launch": None, "confidential_vm": None, "accelerated_networking": None,
        "disk_controller_types": ["SCSI", "NVMe"], "hibernate": False,
        "raw": {"IsHibernateSupported": "False", "DiskControllerTypes": " SCSI ,NVMe"}}


# -- throttling and many images -------------------------------------------------------------------------------

def test_throttled_and_unavailable_reads_are_retried(session, fresh_sim):
    fresh_sim.admin.faults([
        {"method": "GET", "path": "/skus/8-lvm-gen2/versions$", "status": 429, "times": 1},
        {"method": "GET", "path": "/skus/8-lvm-gen2/versions/[^/]+$", "status": 503, "times": 1},
    ])
    since = fresh_sim.admin.last_seq()
    details = Resolver(session, LOC).resolve("RedHat:RHEL:8-lvm-gen2:latest")
    assert details["version"] == "8.10.2025010210"
    statuses = [(item["path"].rsplit("/", 1)[-1], item["status"]) for item in arm_requests(fresh_sim, since)]
    assert statuses == [("versions", 429), ("versions", 200), ("8.10.2025010210", 503), ("8.10.2025010210", 200)]




def test_twenty_images_concurrently(session, fresh_sim):
    since = fresh_sim.admin.last_seq()
    results = Resolver(session, LOC, max_concurrency=8).resolve_many(TWENTY)
    assert [item["requested"] for item in results] == TWENTY
    assert results[9]["version"] == "8.10.2025010210" and results[18]["version"] == "8.9.2024022012"
    reads = arm_requests(fresh_sim, since)
    # one list per SKU (shared by the two RHEL 8 entries) + one GET per image; nothing twice
    assert len(reads) <= 2 * len(TWENTY)
    assert len({(item["path"]) for item in reads}) == len(reads)
    tokens = [item for item in fresh_sim.admin.requests(since) if item["path"].endswith("/token")]
    assert len(tokens) <= 1


def test_many_failures_are_reported_together(session):
    with pytest.raises(AzureError) as err:
        Resolver(session, LOC).resolve_many(["RedHat:RHEL:8-lvm-gen2:latest", "RedHat:RHEL:8-lvm-gen9:latest",
                                             "Debian:debian-13:13:latest"])
    message = str(err.value)
    assert "2 of 3 images" in message
    assert "SKU '8-lvm-gen9'" in message and "Offer 'debian-13'" in message and "debian-12" in message


class CountingClient:
    """The real AzureSession, with a count of requests in flight and the threads that sent them.

    The first ``meet`` requests sent from worker threads wait for each other at a barrier before going out:
    they can only all get through if that many run at once. No time window: a Resolver that runs fewer
    at once breaks the barrier (bounded by its timeout) instead of passing by luck."""

    def __init__(self, session, meet):
        import threading

        self.session = session
        self.subscription_id = session.subscription_id
        self.lock = threading.Lock()
        self.now = self.peak = self.worker_calls = 0
        self.threads = set()
        self.meet = meet
        self.barrier = threading.Barrier(meet, timeout=60)

    def arm_get(self, *args, **kwargs):
        import threading

        worker = threading.current_thread() is not threading.main_thread()
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            if worker:
                self.threads.add(threading.get_ident())
                self.worker_calls += 1
            waits = worker and self.worker_calls <= self.meet
        try:
            if waits:
                self.barrier.wait()  # BrokenBarrierError if fewer than ``meet`` requests can be in flight together
            return self.session.arm_get(*args, **kwargs)
        finally:
            with self.lock:
                self.now -= 1


def test_requests_in_flight_are_bounded(session, fresh_sim):
    client = CountingClient(session, meet=3)
    results = Resolver(client, LOC, max_concurrency=3).resolve_many(TWENTY[:12])
    assert [item["requested"] for item in results] == TWENTY[:12]
    assert not client.barrier.broken
    assert client.peak == 3  # three met at the barrier, and never a fourth beside them
    assert len(client.threads) == 3
