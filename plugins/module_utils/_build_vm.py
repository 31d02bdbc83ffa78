# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The temporary build environment of one golden-image build (private; no API stability owed).

One resource group per build, tagged ``goldenimage-build-id``, ``goldenimage-run-id`` (a random id per run,
so that a reused build id never lets one run delete another's resources), ``goldenimage-temporary: "true"`` and a
lease (``_lease``: created/expires tags, after which ``_sweep`` may delete the group of a killed run),
holding a VNet/subnet, an NSG that admits only SSH (22) or WinRM over HTTPS (5986) from the given
sources, a Standard static public IP, a NIC and the VM. Functions take SDK clients and plain values
and raise ``AzureError``; they never see an ``AnsibleModule``.

Deleting refuses any group that is not marked temporary (Packer deleted users' own groups,
packer#5658) and treats a group that disappears meanwhile as deleted (``ResourceGroupNotFound``
race, packer-plugin-azure#31).
"""

from __future__ import annotations

import base64
import json
import re
import time

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import (
    AzureError,
    azure_call,
    wait_for,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._image_sources import IMAGE_TYPES
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import (
    TAG_BUILD_ID,
    TAG_RUN_ID,
    TAG_TEMPORARY,
    normalize_location,
    parse_urn,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_wire import wire as _wire
from ansible_collections.goldenimage.azure.plugins.module_utils._resource_id import format_id, parse as parse_id
from ansible_collections.goldenimage.azure.plugins.module_utils import _winrm_cert
from ansible_collections.goldenimage.azure.plugins.module_utils import _temp_disk
from ansible_collections.goldenimage.azure.plugins.module_utils import _disks
from ansible_collections.goldenimage.azure.plugins.module_utils import _vm_security
from ansible_collections.goldenimage.azure.plugins.module_utils import _encryption
from ansible_collections.goldenimage.azure.plugins.module_utils import _lease
from ansible_collections.goldenimage.azure.plugins.module_utils._group_delete import delete_group_until_gone, gone as _gone


# Letters, digits, '-', '_' and '.', starting with a letter or digit and not ending with '.': no path parts
# ('.', '..', '/'), since the build id names the resource group and the controller's per-build directory.
BUILD_ID = re.compile(r"^[A-Za-z0-9](?:[-A-Za-z0-9._]{0,58}[-A-Za-z0-9_])?$")
RUN_ID = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_]{0,63}$")
# Sources that admit anyone; refused unless the caller opts in (allow_any_source).
ANY_SOURCES = ("*", "any", "internet", "0.0.0.0/0", "::/0", "0.0.0.0")

PORTS = {"linux": 22, "windows": 5986}


# -- validation ---------------------------------------------------------------------------------
def check_build_id(build_id, required=True):
    """Refuse a build id that is missing or not a safe name (it becomes a resource group name and a directory)."""
    if not build_id:
        if required:
            raise AzureError("build_id is required: it identifies what the build created (tag "
                             f"{TAG_BUILD_ID}).", operation="check build_id")
        return
    if not BUILD_ID.match(str(build_id)) or ".." in str(build_id):
        raise AzureError(f"build_id '{build_id}' is not allowed: use 1-60 letters, digits, '-', '_' or '.', "
                         "starting with a letter or digit, not ending with '.', without '..' or '/'.",
                         operation="check build_id")


def check_run_id(run_id):
    if run_id and not RUN_ID.match(str(run_id)):
        raise AzureError(f"run_id '{run_id}' is not allowed: use 1-64 letters, digits, '-' or '_'.",
                         operation="check run_id")


def check_lease(lease_seconds):
    """A lease shorter than a minute would let a sweep delete the group while its run still creates it."""
    if lease_seconds is not None and int(lease_seconds) < _lease.MIN_SECONDS:
        raise AzureError(f"lease_seconds must be at least {_lease.MIN_SECONDS}, got {lease_seconds}: the "
                         "temporary group's lease must cover the whole build.", operation="check lease_seconds")


def check_sources(sources, allow_any=False):
    """The NSG sources: at least one, and none that admits any address unless allow_any is set."""
    sources = [str(item).strip() for item in (sources or []) if str(item).strip()]
    if not sources:
        raise AzureError("allowed_sources is empty: give the controller's public address (for example "
                         "203.0.113.7/32); the builder role discovers it. '*' needs allow_any_source=true.",
                         operation="check allowed_sources")
    wide = [item for item in sources if item.lower() in ANY_SOURCES]
    if wide and not allow_any:
        raise AzureError(f"allowed_sources {wide} admits any address to the build VM; give the controller's "
                         "address, or set allow_any_source=true to open it on purpose.",
                         operation="check allowed_sources")
    return sources


# -- naming -------------------------------------------------------------------------------------
def resource_names(vm_name):
    """Names of the resources created for one build VM."""
    return {
        "vnet": f"{vm_name}-vnet",
        "subnet": "build",
        "nsg": f"{vm_name}-nsg",
        "public_ip": f"{vm_name}-pip",
        "nic": f"{vm_name}-nic",
        "os_disk": f"{vm_name}-osdisk",
    }


def resource_ids(subscription_id, resource_group, vm_name):
    names = resource_names(vm_name)

    def rid(full_type, *parts):
        return format_id(subscription_id, resource_group, full_type, *parts)

    return {
        "resource_group": f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}",
        "virtual_network": rid("Microsoft.Network/virtualNetworks", names["vnet"]),
        "subnet": rid("Microsoft.Network/virtualNetworks/subnets", names["vnet"], names["subnet"]),
        "network_security_group": rid("Microsoft.Network/networkSecurityGroups", names["nsg"]),
        "public_ip": rid("Microsoft.Network/publicIPAddresses", names["public_ip"]),
        "network_interface": rid("Microsoft.Network/networkInterfaces", names["nic"]),
        "virtual_machine": rid("Microsoft.Compute/virtualMachines", vm_name),
        "os_disk": rid("Microsoft.Compute/disks", names["os_disk"]),
    }


# Every id-valued option of build_vm and the resource types it may name; parsed by _resource_id (a malformed
# subscription fails here, naming the option, before any request).
ID_OPTIONS = {"key_vault_id": ("Microsoft.KeyVault/vaults",)}
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
ID_OPTIONS["subnet_id"] = (SUBNET_TYPE,)  # a private build's existing subnet (any group, any subscription)
ID_OPTIONS["disk_encryption_set"] = ("Microsoft.Compute/diskEncryptionSets",)  # customer-managed keys (_encryption)


def check_ids(params):
    """Parse every id-valued option in ``params`` (plain values) once; raises AzureError naming the option."""
    for option, types in ID_OPTIONS.items():
        if params.get(option):
            parse_id(params[option], types, parameter=option)


# -- private builds (an existing subnet, no public IP) ------------------------------------------------
def read_subnet(session, subnet_id, location, resource_group):
    """The user's existing subnet ``subnet_id`` (already parsed by check_ids), read before anything is created.

    It is read in the subscription the id names (the collection's id rule), must exist, must lie in a VNet of the
    build's ``location`` (Azure puts a NIC only in a subnet of its own region) and must not lie in the build's own
    temporary group (that group is deleted with the build; the user's network never is). Returns
    ``{"id", "virtual_network_id", "address_prefixes"}``; raises AzureError naming ``subnet_id``.
    """
    parsed = parse_id(subnet_id, SUBNET_TYPE, parameter="subnet_id")
    rg, vnet_name, subnet_name = parsed["resource_group"], parsed["name"], parsed["last_name"]
    if rg.lower() == str(resource_group).lower():
        raise AzureError(f"subnet_id: '{parsed['id']}' lies in the build's temporary resource group '{resource_group}', "
                         "which is deleted with the build; allowed: a subnet in another resource group (your own "
                         "network, kept).", operation="check subnet_id")
    network = session.for_subscription(parsed["subscription"], parameter="subnet_id").network()
    operation = f"read subnet '{vnet_name}/{subnet_name}' in resource group '{rg}'"
    subnet = _wire(azure_call(operation, network.subnets.get, rg, vnet_name, subnet_name, missing_ok=True))
    vnet = _wire(azure_call(f"read virtual network '{vnet_name}' in resource group '{rg}'",
                            network.virtual_networks.get, rg, vnet_name, missing_ok=True)) if subnet else None
    if subnet is None or vnet is None:
        raise AzureError(f"subnet_id: subnet '{subnet_name}' of virtual network '{vnet_name}' in resource group '{rg}' "
                         "does not exist; allowed: the id of an existing subnet (az network vnet subnet show --query id), "
                         "or omit subnet_id to let the build create its own VNet.", operation="check subnet_id",
                         code="SubnetNotFound")
    if normalize_location(vnet.get("location")) != normalize_location(location):
        raise AzureError(f"subnet_id: virtual network '{vnet_name}' is in {vnet.get('location')}, the build in "
                         f"{location}; allowed: a subnet in the build's location.", operation="check subnet_id")
    props = subnet.get("properties") or {}
    prefixes = props.get("addressPrefixes") or ([props["addressPrefix"]] if props.get("addressPrefix") else [])
    return {"id": subnet.get("id") or parsed["id"],
            "virtual_network_id": format_id(parsed["subscription"], rg, "Microsoft.Network/virtualNetworks", vnet_name),
            "address_prefixes": prefixes}


def private_address(nic):
    """The private address of the NIC's primary IP configuration (what Ansible connects to without a public IP)."""
    configs = ((nic or {}).get("properties") or {}).get("ipConfigurations") or []
    primary = next((item for item in configs if (item.get("properties") or {}).get("primary")),
                   configs[0] if configs else None)
    return ((primary or {}).get("properties") or {}).get("privateIPAddress")


# -- data disks ---------------------------------------------------------------------------------
# The managed disk SKUs are the collection's one list (_disks.SKUS, as disk_tier names them), less Premium SSD v2 and
# Ultra Disk: those need a zonal VM (and Ultra the ultraSSDEnabled capability), which a build VM is not.
DATA_DISK_SKUS = tuple(sku for sku in _disks.SKUS if sku not in _disks.PROVISIONED_PERFORMANCE)
DATA_DISK_CACHING = ("None", "ReadOnly", "ReadWrite")
MAX_LUN = 63
# Largest empty data disk (GiB): 32 TiB - 1 GiB (Standard HDD, Standard SSD, Premium SSD).
DATA_DISK_MAX_GB = {sku: 32767 for sku in DATA_DISK_SKUS}


def check_data_disks(data_disks, default_sku="Premium_LRS", parameter="data_disks"):
    """The data disks as plain dicts (lun, size_gb, sku, caching), checked before any request.

    Rules: each LUN 0-63 and used once; size_gb 1-32767; a managed disk SKU of DATA_DISK_SKUS (default
    ``default_sku``, the OS disk's); caching None (the default), ReadOnly or ReadWrite.
    Raises AzureError naming ``parameter[index].key`` and what is allowed.
    """
    disks = []
    seen = {}
    for index, raw in enumerate(data_disks or []):
        where = "%s[%d]" % (parameter, index)
        if not isinstance(raw, dict):
            raise AzureError("%s: must be a dict with lun, size_gb, sku and caching, not %r." % (where, raw),
                             operation="check %s" % parameter)
        lun = raw.get("lun")
        if isinstance(lun, bool) or not isinstance(lun, int) and not str(lun or "").strip().isdigit():
            raise AzureError("%s.lun: %r is not a LUN; allowed: an integer 0-%d, unique per VM."
                             % (where, lun, MAX_LUN), operation="check %s" % parameter)
        lun = int(lun)
        if not 0 <= lun <= MAX_LUN:
            raise AzureError("%s.lun: %d is out of range; allowed: 0-%d (Azure's LUN range), unique per VM."
                             % (where, lun, MAX_LUN), operation="check %s" % parameter)
        if lun in seen:
            raise AzureError("%s.lun: LUN %d is also used by %s[%d]; each data disk needs its own LUN (0-%d)."
                             % (where, lun, parameter, seen[lun], MAX_LUN), operation="check %s" % parameter)
        seen[lun] = index
        sku = raw.get("sku") or default_sku
        if sku not in DATA_DISK_SKUS:
            raise AzureError("%s.sku: '%s' is not allowed for a build VM's data disk; allowed: %s (PremiumV2_LRS and "
                             "UltraSSD_LRS need a zonal VM)." % (where, sku, ", ".join(DATA_DISK_SKUS)),
                             operation="check %s" % parameter)
        size = raw.get("size_gb")
        try:
            size = int(size)
        except (TypeError, ValueError):
            size = None
        if size is None or not 1 <= size <= DATA_DISK_MAX_GB[sku]:
            raise AzureError("%s.size_gb: %r is not allowed; give the size in GiB, 1-%d for %s."
                             % (where, raw.get("size_gb"), DATA_DISK_MAX_GB[sku], sku),
                             operation="check %s" % parameter)
        caching = raw.get("caching") or "None"
        if caching not in DATA_DISK_CACHING:
            raise AzureError("%s.caching: '%s' is not allowed; allowed: %s."
                             % (where, caching, ", ".join(DATA_DISK_CACHING)), operation="check %s" % parameter)
        disks.append({"lun": lun, "size_gb": size, "sku": sku, "caching": caching})
    return disks


def check_data_disk_count(region, location, vm_size, data_disks, parameter="data_disks"):
    """Refuse more data disks than ``vm_size`` takes (``MaxDataDiskCount``), and Premium SSD data disks on a size
    without premium storage (``PremiumIO``). ``region``: ``_temp_disk.list_capabilities`` of the location."""
    if not data_disks:
        return None
    capabilities = region.get(str(vm_size or "").lower())
    try:
        limit = int((capabilities or {})["MaxDataDiskCount"])
    except (KeyError, TypeError, ValueError):
        raise AzureError("vm_size: '%s' is not offered in %s, so its data disk limit is unknown; choose a size the "
                         "region lists (az vm list-skus)." % (vm_size, location),
                         operation="check %s" % parameter) from None
    if len(data_disks) > limit:
        raise AzureError("%s: %d data disks given, but VM size %s takes at most %d; allowed: up to %d disks, or a "
                         "larger vm_size." % (parameter, len(data_disks), vm_size, limit, limit),
                         operation="check %s" % parameter)
    if str(capabilities.get("PremiumIO")).lower() != "true":
        for index, disk in enumerate(data_disks):
            if disk["sku"] in _disks.PREMIUM_SSD:
                raise AzureError("%s[%d].sku: %s needs a VM size with premium storage, and %s has none; allowed: "
                                 "Standard_LRS, StandardSSD_LRS or StandardSSD_ZRS, or a premium-capable vm_size (an "
                                 "'s' size such as Standard_D2s_v5)." % (parameter, index, disk["sku"], vm_size),
                                 operation="check %s" % parameter)
    return limit


def data_disk_name(vm_name, lun):
    return f"{vm_name}-datadisk-{lun}"


def data_disks_body(spec):
    """``storageProfile.dataDisks``: blank (createOption Empty) managed disks, deleted with the VM."""
    return [{
        "lun": disk["lun"],
        "name": data_disk_name(spec["vm_name"], disk["lun"]),
        "createOption": "Empty",
        "diskSizeGB": disk["size_gb"],
        "caching": disk["caching"],
        "deleteOption": "Delete",
        "managedDisk": {"storageAccountType": disk["sku"]},
    } for disk in spec.get("data_disks") or []]


def data_disk_facts(spec, props, planned=False):
    """The VM's data disks as the result reports them: from the VM body, or from ``spec`` when ``planned`` (check mode,
    no VM yet)."""
    entries = data_disks_body(spec) if planned else (props.get("storageProfile") or {}).get("dataDisks") or []
    out = []
    for entry in entries:
        managed = entry.get("managedDisk") or {}
        name = entry.get("name")
        out.append({
            "lun": entry.get("lun"),
            "name": name,
            "id": managed.get("id") or (format_id(spec["subscription_id"], spec["resource_group"],
                                                  "Microsoft.Compute/disks", name) if name else None),
            "size_gb": entry.get("diskSizeGB"),
            "sku": managed.get("storageAccountType"),
            "caching": entry.get("caching"),
        })
    return sorted(out, key=lambda item: item["lun"] if item["lun"] is not None else -1)


# -- image reference ----------------------------------------------------------------------------
def image_reference(image, parameter="image"):
    """Wire ``imageReference`` from a URN string or a dict; refuses ``latest`` (resolve it first with image_facts).

    Ids go through the collection's one id parser and URNs through its one URN parser (``_arm_names.parse_urn``).
    """
    if isinstance(image, str):
        if image.strip().startswith("/"):
            return {"id": parse_id(image, IMAGE_TYPES, parameter=parameter)["id"]}
        image = parse_urn(image)
    if not isinstance(image, dict):
        raise AzureError(f"{parameter}: {image!r} is neither 'Publisher:Offer:Sku:Version', a resource id nor a dict.",
                         operation="read image reference")
    image = {key: value for key, value in dict(image).items() if value not in (None, "")}
    if "urn" in image:
        return image_reference(image["urn"], f"{parameter}.urn")
    if "id" in image:
        return {"id": parse_id(image["id"], IMAGE_TYPES, parameter=f"{parameter}.id")["id"]}
    missing = [key for key in ("publisher", "offer", "sku", "version") if key not in image]
    if missing:
        raise AzureError(f"image needs publisher, offer, sku and version (missing: {', '.join(missing)}), "
                         "or an id.", operation="read image reference")
    if str(image["version"]).lower() == "latest":
        raise AzureError("image version 'latest' is not accepted: resolve it to a concrete version with "
                         "goldenimage.azure.image_facts first, so the build records what it used.",
                         operation="read image reference")
    return {key: str(image[key]) for key in ("publisher", "offer", "sku", "version")}


def image_label(reference):
    if "id" in reference:
        return reference["id"]
    return ":".join(reference[key] for key in ("publisher", "offer", "sku", "version"))


# -- pinned SSH host key -------------------------------------------------------------------------------
def host_key_custom_data(host_key):
    """Base64 ``#cloud-config`` that installs a controller-generated ed25519 host key (cloud-init ``ssh_keys``).

    ``host_key`` is ``{"private_key": <OpenSSH private key>, "public_key": <ssh-ed25519 ...>}``. cloud-init writes
    them to /etc/ssh/ssh_host_ed25519_key{,.pub} before sshd starts, so the controller can connect with
    StrictHostKeyChecking=yes against a known_hosts line it wrote itself.
    """
    private = str(host_key.get("private_key") or "").strip()
    public = str(host_key.get("public_key") or "").strip()
    if "PRIVATE KEY" not in private or not public.startswith("ssh-ed25519 "):
        raise AzureError("ssh_host_key needs private_key (an OpenSSH ed25519 private key) and public_key "
                         "('ssh-ed25519 ...').", operation="check ssh_host_key")
    lines = ["#cloud-config", "ssh_deletekeys: true", "ssh_genkeytypes: []", "ssh_keys:", "  ed25519_private: |"]
    lines += [f"    {line}" for line in private.splitlines()]
    lines.append(f"  ed25519_public: {json.dumps(public)}")  # a JSON string is a YAML scalar, whatever the comment
    return base64.b64encode(("\n".join(lines) + "\n").encode()).decode()


# -- request bodies -----------------------------------------------------------------------------
def _tags(base, build_id, extra=None, run_id=None):
    tags = dict(extra or {})
    tags.update(base or {})
    tags[TAG_BUILD_ID] = build_id
    if run_id:
        tags[TAG_RUN_ID] = run_id
    return tags


def group_body(location, build_id, tags=None, run_id=None, lease_seconds=None, now=None):
    """The temporary group: the build's tags, temporary=true and, with ``lease_seconds``, its lease (_lease)."""
    body_tags = _tags(tags, build_id, run_id=run_id)
    body_tags[TAG_TEMPORARY] = "true"
    if lease_seconds:
        body_tags.update(_lease.lease_tags(lease_seconds, now))
    return {"location": location, "tags": body_tags}


def vnet_body(location, tags, address_prefix="10.250.0.0/24"):
    return {
        "location": location,
        "tags": tags,
        "properties": {
            "addressSpace": {"addressPrefixes": [address_prefix]},
            "subnets": [{"name": "build", "properties": {"addressPrefix": address_prefix}}],
        },
    }


def nsg_body(location, tags, os_type, sources):
    port = PORTS[os_type]
    rule = {
        "protocol": "Tcp",
        "sourcePortRange": "*",
        "destinationPortRange": str(port),
        "destinationAddressPrefix": "*",
        "access": "Allow",
        "priority": 100,
        "direction": "Inbound",
    }
    sources = list(sources)
    if not sources:
        raise AzureError("no source address for the NSG rule.", operation="build NSG rule")
    if len(sources) == 1:
        rule["sourceAddressPrefix"] = sources[0]
    else:
        rule["sourceAddressPrefixes"] = sources
    name = "allow-ssh" if os_type == "linux" else "allow-winrm-https"
    return {"location": location, "tags": tags, "properties": {"securityRules": [{"name": name, "properties": rule}]}}


def public_ip_body(location, tags):
    return {
        "location": location,
        "tags": tags,
        "sku": {"name": "Standard", "tier": "Regional"},
        "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"},
    }


def nic_body(location, tags, ids):
    body = {
        "location": location,
        "tags": tags,
        "properties": {
            "networkSecurityGroup": {"id": ids["network_security_group"]},
            "ipConfigurations": [{
                "name": "ipconfig1",
                "properties": {
                    "primary": True,
                    "privateIPAllocationMethod": "Dynamic",
                    "subnet": {"id": ids["subnet"]},
                },
            }],
        },
    }
    if ids.get("public_ip"):  # a private build (public_ip=false) has none: reached on the private address
        body["properties"]["ipConfigurations"][0]["properties"]["publicIPAddress"] = {"id": ids["public_ip"]}
    return body


def vm_body(spec, tags, ids):
    """The VM PUT body (see docs: azure-compute-wire section 3.1)."""
    names = resource_names(spec["vm_name"])
    os_disk = {
        "name": names["os_disk"],
        "createOption": "FromImage",
        "caching": "ReadWrite",
        "deleteOption": "Delete",
        "managedDisk": {"storageAccountType": spec["os_disk_type"]},
    }
    if spec.get("os_disk_size_gb"):
        os_disk["diskSizeGB"] = int(spec["os_disk_size_gb"])
    os_profile = {"computerName": spec["computer_name"], "adminUsername": spec["admin_username"]}
    if spec["os_type"] == "linux":
        os_profile["linuxConfiguration"] = {
            "disablePasswordAuthentication": True,
            "provisionVMAgent": True,
            "ssh": {"publicKeys": [{
                "path": f"/home/{spec['admin_username']}/.ssh/authorized_keys",
                "keyData": spec["ssh_public_key"].strip(),
            }]},
        }
    else:
        os_profile["adminPassword"] = spec["admin_password"]
        windows = {"provisionVMAgent": True, "enableAutomaticUpdates": False}
        if spec.get("winrm_certificate_url"):
            # The documented way to a WinRM HTTPS listener on Azure: the certificate as a Key Vault secret, installed
            # into LocalMachine\My through osProfile.secrets and named by the listener.
            windows["winRM"] = {"listeners": [{"protocol": "Https", "certificateUrl": spec["winrm_certificate_url"]}]}
            if spec.get("key_vault_id"):
                os_profile["secrets"] = [{
                    "sourceVault": {"id": spec["key_vault_id"]},
                    "vaultCertificates": [{"certificateUrl": spec["winrm_certificate_url"], "certificateStore": "My"}],
                }]
        os_profile["windowsConfiguration"] = windows
    custom_data = spec.get("custom_data")
    if spec.get("ssh_host_key") and spec["os_type"] == "linux":
        custom_data = host_key_custom_data(spec["ssh_host_key"])
    if spec.get("winrm_custom_data") and spec["os_type"] == "windows":
        custom_data = spec["winrm_custom_data"]  # the per-build WinRM certificate's listener script
    if custom_data:
        os_profile["customData"] = custom_data
    properties = {
        "hardwareProfile": {"vmSize": spec["vm_size"]},
        "storageProfile": {"imageReference": spec["image_reference"], "osDisk": os_disk},
        "osProfile": os_profile,
        "networkProfile": {"networkInterfaces": [
            {"id": ids["network_interface"], "properties": {"primary": True, "deleteOption": "Delete"}}]},
    }
    if spec.get("data_disks"):
        properties["storageProfile"]["dataDisks"] = data_disks_body(spec)
    _vm_security.apply(properties, os_disk, spec)  # Trusted Launch / Confidential VM (the OS disk's encryption type)
    _encryption.apply(properties, spec)  # disk_encryption_set on every managed disk, encryption_at_host
    # The VM itself is marked temporary too: inventories exclude build VMs with goldenimage-temporary: "true".
    body = {"location": spec["location"], "tags": dict(tags, **{TAG_TEMPORARY: "true"}), "properties": properties}
    if spec.get("plan"):
        body["plan"] = {key: spec["plan"][key] for key in ("name", "product", "publisher") if spec["plan"].get(key)}
    return body


# -- reading ------------------------------------------------------------------------------------
def get_group(resources, name):
    return _wire(azure_call(f"read resource group '{name}'", resources.resource_groups.get, name, missing_ok=True))


def _is_temporary(group):
    return str((group.get("tags") or {}).get(TAG_TEMPORARY, "")).lower() == "true"


def _facts(spec, ids, vm, public_ip, disk_tier=None, nic=None):
    vm = vm or {}
    props = vm.get("properties", {})
    os_disk = props.get("storageProfile", {}).get("osDisk", {})
    disk_id = (os_disk.get("managedDisk") or {}).get("id") or ids["os_disk"]
    return {
        "build_id": spec["build_id"],
        "resource_group": spec["resource_group"],
        "location": spec["location"],
        "vm_name": spec["vm_name"],
        "vm_id": vm.get("id", ids["virtual_machine"]),
        "vm_unique_id": props.get("vmId"),
        "os_type": spec["os_type"],
        "public_ip": ((public_ip or {}).get("properties") or {}).get("ipAddress"),
        "port": PORTS[spec["os_type"]],
        "admin_username": spec["admin_username"],
        "os_disk_id": disk_id,
        "os_disk_name": os_disk.get("name", resource_names(spec["vm_name"])["os_disk"]),
        "os_disk_tier": disk_tier,
        "image_reference": spec["image_reference"],
        "security_type": spec.get("security_type") or "Standard",
        "resource_ids": ids,
        "data_disks": data_disk_facts(spec, props, planned=not vm),
        "private_ip": private_address(nic),
        "subnet_id": ids["subnet"],
    }


# -- present ------------------------------------------------------------------------------------
def _begin(operation, func, *args, **kwargs):
    return operation, azure_call(operation, func, *args, **kwargs)


def _finish(started, timeout_at):
    """Wait for pollers started together; the first failure wins, every wait is bounded."""
    results = []
    for operation, poller in started:
        remaining = max(1, int(timeout_at - time.monotonic()))
        results.append(_wire(wait_for(poller, operation, remaining)))
    return results


def default_names(build_id, resource_group=None, vm_name=None):
    """The temporary group and VM a build id names unless given: ``gi-build-<id>`` and ``gi-<id>``."""
    return resource_group or f"gi-build-{build_id}", vm_name or f"gi-{build_id}"[:64]


def create(session, p, check_mode=False):
    """``build_vm`` with ``state=present``, from its validated parameters ``p``: every check before any request,
    then ``ensure_present``. Returns the module result; raises AzureError (checks) with the names known so far."""
    check_build_id(p["build_id"])
    check_run_id(p["run_id"])
    check_lease(p.get("lease_seconds"))
    # Every id-valued option is parsed once by the shared parser: a malformed one fails here, naming it.
    check_ids(p)
    _vm_security.check(p)
    data_disks = check_data_disks(p.get("data_disks"), p.get("os_disk_type") or "Premium_LRS")
    image_ref = image_reference(p["image"])
    resource_group, vm_name = default_names(p["build_id"], p["resource_group"], p["vm_name"])
    sources = check_sources(p["allowed_sources"], p["allow_any_source"])
    if p["os_type"] == "linux" and not p["ssh_public_key"]:
        raise AzureError("ssh_public_key is required for a Linux build VM.")
    spec = dict(p, resource_group=resource_group, vm_name=vm_name, subscription_id=session.subscription_id,
                computer_name=p["computer_name"] or (vm_name[:15] if p["os_type"] == "windows" else vm_name),
                image_reference=image_ref, allowed_sources=sources, data_disks=data_disks)
    if p.get("subnet_id"):  # the user's subnet must exist, in the build's region, outside the build group
        spec["subnet_id"] = read_subnet(session, p["subnet_id"], p["location"], resource_group)["id"]
    # One Resource SKUs read, before anything is created: the size's data disk limit and its temporary disk.
    region = _temp_disk.list_capabilities(session.compute(), p["location"])
    check_data_disk_count(region, p["location"], p["vm_size"], data_disks)
    # The disk encryption set: exists, in the build's subscription and region (a read, before anything is created).
    spec["disk_encryption_set"] = _encryption.check(session.compute(), p, session.subscription_id)
    changed, facts = ensure_present(session.resources(), session.network(), session.compute(), spec,
                                    p["wait_timeout"], check_mode)
    result = dict(facts)
    result["temp_disk"] = _temp_disk.temp_disk(_temp_disk.sizes_from_capabilities(region), p["vm_size"])
    result.update(disk_encryption_set=spec["disk_encryption_set"], encryption_at_host=bool(p.get("encryption_at_host")))
    result.update(changed=changed, build_id=p["build_id"], resource_group=resource_group, vm_name=vm_name)
    return result


def ensure_present(resources, network, compute, spec, wait_timeout=1800, check_mode=False):
    """Create whatever of the build environment is missing. Returns (changed, facts)."""
    rg = spec["resource_group"]
    ids = resource_ids(spec["subscription_id"], rg, spec["vm_name"])
    if spec.get("subnet_id"):  # the user's subnet (read by create()): no VNet of the build's own
        ids.update(subnet=spec["subnet_id"], virtual_network=None)
    with_pip = spec.get("public_ip", True) is not False
    if not with_pip:
        ids["public_ip"] = None
    names = resource_names(spec["vm_name"])
    timeout_at = time.monotonic() + wait_timeout
    group = get_group(resources, rg)
    if group is not None:
        tags = group.get("tags") or {}
        if not _is_temporary(group) or tags.get(TAG_BUILD_ID) != spec["build_id"]:
            raise AzureError(
                f"resource group '{rg}' already exists and is not the temporary group of build "
                f"'{spec['build_id']}' (tags {TAG_TEMPORARY}='true', {TAG_BUILD_ID}='{spec['build_id']}'); "
                "choose another resource_group or build_id.", operation=f"create resource group '{rg}'")
        if spec.get("run_id") and tags.get(TAG_RUN_ID) != spec["run_id"]:
            raise AzureError(
                f"resource group '{rg}' of build '{spec['build_id']}' was created by another run "
                f"({TAG_RUN_ID}='{tags.get(TAG_RUN_ID)}', not '{spec['run_id']}'); delete it (state=absent) or "
                "choose another build_id.", operation=f"create resource group '{rg}'")
        if group.get("properties", {}).get("provisioningState") == "Deleting":
            raise AzureError(f"resource group '{rg}' is being deleted; wait for it to go or use another build_id.",
                             operation=f"create resource group '{rg}'")

    def existing(operation, func, *args):
        if group is None:
            return None
        return _wire(azure_call(operation, func, *args, missing_ok=True))

    vm = existing(f"read virtual machine '{spec['vm_name']}'", compute.virtual_machines.get, rg, spec["vm_name"])
    if vm is not None:
        state = vm.get("properties", {}).get("provisioningState")
        if state == "Failed":
            raise AzureError(f"build VM '{spec['vm_name']}' exists in state Failed; delete the build "
                             "(state=absent) and run again.", operation=f"create virtual machine '{spec['vm_name']}'")
        pip = existing(f"read public IP '{names['public_ip']}'", network.public_ip_addresses.get, rg,
                       names["public_ip"]) if with_pip else None
        nic = existing(f"read network interface '{names['nic']}'", network.network_interfaces.get, rg, names["nic"])
        return False, _facts(spec, ids, vm, pip, nic=nic)
    if check_mode:
        return True, _facts(spec, ids, None, None)

    tags = _tags(spec.get("tags"), spec["build_id"], run_id=spec.get("run_id"))
    changed = False
    if group is None:
        azure_call(f"create resource group '{rg}'", resources.resource_groups.create_or_update, rg,
                   group_body(spec["location"], spec["build_id"], spec.get("tags"), spec.get("run_id"),
                              spec.get("lease_seconds")))
        changed = True

    # VNet, NSG and public IP do not depend on each other: start all three, then wait.
    started = []
    vnet = existing(f"read virtual network '{names['vnet']}'", network.virtual_networks.get, rg,
                    names["vnet"]) if not spec.get("subnet_id") else True
    if vnet is None:
        started.append(_begin(f"create virtual network '{names['vnet']}'",
                              network.virtual_networks.begin_create_or_update, rg, names["vnet"],
                              vnet_body(spec["location"], tags)))
    nsg = existing(f"read network security group '{names['nsg']}'", network.network_security_groups.get, rg,
                   names["nsg"])
    if nsg is None:
        started.append(_begin(f"create network security group '{names['nsg']}'",
                              network.network_security_groups.begin_create_or_update, rg, names["nsg"],
                              nsg_body(spec["location"], tags, spec["os_type"], spec.get("allowed_sources"))))
    pip_tags = dict(tags, **(spec.get("public_ip_tags") or {}))
    pip = existing(f"read public IP '{names['public_ip']}'", network.public_ip_addresses.get, rg,
                   names["public_ip"]) if with_pip else True
    pip_started = pip is None
    if pip_started:
        started.append(_begin(f"create public IP '{names['public_ip']}'",
                              network.public_ip_addresses.begin_create_or_update, rg, names["public_ip"],
                              public_ip_body(spec["location"], pip_tags)))
    _finish(started, timeout_at)
    changed = changed or bool(started)

    nic = existing(f"read network interface '{names['nic']}'", network.network_interfaces.get, rg, names["nic"])
    if nic is None:
        _finish([_begin(f"create network interface '{names['nic']}'", network.network_interfaces.begin_create_or_update,
                        rg, names["nic"], nic_body(spec["location"], tags, ids))], timeout_at)
        changed = True
    nic = _wire(azure_call(f"read network interface '{names['nic']}'", network.network_interfaces.get, rg, names["nic"]))

    winrm = {}
    if spec.get("winrm_private_key") and spec["os_type"] == "windows":
        # The address exists now (a Standard static IP has it at creation) and the VM does not: self-sign the
        # per-build certificate for it and the computer name, and hand it to the guest in custom data.
        address = ((_wire(azure_call(f"read public IP '{names['public_ip']}'", network.public_ip_addresses.get, rg,
                                     names["public_ip"])) or {}).get("properties") or {}).get("ipAddress") \
            if with_pip else private_address(nic)
        pem, thumbprint, pfx = _winrm_cert.issue(spec["winrm_private_key"], address, spec["computer_name"])
        spec = dict(spec, winrm_custom_data=_winrm_cert.custom_data(pfx, thumbprint))
        winrm = {"winrm_certificate": pem, "winrm_certificate_thumbprint": thumbprint}
    vm = _finish([_begin(f"create virtual machine '{spec['vm_name']}'", compute.virtual_machines.begin_create_or_update,
                         rg, spec["vm_name"], vm_body(spec, tags, ids))], timeout_at)[0]
    if vm is None or vm.get("properties", {}).get("provisioningState") not in (None, "Succeeded"):
        vm = _wire(azure_call(f"read virtual machine '{spec['vm_name']}'", compute.virtual_machines.get, rg,
                              spec["vm_name"]))
    # The address of a Standard static IP is fixed at creation; read it back once for the result.
    pip = _wire(azure_call(f"read public IP '{names['public_ip']}'", network.public_ip_addresses.get, rg,
                           names["public_ip"])) if with_pip else None
    tier = None
    if spec.get("os_disk_tier"):
        tier = set_disk_tier(compute, rg, names["os_disk"], spec["os_disk_tier"], max(1, int(timeout_at - time.monotonic())))
    if winrm:
        # Azure runs no custom data by itself: run the listener script once, through the VM's Run Command.
        _winrm_cert.create_winrm_listener(compute, rg, spec["vm_name"], max(1, int(timeout_at - time.monotonic())))
    return True, dict(_facts(spec, ids, vm, pip, tier, nic=nic), **winrm)


def set_disk_tier(compute, resource_group, disk_name, tier, timeout):
    """Set the OS disk's performance tier right after creation (Premium SSD only); returns the tier."""
    disk = _wire(azure_call(f"read disk '{disk_name}'", compute.disks.get, resource_group, disk_name))
    if disk.get("properties", {}).get("tier") == tier:
        return tier
    poller = azure_call(f"set performance tier of disk '{disk_name}' to {tier}", compute.disks.begin_update,
                        resource_group, disk_name, {"properties": {"tier": tier}})
    wait_for(poller, f"set performance tier of disk '{disk_name}' to {tier}", timeout)
    return tier


# -- absent -------------------------------------------------------------------------------------
def delete_group(resources, resource_group, build_id, wait=True, wait_timeout=1800, check_mode=False, run_id=None):
    """Delete a temporary build group. Returns (changed, facts); an absent group is success.

    The group must carry both tags - ``goldenimage-temporary=true`` and ``goldenimage-build-id=<build_id>`` -
    and, when ``run_id`` is given, ``goldenimage-run-id=<run_id>``: a tag anyone can write does not suffice.
    """
    operation = f"delete resource group '{resource_group}'"
    check_build_id(build_id)
    check_run_id(run_id)
    group = get_group(resources, resource_group)
    if group is None:
        return False, {"resource_group": resource_group, "deleted": False, "already_absent": True}
    tags = group.get("tags") or {}
    if not _is_temporary(group):
        raise AzureError(f"refusing to delete resource group '{resource_group}': it lacks the tag "
                         f"{TAG_TEMPORARY}='true', so it was not created by a build.", operation=operation)
    if tags.get(TAG_BUILD_ID) != build_id:
        raise AzureError(f"refusing to delete resource group '{resource_group}': its tag {TAG_BUILD_ID} is "
                         f"'{tags.get(TAG_BUILD_ID)}', not '{build_id}'.", operation=operation)
    if run_id and tags.get(TAG_RUN_ID) != run_id:
        raise AzureError(f"refusing to delete resource group '{resource_group}': it was created by another run "
                         f"({TAG_RUN_ID}='{tags.get(TAG_RUN_ID)}', not '{run_id}').", operation=operation)
    if check_mode:
        return True, {"resource_group": resource_group, "deleted": True, "already_absent": False}
    delete_group_until_gone(resources, resource_group, wait_timeout, wait=wait)  # judged by the group's state
    return True, {"resource_group": resource_group, "deleted": True, "already_absent": False}


def _missing_tags(body, build_id, run_id=None):
    """What of this build's marks ``body`` lacks: [] when it carries temporary=true, the build id (and run id)."""
    tags = (body or {}).get("tags") or {}
    missing = []
    if str(tags.get(TAG_TEMPORARY, "")).lower() != "true":
        missing.append(f"{TAG_TEMPORARY}='true'")
    if tags.get(TAG_BUILD_ID) != build_id:
        missing.append(f"{TAG_BUILD_ID}='{build_id}' (it has '{tags.get(TAG_BUILD_ID)}')")
    if run_id and tags.get(TAG_RUN_ID) != run_id:
        missing.append(f"{TAG_RUN_ID}='{run_id}' (it has '{tags.get(TAG_RUN_ID)}')")
    return missing


def delete_vm(compute, resource_group, vm_name, wait_timeout=1800, check_mode=False, build_id=None, run_id=None,
              resources=None):
    """Delete only the build VM and its OS disk (after capture). Returns (changed, facts).

    As with the group, only what this build created is deleted: the VM must carry ``goldenimage-temporary=true`` and
    ``goldenimage-build-id=<build_id>`` (and ``goldenimage-run-id=<run_id>`` when given) - a VM of the same name in a
    user's group is refused. A leftover OS disk without its VM needs the tags itself, or must lie in the build's
    temporary group (implicitly created OS disks carry no tags).
    """
    check_build_id(build_id)
    check_run_id(run_id)
    disk_name = resource_names(vm_name)["os_disk"]
    vm = _wire(azure_call(f"read virtual machine '{vm_name}'", compute.virtual_machines.get, resource_group, vm_name,
                          missing_ok=True))
    if vm is not None:
        missing = _missing_tags(vm, build_id, run_id)
        if missing:
            raise AzureError(f"refusing to delete virtual machine '{vm_name}' in resource group '{resource_group}': "
                             f"it lacks the tags {', '.join(missing)}, so it is not this build's VM.",
                             operation=f"delete virtual machine '{vm_name}'")
        os_disk = vm.get("properties", {}).get("storageProfile", {}).get("osDisk", {})
        disk_name = os_disk.get("name") or disk_name
    disk = _wire(azure_call(f"read disk '{disk_name}'", compute.disks.get, resource_group, disk_name, missing_ok=True))
    if vm is None and disk is None:
        return False, {"resource_group": resource_group, "vm_name": vm_name, "deleted": False}
    if vm is None:
        missing = _missing_tags(disk, build_id, run_id)
        group = get_group(resources, resource_group) if missing and resources is not None else None
        if group is not None and not _missing_tags(group, build_id, run_id):
            missing = []
        if missing:
            raise AzureError(f"refusing to delete disk '{disk_name}' in resource group '{resource_group}': neither it "
                             f"nor its group carries the tags {', '.join(missing)}, so it is not this build's disk.",
                             operation=f"delete disk '{disk_name}'")
    if check_mode:
        return True, {"resource_group": resource_group, "vm_name": vm_name, "deleted": True}
    timeout_at = time.monotonic() + wait_timeout
    if vm is not None:
        operation = f"delete virtual machine '{vm_name}'"
        try:
            wait_for(azure_call(operation, compute.virtual_machines.begin_delete, resource_group, vm_name),
                     operation, wait_timeout)
        except AzureError as err:
            if not _gone(err):
                raise
    # deleteOption=Delete removes the disk with the VM; delete it explicitly when it stayed.
    disk = _wire(azure_call(f"read disk '{disk_name}'", compute.disks.get, resource_group, disk_name, missing_ok=True))
    if disk is not None:
        operation = f"delete disk '{disk_name}'"
        try:
            wait_for(azure_call(operation, compute.disks.begin_delete, resource_group, disk_name), operation,
                     max(1, int(timeout_at - time.monotonic())))
        except AzureError as err:
            if not _gone(err):
                raise
    return True, {"resource_group": resource_group, "vm_name": vm_name, "deleted": True}


# -- outputs (rollback of a failed build) ---------------------------------------------------------
def _has_build_tag(body, build_id, run_id):
    tags = body.get("tags") or {}
    return tags.get(TAG_BUILD_ID) == build_id and tags.get(TAG_RUN_ID) == run_id


def delete_outputs(compute, build_id, managed_image=None, gallery=None, wait_timeout=1800, check_mode=False,
                   run_id=None):
    """Delete the managed images and gallery image versions this run created (rollback of a failed build).

    Only resources whose ``goldenimage-build-id`` tag equals ``build_id`` AND whose ``goldenimage-run-id`` tag
    equals ``run_id`` are touched (a build id may be reused by a later run, whose failure must not delete the
    earlier run's image); galleries and image definitions are kept. Returns (changed, facts).
    """
    check_build_id(build_id)
    if not run_id:
        raise AzureError("run_id is required to delete a build's outputs: only what this run created (tag "
                         f"{TAG_RUN_ID}) is deleted, never every output of a reusable build_id.",
                         operation="delete build outputs")
    check_run_id(run_id)
    timeout_at = time.monotonic() + wait_timeout
    doomed = []
    if managed_image and managed_image.get("resource_group"):
        rg = managed_image["resource_group"]
        images = azure_call(f"list managed images in '{rg}'", lambda: list(compute.images.list_by_resource_group(rg)),
                            missing_ok=True) or []
        for image in (_wire(item) for item in images):
            if _has_build_tag(image, build_id, run_id):
                doomed.append(("image", rg, image["name"], image["id"]))
    if gallery and gallery.get("resource_group") and gallery.get("name") and gallery.get("image"):
        rg, gname, dname = gallery["resource_group"], gallery["name"], gallery["image"]
        versions = azure_call(f"list versions of gallery image '{gname}/{dname}'",
                              lambda: list(compute.gallery_image_versions.list_by_gallery_image(rg, gname, dname)),
                              missing_ok=True) or []
        for version in (_wire(item) for item in versions):
            if _has_build_tag(version, build_id, run_id):
                doomed.append(("version", (rg, gname, dname), version["name"], version["id"]))
    deleted = [item[3] for item in doomed]
    if check_mode or not doomed:
        return bool(doomed), {"deleted_ids": deleted}
    started = []
    for kind, where, name, _rid in doomed:
        if kind == "image":
            started.append(_begin(f"delete managed image '{name}'", compute.images.begin_delete, where, name))
        else:
            started.append(_begin(f"delete gallery image version '{where[1]}/{where[2]}/{name}'",
                                  compute.gallery_image_versions.begin_delete, *where, name))
    for operation, poller in started:
        try:
            wait_for(poller, operation, max(1, int(timeout_at - time.monotonic())))
        except AzureError as err:
            if not _gone(err):
                raise
    return True, {"deleted_ids": deleted}
