"""VM sizes the simulator offers, with the facts clients use to pick one.

Numbers are Microsoft's published size tables (Learn, "Sizes for virtual machines in Azure"):
vCPUs, memory, maximum data disks, the temporary (resource) disk, premium storage support ('s' sizes),
CPU architecture and the Hyper-V generations the size boots. ``resource_disk_mb`` 0 = no temp disk
(the v5 sizes without a 'd').

Served as ``GET .../locations/{loc}/vmSizes``, ``GET .../virtualMachines/{vm}/vmSizes`` and the
resource SKU list ``GET /subscriptions/{sub}/providers/Microsoft.Compute/skus`` (capabilities
``MaxResourceVolumeMB``, ``PremiumIO``, ``HyperVGenerations``, ``CpuArchitectureType``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...core.errors import ArmError
from ...core.resource import validate_location

OS_DISK_MAX_MB = 1047552  # the 1023 GiB every size reports as osDiskSizeInMB


@dataclass(frozen=True)
class VmSize:
    name: str
    family: str
    vcpus: int
    memory_mb: int
    max_data_disks: int
    resource_disk_mb: int
    premium_io: bool
    architecture: str = "x64"
    hyper_v_generations: tuple = ("V1", "V2")
    confidential: str = ""  # "SNP" (AMD SEV-SNP) or "TDX" (Intel TDX): the size can run a ConfidentialVM

    @property
    def has_temp_disk(self):
        return self.resource_disk_mb > 0


_GIB = 1024
SIZES = {size.name.lower(): size for size in [
    VmSize("Standard_B1s", "standardBSFamily", 1, 1 * _GIB, 2, 4 * _GIB, True),
    VmSize("Standard_B1ms", "standardBSFamily", 1, 2 * _GIB, 2, 4 * _GIB, True),
    VmSize("Standard_B2s", "standardBSFamily", 2, 4 * _GIB, 4, 8 * _GIB, True),
    VmSize("Standard_B2ms", "standardBSFamily", 2, 8 * _GIB, 4, 16 * _GIB, True),
    VmSize("Standard_A1_v2", "standardAv2Family", 1, 2 * _GIB, 2, 10 * _GIB, False, hyper_v_generations=("V1",)),
    VmSize("Standard_A2_v2", "standardAv2Family", 2, 4 * _GIB, 4, 20 * _GIB, False, hyper_v_generations=("V1",)),
    VmSize("Standard_D1_v2", "standardDv2Family", 1, 3584, 4, 50 * _GIB, False),
    VmSize("Standard_DS1_v2", "standardDSv2Family", 1, 3584, 4, 7 * _GIB, True),
    VmSize("Standard_DS2_v2", "standardDSv2Family", 2, 7 * _GIB, 8, 14 * _GIB, True),
    VmSize("Standard_D2_v3", "standardDv3Family", 2, 8 * _GIB, 4, 50 * _GIB, False),
    VmSize("Standard_D2s_v3", "standardDSv3Family", 2, 8 * _GIB, 4, 16 * _GIB, True),
    VmSize("Standard_D4s_v3", "standardDSv3Family", 4, 16 * _GIB, 8, 32 * _GIB, True),
    VmSize("Standard_D2_v5", "standardDv5Family", 2, 8 * _GIB, 4, 0, False),
    VmSize("Standard_D2s_v5", "standardDSv5Family", 2, 8 * _GIB, 4, 0, True),
    VmSize("Standard_D4s_v5", "standardDSv5Family", 4, 16 * _GIB, 8, 0, True),
    VmSize("Standard_D8s_v5", "standardDSv5Family", 8, 32 * _GIB, 16, 0, True),
    VmSize("Standard_D2ds_v5", "standardDDSv5Family", 2, 8 * _GIB, 4, 75 * _GIB, True),
    VmSize("Standard_D4ds_v5", "standardDDSv5Family", 4, 16 * _GIB, 8, 150 * _GIB, True),
    VmSize("Standard_D2as_v5", "standardDASv5Family", 2, 8 * _GIB, 4, 0, True),
    VmSize("Standard_D4as_v5", "standardDASv5Family", 4, 16 * _GIB, 8, 0, True),
    VmSize("Standard_D2ps_v5", "standardDPSv5Family", 2, 8 * _GIB, 4, 0, True, "Arm64", ("V2",)),
    VmSize("Standard_D4ps_v5", "standardDPSv5Family", 4, 16 * _GIB, 8, 0, True, "Arm64", ("V2",)),
    VmSize("Standard_D2pds_v5", "standardDPDSv5Family", 2, 8 * _GIB, 4, 75 * _GIB, True, "Arm64", ("V2",)),
    # confidential VM sizes (Resource SKUs capability ConfidentialComputingType; Gen2 only)
    VmSize("Standard_DC2as_v5", "standardDCASv5Family", 2, 8 * _GIB, 4, 0, True, "x64", ("V2",), "SNP"),
    VmSize("Standard_DC4as_v5", "standardDCASv5Family", 4, 16 * _GIB, 8, 0, True, "x64", ("V2",), "SNP"),
    VmSize("Standard_DC2ads_v5", "standardDCADSv5Family", 2, 8 * _GIB, 4, 75 * _GIB, True, "x64", ("V2",), "SNP"),
    VmSize("Standard_EC2as_v5", "standardECASv5Family", 2, 16 * _GIB, 4, 0, True, "x64", ("V2",), "SNP"),
    VmSize("Standard_DC2es_v5", "standardDCESv5Family", 2, 8 * _GIB, 4, 0, True, "x64", ("V2",), "TDX"),
    VmSize("Standard_E2s_v5", "standardESv5Family", 2, 16 * _GIB, 4, 0, True),
    VmSize("Standard_E4s_v5", "standardESv5Family", 4, 32 * _GIB, 8, 0, True),
    VmSize("Standard_F2s_v2", "standardFSv2Family", 2, 4 * _GIB, 4, 16 * _GIB, True),
    VmSize("Standard_F4s_v2", "standardFSv2Family", 4, 8 * _GIB, 8, 32 * _GIB, True),
]}


def find(name):
    """The size called ``name`` (case-insensitive), or None."""
    return SIZES.get((name or "").lower())


def size_body(size):
    """A ``VirtualMachineSize`` as the vmSizes lists return it."""
    return {
        "name": size.name,
        "numberOfCores": size.vcpus,
        "osDiskSizeInMB": OS_DISK_MAX_MB,
        "resourceDiskSizeInMB": size.resource_disk_mb,
        "memoryInMB": size.memory_mb,
        "maxDataDiskCount": size.max_data_disks,
    }


def _capabilities(size):
    pairs = [
        ("MaxResourceVolumeMB", size.resource_disk_mb),
        ("OSVhdSizeMB", OS_DISK_MAX_MB),
        ("vCPUs", size.vcpus),
        ("MemoryGB", _memory_gb(size.memory_mb)),
        ("MaxDataDiskCount", size.max_data_disks),
        ("LowPriorityCapable", "True"),
        ("PremiumIO", "True" if size.premium_io else "False"),
        ("HyperVGenerations", ",".join(size.hyper_v_generations)),
        ("CpuArchitectureType", size.architecture),
        ("EphemeralOSDiskSupported", "True" if size.has_temp_disk and size.premium_io else "False"),
        ("AcceleratedNetworkingEnabled", "True" if size.vcpus >= 2 else "False"),
        ("MaxNetworkInterfaces", 2 if size.vcpus <= 2 else 4),
    ] + ([("ConfidentialComputingType", size.confidential)] if size.confidential else [])
    return [{"name": name, "value": str(value)} for name, value in pairs]


def _memory_gb(memory_mb):
    value = memory_mb / 1024
    return int(value) if value == int(value) else value


def sku_body(size, location):
    """A ``ResourceSku`` entry (one per size and location, as the real list returns them)."""
    return {
        "resourceType": "virtualMachines",
        "name": size.name,
        "tier": "Standard",
        "size": size.name.split("_", 1)[1],
        "family": size.family,
        "locations": [location],
        "locationInfo": [{"location": location, "zones": ["1", "2", "3"], "zoneDetails": []}],
        "capabilities": _capabilities(size),
        "restrictions": [],
    }


def sizes_for_architecture(architecture):
    return [size for size in SIZES.values() if size.architecture.lower() == (architecture or "x64").lower()]


# -- handlers -------------------------------------------------------------------------------------
def list_location_sizes(req):
    validate_location(req.sim, req.params["location"])
    return {"value": [size_body(size) for size in SIZES.values()]}


_LOCATION_FILTER = re.compile(r"location\s+eq\s+'([^']+)'", re.IGNORECASE)


def list_resource_skus(req):
    """Resource SKUs; honours ``$filter=location eq '<loc>'`` like the real API."""
    locations = list(req.sim.settings["locations"])
    wanted = _LOCATION_FILTER.search(req.query.get("$filter", ""))
    if wanted:
        name = wanted.group(1).replace(" ", "").lower()
        locations = [loc for loc in locations if loc == name]
    return {"value": [sku_body(size, loc) for loc in locations for size in SIZES.values()]}


def unknown_size_error(name):
    available = ",".join(size.name for size in SIZES.values())
    return ArmError(400, "InvalidParameter",
                    f"The requested VM size {name} is not available in the current region. The sizes available in the "
                    f"current region are: {available}.\r\nFind out more on the available VM sizes in each region at "
                    "https://aka.ms/azure-regions.", target="vmSize")
