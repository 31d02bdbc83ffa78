# Copyright: (c) 2026, goldenimage.azure contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VMs with their image drift, for the ``goldenimage.azure.azure_images`` inventory plugin.

:func:`collect` takes an ``AzureSession`` and plain values and returns JSON-safe host records (the plugin
caches them as they are). Request budget for N VMs in one subscription, S distinct image sources and L
locations (``page_size`` VMs per list page, 1,000 on Azure):

* VM list: ``ceil(N / page_size)`` GETs (``statusOnly=true`` on the subscription list, ``$expand=instanceView``
  on a resource group list): power state and ``OSState/generalized`` come with the list, no per-VM GET.
* Image sources: 2 GETs per Marketplace publisher/offer/SKU and location (versions list + newest version),
  1 per gallery image definition (its versions list), 0 for managed images.
* Temporary disk: 1 ``vmSizes`` GET per location (``temp_disk``).
* Optional, each a paged list per subscription (per resource group when resource groups are given), never a
  per-VM GET: NICs and public IPs (``network``) for IP addresses; managed disks (``disks``) for the OS disk's
  performance tier and state. The OS disk's SKU and size come free from the VM body.

Everything after the VM lists runs concurrently on at most ``max_concurrency`` threads.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._image_drift import (
    DriftResolver,
    compare,
    group_label,
    source_key,
    vm_image_source,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import normalize_location
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_wire import os_state, power_state
from ansible_collections.goldenimage.azure.plugins.module_utils._marketplace import arm_list

COMPUTE_API = "2024-07-01"
DISKS_API = "2024-03-02"
NETWORK_API = "2024-05-01"
_RG = re.compile(r"/resourceGroups/([^/]+)/", re.IGNORECASE)


# -- reads ------------------------------------------------------------------------------------------------

def list_vms(client, subscription_id, resource_group=None):
    """Every VM of a subscription (``statusOnly=true``) or resource group (``$expand=instanceView``), all pages."""
    if resource_group:
        path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines" % (
            subscription_id, resource_group)
        return arm_list(client, path, COMPUTE_API, "list VMs of resource group %s" % resource_group,
                        query={"$expand": "instanceView"})
    path = "/subscriptions/%s/providers/Microsoft.Compute/virtualMachines" % subscription_id
    return arm_list(client, path, COMPUTE_API, "list VMs of subscription %s" % subscription_id,
                    query={"statusOnly": "true"})


def list_scope(client, subscription_id, resource_group, provider_type, api_version, what):
    scope = "/subscriptions/%s" % subscription_id
    if resource_group:
        scope += "/resourceGroups/%s" % resource_group
    return arm_list(client, scope + "/providers/" + provider_type, api_version,
                    "list %s of %s" % (what, resource_group or "subscription %s" % subscription_id))


def temp_disk_sizes(client, subscription_id, location):
    """{size name (lower case): resource (temporary) disk MB} for one location."""
    items = arm_list(client, "/subscriptions/%s/providers/Microsoft.Compute/locations/%s/vmSizes"
                     % (subscription_id, normalize_location(location)), COMPUTE_API, "list VM sizes in %s" % location)
    return {str(item.get("name")).lower(): int(item.get("resourceDiskSizeInMB") or 0) for item in items}


# -- filters ----------------------------------------------------------------------------------------------

def _allowed(value):
    if value is None:
        return None
    return [str(item) for item in (value if isinstance(value, (list, tuple)) else [value])]


def tag_matches(tags, key, value):
    """Tag ``key`` present (names case-insensitive, as in Azure) and, unless ``value`` is None, equal to it
    (or to one of a list of values)."""
    lowered = {str(name).lower(): item for name, item in (tags or {}).items()}
    if str(key).lower() not in lowered:
        return False
    allowed = _allowed(value)
    return allowed is None or str(lowered[str(key).lower()]) in allowed


def vm_status(vm):
    """(power state, generalized) from the instance view a list with statusOnly/$expand carries."""
    return power_state(vm), os_state(vm) == "generalized"


def keep_vm(vm, locations=None, tags=None, exclude_tags=None, power_states=None):
    if locations and normalize_location(vm.get("location")) not in {normalize_location(item) for item in locations}:
        return False
    vm_tags = vm.get("tags") or {}
    if tags and not all(tag_matches(vm_tags, key, value) for key, value in tags.items()):
        return False
    if exclude_tags and any(tag_matches(vm_tags, key, value) for key, value in exclude_tags.items()):
        return False
    if power_states and vm_status(vm)[0] not in {state.lower() for state in power_states}:
        return False
    return True


# -- the whole query --------------------------------------------------------------------------------------

def _run(jobs, max_workers):
    """{key: func} -> ({key: result}, {key: AzureError}); at most max_workers at a time."""
    results, errors = {}, {}

    def run(key):
        try:
            results[key] = jobs[key]()
        except AzureError as err:
            errors[key] = err

    keys = list(jobs)
    if len(keys) <= 1 or max_workers <= 1:
        for key in keys:
            run(key)
    else:
        with ThreadPoolExecutor(max_workers=min(max_workers, len(keys)), thread_name_prefix="goldenimage-inv") as pool:
            list(pool.map(run, keys))
    return results, errors


def _rg_of(rid):
    match = _RG.search(rid or "")
    return match.group(1) if match else None


def _primary(refs):
    refs = [ref for ref in refs or [] if ref.get("id")]
    for ref in refs:
        if (ref.get("properties") or {}).get("primary"):
            return ref
    return refs[0] if refs else None


def collect(session, subscriptions, resource_groups=None, locations=None, tags=None, exclude_tags=None,
            power_states=None, temp_disk=True, network=False, disks=False, max_concurrency=8):
    """Query ARM -> ``{"hosts": [record, ...], "warnings": [text, ...], "sources": count}``.

    A VM list that fails (bad credentials, unknown subscription or resource group, no permission) raises
    AzureError; a source, size, NIC or disk list that fails only leaves its facts unknown, with a warning.
    """
    scopes = [(sub, rg) for sub in subscriptions for rg in (resource_groups or [None])]
    # each subscription's session shares the credential (one token) and the REST pipeline
    clients = {sub: session.for_subscription(sub, parameter="subscriptions") for sub in subscriptions}
    # the first list runs alone so the credential fetches its token once; the rest share it
    first = scopes[0]
    listed, errors = _run({first: lambda: list_vms(clients[first[0]], *first)}, 1)
    if not errors or _missing_group(errors[first]):
        more, more_errors = _run({scope: (lambda scope=scope: list_vms(clients[scope[0]], *scope))
                                  for scope in scopes[1:]}, max_concurrency)
        listed.update(more)
        errors.update(more_errors)
    if resource_groups and len(subscriptions) > 1:
        # a group that exists in some of the subscriptions only is fine; one that exists in none is a mistake
        for scope, err in list(errors.items()):
            if _missing_group(err) and any(other[1] == scope[1] and other in listed for other in scopes):
                del errors[scope]
    if errors:
        raise _combined(errors, "list VMs")

    vms = []
    seen = set()
    for scope in scopes:
        for vm in listed.get(scope, []):
            if vm.get("id", "").lower() in seen:
                continue
            seen.add(vm.get("id", "").lower())
            if keep_vm(vm, locations, tags, exclude_tags, power_states):
                vms.append(vm)

    drift = DriftResolver(clients[subscriptions[0]])
    jobs = {}
    sources = {}
    for vm in vms:
        source = vm_image_source(vm)
        key = source_key(source, vm.get("location"))
        sources[vm["id"].lower()] = (source, key)
        if key is not None and key not in jobs:
            jobs[key] = (lambda source=source, location=vm.get("location"): drift.newest(source, location))
    sub_of = {vm["id"].lower(): vm["id"].split("/")[2] for vm in vms}
    if temp_disk:
        for vm in vms:
            key = ("sizes", sub_of[vm["id"].lower()], normalize_location(vm.get("location")))
            if key not in jobs:
                jobs[key] = (lambda key=key: temp_disk_sizes(clients.get(key[1]) or session, key[1], key[2]))
    list_scopes = sorted({(sub_of[vm["id"].lower()], _rg_of(vm["id"]) if resource_groups else None) for vm in vms},
                         key=lambda item: (item[0], item[1] or ""))
    if network:
        for sub, rg in list_scopes:
            jobs[("nics", sub, rg)] = (lambda sub=sub, rg=rg: list_scope(
                session, sub, rg, "Microsoft.Network/networkInterfaces", NETWORK_API, "network interfaces"))
            jobs[("pips", sub, rg)] = (lambda sub=sub, rg=rg: list_scope(
                session, sub, rg, "Microsoft.Network/publicIPAddresses", NETWORK_API, "public IP addresses"))
    if disks:
        for sub, rg in list_scopes:
            jobs[("disks", sub, rg)] = (lambda sub=sub, rg=rg: list_scope(
                session, sub, rg, "Microsoft.Compute/disks", DISKS_API, "managed disks"))
    found, failed = _run(jobs, max_concurrency)

    warnings = []
    for key, err in failed.items():
        if key[0] in ("marketplace", "gallery_image"):
            warnings.append("Newest version of image %s unknown (its VMs get image_status unknown): %s"
                            % (_source_name(key, sources), err))
        else:
            warnings.append("Facts from this list are left null: %s" % err)
    sizes = {key[1:]: value for key, value in found.items() if key[0] == "sizes"}
    nics, pips, disk_map = {}, {}, {}
    for key, items in found.items():
        target = {"nics": nics, "pips": pips, "disks": disk_map}.get(key[0])
        if target is not None:
            target.update({str(item.get("id", "")).lower(): item for item in items})

    hosts = []
    for vm in vms:
        source, key = sources[vm["id"].lower()]
        record = vm_record(vm, sizes.get((sub_of[vm["id"].lower()], normalize_location(vm.get("location"))))
                           if temp_disk else None, nics if network else None, pips if network else None,
                           disk_map if disks else None)
        record["image_source"] = source
        record["image_group"] = group_label(source)
        record.update(compare(source, found.get(key) if key is not None else None))
        if key is not None and key in failed:
            record["image_error"] = str(failed[key])
        hosts.append(record)
    hosts.sort(key=lambda item: item["azure_id"].lower())
    return {"hosts": hosts, "warnings": warnings, "sources": len([key for key in jobs if key[0] in (
        "marketplace", "gallery_image")])}


def _missing_group(err):
    return err.status_code == 404 and (err.code or "").lower() in ("resourcegroupnotfound", "notfound")


def _source_name(key, sources):
    for source, candidate in sources.values():
        if candidate == key:
            return source.get("definition_id") or ":".join(
                (source["publisher"], source["offer"], source["sku"])) + " in %s" % key[1]
    return str(key)


def _combined(errors, what):
    if len(errors) == 1:
        return next(iter(errors.values()))
    first = next(iter(errors.values()))
    lines = ["%d VM lists failed:" % len(errors)]
    lines += ["- %s: %s" % ("/".join(item for item in scope if item), err) for scope, err in errors.items()]
    return AzureError("\n".join(lines), status_code=first.status_code, code=first.code, operation=what)


def vm_record(vm, sizes=None, nics=None, pips=None, disks=None):
    """The VM facts of one host record (``azure_*``); ``sizes``/``nics``/``pips``/``disks`` None = not read."""
    props = vm.get("properties") or {}
    storage = props.get("storageProfile") or {}
    os_disk = storage.get("osDisk") or {}
    managed = os_disk.get("managedDisk") or {}
    size = (props.get("hardwareProfile") or {}).get("vmSize")
    power, generalized = vm_status(vm)
    disk_id = managed.get("id")
    disk = (disks or {}).get(str(disk_id).lower()) if disk_id else None
    disk_props = (disk or {}).get("properties") or {}
    record = {
        "azure_name": vm.get("name"),
        "azure_id": vm.get("id"),
        "azure_subscription_id": vm["id"].split("/")[2],
        "azure_resource_group": _rg_of(vm.get("id")),
        "azure_location": vm.get("location"),
        "azure_zones": vm.get("zones") or [],
        "azure_vm_size": size,
        "azure_os_type": os_disk.get("osType"),
        "azure_computer_name": (props.get("osProfile") or {}).get("computerName"),
        "azure_tags": vm.get("tags") or {},
        "azure_power_state": power,
        "azure_provisioning_state": props.get("provisioningState"),
        "azure_generalized": generalized,
        "azure_temp_disk": None,
        "azure_os_disk": {
            "name": os_disk.get("name"),
            "id": disk_id,
            "sku": managed.get("storageAccountType") or ((disk or {}).get("sku") or {}).get("name"),
            "size_gb": os_disk.get("diskSizeGB") or disk_props.get("diskSizeGB"),
            "caching": os_disk.get("caching"),
            "ephemeral": bool(os_disk.get("diffDiskSettings")),
            # only from the managed disk list (disks option); None = not read
            "tier": disk_props.get("tier"),
            "state": disk_props.get("diskState"),
        },
        "azure_private_ip": None,
        "azure_public_ip": None,
        "azure_public_fqdn": None,
    }
    record.update(unmanaged_disk_facts(storage))
    record["azure_disk_encryption"] = disk_encryption_facts(props, disks)
    if sizes is not None and size and size.lower() in sizes:
        record["azure_temp_disk"] = sizes[size.lower()] > 0
    if nics is not None:
        ref = _primary((props.get("networkProfile") or {}).get("networkInterfaces"))
        nic = nics.get(str(ref.get("id")).lower()) if ref else None
        configs = ((nic or {}).get("properties") or {}).get("ipConfigurations") or []
        config = next((item for item in configs if (item.get("properties") or {}).get("primary")),
                      configs[0] if configs else None)
        config_props = (config or {}).get("properties") or {}
        record["azure_private_ip"] = config_props.get("privateIPAddress")
        pip_id = (config_props.get("publicIPAddress") or {}).get("id")
        pip = (pips or {}).get(str(pip_id).lower()) if pip_id else None
        pip_props = (pip or {}).get("properties") or {}
        record["azure_public_ip"] = pip_props.get("ipAddress")
        record["azure_public_fqdn"] = (pip_props.get("dnsSettings") or {}).get("fqdn")
    return record


def unmanaged_disk_facts(storage):
    """``azure_unmanaged_disks`` (the VHD URIs of the OS and data disks that are blobs in a storage account) and
    ``azure_managed_disks`` (true when there is none). Unmanaged disks are retired: such a VM cannot start until
    it is converted (goldenimage.azure.vm_managed_disks)."""
    entries = [storage.get("osDisk") or {}] + list(storage.get("dataDisks") or [])
    uris = [(entry.get("vhd") or {}).get("uri") for entry in entries]
    uris = [uri for uri in uris if uri]
    return {"azure_unmanaged_disks": uris, "azure_managed_disks": not uris}


def disk_encryption_facts(props, disks=None):
    """``azure_disk_encryption``: how the VM's disks are encrypted at rest, from the VM body (each managed disk's
    ``diskEncryptionSet``, a Confidential VM disk's ``securityProfile.diskEncryptionSet``, encryption at host) and,
    with the disk list (``disks`` not None), each disk's exact ``encryption.type``. ``customer_key`` is true only when
    every disk is managed and encrypted with a customer-managed key (a disk encryption set)."""
    storage = props.get("storageProfile") or {}
    entries = [("os", None, storage.get("osDisk") or {})]
    entries += [("data", item.get("lun"), item) for item in storage.get("dataDisks") or []]
    items = []
    for role, lun, entry in entries:
        managed = entry.get("managedDisk") or {}
        des_id = ((managed.get("diskEncryptionSet") or {}).get("id")
                  or ((managed.get("securityProfile") or {}).get("diskEncryptionSet") or {}).get("id"))
        disk = (disks or {}).get(str(managed.get("id")).lower()) if managed.get("id") else None
        encryption = ((disk or {}).get("properties") or {}).get("encryption") or {}
        items.append({"name": entry.get("name"), "role": role, "lun": lun, "managed": bool(managed.get("id")),
                      "disk_encryption_set": encryption.get("diskEncryptionSetId") or des_id,
                      # exact only from the disk list; None = not read
                      "type": encryption.get("type") if disk is not None else None})
    return {
        "customer_key": all(item["managed"] and item["disk_encryption_set"] for item in items),
        "encryption_at_host": bool((props.get("securityProfile") or {}).get("encryptionAtHost")),
        "disks": items,
    }
