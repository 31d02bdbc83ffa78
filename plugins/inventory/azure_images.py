# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: azure_images
short_description: Azure VMs with the image they run and how far behind the newest version it is
version_added: 1.0.0
description:
  - Lists the Azure VMs of one or more subscriptions (optionally only some resource groups, locations, tags and
    power states) and tells for each one which image it was built from, the newest version of that image available
    now, and whether the VM is behind.
  - "Image sources: Marketplace images (URN with the exact version the VM was built from), Azure Compute Gallery
    image versions (also a gallery image definition, which means C(latest) at creation time), managed images
    (not versioned) and specialized disks (not versioned)."
  - The newest Marketplace version is the numerically highest (C(8.10.x) above C(8.9.x)) deployable version of the
    VM's publisher, offer and SKU in the VM's location. The newest gallery version is the numerically highest
    version that succeeded, is not excluded from latest and is replicated to the VM's location, as Azure's
    C(latest) picks it.
  - "Cost: one VM list per subscription (per resource group with O(resource_groups)), paged, with the power state
    and generalization of every VM in the list (C(statusOnly=true)), so there is no per-VM request. Each distinct
    image source is then read once: two GETs per Marketplace publisher/offer/SKU and location, one versions list
    per gallery image definition, none for managed images; they run concurrently (O(max_concurrency)). One
    C(vmSizes) list per location tells whether the VM size has a temporary disk. NICs, public IPs and managed disks
    are read only when an option needs them, as one list per subscription (or resource group), never per VM."
  - Uses the YAML configuration file that ends with C(azure_images.yml) or C(azure_images.yaml).
  - The host records can be cached (O(cache)); a cache hit makes no Azure request at all.
author:
  - goldenimage.azure contributors (@goldenimage)
options:
  plugin:
    description: Token that ensures this is a source file for this plugin.
    required: true
    type: str
    choices: [goldenimage.azure.azure_images]
  subscriptions:
    description:
      - Subscription ids (GUIDs) whose VMs to list; one that is not a GUID fails before any request.
      - If not set, the subscription of the credentials is used (O(subscription_id), E(AZURE_SUBSCRIPTION_ID),
        the profile's or the Azure CLI's default).
    type: list
    elements: str
    default: []
  resource_groups:
    description:
      - Only VMs of these resource groups (one VM list per group and subscription). A group that does not exist fails
        the inventory.
      - If not set, every VM of each subscription is listed with one list per subscription.
    type: list
    elements: str
    default: []
  locations:
    description: Only VMs in these locations (V(eastus) or V(East US)).
    type: list
    elements: str
    default: []
  tags:
    description:
      - Only VMs that carry every one of these tags. A value may be a string, a list of accepted values, or V(null)
        (the tag must exist with any value). Tag names compare case-insensitively, as Azure does; values exactly.
    type: dict
    default: {}
  exclude_tags:
    description: Leave out VMs that carry any of these tags (same value rules as O(tags)).
    type: dict
    default: {}
  power_states:
    description:
      - Only VMs in one of these power states, for example V([running]).
      - Generalized VMs are usually V(stopped) or V(deallocated); see the C(azure_generalized) host variable.
    type: list
    elements: str
    choices: [running, stopped, deallocated, starting, stopping, deallocating, unknown]
    default: []
  hostnames:
    description:
      - How to name each host; the first choice that has a value for the VM wins.
      - V(name) is the VM name, V(computer_name) the guest's host name (C(osProfile.computerName)),
        V(private_ip)/V(public_ip)/V(public_fqdn) the addresses of the primary NIC (they need the network lists,
        see O(ansible_host_preference)), V(id) the VM's resource id.
      - When two VMs get the same name (same VM name in two resource groups or subscriptions), the later ones get
        C(_<resource group>) and then C(_<subscription id>) appended, with a warning.
    type: list
    elements: str
    choices: [name, computer_name, private_ip, public_ip, public_fqdn, id]
    default: [name]
  ansible_host_preference:
    description:
      - What to set C(ansible_host) to; the first choice that has a value for the VM wins.
      - The default, V([name]), makes no network request; DNS or C(~/.ssh/config) must then resolve the VM names.
      - V(public_ip), V(public_fqdn) and V(private_ip) read the primary NIC's primary IP configuration. That costs
        one list of network interfaces and one of public IP addresses per subscription (per resource group with
        O(resource_groups)), paged, whatever the number of VMs; V([public_ip, private_ip]) is the usual choice for
        SSH from outside and inside the virtual network.
      - An empty list sets no C(ansible_host).
    type: list
    elements: str
    choices: [public_ip, public_fqdn, private_ip, computer_name, name]
    default: [name]
  temp_disk:
    description:
      - Set C(azure_temp_disk) (whether the VM size has a temporary disk) from one C(vmSizes) list per location.
    type: bool
    default: true
  disk_details:
    description:
      - Read the managed disks (one paged list per subscription, or per resource group with O(resource_groups)) to
        fill C(azure_os_disk.tier) (performance tier, for example V(P30)) and C(azure_os_disk.state).
      - Without it the OS disk's SKU, size and caching still come from the VM itself at no cost; only the tier and
        state stay V(null). A GET per disk would cost one request per VM, which is why there is no such mode.
      - With O(resource_groups), disks (and NICs and public IPs) are listed in the VMs' own resource groups; one kept
        in another group is not found and its facts stay V(null).
    type: bool
    default: false
  default_groups:
    description:
      - >-
        Add each host to C(image_<source>) (for example C(image_canonical_ubuntu_24_04_lts_server),
        C(image_<gallery>_<definition>), C(image_<managed image name>)) and to C(image_<status>), one of
        C(image_outdated), C(image_current), C(image_unversioned) or C(image_unknown).
      - VMs that still have an unmanaged (VHD) disk are also in C(unmanaged_disks). Azure retired unmanaged disks and
        no longer starts such VMs; C(goldenimage.azure.vm_managed_disks) converts them.
      - VMs with a disk that is not encrypted with a customer-managed key (no disk encryption set, or an unmanaged
        disk) are in C(disks_not_customer_key), what a policy that demands customer-managed keys flags;
        C(goldenimage.azure.disk_tier) with C(disk_encryption_set) changes them.
      - Set to V(false) to build only the groups of O(groups) and O(keyed_groups).
    type: bool
    default: true
  max_concurrency:
    description: Most requests in flight at the same time (image sources, size and network lists, VM lists).
    type: int
    default: 8
extends_documentation_fragment:
  - goldenimage.azure.azure
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
notes:
  - "Host variables of each VM: C(azure_name), C(azure_id), C(azure_subscription_id), C(azure_resource_group),
    C(azure_location), C(azure_zones), C(azure_vm_size), C(azure_os_type), C(azure_computer_name), C(azure_tags),
    C(azure_power_state), C(azure_provisioning_state), C(azure_generalized), C(azure_temp_disk),
    C(azure_os_disk) (C(name), C(id), C(sku), C(size_gb), C(caching), C(ephemeral), C(tier), C(state)),
    C(azure_private_ip), C(azure_public_ip), C(azure_public_fqdn) (V(null) unless O(hostnames) or
    O(ansible_host_preference) asks for an address, which reads the network lists)."
  - "Disk variables (from the VM itself, at no cost): C(azure_unmanaged_disks) (the VHD blob URIs of the OS and data
    disks that are unmanaged) and C(azure_managed_disks) (V(true) when every disk is managed)."
  - "Encryption at rest (from the VM itself, at no cost): C(azure_disk_encryption) with C(customer_key) (V(true) when
    every disk is managed and names a disk encryption set), C(encryption_at_host) and C(disks), one entry per disk
    (C(name), C(role), C(lun), C(managed), C(disk_encryption_set), and C(type), the exact encryption type such as
    C(EncryptionAtRestWithPlatformAndCustomerKeys), read only with O(disk_details=true), else V(null))."
  - "Image variables: C(image_source) (C(kind), C(urn), C(publisher), C(offer), C(sku), C(id), C(definition_id),
    C(gallery), C(definition), C(requested_version), C(version)), C(image_latest) (C(version), C(urn), C(id),
    C(published_date)), C(image_status) (V(current), V(outdated), V(unversioned), V(unknown)),
    C(image_outdated) (bool), C(versions_behind) (how many newer versions exist, up to the newest),
    C(days_older) (days between the VM's version and the newest one, when both dates are known),
    C(image_published_date), C(image_group), and C(image_error) when the newest version could not be read."
  - "Publishing dates: gallery versions have C(publishedDate). Marketplace versions have none, so the date is read
    from the version (heuristic): from the last component backwards, the first all-digit component of 8 to 12 digits
    starting with a valid C(YYYYMMDD) (Ubuntu C(24.04.202411030), Debian C(0.20241201.1948), RHEL
    C(8.10.2024070513)), or a last component of 6 digits forming C(YYMMDD) (Windows Server C(20348.2966.241205)).
    Other versions (C(1.1.12)) have no date and C(days_older) is V(null). C(days_older) is negative when a
    numerically older version was published later (a re-published RHEL minor release)."
  - A source whose newest version cannot be read (deleted gallery definition, retired SKU) gives its VMs
    C(image_status=unknown) and a warning; the rest of the inventory is built.
  - Managed images and specialized disks carry no versions; their VMs get C(image_status=unversioned).
  - Every value read from Azure (tags, names, ids, image details, host names) is marked unsafe,
    so template text in a tag stays literal in plays and in O(compose), O(groups) and
    O(keyed_groups); those expressions themselves are still templates.
seealso:
  - plugin: goldenimage.azure.marketplace_image
    plugin_type: lookup
"""

EXAMPLES = r"""
# prod.azure_images.yml: every running VM of two subscriptions, grouped by image and drift
plugin: goldenimage.azure.azure_images
subscriptions:
  - 00000000-0000-4000-8000-000000000001
  - 00000000-0000-4000-8000-000000000002
power_states: [running]
exclude_tags:
  goldenimage-temporary: "true"
ansible_host_preference: [public_ip, private_ip]
keyed_groups:
  - key: azure_location
    prefix: location
  - key: image_source.kind
    prefix: source
compose:
  ansible_user: "'azureuser'"
groups:
  far_behind: versions_behind is not none and versions_behind >= 2

---
# Only some resource groups, cached for an hour in JSON files
plugin: goldenimage.azure.azure_images
resource_groups: [rg-web, rg-batch]
tags:
  environment: [prod, staging]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-inventory
cache_timeout: 3600
"""

import hashlib
import json
import re

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var
from ansible.utils.vars import combine_vars

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._image_sources import MAX_CONCURRENCY
from ansible_collections.goldenimage.azure.plugins.module_utils._inventory_vms import collect
from ansible_collections.goldenimage.azure.plugins.module_utils._resource_id import check_subscription
from ansible_collections.goldenimage.azure.plugins.plugin_utils._azure_plugin import azure_errors, session_from_plugin

# options that change what is read from Azure: part of the cache key
_QUERY_OPTIONS = ("subscriptions", "resource_groups", "locations", "tags", "exclude_tags", "power_states",
                  "hostnames", "ansible_host_preference", "temp_disk", "disk_details")
_NETWORK_CHOICES = ("private_ip", "public_ip", "public_fqdn")
UNMANAGED_GROUP = "unmanaged_disks"  # VMs on retired unmanaged (VHD) disks
PLATFORM_KEY_GROUP = "disks_not_customer_key"  # VMs with a disk not encrypted with a customer-managed key
_CACHE_FORMAT = 1


def safe_group_name(*words):
    """Lower-case words joined by '_' with every other character turned into '_' (valid everywhere)."""
    text = "_".join(str(word) for word in words if word)
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9_]", "_", text.lower())).strip("_")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "goldenimage.azure.azure_images"

    def verify_file(self, path):
        if not super().verify_file(path):
            return False
        return path.endswith(("azure_images.yml", "azure_images.yaml"))

    # -- options ---------------------------------------------------------------------------------------
    def _check_config(self, config, path):
        known = set(self._options) | {"plugin"}
        unknown = sorted(str(key) for key in config if key not in known)
        if unknown:
            raise AnsibleParserError("%s: unknown option%s %s for %s. Valid options: %s."
                                     % (path, "s" if len(unknown) > 1 else "", ", ".join(unknown), self.NAME,
                                        ", ".join(sorted(known))))
        concurrency = self.get_option("max_concurrency")
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise AnsibleParserError("%s: max_concurrency must be between 1 and %d, not %s."
                                     % (path, MAX_CONCURRENCY, concurrency))
        for name in ("tags", "exclude_tags"):
            for key, value in (self.get_option(name) or {}).items():
                values = value if isinstance(value, list) else [value]
                if any(isinstance(item, (dict, list)) for item in values):
                    raise AnsibleParserError("%s: %s.%s must be a string, a list of strings or null."
                                             % (path, name, key))

    def _subscriptions(self, session):
        wanted = [str(item).strip() for item in self.get_option("subscriptions") or [] if str(item).strip()]
        if wanted:
            for item in wanted:  # before any request
                try:
                    check_subscription(item, "subscriptions")
                except AzureError as err:
                    raise AnsibleParserError("%s: %s" % (self.NAME, err.message)) from None
            return list(dict.fromkeys(wanted))
        try:
            return [session.subscription_id]
        except AzureError:
            raise AnsibleParserError("%s: no subscription to list. Set the subscriptions option, or subscription_id "
                                     "(or AZURE_SUBSCRIPTION_ID, or the profile's subscription_id)."
                                     % self.NAME) from None

    def _query_options(self, subscriptions):
        values = {name: self.get_option(name) for name in _QUERY_OPTIONS}
        values["subscriptions"] = subscriptions
        return values

    def _cache_key(self, path, query):
        digest = hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:12]
        return "%s_%s" % (self.get_cache_key(path), digest)

    # -- the cache (as amazon.aws' aws_ec2: a hit is never written back, so reading never extends the TTL) --
    def get_cached_result(self, key, cache):
        """(result, True) when the cache option is on, ``cache`` is not refused (--flush-cache) and has ``key``."""
        if not self.get_option("cache") or not cache:
            return None, False
        try:
            stored = self._cache[key]
        except KeyError:  # absent or expired
            return None, False
        if not isinstance(stored, dict) or stored.get("format") != _CACHE_FORMAT:
            return None, False
        return stored["hosts"], True

    def update_cached_result(self, key, hosts, from_cache):
        if self.get_option("cache") and not from_cache:
            self._cache[key] = {"format": _CACHE_FORMAT, "hosts": hosts}

    # -- parse -------------------------------------------------------------------------------------------
    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        config = self._read_config_data(path)
        self._check_config(config, path)
        session = session_from_plugin(self)
        subscriptions = self._subscriptions(session)
        query = self._query_options(subscriptions)
        key = self._cache_key(path, query)
        hosts, from_cache = self.get_cached_result(key, cache)
        if not from_cache:
            hosts = self._query(session, subscriptions)
        self._populate(hosts)
        self.update_cached_result(key, hosts, from_cache)

    def _query(self, session, subscriptions):
        wanted = set(self.get_option("hostnames")) | set(self.get_option("ansible_host_preference"))
        try:
            with azure_errors():
                result = collect(
                    session, subscriptions,
                    resource_groups=self.get_option("resource_groups") or None,
                    locations=self.get_option("locations") or None,
                    tags=self.get_option("tags") or None,
                    exclude_tags=self.get_option("exclude_tags") or None,
                    power_states=self.get_option("power_states") or None,
                    temp_disk=self.get_option("temp_disk"),
                    network=bool(wanted & set(_NETWORK_CHOICES)),
                    disks=self.get_option("disk_details"),
                    max_concurrency=self.get_option("max_concurrency"),
                )
        except AnsibleError as err:
            raise AnsibleParserError("%s: %s" % (self.NAME, err.message)) from None
        for warning in result["warnings"]:
            self.display.warning("%s: %s" % (self.NAME, warning))
        return result["hosts"]

    # -- populate ----------------------------------------------------------------------------------------
    @staticmethod
    def _first(record, choices):
        keys = {"name": "azure_name", "computer_name": "azure_computer_name", "private_ip": "azure_private_ip",
                "public_ip": "azure_public_ip", "public_fqdn": "azure_public_fqdn", "id": "azure_id"}
        for choice in choices:
            value = record.get(keys[choice])
            if value:
                return value
        return None

    def _hostname(self, record, taken):
        base = name = self._first(record, self.get_option("hostnames")) or record["azure_name"]
        if name not in taken:
            return name
        for suffix in (record["azure_resource_group"], record["azure_subscription_id"]):
            name = "%s_%s" % (name, suffix)
            if name not in taken:
                self.display.warning("%s: more than one VM would be called %s; %s is called %s"
                                     % (self.NAME, base, record["azure_id"], name))
                return name
        raise AnsibleParserError("%s: cannot find a unique host name for %s" % (self.NAME, record["azure_id"]))

    def _populate(self, hosts):
        strict = self.get_option("strict")
        default_groups = self.get_option("default_groups")
        preference = self.get_option("ansible_host_preference")
        taken = set()
        for record in hosts:
            # Everything read from Azure (names, ids, tags, image details) is data, never a template: whoever may
            # tag a VM must not run code on the controller (ansible-core 2.17 and 2.18 template plain strings a
            # play reads; 2.19 trusts no inventory string anyway). Unsafe values stay unsafe through compose,
            # groups and keyed_groups. The cache keeps plain JSON; this runs on cache hits too.
            record = wrap_var(record)
            hostname = wrap_var(self._hostname(record, taken))
            taken.add(hostname)
            self.inventory.add_host(hostname)
            for name, value in record.items():
                self.inventory.set_variable(hostname, name, value)
            if preference:
                address = self._first(record, preference)
                if address:
                    self.inventory.set_variable(hostname, "ansible_host", address)
            if default_groups:
                groups = ["image_%s" % record["image_status"]]
                if record.get("image_group"):
                    groups.append(safe_group_name("image", record["image_group"]))
                if record.get("azure_unmanaged_disks"):
                    groups.append(UNMANAGED_GROUP)  # what the unmanaged disks retirement stopped
                if not (record.get("azure_disk_encryption") or {}).get("customer_key"):
                    groups.append(PLATFORM_KEY_GROUP)  # what a customer-managed-key policy would flag
                for group in groups:  # safe_group_name leaves only [a-z0-9_]: no template can survive in it
                    self.inventory.add_group(group)
                    self.inventory.add_child(group, hostname)
            variables = self.inventory.get_host(hostname).get_vars()
            if self.get_option("use_extra_vars"):
                variables = combine_vars(variables, self._vars)
            self._set_composite_vars(self.get_option("compose"), variables, hostname, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, hostname, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, hostname, strict=strict)
