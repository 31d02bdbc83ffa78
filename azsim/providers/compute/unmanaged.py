"""VMs on unmanaged (blob-based) disks after Azure's retirement, and their way out: ``convertToManagedDisks``.

Rules (sources and what could not be confirmed: azsim/docs/unmanaged-disks.md):

- ``settings["rules"]["unmanaged_disks_retired"]`` (default true): creating a VM whose OS or data disk is a VHD
  (``vhd.uri``) is refused, and so is starting (or restarting) a VM that still has one, 409 ``OperationNotAllowed``.
  Azure stopped and deallocated the VMs that were still running on unmanaged disks.
- Such VMs still exist. ``POST /_azsim/unmanaged-vms`` seeds one through the ordinary create path (every VM check
  applies; only the retirement refusal is skipped), finished at once and left ``deallocated`` (or the ``power``
  the seed asks for: a VM that was running when the retirement struck, for tests of the deallocation step).
- ``POST .../virtualMachines/{vm}/convertToManagedDisks``: 202 + Azure-AsyncOperation + Location. The VM must be
  deallocated (409 ``OperationNotAllowed`` otherwise), not generalized, and must have a VHD disk. When the operation
  ends each VHD becomes a ``Microsoft.Compute/disks`` resource named as the profile names the disk
  (``<vm>_OsDisk_1_<hex>`` for an OS disk created from an image), ``creationData`` ``Import`` from the blob, which
  stays in its storage account. The VM's profile then points at the managed disks and Azure starts the VM.
"""

from __future__ import annotations

import json

from ...core.errors import ArmError, invalid_parameter, operation_not_allowed
from ...core.request import Reply, SimRequest
from ...core.store import private, provider_id
from ..disks import models as compute_disk
from ..disks import rules as disk_rules
from . import models as life

RULE = "unmanaged_disks_retired"
RETIREMENT = "March 31, 2026 (first announced for September 30, 2025)"
SEED_API_VERSION = "2024-07-01"
SEED_POWER = ("deallocated", "running", "stopped")


def vhd_entries(storage):
    """(role, entry) of every disk of a storage profile that is a VHD in a storage account."""
    storage = storage or {}
    entries = [("os", storage.get("osDisk") or {})] + [("data", disk) for disk in storage.get("dataDisks") or []]
    return [(role, entry) for role, entry in entries if (entry.get("vhd") or {}).get("uri")]


def is_unmanaged(vm):
    return bool(vhd_entries(vm["properties"].get("storageProfile")))


def retired(sim):
    return bool(sim.settings.rule(RULE))


def check_create(sim, storage, seeding=False):
    """VM create: no new VM on unmanaged disks once they are retired (a seed stands for one created before)."""
    found = vhd_entries(storage)
    if not found or seeding or not retired(sim):
        return
    role, entry = found[0]
    where = "osDisk.vhd" if role == "os" else f"dataDisks[{entry.get('lun')}].vhd"
    raise ArmError(409, "OperationNotAllowed",
                   f"Creating a virtual machine with unmanaged disks is not allowed: unmanaged disks were retired on "
                   f"{RETIREMENT}. Use managed disks (storageProfile.{where} -> managedDisk).", target=where)


def check_start(sim, vm, operation):
    """Start/restart: a VM still on unmanaged disks cannot run once they are retired."""
    if retired(sim) and is_unmanaged(vm):
        raise operation_not_allowed(
            f"Operation '{operation}' is not allowed on VM '{vm['name']}' since the VM uses unmanaged disks, which "
            f"were retired on {RETIREMENT}. Convert the VM to managed disks (convertToManagedDisks) first.")


# -- the seed (admin API) ---------------------------------------------------------------------------
def seed_vm(req):
    """``POST /_azsim/unmanaged-vms`` ``{"resource_group", "name", "body": <VM PUT body>, "subscription_id"?,
    "power"?: deallocated|running|stopped, "storage_account_type"?: Standard_LRS|Premium_LRS}``."""
    from . import routes as vm_routes  # routes imports the actions, which import this module

    sim, spec = req.sim, req.json()
    for key in ("resource_group", "name", "body"):
        if not spec.get(key):
            raise ArmError(400, "InvalidSeed", f"'{key}' is required: {{\"resource_group\", \"name\", \"body\"}}.")
    body = spec["body"]
    if not isinstance(body, dict) or not vhd_entries((body.get("properties") or {}).get("storageProfile")):
        raise ArmError(400, "InvalidSeed", "'body' must be a VM body whose OS disk (and data disks) are VHDs "
                       "(storageProfile.osDisk.vhd.uri).")
    storage = body["properties"]["storageProfile"]
    disks = [storage.get("osDisk") or {}] + list(storage.get("dataDisks") or [])
    if any((entry.get("managedDisk") or {}) for entry in disks) or len(vhd_entries(storage)) != len(disks):
        raise ArmError(400, "InvalidSeed", "A VM cannot mix managed and unmanaged disks: give every disk a vhd.uri.")
    power = spec.get("power", "deallocated")
    if power not in SEED_POWER:
        raise ArmError(400, "InvalidSeed", f"'power' must be one of {', '.join(SEED_POWER)}, got {power!r}.")
    sku = disk_rules.check_sku(spec.get("storage_account_type") or "Standard_LRS", target="storage_account_type")
    subscription = spec.get("subscription_id") or sim.settings.default_subscription
    vm_id = provider_id(subscription, spec["resource_group"], "Microsoft.Compute", "virtualMachines", spec["name"])
    if sim.store.get(vm_id) is not None:
        raise ArmError(409, "InvalidSeed", f"VM '{spec['name']}' already exists.")
    params = {"subscriptionId": subscription, "resourceGroupName": spec["resource_group"], "vmName": spec["name"]}
    put = SimRequest(sim, "PUT", vm_id, {"api-version": SEED_API_VERSION}, {}, json.dumps(body).encode(), params,
                     req.base_url)
    put.seeding = True
    vm_routes.put_vm(put)
    vm = sim.store.get(vm_id)
    op = sim.ops.ops.get(private(vm).get("op") or "")
    if op is not None and not op.done:
        sim.ops._finish(op)  # pylint: disable=protected-access - a seed is there at once
    vm = sim.store.get(vm_id)
    record = private(vm)
    record["power"] = power
    record["unmanaged_sku"] = sku
    life.refresh(vm)
    sim.store.touch()
    return life.present(vm, expand=True)


# -- convertToManagedDisks ---------------------------------------------------------------------------
def _disk_id(vm, name):
    parts = vm["id"].split("/")
    return provider_id(parts[2], parts[4], "Microsoft.Compute", "disks", name)


def convert(req):
    """POST convertToManagedDisks: 202 + monitors; the VM must be deallocated and have a VHD disk."""
    vm = life.get_or_404(req)
    label = "ConvertToManagedDisks"
    life.ensure_idle(req.sim, vm, label)
    record = private(vm)
    if record.get("generalized"):
        raise operation_not_allowed(f"Operation '{label}' is not allowed on VM '{vm['name']}' since the VM is "
                                    "generalized.")
    found = vhd_entries(vm["properties"].get("storageProfile"))
    if not found:
        raise operation_not_allowed(f"Operation '{label}' is not allowed on VM '{vm['name']}' since the VM already "
                                    "uses managed disks.")
    power = record.get("power", "running")
    if power != "deallocated":
        raise operation_not_allowed(f"Operation '{label}' is not allowed on VM '{vm['name']}' since the VM is "
                                    f"{power}. The VM must be stop-deallocated before its disks are converted.")
    for role, entry in found:
        name = entry.get("name")
        if not name:
            raise invalid_parameter(f"The {role} disk of VM '{vm['name']}' has no name.", target="name")
        if req.sim.store.get(_disk_id(vm, name)) is not None:
            raise ArmError(409, "ConflictingUserInput", f"Disk {name} already exists in resource group "
                           f"{vm['id'].split('/')[4].upper()}; the {role} disk cannot be converted under that name.")
    life.begin(req.sim, vm, "convert_to_managed")
    op = life.launch(req, vm, "vm.convert_to_managed_disks", "vm.convert_to_managed_disks")
    return Reply(202, None, req.sim.ops.headers(req, op, location=True))


def finish_convert(sim, op):
    vm = life.load_for_finisher(sim, op)
    if vm is None:
        return
    if op.status == "Succeeded":
        record = private(vm)
        sku = record.get("unmanaged_sku") or "Standard_LRS"
        storage = vm["properties"]["storageProfile"]
        for role, entry in vhd_entries(storage):
            uri = entry.pop("vhd")["uri"]
            disk = compute_disk.new_disk(
                disk_id=_disk_id(vm, entry["name"]), location=vm["location"], sku=sku,
                size_gb=int(entry.get("diskSizeGB") or 30),
                creation_data={"createOption": "Import", "sourceUri": uri},
                os_type=storage["osDisk"].get("osType") if role == "os" else None,
                hyper_v_generation=record.get("hyper_v_generation") if role == "os" else None,
                architecture=record.get("architecture") if role == "os" else None)
            sim.store.put(disk)
            compute_disk.attach(sim, disk, vm["id"], "Attached")
            entry["managedDisk"] = {"id": disk["id"], "storageAccountType": sku}
            entry.pop("image", None)
            record.setdefault("converted_from", {})[disk["id"]] = uri  # the blob stays in its storage account
        record["power"] = "running"  # Azure starts the VM once its disks are converted
    life.end(sim, vm, op)


def register(sim):
    base = ("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute"
            "/virtualMachines/{vmName}")
    sim.router.add("POST", f"{base}/convertToManagedDisks", convert)
    sim.ops.register_finisher("vm.convert_to_managed_disks", finish_convert)
    sim.router.add("POST", "/_azsim/unmanaged-vms", seed_vm, kind="admin")
