"""Virtual machines (CRP):
``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}``.

- PUT create: checks (``validation.py``, ``storage.py``, ``network.py``), then 201 + Azure-AsyncOperation with
  ``provisioningState: Creating`` (no Location on PUT, wire reference 0.7). The OS and data disks are created
  and attached at once; when the create finishes, a guest bound to the primary NIC's public IP is provisioned
  through the ``guests`` extension (``provision_vm(sim, vm_body, os_profile_with_secrets)``).
- PUT on an existing VM / PATCH: 200 + Azure-AsyncOperation, ``Updating`` until done.
- GET (``$expand=instanceView``), GET ``/instanceView``, lists per group and subscription (paged, ``statusOnly``).
- DELETE: 202 + monitors; disks and NICs follow their ``deleteOption`` (default Detach).
- Actions: ``actions.py``; sizes and SKUs: ``sizes.py``; the VM type and its operation bookkeeping:
  ``models.py``.
- Managed images (the model in ``images.py``): PUT, GET, PATCH, DELETE, lists.

Secrets (``adminPassword``, ``customData``) are kept only under ``_sim`` and never leave the server;
``userData`` is kept there too and returned only with ``$expand=userData``.
"""

from __future__ import annotations

import copy
import uuid

from ...core import lro_finish
from ...core.errors import ArmError, missing_property, operation_not_allowed, property_change_not_allowed
from ...core.paged_list import page
from ...core.request import Reply
from ...core.resource import get_group_or_raise, validate_location
from ...core.settings import merge
from ...core.store import private, provider_id, public
from ..marketplace import terms as marketplace_terms
from ..disks import performance as disk_performance
from ..disks import encryption_sets
from ..disks import rules as disk_rules
from ..guests import filesystems
from ..guests.models import provision_vm
from . import actions as vm_actions
from . import images
from . import instance_view as vm_instance_view
from . import models as life
from . import network as vm_network
from . import sizes as vm_sizes
from . import storage as vm_storage
from . import unmanaged as vm_unmanaged
from . import validation as vm_validation
from .storage import VmTarget

SECRET_FIELDS = ("adminPassword", "customData")
# Read-only properties a client may echo back; the simulator computes them itself.
READ_ONLY_KEYS = ("provisioningState", "instanceView", "vmId", "timeCreated")


# -- create ----------------------------------------------------------------------------------------
def put_vm(req):
    get_group_or_raise(req.sim, req.subscription, req.params["resourceGroupName"])
    body = req.json()
    existing = req.sim.store.get(life.vm_id(req))
    if existing is not None:
        return _update(req, existing, body, replace=True)
    return _create(req, body)


def _create(req, body):
    sim, name, vm_id = req.sim, req.params["vmName"], life.vm_id(req)
    vm_validation.check_vm_name(name)
    location = validate_location(sim, body.get("location"))
    props = body.get("properties") or {}
    size = vm_validation.check_size(props)
    storage = props.get("storageProfile")
    if not storage:
        raise missing_property("storageProfile")
    target = VmTarget(req.subscription, req.params["resourceGroupName"], name, vm_id, location, size)
    source = vm_storage.os_source(sim, target, storage)
    vm_unmanaged.check_create(sim, storage, seeding=getattr(req, "seeding", False))
    vm_validation.check_plan(body, source)
    marketplace_terms.check_terms(sim, req.subscription, body.get("plan"))  # a plan needs its terms accepted
    vm_validation.check_size_fits_image(size, source)
    vm_validation.check_security(props, source)
    vm_validation.check_confidential(props, size)
    encryption_sets.check_encryption_at_host(sim, props)  # needs the subscription feature EncryptionAtHost
    vm_validation.check_os_profile(name, props.get("osProfile"), source)
    vm_network.check_nics(sim, vm_id, props.get("networkProfile"))
    security_type = vm_validation.disk_security_type(props)
    plan = vm_storage.plan_os_disk(sim, target, storage, source, security_type)
    vm_storage.plan_data_disks(sim, target, plan, storage.get("dataDisks") or [])

    os_profile, secrets = _split_secrets(props.get("osProfile"), name, source.os_type)
    vm_props = {key: copy.deepcopy(value) for key, value in props.items() if key not in READ_ONLY_KEYS}
    vm_props.update({"vmId": str(uuid.uuid4()), "hardwareProfile": {**props["hardwareProfile"], "vmSize": size.name},
                     "storageProfile": plan.profile, "timeCreated": life.now_iso()})
    if os_profile:
        vm_props["osProfile"] = os_profile
    user_data = vm_props.pop("userData", None)
    vm = {"id": vm_id, "name": name, "type": life.VM_TYPE, "location": location, "tags": body.get("tags") or {},
          "properties": vm_props}
    for key in ("zones", "plan", "extendedLocation"):
        if body.get(key):
            vm[key] = copy.deepcopy(body[key])
    if body.get("identity"):
        vm["identity"] = _identity(sim, body["identity"])
    private(vm).update(power="running", generalized=False, secrets=secrets, os_name=source.os_name,
                       os_version=source.os_version, hyper_v_generation=source.hyper_v_generation,
                       architecture=source.architecture, user_data=user_data)
    image_filesystem = filesystems.record_of(sim.store.get(source.image_id)) if source.image_id else None
    if image_filesystem:  # the guest is reimaged from it before provisioning
        private(vm)[filesystems.VM_KEY] = image_filesystem
    sim.store.put(vm)
    vm_storage.apply(sim, plan, vm_id)
    life.begin(sim, vm, "create")
    reply_body = life.present(vm)
    op = life.launch(req, vm, "vm.create", "vm.create")
    return Reply(201, reply_body, sim.ops.headers(req, op))


def _split_secrets(os_profile, vm_name, os_type):
    """(osProfile as GET shows it, the secret fields kept privately)."""
    if not os_profile:
        return None, {}
    shown = copy.deepcopy(os_profile)
    secrets = {key: shown.pop(key) for key in SECRET_FIELDS if key in shown}
    shown.setdefault("computerName", vm_name)
    shown.setdefault("secrets", [])
    shown.setdefault("allowExtensionOperations", True)
    shown.setdefault("requireGuestProvisionSignal", True)
    if os_type.lower() == "windows":
        shown.setdefault("windowsConfiguration", {}).setdefault("provisionVMAgent", True)
    else:
        linux = shown.setdefault("linuxConfiguration", {})
        linux.setdefault("disablePasswordAuthentication", False)
        linux.setdefault("provisionVMAgent", True)
    return shown, secrets


def _identity(sim, identity):
    shown = copy.deepcopy(identity)
    if "systemassigned" in (shown.get("type") or "").lower().replace(" ", ""):
        shown.setdefault("principalId", str(uuid.uuid4()))
        shown.setdefault("tenantId", sim.settings["auth"]["tenant_id"])
    return shown


def finish_create(sim, op):
    vm = life.load_for_finisher(sim, op)
    if vm is None:
        return
    error = _provision_guest(sim, vm) if op.status == "Succeeded" else None
    failure = life.end(sim, vm, op, error=error)
    if error:
        raise ArmError(200, failure["code"], failure["message"])  # makes the operation itself end Failed


def _provision_guest(sim, vm):
    """Run the guest's provisioning (the Azure agent's job); an error dict when it fails."""
    os_profile = vm["properties"].get("osProfile")
    if not os_profile:
        return None
    full_profile = dict(os_profile, **private(vm).get("secrets", {}))
    filesystem = (private(vm).get(filesystems.VM_KEY) or {}).get("dir")  # the image's guest filesystem, if any
    try:
        return provision_vm(sim, life.present(vm), full_profile, filesystem=filesystem)
    except Exception as err:  # noqa: BLE001 - a broken guest is a failed provisioning, not a simulator crash
        return {"code": "OSProvisioningClientError", "message": str(err) or repr(err)}


# -- update ----------------------------------------------------------------------------------------
def patch_vm(req):
    vm = life.get_or_404(req)
    return _update(req, vm, req.json(), replace=False)


def _update(req, vm, body, replace):
    """PUT on an existing VM (``replace``) or PATCH: apply what CRP lets change, then 200 + Updating."""
    sim, record = req.sim, private(vm)
    life.ensure_idle(sim, vm, "Update VM")
    if replace and body.get("location") and validate_location(sim, body["location"]) != vm["location"]:
        raise ArmError(409, "InvalidResourceLocation",
                       f"The resource '{vm['name']}' already exists in location '{vm['location']}' in resource group "
                       f"'{req.params['resourceGroupName']}'. A resource with the same name cannot be created in "
                       f"location '{body['location']}'. Please select a new resource name.")
    current = vm["properties"]
    wanted = _wanted_properties(current, body.get("properties") or {}, replace)
    _check_immutables(current, wanted)
    size = vm_validation.check_size(wanted)
    target = VmTarget(req.subscription, req.params["resourceGroupName"], vm["name"], vm["id"], vm["location"], size)
    plan = vm_storage.StoragePlan(profile=copy.deepcopy(current["storageProfile"]))
    vm_storage.plan_data_disks(sim, target, plan, (wanted.get("storageProfile") or {}).get("dataDisks") or [],
                               current["storageProfile"].get("dataDisks") or [])
    vm_network.check_nics(sim, vm["id"], wanted.get("networkProfile"))
    size_changed = size.name != current["hardwareProfile"]["vmSize"]
    if size_changed:
        _check_new_size(sim, vm, size, plan)
    nics_changed = _ids(wanted.get("networkProfile")) != _ids(current.get("networkProfile"))
    changed = size_changed or nics_changed or plan.new_disks or plan.attach_ids or plan.detach_ids
    if record.get("generalized") and changed:
        raise operation_not_allowed(f"Operation 'Update VM' is not allowed on VM '{vm['name']}' since the VM is "
                                    "generalized.")
    disk_state = "Reserved" if record.get("power") == "deallocated" else "Attached"
    vm_storage.apply(sim, plan, vm["id"], disk_state)
    _apply_properties(vm, wanted, size, plan)
    for key in ("tags", "plan", "zones"):
        if key in body:
            vm[key] = copy.deepcopy(body[key])
            if vm[key] is None:
                vm.pop(key)
    vm.setdefault("tags", {})
    if body.get("identity") is not None:
        vm["identity"] = _identity(sim, body["identity"])
    life.begin(sim, vm, "update")
    reply_body = life.present(vm)
    op = life.launch(req, vm, "vm.update", "vm.update")
    return Reply(200, reply_body, sim.ops.headers(req, op))


def _wanted_properties(current, update, replace):
    if replace:
        wanted = copy.deepcopy(update)
        for key in ("storageProfile", "hardwareProfile", "networkProfile"):
            wanted.setdefault(key, copy.deepcopy(current.get(key)))
        return wanted
    wanted = copy.deepcopy({key: value for key, value in current.items() if key not in READ_ONLY_KEYS})
    return merge(wanted, update)


def _ids(network_profile):
    return [ref.get("id", "").lower() for ref in (network_profile or {}).get("networkInterfaces") or []]


def _check_immutables(current, wanted):
    storage, old = wanted.get("storageProfile") or {}, current["storageProfile"]
    reference, old_reference = storage.get("imageReference") or {}, old.get("imageReference") or {}
    for key in ("publisher", "offer", "sku", "id"):
        if reference.get(key) and (reference.get(key) or "").lower() != (old_reference.get(key) or "").lower():
            raise property_change_not_allowed("imageReference")
    os_disk, old_disk = storage.get("osDisk") or {}, old.get("osDisk") or {}
    for key in ("name", "createOption", "osType"):
        if os_disk.get(key) and str(os_disk[key]).lower() != str(old_disk.get(key, "")).lower():
            raise property_change_not_allowed(f"osDisk.{key}")
    os_profile, old_profile = wanted.get("osProfile") or {}, current.get("osProfile") or {}
    for key in ("computerName", "adminUsername"):
        if os_profile.get(key) and os_profile[key] != old_profile.get(key):
            raise property_change_not_allowed(f"osProfile.{key}")


def _check_new_size(sim, vm, size, plan):
    record = private(vm)
    generation = record.get("hyper_v_generation", "V1")
    if generation not in size.hyper_v_generations:
        raise ArmError(400, "BadRequest", f"The selected VM size '{size.name}' cannot boot Hypervisor Generation "
                       f"'{generation[1:]}'. If this was an Update operation please select a Hypervisor Generation "
                       f"'{generation[1:]}' VM Size. For more information, see https://aka.ms/azuregen2vm")
    for entry in [plan.profile.get("osDisk") or {}] + list(plan.profile.get("dataDisks") or []):
        sku = (entry.get("managedDisk") or {}).get("storageAccountType")
        if sku and disk_performance.needs_premium_vm(sku) and not size.premium_io:
            raise disk_rules.premium_not_supported(size.name, sku, entry.get("name"))


def _apply_properties(vm, wanted, size, plan):
    props = vm["properties"]
    data_disks = plan.profile.get("dataDisks", props["storageProfile"].get("dataDisks") or [])
    if "userData" in wanted:
        private(vm)["user_data"] = wanted["userData"]
    for key, value in wanted.items():
        if key in READ_ONLY_KEYS or key in ("storageProfile", "osProfile", "hardwareProfile", "userData"):
            continue
        props[key] = copy.deepcopy(value)
    props["hardwareProfile"] = {**(wanted.get("hardwareProfile") or {}), "vmSize": size.name}
    props["storageProfile"]["dataDisks"] = data_disks
    os_disk = (wanted.get("storageProfile") or {}).get("osDisk") or {}
    for key in ("caching", "deleteOption"):
        if key in os_disk:
            props["storageProfile"]["osDisk"][key] = os_disk[key]


def finish_update(sim, op):
    vm = life.load_for_finisher(sim, op)
    if vm is not None:
        life.end(sim, vm, op)


# -- read ------------------------------------------------------------------------------------------
def get_vm(req):
    vm = life.get_or_404(req)
    expand = req.query.get("$expand", "").lower()
    body = life.present(vm, expand=expand == "instanceview")
    if expand == "userdata" and private(vm).get("user_data") is not None:
        body["properties"]["userData"] = private(vm)["user_data"]  # only on request, as CRP does
    return body


def get_instance_view(req):
    return vm_instance_view.instance_view(life.get_or_404(req))


def _list(req, prefix):
    expand = req.query.get("$expand", "").lower() == "instanceview" or req.query.get("statusonly", "").lower() == "true"
    return page(req, [life.present(vm, expand) for vm in req.sim.store.list(prefix, life.VM_TYPE)])


def list_group_vms(req):
    life.VMS.group(req)
    prefix = provider_id(req.subscription, req.params["resourceGroupName"], "Microsoft.Compute", "virtualMachines")
    return _list(req, prefix + "/")


def list_subscription_vms(req):
    return _list(req, f"/subscriptions/{req.subscription}/resourceGroups/")


def list_location_vms(req):
    location = validate_location(req.sim, req.params["location"])
    vms = [vm for vm in req.sim.store.list(f"/subscriptions/{req.subscription}/resourceGroups/", life.VM_TYPE)
           if vm["location"] == location]
    return page(req, [life.present(vm) for vm in vms])


def list_vm_sizes(req):
    """Sizes this VM can be resized to: the same CPU architecture."""
    vm = life.get_or_404(req)
    size = vm_sizes.find(vm["properties"]["hardwareProfile"]["vmSize"])
    architecture = size.architecture if size else private(vm).get("architecture", "x64")
    return {"value": [vm_sizes.size_body(item) for item in vm_sizes.sizes_for_architecture(architecture)]}


# -- delete ----------------------------------------------------------------------------------------
def delete_vm(req):
    vm = req.sim.store.get(life.vm_id(req))
    if vm is None:
        return Reply(204)
    life.ensure_idle(req.sim, vm, "Delete VM")
    life.begin(req.sim, vm, "delete")
    op = life.launch(req, vm, "vm.delete", "vm.delete")
    return Reply(202, None, req.sim.ops.headers(req, op, location=True))


def finish_delete(sim, op):
    vm = life.load_for_finisher(sim, op)
    if vm is None:
        return
    if op.status != "Succeeded":
        life.end(sim, vm, op)
        return
    vm_storage.release_on_delete(sim, vm)
    vm_network.release(sim, vm)
    sim.notify_deleted(vm)
    sim.store.delete(vm["id"])


def register(sim):
    add = sim.router.add
    sub = "/subscriptions/{subscriptionId}"
    group = sub + "/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines"
    add("GET", sub + "/providers/Microsoft.Compute/virtualMachines", list_subscription_vms)
    add("GET", group, list_group_vms)
    add("PUT", group + "/{vmName}", put_vm)
    add("GET", group + "/{vmName}", get_vm)
    add("PATCH", group + "/{vmName}", patch_vm)
    add("DELETE", group + "/{vmName}", delete_vm)
    add("GET", group + "/{vmName}/instanceView", get_instance_view)
    add("GET", group + "/{vmName}/vmSizes", list_vm_sizes)
    add("GET", sub + "/providers/Microsoft.Compute/locations/{location}/vmSizes", vm_sizes.list_location_sizes)
    add("GET", sub + "/providers/Microsoft.Compute/locations/{location}/virtualMachines", list_location_vms)
    add("GET", sub + "/providers/Microsoft.Compute/skus", vm_sizes.list_resource_skus)
    sim.ops.register_finisher("vm.create", finish_create)
    sim.ops.register_finisher("vm.update", finish_update)
    sim.ops.register_finisher("vm.delete", finish_delete)
    vm_actions.register(sim)
    register_images(sim)


# -- managed images (the model: images.py, image_sources.py) ----------------------------------------
def put_image(req):
    name = req.params["imageName"]
    existing = images.IMAGES.existing(req)
    images.check_entity_name(name, "imageName")
    request = req.json()
    location = validate_location(req.sim, request.get("location"))
    props = request.get("properties") or {}
    if existing is not None:
        images.IMAGES.check_location(existing, location, req.params["resourceGroupName"], name=name)
        images.check_unchanged(existing, props)
        existing["tags"] = request.get("tags") or {}
        existing["properties"]["provisioningState"] = "Updating"
        req.sim.store.touch()
        op = images.IMAGES.start(req, "image.update", existing)
        return Reply(200, public(existing), req.sim.ops.headers(req, op))
    image = {
        "id": images.IMAGES.id(req),
        "name": name,
        "type": images.IMAGE_TYPE,
        "location": location,
        "tags": request.get("tags") or {},
        "properties": images.build_properties(req.sim, props, location),
    }
    if request.get("extendedLocation"):
        image["extendedLocation"] = request["extendedLocation"]
    _image_filesystem(req.sim, image)
    image["properties"]["provisioningState"] = "Creating"
    req.sim.store.put(image)
    reply_body = public(image)  # as ARM answers: Creating, whatever the operation does next
    op = images.IMAGES.start(req, "image.create", image)
    return Reply(201, reply_body, req.sim.ops.headers(req, op))


def _image_filesystem(sim, image):
    """The guest filesystem the image carries: its source VM's guest's, or its source snapshot's or disk's."""
    props = image["properties"]
    vm_id = (props.get("sourceVirtualMachine") or {}).get("id")
    if vm_id:
        filesystems.capture(sim, image, sim.store.get(vm_id))
        return
    os_disk = (props.get("storageProfile") or {}).get("osDisk") or {}
    source_id = (os_disk.get("snapshot") or os_disk.get("managedDisk") or {}).get("id")
    if source_id:
        filesystems.inherit(image, sim.store.get(source_id))


def patch_image(req):
    image = images.IMAGES.or_404(req, images.IMAGES.existing(req))
    update = req.json()
    images.check_unchanged(image, update.get("properties") or {})
    if "tags" in update:
        image["tags"] = update["tags"] or {}
    req.sim.store.touch()
    return public(image)


def delete_image(req):
    return images.IMAGES.begin_delete(req, "image.delete")


def register_images(sim):
    images.IMAGES.register(sim, put_image, patch_image, delete_image, finishers={
        "image.create": lro_finish.settle, "image.update": lro_finish.settle, "image.delete": lro_finish.remove})
