"""Managed disks through the real SDK: create options, derived values, status codes, delete."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from tests.sim.test_vm_helpers import LOCATION, changed_settings, make_group, require_marketplace, stored

RG = "rg-disk"


@pytest.fixture
def group(resources):
    return make_group(resources, RG)


def create(compute, name, size=128, sku="Premium_LRS", **props):
    body = {"location": LOCATION, "sku": {"name": sku},
            "properties": {"diskSizeGB": size, "creationData": {"createOption": "Empty"}, **props}}
    return compute.disks.begin_create_or_update(RG, name, body).result()


def statuses_of(fresh_sim, method, seq):
    return [item["status"] for item in fresh_sim.admin.requests(since=seq) if item["method"] == method]


def test_create_answers_202_never_201(compute, group, fresh_sim):
    seq = fresh_sim.admin.last_seq()
    disk = create(compute, "d1")
    assert statuses_of(fresh_sim, "PUT", seq) == [202]
    assert disk.provisioning_state == "Succeeded" and disk.disk_state == "Unattached"


@pytest.mark.parametrize("sku, size, tier, iops, mbps", [
    ("Premium_LRS", 128, "P10", 500, 100),
    ("Premium_LRS", 1000, "P30", 5000, 200),
    ("StandardSSD_LRS", 64, None, 500, 100),
    ("Standard_LRS", 8192, None, 1300, 300),
    ("PremiumV2_LRS", 100, None, 3000, 125),
])
def test_get_reports_published_performance(compute, group, sku, size, tier, iops, mbps):
    disk = create(compute, "d1", size=size, sku=sku)
    assert (disk.tier, disk.disk_iops_read_write, disk.disk_m_bps_read_write) == (tier, iops, mbps)
    assert disk.disk_size_bytes == size * 1024 ** 3
    assert disk.sku.tier == {"Premium_LRS": "Premium", "PremiumV2_LRS": "Premium"}.get(sku, "Standard")
    assert disk.unique_id and disk.time_created


def test_copy_from_another_disk(compute, group, fresh_sim):
    source = create(compute, "d1", size=64)
    copy = compute.disks.begin_create_or_update(RG, "d2", {"location": LOCATION, "properties": {
        "creationData": {"createOption": "Copy", "sourceResourceId": source.id}}}).result()
    assert copy.disk_size_gb == 64 and copy.sku.name == "Standard_LRS"
    assert stored(fresh_sim, copy.id)["properties"]["creationData"]["sourceResourceId"] == source.id


def test_empty_disk_needs_a_size(compute, group):
    with pytest.raises(HttpResponseError) as raised:
        compute.disks.begin_create_or_update(RG, "d1", {"location": LOCATION, "properties": {
            "creationData": {"createOption": "Empty"}}}).result()
    assert (raised.value.error.code, raised.value.error.target) == ("InvalidParameter", "diskSizeGB")


def test_ultra_disk_only_empty(compute, group):
    source = create(compute, "d1", size=64)
    with pytest.raises(HttpResponseError) as raised:
        compute.disks.begin_create_or_update(RG, "d2", {
            "location": LOCATION, "sku": {"name": "UltraSSD_LRS"},
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": source.id}}}).result()
    assert raised.value.error.message == "The 'UltraSSD_LRS' SKU is only supported for empty disks."


def test_patch_answers_202_with_both_monitors(compute, group, fresh_sim):
    create(compute, "d1", size=128)
    seq = fresh_sim.admin.last_seq()
    disk = compute.disks.begin_update(RG, "d1", {"properties": {"tier": "P30"}}).result()
    assert disk.tier == "P30" and (disk.disk_iops_read_write, disk.disk_m_bps_read_write) == (5000, 200)
    assert statuses_of(fresh_sim, "PATCH", seq) == [202]


def test_tags_only_patch_answers_200(compute, group, fresh_sim):
    create(compute, "d1")
    seq = fresh_sim.admin.last_seq()
    disk = compute.disks.begin_update(RG, "d1", {"tags": {"goldenimage-build-id": "b1"}}).result()
    assert disk.tags == {"goldenimage-build-id": "b1"}
    assert statuses_of(fresh_sim, "PATCH", seq) == [200]


def test_update_in_progress_shows_target_tier(compute, group, fresh_sim):
    create(compute, "d1", size=128)
    fresh_sim.admin.freeze_clock()  # simulated time moves only when the test says so
    with changed_settings(fresh_sim.admin, time_scale=1.0):
        compute.disks.begin_update(RG, "d1", {"properties": {"tier": "P40"}}, polling=False).result()
        running = compute.disks.get(RG, "d1")
        assert running.provisioning_state == "Updating"
        assert running.property_updates_in_progress.target_tier == "P40"
        fresh_sim.admin.finish_operations()
    done = compute.disks.get(RG, "d1")
    assert (done.tier, done.property_updates_in_progress) == ("P40", None)


def test_creation_data_cannot_change(compute, group):
    source = create(compute, "d1")
    create(compute, "d2")
    with pytest.raises(ResourceExistsError) as raised:
        compute.disks.begin_create_or_update(RG, "d2", {"location": LOCATION, "properties": {
            "creationData": {"createOption": "Copy", "sourceResourceId": source.id}}}).result()
    assert (raised.value.error.code, raised.value.error.target) == ("PropertyChangeNotAllowed", "creationData")


def test_lists_per_group_and_subscription(compute, group):
    for name in ("d1", "d2"):
        create(compute, name, size=4)
    assert sorted(disk.name for disk in compute.disks.list_by_resource_group(RG)) == ["d1", "d2"]
    assert len(list(compute.disks.list())) == 2


def test_delete_unattached_disk(compute, group, fresh_sim):
    create(compute, "d1")
    seq = fresh_sim.admin.last_seq()
    compute.disks.begin_delete(RG, "d1").result()
    assert statuses_of(fresh_sim, "DELETE", seq) == [202]
    assert fresh_sim.admin.resources("Microsoft.Compute/disks") == []


def test_from_a_marketplace_image(compute, group):
    require_marketplace(compute)
    image = compute.virtual_machine_images.get(LOCATION, "Canonical", "0001-com-ubuntu-server-jammy",
                                               "22_04-lts-gen2", "22.04.202411190")
    disk = compute.disks.begin_create_or_update(RG, "os", {"location": LOCATION, "sku": {"name": "Premium_LRS"},
                                                           "properties": {"creationData": {
                                                               "createOption": "FromImage",
                                                               "imageReference": {"id": image.id}}}}).result()
    assert (disk.os_type, disk.hyper_v_generation, disk.disk_size_gb, disk.tier) == ("Linux", "V2", 30, "P4")


def test_second_update_while_one_runs_is_refused(compute, group, fresh_sim):
    create(compute, "d1", size=128)
    fresh_sim.admin.freeze_clock()  # simulated time moves only when the test says so
    fresh_sim.admin.settings(time_scale=1.0)
    compute.disks.begin_update(RG, "d1", {"properties": {"tier": "P30"}}, polling=False).result()
    with pytest.raises(ResourceExistsError) as raised:
        compute.disks.begin_update(RG, "d1", {"properties": {"tier": "P40"}}, polling=False).result()
    assert "another operation is in progress" in raised.value.error.message


def test_put_of_the_disk_as_read_changes_only_what_differs(compute, group, fresh_sim):
    disk = create(compute, "d1", size=128)
    disk.tags = {"owner": "images"}
    seq = fresh_sim.admin.last_seq()
    again = compute.disks.begin_create_or_update(RG, "d1", disk).result()
    assert (again.tags, again.tier, again.disk_iops_read_write) == ({"owner": "images"}, "P10", 500)
    assert statuses_of(fresh_sim, "PUT", seq) == [200]


def test_copy_from_a_snapshot(compute, group, fresh_sim):
    source = create(compute, "d1", size=64)
    snapshot = compute.snapshots.begin_create_or_update(RG, "s1", {"location": LOCATION, "properties": {
        "creationData": {"createOption": "Copy", "sourceResourceId": source.id}}}).result()
    disk = compute.disks.begin_create_or_update(RG, "d2", {"location": LOCATION, "sku": {"name": "Premium_LRS"},
                                                           "properties": {"diskSizeGB": 128, "creationData": {
                                                               "createOption": "Copy",
                                                               "sourceResourceId": snapshot.id}}}).result()
    assert (disk.disk_size_gb, disk.tier) == (128, "P10")
