"""A VM's network interfaces. The NICs (``Microsoft.Network/networkInterfaces``) belong to the network
provider, which derives a NIC's ``virtualMachine`` back-reference from the VMs that list it; this module
only checks the references and, on VM delete, removes NICs whose reference says ``deleteOption: Delete``."""

from __future__ import annotations

from ...core.errors import ArmError, invalid_parameter, missing_property
from .models import VM_TYPE

NIC_TYPE = "microsoft.network/networkinterfaces"


def _owner(sim, nic_id, vm_id):
    """Another VM that already lists this NIC, or None."""
    for vm in sim.store.list("", VM_TYPE):
        if vm["id"].lower() == vm_id.lower():
            continue
        refs = ((vm.get("properties") or {}).get("networkProfile") or {}).get("networkInterfaces") or []
        if any((ref.get("id") or "").lower() == nic_id.lower() for ref in refs):
            return vm["id"]
    return None


def check_nics(sim, vm_id, network_profile):
    """The NIC bodies of a VM's network profile, in order; raises CRP's errors for bad references."""
    refs = (network_profile or {}).get("networkInterfaces") or []
    if not refs:
        if (network_profile or {}).get("networkInterfaceConfigurations"):
            raise invalid_parameter("networkInterfaceConfigurations are not supported by the simulator; create the NIC "
                                    "first and reference it in networkProfile.networkInterfaces.",
                                    target="networkProfile")
        raise missing_property("networkProfile")
    nics = []
    for ref in refs:
        nic_id = ref.get("id") or ""
        nic = sim.store.get(nic_id) if nic_id else None
        if nic is None or nic.get("type", "").lower() != NIC_TYPE:
            raise ArmError(404, "NotFound", f"Resource {nic_id} not found.", target="networkInterfaces")
        owner = _owner(sim, nic["id"], vm_id)
        if owner:
            raise ArmError(400, "NicInUse", f"Network Interface {nic['id']} is used by existing VM {owner}.")
        nics.append(nic)
    primaries = [ref for ref in refs if (ref.get("properties") or {}).get("primary")]
    if len(refs) > 1 and len(primaries) != 1:
        raise invalid_parameter("Virtual machine must have exactly one primary network interface when it has more "
                                "than one.", target="networkProfile.networkInterfaces")
    return nics


def release(sim, vm):
    """VM deleted: NICs with ``deleteOption: Delete`` go with it; the others are simply no longer used."""
    for ref in (vm["properties"].get("networkProfile") or {}).get("networkInterfaces") or []:
        nic = sim.store.get(ref.get("id") or "")
        if nic is not None and ((ref.get("properties") or {}).get("deleteOption") or "Detach").lower() == "delete":
            sim.notify_deleted(nic)
            sim.store.delete(nic["id"])
