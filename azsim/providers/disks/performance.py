"""Managed disk performance: Microsoft's published per-tier limits and the values a disk GET derives.

Tables from Learn "Azure managed disk types" (Premium SSD P1..P80, Standard SSD E1..E80, Standard HDD
S4..S80): (tier, size GiB, IOPS, MB/s). A disk is billed and performs as the smallest tier whose size
holds it; Premium SSD disks may run at a higher performance tier (``properties.tier``).
"""

from __future__ import annotations

from ...core.store import private

PREMIUM_TIERS = [
    ("P1", 4, 120, 25), ("P2", 8, 120, 25), ("P3", 16, 120, 25), ("P4", 32, 120, 25),
    ("P6", 64, 240, 50), ("P10", 128, 500, 100), ("P15", 256, 1100, 125), ("P20", 512, 2300, 150),
    ("P30", 1024, 5000, 200), ("P40", 2048, 7500, 250), ("P50", 4096, 7500, 250),
    ("P60", 8192, 16000, 500), ("P70", 16384, 18000, 750), ("P80", 32767, 20000, 900),
]
STANDARD_SSD_TIERS = [
    ("E1", 4, 500, 100), ("E2", 8, 500, 100), ("E3", 16, 500, 100), ("E4", 32, 500, 100),
    ("E6", 64, 500, 100), ("E10", 128, 500, 100), ("E15", 256, 500, 100), ("E20", 512, 500, 100),
    ("E30", 1024, 500, 100), ("E40", 2048, 500, 100), ("E50", 4096, 500, 100),
    ("E60", 8192, 2000, 400), ("E70", 16384, 4000, 600), ("E80", 32767, 6000, 750),
]
STANDARD_HDD_TIERS = [
    ("S4", 32, 500, 60), ("S6", 64, 500, 60), ("S10", 128, 500, 60), ("S15", 256, 500, 60),
    ("S20", 512, 500, 60), ("S30", 1024, 500, 60), ("S40", 2048, 500, 60), ("S50", 4096, 500, 60),
    ("S60", 8192, 1300, 300), ("S70", 16384, 2000, 500), ("S80", 32767, 2000, 500),
]

SKU_NAMES = ["Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS",
             "PremiumV2_LRS"]
SKU_TIER = {"standard_lrs": "Standard", "premium_lrs": "Premium", "standardssd_lrs": "Standard",
            "ultrassd_lrs": "Ultra", "premium_zrs": "Premium", "standardssd_zrs": "Standard",
            "premiumv2_lrs": "Premium"}

# Premium SSD v2 and Ultra Disk: performance is set, not derived from a tier.
PREMIUM_V2_BASELINE = (3000, 125)  # free baseline IOPS, MB/s
PREMIUM_V2_MAX_IOPS_PER_GIB = 500
PREMIUM_V2_MAX_IOPS = 80000
PREMIUM_V2_MAX_MBPS = 1200
ULTRA_MAX_IOPS_PER_GIB = 300
ULTRA_MAX_IOPS = 400000
ULTRA_MAX_MBPS = 10000
MAX_DISK_GIB = 32767
PREMIUM_V2_MAX_GIB = 65536
ULTRA_MAX_GIB = 65536
# On-demand bursting: Premium SSD larger than 512 GiB only.
BURSTING_MIN_GIB = 513


def canonical_sku(name):
    """The SKU spelled as Azure spells it, or None when unknown."""
    for sku in SKU_NAMES:
        if sku.lower() == (name or "").lower():
            return sku
    return None


def is_premium_ssd(sku):
    return sku.lower() in ("premium_lrs", "premium_zrs")


def is_performance_settable(sku):
    """Premium SSD v2 and Ultra disks take diskIOPSReadWrite/diskMBpsReadWrite; the others derive them."""
    return sku.lower() in ("premiumv2_lrs", "ultrassd_lrs")


def needs_premium_vm(sku):
    return sku.lower() in ("premium_lrs", "premium_zrs", "premiumv2_lrs", "ultrassd_lrs")


def _table(sku):
    lowered = sku.lower()
    if lowered.startswith("premium_"):
        return PREMIUM_TIERS
    if lowered.startswith("standardssd_"):
        return STANDARD_SSD_TIERS
    if lowered == "standard_lrs":
        return STANDARD_HDD_TIERS
    return None


def tier_for_size(sku, size_gb):
    """The billing tier (P10, E10, S10...) holding a disk of ``size_gb``, or None for v2/Ultra."""
    table = _table(sku)
    if not table:
        return None
    for name, size, _iops, _mbps in table:
        if size_gb <= size:
            return name
    return table[-1][0]


def premium_tier(name):
    """(tier, size GiB, IOPS, MB/s) of a Premium SSD tier name, or None."""
    for row in PREMIUM_TIERS:
        if row[0].lower() == (name or "").lower():
            return row
    return None


def tier_rank(name):
    return [row[0] for row in PREMIUM_TIERS].index(premium_tier(name)[0])


def limits(sku, size_gb, tier=None):
    """(IOPS, MB/s) a disk of this SKU, size and (Premium) performance tier delivers."""
    lowered = sku.lower()
    if lowered == "premiumv2_lrs":
        return PREMIUM_V2_BASELINE
    if lowered == "ultrassd_lrs":
        iops = min(ULTRA_MAX_IOPS, ULTRA_MAX_IOPS_PER_GIB * size_gb)
        return iops, min(ULTRA_MAX_MBPS, max(1, iops // 4))
    table = _table(sku)
    name = tier if (tier and is_premium_ssd(sku)) else tier_for_size(sku, size_gb)
    for row in table:
        if row[0] == name:
            return row[2], row[3]
    return table[-1][2], table[-1][3]


def derive(disk):
    """Fill in the read-only values a disk GET reports (sku.tier, tier, bytes, IOPS, MB/s)."""
    sku = disk["sku"]["name"]
    props = disk["properties"]
    size_gb = int(props.get("diskSizeGB") or 0)
    disk["sku"]["tier"] = SKU_TIER[sku.lower()]
    # An upload (and a copy of one) is exactly as large as its bytes, not a whole number of GiB [unverified].
    props["diskSizeBytes"] = private(disk).get("size_bytes") or size_gb * 1024 ** 3
    if is_premium_ssd(sku):
        props["tier"] = props.get("tier") or tier_for_size(sku, size_gb)
    else:
        props.pop("tier", None)
    if is_performance_settable(sku):
        default_iops, default_mbps = limits(sku, size_gb)
        props.setdefault("diskIOPSReadWrite", default_iops)
        props.setdefault("diskMBpsReadWrite", default_mbps)
    else:
        props["diskIOPSReadWrite"], props["diskMBpsReadWrite"] = limits(sku, size_gb, props.get("tier"))
    return disk
