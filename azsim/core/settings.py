"""Tunable behaviour: operation durations, time scale, Azure rules that the documents disagree on.

Every value here can be read and changed at run time through ``GET/POST /_azsim/settings``. A settings file
(``azsim serve --settings``) is checked against azsim/schemas/settings.schema.json (``load_file``).
"""

from __future__ import annotations

import copy

# The poll hint of a running operation at full scale (Settings.poll_headers).
POLL_HINT_S = 10.0

# Realistic durations in seconds (before ``time_scale``), from public traces and docs.
DEFAULT_DURATIONS = {
    "resource_group.delete": 30.0,
    "vm.create": 45.0,
    "vm.deallocate": 30.0,
    "vm.power_off": 20.0,
    "vm.start": 25.0,
    "vm.restart": 30.0,
    "vm.delete": 25.0,
    "vm.update": 5.0,
    "vm.run_command": 15.0,
    "vm.capture": 60.0,
    "vm.convert_to_managed_disks": 120.0,
    "disk.create": 5.0,
    "disk.update": 5.0,
    "disk.delete": 5.0,
    "snapshot.create": 10.0,
    "snapshot.delete": 5.0,
    "image.create": 40.0,
    "image.delete": 10.0,
    "gallery.create": 5.0,
    "gallery.delete": 5.0,
    "gallery_image.create": 5.0,
    "gallery_image.delete": 5.0,
    "gallery_image_version.create": 180.0,  # replication of one region; regions replicate in parallel
    "gallery_image_version.delete": 30.0,
    "network.create": 3.0,
    "network.delete": 3.0,
}

DEFAULTS = {
    # Multiplies every duration: 1.0 = realistic, 0.0 = instant (operations finish before the first poll).
    "time_scale": 1.0,
    "durations": DEFAULT_DURATIONS,
    # Added to every ARM/Entra request, to model network latency in benchmarks.
    "latency_ms": 0,
    # Items per page of ARM list responses; the rest follows through nextLink.
    "page_size": 100,
    # ARM's 2024 token bucket, per subscription and operation kind.
    "throttling": {
        "enabled": True,
        "reads": {"capacity": 250, "refill_per_s": 25},
        "writes": {"capacity": 200, "refill_per_s": 10},
        "deletes": {"capacity": 200, "refill_per_s": 10},
    },
    # Rules where Microsoft's documents differ or changed over time.
    "rules": {
        # Performance tier changes need the disk unattached or its VM deallocated (older docs);
        # newer docs allow changes on a running VM.
        "tier_change_requires_deallocation": False,
        # Direct conversion to/from PremiumV2_LRS / UltraSSD_LRS (2024 docs: not supported).
        "allow_premium_v2_conversion": False,
        # A performance-tier downgrade is allowed once per this many hours.
        "tier_downgrade_cooldown_hours": 12,
        # Disk SKU (type) changes per disk per day.
        "sku_changes_per_day": 2,
        # Unmanaged (VHD) disks are retired (Azure: March 31, 2026, first announced for September 30, 2025): no
        # new VM on them, no start of one that still has them (azsim/docs/unmanaged-disks.md).
        "unmanaged_disks_retired": True,
    },
    # Subscription preview features (Register-AzProviderFeature), as registered (true) or not. EncryptionAtHost is
    # not registered in a new subscription (azsim/docs/disk-encryption.md).
    "features": {
        "Microsoft.Compute/EncryptionAtHost": False,
    },
    "auth": {
        "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "client_id": "00000000-0000-4000-8000-00000000a2e1",
        "client_secret": "azsim-Client-Secret-0123456789abcdefXYZ",
        # PEM certificates registered on the application (a certificate service principal signs with one)
        "client_certificates": [],
        "token_lifetime_s": 3599,
    },
    "subscriptions": [
        {"subscription_id": "00000000-0000-4000-8000-000000000001", "display_name": "azsim-primary"},
        {"subscription_id": "00000000-0000-4000-8000-000000000002", "display_name": "azsim-secondary"},
    ],
    "locations": ["eastus", "eastus2", "westus2", "westus3", "northeurope", "westeurope", "uksouth", "swedencentral"],
    # regions with availability zones (all of the above in Azure): zone-redundant storage (Standard_ZRS) needs one
    "zonal_locations": ["eastus", "eastus2", "westus2", "westus3", "northeurope", "westeurope", "uksouth",
                        "swedencentral"],
}


def defaults():
    return copy.deepcopy(DEFAULTS)


def check_update(current, update, path="settings"):
    """400 InvalidSettings unless every value in ``update`` has the JSON type of the value it replaces
    (numbers are interchangeable; new keys, e.g. a new duration, may have any type)."""
    from .errors import ArmError

    if not isinstance(update, dict):
        raise ArmError(400, "InvalidSettings", f"'{path}' must be a JSON object.")
    for key, value in update.items():
        if key not in current:
            continue
        old = current[key]
        where = f"{path}.{key}"
        if isinstance(old, dict):
            check_update(old, value, where)
        elif isinstance(old, bool) or isinstance(value, bool):
            if not (isinstance(old, bool) and isinstance(value, bool)):
                raise ArmError(400, "InvalidSettings", f"'{where}' must be a boolean, got {value!r}.")
        elif isinstance(old, (int, float)):
            if not isinstance(value, (int, float)) or value < 0:
                raise ArmError(400, "InvalidSettings", f"'{where}' must be a number >= 0, got {value!r}.")
        elif not isinstance(value, type(old)):
            raise ArmError(400, "InvalidSettings", f"'{where}' must be a {type(old).__name__}, got {value!r}.")


def merge(target, update):
    """Deep-merge ``update`` into ``target`` (dicts merge, everything else replaces)."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


class Settings:
    def __init__(self, values=None):
        self.values = defaults()
        if values:
            merge(self.values, values)

    def __getitem__(self, key):
        return self.values[key]

    def duration(self, name):
        """Seconds an operation takes, after the time scale."""
        base = self.values["durations"].get(name, 5.0)
        return max(0.0, float(base) * float(self.values["time_scale"]))

    def poll_headers(self):
        """The hint a running operation's replies carry for the next poll.

        At full scale ``Retry-After: 1`` (whole seconds, the least the SDKs honour; 0 would mean "absent" and a
        30 s default). When ``time_scale`` compresses time the hint is compressed with it, or a 0.25 s operation
        at scale 0.05 would cost a whole second of polling that the real service, at full scale, does not add:
        ``retry-after-ms`` alone, Azure's 10 s for compute operations [unverified: real ARM's value varies] times
        the scale, at most 1 s. azure-core reads ``retry-after-ms`` only when ``Retry-After`` is absent.
        """
        scale = float(self.values["time_scale"])
        if 0.0 < scale < 1.0:
            return {"retry-after-ms": str(max(10, min(1000, int(round(POLL_HINT_S * 1000 * scale)))))}
        return {"Retry-After": "1"}

    def rule(self, name):
        return self.values["rules"][name]

    @property
    def default_subscription(self):
        return self.values["subscriptions"][0]["subscription_id"]

    def subscription_ids(self):
        return [item["subscription_id"].lower() for item in self.values["subscriptions"]]


class SettingsError(ValueError):
    """A settings file that cannot be read or does not match azsim/schemas/settings.schema.json."""


def load_file(path):
    """The JSON settings file at ``path``, checked against the schema; SettingsError names the bad field."""
    import json

    from .schema import SchemaError, check

    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as err:
        raise SettingsError(f"cannot read settings {path}: {err}") from None
    try:
        check("settings", data, path)
    except SchemaError as err:
        raise SettingsError(str(err)) from None
    return data
