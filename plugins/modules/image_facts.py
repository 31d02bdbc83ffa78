#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_facts
short_description: Find, pin and describe Azure VM images (Marketplace, managed images, gallery versions)
version_added: 1.0.0
description:
  - Resolves Marketplace images given as a URN C(Publisher:Offer:Sku:Version) or as parts to one concrete version
    with its full details, and records the concrete URN so a build is reproducible.
  - C(latest) and version prefixes such as C(22.04.*) or C(8.*) pick the B(numerically) highest version
    (C(8.10.x) above C(8.9.x), C(9.8.x) above a re-published C(9.4.x)), never ARM's lexical order.
    Exact versions, older ones included, are read directly.
  - C(latest) and prefixes skip a newer Marketplace version that is C(Deprecated) (Azure creates no VM from it) and
    pick the newest deployable one; when that happens the task warns, naming the skipped versions
    (RV(images[].skipped_deprecated)). Ask for the exact version to read a deprecated one.
  - A version that YAML turned into a number (an unquoted V(8.10) is the number 8.1) fails the task, naming every
    version it could have meant (those starting C(8.1) or C(8.10)). An exact version given as text that does not
    exist but reads like such a number (V(8.1) through a variable) gets the same candidates in its message.
  - A URN (O(image), O(urn) or a dict's C(urn)) together with C(publisher), C(offer), C(sku) or C(version) is an
    error, not a silent choice of one of them. O(publisher), O(offer) and O(sku) only choose what O(list) shows.
  - Resource ids are read in the subscription they name, with the same credential (as C(az) does); names are read
    in O(subscription_id). A subscription in an id that is not a GUID fails before any request.
  - Each Marketplace image costs at most two ARM requests (one versions list, one version GET);
    an exact version costs one. Identical reads within a task are made once.
  - Lists publishers, offers, SKUs or versions at a location, filtered by a glob or a regular expression.
  - Resolves managed (custom) images by name or id, and gallery image versions (the newest version of a
    definition that is not excluded from latest and is replicated to O(location), or a given version).
  - Many images are resolved in one task, concurrently, with at most O(max_concurrency) requests in flight.
  - A wrong publisher, offer, SKU, version, location, resource group, gallery or image name fails the task with
    a message that names the wrong value and lists the closest existing names.
  - Read-only; RV(changed) is always V(false).
author:
  - goldenimage.azure contributors (@goldenimage)
options:
  location:
    description:
      - Azure region, for example V(eastus). Required for Marketplace images and listings.
      - For managed and gallery images it is optional; when given, gallery C(latest) only considers versions
        replicated to it, and images outside it produce a warning.
    type: str
  list:
    description:
      - List the names at one level of the Marketplace at O(location) instead of (or in addition to) resolving images.
      - V(offers) needs O(publisher); V(skus) needs O(publisher) and O(offer); V(versions) needs all three.
      - Names are sorted case-insensitively; versions newest first in numeric order.
    type: str
    choices: [publishers, offers, skus, versions]
  publisher:
    description:
      - Publisher whose offers, SKUs or versions O(list) shows.
    type: str
  offer:
    description:
      - Offer whose SKUs or versions O(list) shows.
    type: str
  sku:
    description:
      - SKU whose versions O(list) shows.
    type: str
  name_filter:
    description:
      - Keep only listed names that match this pattern (see O(filter_type)).
      - For V(versions) a pattern such as V(8.10.*) is a glob as well.
    type: str
  filter_type:
    description:
      - V(glob) matches the whole name with shell wildcards (C(*), C(?), C([...])), ignoring case.
      - V(regex) searches a Python regular expression anywhere in the name, ignoring case; anchor it with C(^) and C($).
    type: str
    choices: [glob, regex]
    default: glob
  list_details:
    description:
      - With O(list=versions), also return every listed version's details in RV(listing.versions) (the keys of
        RV(images)), read in the same single request (C($expand=properties)).
    type: bool
    default: false
  image:
    description:
      - One image to resolve. It is the first entry of RV(images).
      - A Marketplace URN string C(Publisher:Offer:Sku:Version); the version may be C(latest), a prefix ending
        in C(.*) (V(22.04.*)), a glob (V(8.10.2024*)) or an exact version. Without the version, C(latest).
      - A dict with C(publisher), C(offer), C(sku) and optional C(version) (or C(urn)).
      - A resource id of a managed image, a gallery image definition (its newest version) or a gallery image version.
      - A dict with one key C(managed_image) or C(gallery_image) whose value has the keys of O(managed_image) or O(gallery_image).
    type: raw
    aliases: [urn]
  images:
    description:
      - Images to resolve in one task, in the forms O(image) accepts. Resolved concurrently; RV(images) keeps this order.
      - If some cannot be resolved the task fails and the message names each of them.
    type: list
    elements: raw
  managed_image:
    description:
      - A managed (custom) image to describe.
    type: dict
    suboptions:
      name:
        description: Name of the image. Requires O(managed_image.resource_group).
        type: str
      resource_group:
        description: Resource group of the image.
        type: str
      id:
        description: Resource id of the image, instead of O(managed_image.name) and O(managed_image.resource_group).
        type: str
  gallery_image:
    description:
      - An Azure Compute Gallery image definition whose version to pick and describe.
    type: dict
    suboptions:
      gallery:
        description: Name of the gallery.
        type: str
      name:
        description: Name of the image definition.
        type: str
      resource_group:
        description: Resource group of the gallery.
        type: str
      version:
        description:
          - V(latest) (default) picks the numerically highest version that succeeded, is not excluded from latest
            (C(publishingProfile.excludeFromLatest) or its target region's flag) and, with O(location), has
            completed replication there. A prefix (V(1.2.*)) or glob picks the same way among matching versions.
          - An exact version is taken as it is, even when excluded from latest.
          - Quote it. A number (an unquoted V(1.10) is 1.1) fails, naming the versions it could have meant.
        type: raw
        default: latest
      id:
        description: Resource id of the image definition or of one version, instead of the names.
        type: str
  max_concurrency:
    description:
      - Most images resolved at the same time (threads sharing one credential and connection pool).
    type: int
    default: 8
notes:
  - Requests per Marketplace image with C(latest) or a prefix are two (a versions list and a version GET), plus the
    token request of the task. The failure path makes extra listing requests to name the wrong part.
  - A Marketplace image with a RV(images[].plan) needs its Marketplace terms accepted once per subscription
    before a VM can be created from it (C(az vm image terms accept)); this module reports the plan but does not check the terms.
seealso:
  - plugin: goldenimage.azure.marketplace_image
    plugin_type: lookup
    description: The same resolution inside templates, group_vars and inventories.
extends_documentation_fragment:
  - goldenimage.azure.azure
  - goldenimage.azure.attributes.INFO_MODULE
"""

EXAMPLES = r"""
- name: Pin the newest Ubuntu 24.04 image and record its concrete URN
  goldenimage.azure.image_facts:
    location: eastus
    image: Canonical:ubuntu-24_04-lts:server:latest
  register: base

- name: Show the pinned URN (e.g. Canonical:ubuntu-24_04-lts:server:24.04.202411200)
  ansible.builtin.debug:
    msg: "{{ base.image.urn }} gen {{ base.image.hyper_v_generation }} {{ base.image.features.security_type }}"

- name: The newest RHEL 8 (8.10.x wins over 8.9.x) and an older exact Ubuntu build
  goldenimage.azure.image_facts:
    location: eastus
    images:
      - RedHat:RHEL:8-lvm-gen2:8.*
      - publisher: Canonical
        offer: 0001-com-ubuntu-server-jammy
        sku: 22_04-lts-gen2
        version: 22.04.202410020

- name: Gen2 SKUs of an offer
  goldenimage.azure.image_facts:
    location: eastus
    list: skus
    publisher: Canonical
    offer: ubuntu-24_04-lts
    name_filter: "server*"

- name: Versions of RHEL 9, newest first
  goldenimage.azure.image_facts:
    location: eastus
    list: versions
    publisher: RedHat
    offer: RHEL
    sku: 9-lvm-gen2
  register: rhel9

- name: The newest gallery version replicated to westeurope
  goldenimage.azure.image_facts:
    location: westeurope
    gallery_image:
      resource_group: rg-images
      gallery: golden
      name: ubuntu-2404
  register: golden

- name: A managed image by name, and facts for later plays
  goldenimage.azure.image_facts:
    managed_image:
      resource_group: rg-images
      name: ubuntu-2404-20261101
- ansible.builtin.debug:
    var: ansible_facts.goldenimage_images[0].id

- name: Authentication once for every module of the collection
  module_defaults:
    group/goldenimage.azure.azure:
      subscription_id: "{{ subscription_id }}"
      auth_source: cli
  block:
    - goldenimage.azure.image_facts:
        location: eastus
        image: Debian:debian-12:12-gen2:latest
"""

RETURN = r"""
changed:
  description: Always V(false); the module only reads.
  returned: always
  type: bool
  sample: false
images:
  description:
    - One entry per requested image, in the order of O(image), O(images), O(managed_image), O(gallery_image).
    - Keys depend on RV(images[].source); Marketplace entries have every key below that is not marked otherwise.
  returned: when images were requested
  type: list
  elements: dict
  contains:
    source:
      description: V(marketplace), V(managed_image) or V(gallery_image).
      type: str
      sample: marketplace
    requested:
      description: The image as it was asked for.
      type: str
      sample: Canonical:ubuntu-24_04-lts:server:latest
    version_spec:
      description: The version asked for (V(latest), a prefix, a glob or exact). Not for managed images.
      type: str
      sample: latest
    urn:
      description: Marketplace URN with the B(concrete) version; pin this for reproducible builds. Marketplace only.
      type: str
      sample: Canonical:ubuntu-24_04-lts:server:24.04.202411200
    id:
      description: Resource id of the image version (Marketplace artifact id, managed image id or gallery version id).
      type: str
      sample: "/Subscriptions/0000/Providers/Microsoft.Compute/Locations/EastUS/Publishers/Canonical/ArtifactTypes/VMImage/\
        Offers/ubuntu-24_04-lts/Skus/server/Versions/24.04.202411200"
    location:
      description: The region asked for (Marketplace) or the image's region (managed and gallery images).
      type: str
      sample: eastus
    publisher:
      description: Publisher as ARM spells it. Marketplace only.
      type: str
      sample: Canonical
    offer:
      description: Offer as ARM spells it. Marketplace only.
      type: str
      sample: ubuntu-24_04-lts
    sku:
      description: SKU as ARM spells it. Marketplace only.
      type: str
      sample: server
    version:
      description: The concrete version (Marketplace and gallery images).
      type: str
      sample: 24.04.202411200
    name:
      description: Managed image name or gallery image definition name.
      type: str
      returned: managed and gallery images
      sample: ubuntu-2404
    resource_group:
      description: Resource group of a managed or gallery image.
      type: str
      returned: managed and gallery images
      sample: rg-images
    gallery:
      description: Gallery name.
      type: str
      returned: gallery images
      sample: golden
    definition_id:
      description: Resource id of the gallery image definition.
      type: str
      returned: gallery images
      sample: /subscriptions/0000/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/golden/images/ubuntu-2404
    image_reference:
      description:
        - What a VM's C(storageProfile.imageReference) needs; C({publisher, offer, sku, version}) for Marketplace
          images (concrete version), C({id}) for managed and gallery images.
      type: dict
      sample: {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "24.04.202411200"}
    hyper_v_generation:
      description: V(V1) or V(V2) (Azure's default V(V1) when ARM does not say).
      type: str
      sample: V2
    architecture:
      description: V(x64) or V(Arm64).
      type: str
      sample: x64
    os_type:
      description: V(Linux) or V(Windows).
      type: str
      sample: Linux
    os_state:
      description: V(Generalized) or V(Specialized).
      type: str
      returned: managed and gallery images
      sample: Generalized
    os_disk_size_gb:
      description: Size of the image's OS disk in GiB, when ARM reports it.
      type: int
      sample: 30
    data_disk_images:
      description:
        - Data disks that come with the image, by LUN - a VM made from it gets a data disk at each LUN.
        - Marketplace images report C(lun) and C(size_gb); managed images and gallery versions also C(caching),
          C(storage_account_type) and C(source) where ARM records them.
      type: list
      elements: dict
      contains:
        lun:
          description: Logical unit number (0-63), kept from the captured VM.
          type: int
        size_gb:
          description: Size in GiB.
          type: int
        caching:
          description: Host caching (V(None), V(ReadOnly), V(ReadWrite)); managed images and gallery versions.
          type: str
        storage_account_type:
          description:
            - Managed images - the disk's storage type. Gallery versions - the replica storage type of the version's
              region (a gallery stores every disk of a version alike).
          type: str
        source:
          description: Managed images - the managed disk, snapshot or VHD the data disk image was made from.
          type: str
      sample:
        - {"lun": 0, "size_gb": 64, "caching": "ReadOnly", "storage_account_type": "Premium_LRS",
           "source": "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/gi-build-b1/providers/Microsoft.Compute/disks/gi-b1-datadisk-0"}
        - {"lun": 3, "size_gb": 128, "caching": "None", "storage_account_type": "StandardSSD_LRS",
           "source": "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/gi-build-b1/providers/Microsoft.Compute/disks/gi-b1-datadisk-3"}
    encryption:
      description:
        - How the image is encrypted at rest (managed images and gallery versions only).
        - Managed images - C(customer_key), C(type) (V(CustomerKey) or V(PlatformKey)), the OS disk's
          C(disk_encryption_set) and C(data_disks) (C(lun), C(disk_encryption_set)) that have one.
        - Gallery versions - C(customer_key) (any region), C(all_regions_customer_key) and C(regions), by region name
          (C(westeurope)), each with C(customer_key), C(type), C(os_disk_image) (the disk encryption set id) and
          C(data_disk_images) (C(lun), C(disk_encryption_set)).
      returned: for managed images and gallery versions
      type: dict
      sample:
        customer_key: true
        all_regions_customer_key: true
        regions:
          westeurope:
            customer_key: true
            type: CustomerKey
            os_disk_image: /subscriptions/SUBSCRIPTION_ID/resourceGroups/rg-keys/providers/Microsoft.Compute/diskEncryptionSets/des-westeurope
            data_disk_images: []
    plan:
      description:
        - Marketplace purchase plan (C(name), C(publisher), C(product)), or V(null).
        - C(terms_required) is V(true) for every plan image; C(terms_note) says what deploying it needs.
      type: dict
      sample: {"name": "cis-ubuntu2204-l1-gen2", "publisher": "center-for-internet-security-inc",
               "product": "cis-ubuntu-linux-2204-l1", "terms_required": true,
               "terms_note": "This image has a purchase plan: ..."}
    features:
      description:
        - C(security_type) (V(TrustedLaunchSupported), V(TrustedLaunchAndConfidentialVmSupported), ...),
          C(trusted_launch) and C(confidential_vm) (the security type allows them), C(accelerated_networking),
          C(disk_controller_types) (list), C(hibernate), and C(raw) with every feature as ARM names it.
        - Marketplace and gallery images.
      type: dict
      sample: {"security_type": "TrustedLaunchSupported", "trusted_launch": true, "confidential_vm": false,
               "accelerated_networking": true, "disk_controller_types": ["SCSI", "NVMe"], "hibernate": true,
               "raw": {"SecurityType": "TrustedLaunchSupported", "IsAcceleratedNetworkSupported": "True",
                       "DiskControllerTypes": "SCSI, NVMe", "IsHibernateSupported": "True"}}
    disallowed:
      description: What the image may not be used with (C(vm_disk_type), e.g. V(Unmanaged)). Marketplace only.
      type: dict
      sample: {"vm_disk_type": "Unmanaged"}
    deprecation:
      description:
        - C(state) (V(Active), V(ScheduledForDeprecation), V(Deprecated)), C(scheduled_time), C(alternative)
          (C({type, value}) or V(null)) and C(deployable). Marketplace only.
      type: dict
      sample: {"state": "ScheduledForDeprecation", "scheduled_time": "2026-12-31T00:00:00Z",
               "alternative": {"type": "Offer", "value": "ubuntu-24_04-lts"}, "deployable": true}
    automatic_os_upgrade_supported:
      description: Whether scale sets may upgrade this image automatically. Marketplace only.
      type: bool
      sample: false
    identifier:
      description: The gallery image definition's C(publisher), C(offer) and C(sku).
      type: dict
      returned: gallery images
      sample: {"publisher": "contoso", "offer": "golden", "sku": "ubuntu-2404"}
    exclude_from_latest:
      description: The version's own C(excludeFromLatest) flag.
      type: bool
      returned: gallery images
      sample: false
    target_regions:
      description: Regions the gallery version is replicated to.
      type: list
      elements: dict
      returned: gallery images
      sample: [{"name": "West Europe", "regional_replica_count": 1, "storage_account_type": "Standard_LRS",
                "exclude_from_latest": false}]
    replication:
      description: C(aggregated_state) and the state per region.
      type: dict
      returned: gallery images
      sample: {"aggregated_state": "Completed", "regions": {"West Europe": "Completed"}}
    end_of_life_date:
      description: End-of-life date of the gallery version, if set.
      type: str
      returned: gallery images
      sample: "2027-12-31T00:00:00Z"
    published_date:
      description: When the gallery version was published.
      type: str
      returned: gallery images
      sample: "2026-11-01T10:00:00Z"
    source_virtual_machine_id:
      description: VM the managed image was captured from, if any.
      type: str
      returned: managed images
      sample: /subscriptions/0000/resourceGroups/rg-build/providers/Microsoft.Compute/virtualMachines/build-vm
    os_disk_blob_uri:
      description: VHD blob the managed image was created from, if any.
      type: str
      returned: managed images
      sample: https://example.blob.core.windows.net/vhds/golden.vhd
    zone_resilient:
      description: Whether the managed image is zone resilient.
      type: bool
      returned: managed images
      sample: false
    provisioning_state:
      description: Provisioning state of the managed image or gallery version.
      type: str
      returned: managed and gallery images
      sample: Succeeded
    tags:
      description: Tags of the managed image or gallery version.
      type: dict
      returned: managed and gallery images
      sample: {"goldenimage-build-id": "20261101-1"}
    warnings:
      description: Things to know before using the image (deprecation, other region, not replicated). Also shown as task warnings.
      type: list
      elements: str
      sample: ["Marketplace image Debian:debian-12:12:0.20241004.1891 is Deprecated."]
    skipped_deprecated:
      description:
        - Newer Marketplace versions that C(latest) or a prefix stepped over because they are C(Deprecated) (also a
          task warning). Empty when none was skipped. Marketplace only.
      type: list
      elements: str
      returned: Marketplace images
      sample: ["12.20250101.1"]
image:
  description: The first entry of RV(images), for tasks that resolve one image.
  returned: when images were requested
  type: dict
  sample: {"source": "marketplace", "urn": "Canonical:ubuntu-24_04-lts:server:24.04.202411200",
           "hyper_v_generation": "V2", "architecture": "x64", "os_type": "Linux"}
listing:
  description: The names O(list) asked for.
  returned: when O(list) is set
  type: dict
  contains:
    level:
      description: V(publishers), V(offers), V(skus) or V(versions).
      type: str
      sample: versions
    location:
      description: The region listed.
      type: str
      sample: eastus
    publisher:
      description: Publisher listed, if any.
      type: str
      sample: RedHat
    offer:
      description: Offer listed, if any.
      type: str
      sample: RHEL
    sku:
      description: SKU listed, if any.
      type: str
      sample: 9-lvm-gen2
    names:
      description: Matching names (versions newest first, numerically).
      type: list
      elements: str
      sample: ["9.8.2026052008", "9.6.2025061713", "9.4.2026092611", "9.4.2024081412"]
    count:
      description: Number of RV(listing.names).
      type: int
      sample: 4
    versions:
      description: Details of each version (keys as in RV(images)), newest first.
      returned: when O(list=versions) and O(list_details=true)
      type: list
      elements: dict
      sample: [{"version": "9.8.2026052008", "urn": "RedHat:RHEL:9-lvm-gen2:9.8.2026052008",
                "deprecation": {"state": "Active", "scheduled_time": null, "alternative": null, "deployable": true}}]
  sample: {"level": "versions", "location": "eastus", "publisher": "RedHat", "offer": "RHEL", "sku": "9-lvm-gen2",
           "names": ["9.8.2026052008", "9.6.2025061713"], "count": 2}
ansible_facts:
  description: Facts for later tasks and plays.
  returned: always
  type: dict
  contains:
    goldenimage_images:
      description: The same list as RV(images) (empty without images).
      type: list
      elements: dict
      sample: [{"source": "marketplace", "urn": "Canonical:ubuntu-24_04-lts:server:24.04.202411200"}]
    goldenimage_listing:
      description: The same as RV(listing), when O(list) is set.
      type: dict
      sample: {"level": "skus", "names": ["server", "server-arm64", "server-gen1"], "count": 3}
  sample: {"goldenimage_images": [{"source": "marketplace", "urn": "Canonical:ubuntu-24_04-lts:server:24.04.202411200"}]}
retries:
  description:
    - The retries the ARM layer made during the task, one entry each, in order (throttling, server errors, lost
      connections; a POST action is re-read before it is sent again). Shown with C(ansible-playbook -v) and above.
    - Absent when nothing was retried.
  returned: when a request was retried
  type: list
  elements: dict
  sample:
    - {"operation": "deallocate VM 'vm-gi-1'", "attempt": 2, "reason": "ServiceResponseError", "wait": 0}
    - {"operation": "read resource group 'gi-build-1'", "attempt": 2, "reason": "GET 503", "wait": 1.0}
"""

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_module import AzureModule
from ansible_collections.goldenimage.azure.plugins.module_utils._image_sources import (
    DEFAULT_CONCURRENCY,
    MAX_CONCURRENCY,
    Resolver,
)


def main():
    module = AzureModule(
        argument_spec=dict(
            location=dict(type="str"),
            list=dict(type="str", choices=["publishers", "offers", "skus", "versions"]),
            publisher=dict(type="str"),
            offer=dict(type="str"),
            sku=dict(type="str"),
            name_filter=dict(type="str"),
            filter_type=dict(type="str", choices=["glob", "regex"], default="glob"),
            list_details=dict(type="bool", default=False),
            image=dict(type="raw", aliases=["urn"]),
            images=dict(type="list", elements="raw"),
            managed_image=dict(type="dict", options=dict(
                name=dict(type="str"),
                resource_group=dict(type="str"),
                id=dict(type="str"),
            ), mutually_exclusive=[("id", "name")], required_one_of=[("id", "name")],
                required_by={"name": "resource_group"}),
            gallery_image=dict(type="dict", options=dict(
                gallery=dict(type="str"),
                name=dict(type="str"),
                resource_group=dict(type="str"),
                version=dict(type="raw", default="latest"),
                id=dict(type="str"),
            ), mutually_exclusive=[("id", "name"), ("id", "gallery")], required_one_of=[("id", "name")],
                required_by={"name": ("gallery", "resource_group")}),
            max_concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
        ),
        required_one_of=[("list", "image", "images", "managed_image", "gallery_image")],
        required_if=[("list", "offers", ("publisher",)), ("list", "skus", ("publisher", "offer")),
                     ("list", "versions", ("publisher", "offer", "sku")), ("list", "publishers", ("location",)),
                     ("list", "offers", ("location",)), ("list", "skus", ("location",)),
                     ("list", "versions", ("location",))],
        supports_check_mode=True,
    )
    params = module.params
    if not 1 <= params["max_concurrency"] <= MAX_CONCURRENCY:
        module.fail_json(msg="max_concurrency must be between 1 and %d, got %d" % (MAX_CONCURRENCY, params["max_concurrency"]))

    if not params["list"]:
        stray = [name for name in ("publisher", "offer", "sku") if params[name] is not None]
        if stray:
            module.fail_json(msg="%s: these options only choose what list shows, and list is not set; they are not "
                                 "used to resolve urn/image. Give the image as a URN 'Publisher:Offer:Sku:Version' "
                                 "(urn or image) or as a dict with publisher, offer, sku and version (image), "
                                 "not both." % ", ".join(stray), changed=False)

    specs = []
    if params["image"] is not None:
        specs.append(params["image"])
    specs.extend(params["images"] or [])
    for kind in ("managed_image", "gallery_image"):
        if params[kind]:
            specs.append({kind: {key: value for key, value in params[kind].items() if value is not None}})

    result = {"changed": False}
    facts = {"goldenimage_images": []}
    try:
        resolver = Resolver(module.session, location=params["location"], max_concurrency=params["max_concurrency"])
        if specs:
            images = resolver.resolve_many(specs)
            for details in images:
                for warning in details.get("warnings") or []:
                    module.warn(warning)
            result["images"] = facts["goldenimage_images"] = images
            result["image"] = images[0]
        if params["list"]:
            market = resolver.marketplace
            listing = {"level": params["list"], "location": params["location"], "publisher": params["publisher"],
                       "offer": params["offer"], "sku": params["sku"]}
            if params["list"] == "versions" and params["list_details"]:
                listing["versions"] = market.versions_with_details(params["location"], params["publisher"],
                                                                   params["offer"], params["sku"],
                                                                   params["name_filter"], params["filter_type"])
                names = [item["version"] for item in listing["versions"]]
            else:
                names = market.listing(params["list"], params["location"], params["publisher"], params["offer"],
                                       params["sku"], params["name_filter"], params["filter_type"])
            listing.update(names=names, count=len(names))
            result["listing"] = facts["goldenimage_listing"] = listing
    except AzureError as err:
        module.fail_azure(err, changed=False)
    module.exit_json(ansible_facts=facts, **result)


if __name__ == "__main__":
    main()
