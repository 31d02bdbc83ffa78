"""The guest pool: real local guests that stand in for VMs' operating systems (docs/architecture.md,
"Guests bound to public IPs").

- ``POST /_azsim/guests`` registers a guest (registering a known name again updates it and keeps its
  binding, so a restarted guest can re-register); ``GET`` lists the pool; ``DELETE /_azsim/guests/{name}``
  removes one (a public IP bound to it keeps the address, where nothing listens any more).
- A public IP binds the first free guest at create time (tag ``azsim-guest: <name>`` asks for one by
  name); deleting the IP, or its resource group, frees it and puts it at the back of the line.
- Without a public IP (a private build), a VM whose primary NIC's primary IP configuration got the private address
  of a free registered guest binds that guest to the IP configuration: the NIC's ``privateIPAddress`` is the address
  the guest listens on, so whoever connects to the private address reaches it (docs/network-images.md, "Private
  addresses"). Deleting the NIC, or its group, frees it.
- :func:`provision_vm` runs the bound guest's ``provision_command`` the way Azure's provisioning agent
  applies osProfile. The VM provider calls it when a VM create finishes; a VM created from an image that carries a
  filesystem (``filesystems.py``) first has its guest reimaged from it (``reimage_command``).

The pool is ``sim.extensions["guests"]``; a simulator reset empties it, so that a guest registered for one test
is never bound in the next (register guests after the reset that starts a test).
"""

from __future__ import annotations

import ipaddress
import json
import subprocess

from ...core.errors import ArmError
from ...core.store import private

GUEST_TAG = "azsim-guest"
PROVISION_TIMEOUT_S = 120
REIMAGE_TIMEOUT_S = 180
# provision_command's exit status for "the image says it is already provisioned: the agent skipped provisioning"
PROVISIONING_SKIPPED_RC = 75  # EX_TEMPFAIL: distinct from ordinary failures
# What Azure answers when the agent never reports provisioning done (docs/image-filesystems.md).
TIMED_OUT_MESSAGE = ("OS Provisioning for VM '{vm}' did not finish in the allotted time. The VM may still finish "
                     "provisioning successfully. Please check provisioning state later. Also, make sure the image has "
                     "been properly prepared (generalized).")
# provision_command reads osProfile on stdin; snapshot_command gets DEST appended, reimage_command "--from DEST".
COMMAND_KEYS = ("provision_command", "snapshot_command", "reimage_command")
STDERR_TAIL = 2000
PIP_TYPE = "microsoft.network/publicipaddresses"
VM_TYPE = "microsoft.compute/virtualmachines"
NIC_TYPE = "microsoft.network/networkinterfaces"


class GuestPool:
    def __init__(self, sim):
        self.sim = sim
        self.guests = {}  # name -> entry; insertion order is the "first free" order

    # -- persistence (Sim.snapshot / _load_state / reset) -----------------------------------------
    def dump(self):
        return {"guests": list(self.guests.values())}

    def load(self, data):
        self.guests = {entry["name"]: entry for entry in (data or {}).get("guests", [])}

    def reset(self):
        """A reset forgets the pool too: a guest registered by one test is never handed to the next."""
        self.guests = {}

    # -- registration -----------------------------------------------------------------------------
    def register(self, spec):
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise ArmError(400, "InvalidGuest", "A guest needs a 'name'.")
        try:
            address = str(ipaddress.IPv4Address(spec.get("address")))
        except (ipaddress.AddressValueError, ValueError, TypeError):
            raise ArmError(400, "InvalidGuest",
                           f"Guest '{name}' needs an IPv4 'address', got {spec.get('address')!r}.") from None
        for other in self.guests.values():
            if other["name"] != name and other["address"] == address:
                raise ArmError(409, "GuestAddressInUse", f"Address {address} already belongs to guest '{other['name']}'.")
        commands = {}
        for key in COMMAND_KEYS:
            command = spec.get(key)
            if command is not None and (not isinstance(command, list)
                                        or not all(isinstance(arg, str) for arg in command)):
                raise ArmError(400, "InvalidGuest", f"Guest '{name}': '{key}' must be a list of strings.")
            if command is not None or key == "provision_command":
                commands[key] = command
        ports = spec.get("ports") or {"ssh": 22}
        if not isinstance(ports, dict) or not all(isinstance(port, int) and not isinstance(port, bool)
                                                  for port in ports.values()):
            raise ArmError(400, "InvalidGuest", f"Guest '{name}': 'ports' must map names to port numbers.")
        os_type = str(spec.get("os", "linux")).lower()
        if os_type not in ("linux", "windows"):
            raise ArmError(400, "InvalidGuest", f"Guest '{name}': 'os' must be 'linux' or 'windows'.")
        previous = self.guests.get(name) or {}
        entry = {
            "name": name,
            "address": address,
            "ports": dict(ports),
            "os": os_type,
            **commands,
            "bound_to": previous.get("bound_to"),
            "vm": previous.get("vm"),
        }
        self.guests[name] = entry
        self.sim.store.touch()
        return entry

    def remove(self, name):
        entry = self.guests.pop(name, None)
        if entry is None:
            raise ArmError(404, "GuestNotFound", f"The guest '{name}' is not registered.")
        self.sim.store.touch()
        return entry

    # -- binding ------------------------------------------------------------------------------------
    def addresses(self):
        return {entry["address"] for entry in self.guests.values()}

    def bind(self, pip_id, wanted=None):
        """Bind a guest to a new public IP: the one asked for by name, else the first free one, else None."""
        if wanted:
            entry = self.guests.get(wanted)
            if entry is None:
                raise ArmError(400, "InvalidParameter",
                               f"The guest '{wanted}' requested by tag '{GUEST_TAG}' on public IP address {pip_id} is not "
                               "registered with the simulator.", target=f"tags.{GUEST_TAG}")
            if entry["bound_to"]:
                raise ArmError(400, "InvalidParameter",
                               f"The guest '{wanted}' requested by tag '{GUEST_TAG}' on public IP address {pip_id} is "
                               f"already bound to {entry['bound_to']}.", target=f"tags.{GUEST_TAG}")
        else:
            entry = next((item for item in self.guests.values() if not item["bound_to"]), None)
            if entry is None:
                return None
        entry["bound_to"] = pip_id
        entry["vm"] = None
        self.sim.store.touch()
        return entry

    def for_pip(self, pip_id):
        pip_id = (pip_id or "").lower()
        return next((item for item in self.guests.values() if (item["bound_to"] or "").lower() == pip_id), None)

    def on_deleted(self, body):
        """Deletion hook: a public IP going away frees its guest; a VM going away stops being served."""
        kind = body.get("type", "").lower()
        rid = body.get("id", "").lower()
        freed = []
        for entry in self.guests.values():
            if kind == PIP_TYPE and (entry["bound_to"] or "").lower() == rid:
                freed.append(entry)
            elif kind == VM_TYPE and (entry["vm"] or "").lower() == rid:
                entry["vm"] = None
            elif kind == NIC_TYPE and (entry["bound_to"] or "").lower().startswith(rid + "/ipconfigurations/"):
                freed.append(entry)  # a private binding goes with its NIC
        for entry in freed:
            entry["bound_to"] = None
            entry["vm"] = None
            # to the back of the line: a guest that never served a VM is bound first, so a used one (a build's,
            # whose files tests read afterwards) is reused only when no other is free
            self.guests[entry["name"]] = self.guests.pop(entry["name"])

    def bind_private(self, config_id, address):
        """The free guest listening on ``address`` bound to IP configuration ``config_id`` (a NIC without a public
        IP), or the guest already bound to it, or None."""
        for entry in self.guests.values():
            if (entry["bound_to"] or "").lower() == (config_id or "").lower():
                return entry
        entry = next((item for item in self.guests.values() if item["address"] == address and not item["bound_to"]),
                     None)
        if entry is not None:
            entry["bound_to"] = config_id
            entry["vm"] = None
            self.sim.store.touch()
        return entry


def pool(sim) -> GuestPool:
    return sim.extensions["guests"]


# -- provisioning -----------------------------------------------------------------------------------
def _primary(items):
    items = items or []
    return next((item for item in items if (item.get("properties") or {}).get("primary")), items[0] if items else None)


def guest_for_vm(sim, vm_body):
    """The guest bound to the public IP of the VM's primary NIC's primary IP configuration, or None."""
    props = vm_body.get("properties") or {}
    nic_ref = _primary((props.get("networkProfile") or {}).get("networkInterfaces"))
    nic = sim.store.get(nic_ref["id"]) if nic_ref and nic_ref.get("id") else None
    if nic is None:
        return None
    config = _primary(nic.get("properties", {}).get("ipConfigurations"))
    pip_id = (((config or {}).get("properties") or {}).get("publicIPAddress") or {}).get("id")
    if pip_id:
        return pool(sim).for_pip(pip_id)
    address = ((config or {}).get("properties") or {}).get("privateIPAddress")
    return pool(sim).bind_private(config.get("id"), address) if config and address else None


def provision_payload(vm_body, os_profile, guest):
    """What Azure's provisioning agent would apply, as the guest's provision_command reads it on stdin."""
    props = vm_body.get("properties") or {}
    os_profile = os_profile or {}
    linux = os_profile.get("linuxConfiguration") or {}
    keys = [key.get("keyData") for key in ((linux.get("ssh") or {}).get("publicKeys") or []) if key.get("keyData")]
    os_type = ((props.get("storageProfile") or {}).get("osDisk") or {}).get("osType") or guest["os"].capitalize()
    payload = {
        "vm_name": vm_body.get("name"),
        "computer_name": os_profile.get("computerName") or vm_body.get("name"),
        "admin_username": os_profile.get("adminUsername"),
        "ssh_public_keys": keys,
        "custom_data": os_profile.get("customData"),
        "vm_id": props.get("vmId"),
        "os_type": os_type,
    }
    if os_profile.get("adminPassword"):
        payload["admin_password"] = os_profile["adminPassword"]
    return payload


def provision_vm(sim, vm_body, os_profile_with_secrets, filesystem=None):
    """Run the bound guest's provision_command for a VM that finished creating.

    ``filesystem``: the directory of the image's filesystem (docs/image-filesystems.md); a guest with a
    ``reimage_command`` is first restarted from it. Returns None on success or when there is nothing to provision
    (no bound guest, no command), else an error ``{"code", "message"}``: ``OSProvisioningTimedOut`` when the
    guest's agent skipped provisioning (exit status 75: the image was not deprovisioned), else
    ``OSProvisioningClientError`` with the tail of the command's stderr.
    """
    guest = guest_for_vm(sim, vm_body)
    if guest is None:
        return None
    guest["vm"] = vm_body.get("id")
    sim.store.touch()
    if not guest.get("provision_command"):
        return None
    vm_name = vm_body.get("name")
    if filesystem and guest.get("reimage_command"):
        failed = _run(guest, "reimage", list(guest["reimage_command"]) + ["--from", filesystem], None,
                      REIMAGE_TIMEOUT_S, vm_name)
        if failed:
            return {"code": "OSProvisioningClientError", "message": failed[1]}
    payload = json.dumps(provision_payload(vm_body, os_profile_with_secrets, guest)).encode("utf-8")
    failed = _run(guest, "provisioning", guest["provision_command"], payload, PROVISION_TIMEOUT_S, vm_name)
    if not failed:
        return None
    returncode, message = failed
    if returncode == PROVISIONING_SKIPPED_RC:
        return {"code": "OSProvisioningTimedOut",
                "message": f"{TIMED_OUT_MESSAGE.format(vm=vm_name)} (azsim: {message})"}
    return {"code": "OSProvisioningClientError", "message": message}


def run_command(command, stdin=None, timeout=None):
    """Run one guest command (blocking the simulator: it is part of the operation that is finishing):
    (exit status, stderr tail), or (None, why) when it timed out or could not start."""
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} seconds"
    except OSError as err:
        return None, f"could not run: {err}"
    return done.returncode, done.stderr.decode("utf-8", "replace").strip()[-STDERR_TAIL:]


def _run(guest, what, command, stdin, timeout, vm_name):
    """Run one provisioning command; None when it succeeded, else (exit status or None, message)."""
    status, detail = run_command(command, stdin, timeout)
    if status == 0:
        return None
    if status is None:
        return None, f"OS provisioning for VM '{vm_name}' did not finish: guest '{guest['name']}' {what} command {detail}."
    return status, (f"OS provisioning for VM '{vm_name}' failed: guest '{guest['name']}' {what} command "
                    f"exited with code {status}: {detail}")


def bind_public_ip(sim, pip_body):
    """Called when a public IP is created: bind a guest and return its address, or None."""
    wanted = (pip_body.get("tags") or {}).get(GUEST_TAG)
    entry = pool(sim).bind(pip_body["id"], wanted)
    if entry is None:
        return None
    private(pip_body)["guest"] = entry["name"]
    return entry["address"]
