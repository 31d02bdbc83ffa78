# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the controller side of the builder role, in one process (the ``build_hosts`` action).

For every build: merge its settings over the role's defaults, check them all before anything changes, choose the
NSG source (the controller's public address unless given), make the per-build directory and keys, create the build
environment (``_build_vm.create``, every build concurrently in threads of this one process), pin the host key or
WinRM certificate, and wait for SSH or WinRM to answer. Plain values in, plain values out; the action plugin adds
the Ansible parts (arguments, result, no_log).
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import json
import os
import re
import secrets
import socket
import time

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import register_secret
from ansible_collections.goldenimage.azure.plugins.module_utils import _build_vm
from ansible_collections.goldenimage.azure.plugins.module_utils._progress import Ticker

# What a build VM takes from its item, over the defaults (the role's builder_* variables without the prefix).
VM_KEYS = ("name", "build_id", "location", "image", "plan", "os_type", "vm_size", "admin_username", "admin_password",
           "run_id", "os_disk_type", "os_disk_size_gb", "os_disk_tier", "security_type", "allowed_sources",
           "allow_any_source", "winrm_certificate_url", "key_vault_id", "winrm_per_build_certificate",
           "resource_group", "tags", "public_ip_tags", "data_disks", "security_encryption_type",
           "subnet_id", "public_ip", "jump_host", "disk_encryption_set", "encryption_at_host")
# A jump host for ProxyJump: [user@]host[:port], nothing ssh could read as an option or a second host.
JUMP_HOST = re.compile(r"^(?:[A-Za-z0-9._-]{1,64}@)?(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
MAX_THREADS = 16


class BuildHostsError(Exception):
    """A refusal before anything was created; the message names the setting and what is allowed."""


# -- describing -------------------------------------------------------------------------------------------------
def describe(vms, defaults, run_id, build_dir):
    """One item per build (``vms``, or one from the defaults alone), merged, named and checked."""
    items = []
    for vm in vms or [{}]:
        unknown = sorted(set(vm) - set(VM_KEYS))
        if unknown:
            raise BuildHostsError("builder_vms: unknown setting(s) %s; allowed: %s"
                                  % (", ".join(unknown), ", ".join(VM_KEYS)))
        item = dict(defaults)
        item.update(vm)
        item["name"] = item.get("name") or item.get("build_id") or ""
        item["run_id"] = item.get("run_id") or run_id
        build_id = item.get("build_id")
        if not isinstance(build_id, str) or not _build_vm.BUILD_ID.match(build_id) or ".." in build_id:
            raise BuildHostsError(
                "Build '%s': build_id '%s' must be 1-60 letters, digits, '-', '_' or '.', starting with a letter or "
                "digit, not ending with '.', without '..' or '/' (it names a resource group and a directory)."
                % (item["name"], build_id or ""))
        if not _build_vm.RUN_ID.match(str(item["run_id"])):
            raise BuildHostsError("Build '%s': run_id '%s' is not allowed: use 1-64 letters, digits, '-' or '_'."
                                  % (item["name"], item["run_id"]))
        if not item.get("location") or not item.get("image"):
            raise BuildHostsError("Build '%s': a location and a resolved image are required." % item["name"])
        if item.get("os_type") not in ("linux", "windows"):
            raise BuildHostsError("Build '%s': os_type must be linux or windows, not %r."
                                  % (item["name"], item.get("os_type")))
        item["resource_group"] = item.get("resource_group") or "gi-build-%s" % build_id
        item["dir"] = os.path.join(build_dir, build_id)
        check_private(item)
        item["winrm_pinned"] = bool(item["os_type"] == "windows" and item.get("winrm_per_build_certificate")
                                    and not item.get("winrm_certificate_url"))
        items.append(item)
    names = [item["name"] for item in items]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise BuildHostsError("builder_vms: more than one build is named %s; names must be unique." % ", ".join(clashes))
    return items


def check_private(item):
    """A private build's settings (``subnet_id``, ``public_ip``, ``jump_host``), before anything is created.

    ``public_ip`` is a boolean; a jump host is ``[user@]host[:port]`` and only for SSH (WinRM through a jump host is
    not supported); a build without a public IP needs its NSG sources named, since the controller's public address
    (what discovery finds) is not where a private connection comes from.
    """
    if item.get("public_ip") in (None, ""):
        item["public_ip"] = True
    if not isinstance(item["public_ip"], bool):
        raise BuildHostsError("Build '%s': public_ip must be true or false, not %r." % (item["name"], item["public_ip"]))
    jump = item.get("jump_host") or ""
    if jump:
        if not isinstance(jump, str) or not JUMP_HOST.match(jump):
            raise BuildHostsError("Build '%s': jump_host %r is not allowed; give [user@]host[:port] (letters, digits, "
                                  "'.', '-', '_'), as ssh -J takes it." % (item["name"], jump))
        if item.get("os_type") == "windows":
            raise BuildHostsError("Build '%s': jump_host is for SSH only; a Windows build (WinRM) through a jump host is "
                                  "not supported - reach its private address directly, or give no jump_host."
                                  % item["name"])
    item["jump_host"] = jump
    if item["public_ip"] is False and not item.get("allowed_sources"):
        raise BuildHostsError("Build '%s': allowed_sources is required with public_ip: false - give the private address "
                              "the builder connects from (the controller's or the jump host's, for example "
                              "[10.20.0.4/32]); the controller's public address is never the source of a private "
                              "connection." % item["name"])


def passwords(items):
    """The Windows administrator passwords: the item's, else a random one per build (never printed)."""
    chosen = {}
    for item in items:
        if item["os_type"] != "windows":
            continue
        password = item.get("admin_password") or _random_password()
        register_secret(password)
        chosen[item["name"]] = password
    return chosen


def _random_password():
    rand = secrets.SystemRandom()
    pools = (("abcdefghijklmnopqrstuvwxyz", 14), ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 8), ("0123456789", 6), ("-_.!", 2))
    chars = [rand.choice(pool) for pool, count in pools for unused in range(count)]
    rand.shuffle(chars)
    return "".join(chars)


# -- the NSG source ---------------------------------------------------------------------------------------------
def controller_sources(items, address_url, fetch):
    """Give every item without allowed_sources the controller's public address (/32 or /128), then check them all.

    ``fetch(url)`` returns the "what is my IP" reply text ({"ip": ...} or the bare address)."""
    if any(not item.get("allowed_sources") for item in items):
        address = _discover(address_url, fetch)
        for item in items:
            if not item.get("allowed_sources"):
                item["allowed_sources"] = [address + ("/128" if ":" in address else "/32")]
    for item in items:
        try:
            item["allowed_sources"] = _build_vm.check_sources(item["allowed_sources"], bool(item.get("allow_any_source")))
        except AzureError as err:
            raise BuildHostsError("Build '%s': builder_%s" % (item["name"], err.message)) from None


def _discover(address_url, fetch):
    advice = "Set builder_allowed_sources to the controller's public address (for example [203.0.113.7/32])."
    if not address_url:
        raise BuildHostsError("builder_allowed_sources is empty and the controller's public address is not discovered "
                              "(builder_public_address_url is empty). " + advice)
    try:
        text = (fetch(address_url) or "").strip()
    except Exception as exc:  # pylint: disable=broad-except  # any failure of the service is reported the same way
        raise BuildHostsError("builder_allowed_sources is empty and the controller's public address could not be "
                              "discovered from %s: %s. %s" % (address_url, exc, advice)) from None
    address = text
    if text.startswith("{"):
        try:
            address = str(json.loads(text).get("ip", ""))
        except ValueError:
            address = ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise BuildHostsError("builder_allowed_sources is empty and the controller's public address could not be "
                              "discovered from %s: not an address: %r. %s" % (address_url, text[:100], advice)) from None


# -- the controller's files -----------------------------------------------------------------------------------------
def prepare_files(item):
    """The build directory (0700) and its keys, each made once: an SSH client key and host key (Linux), the WinRM
    certificate key (Windows, per-build certificate). Returns the paths it created."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    os.makedirs(item["dir"], mode=0o700, exist_ok=True)
    os.chmod(item["dir"], 0o700)
    created = []
    if item["os_type"] == "linux":
        for base, comment in (("id_ed25519", "goldenimage-build-"), ("ssh_host_ed25519_key", "goldenimage-host-")):
            path = os.path.join(item["dir"], base)
            if os.path.exists(path):
                continue
            key = ed25519.Ed25519PrivateKey.generate()
            public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            _write(path + ".pub", public + (" %s%s\n" % (comment, item["build_id"])).encode(), 0o644)
            _write(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                           serialization.NoEncryption()), 0o600)
            created.append(path)
    if item["winrm_pinned"]:
        path = os.path.join(item["dir"], "winrm_key.pem")
        if not os.path.exists(path):
            key = ec.generate_private_key(ec.SECP256R1())
            _write(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()), 0o600)
            created.append(path)
    return created


def _write(path, data, mode):
    descriptor = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(path + ".tmp", mode)
    os.replace(path + ".tmp", path)


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


# -- one build --------------------------------------------------------------------------------------------------
def build_vm_params(item, password, create_timeout, build_vm_spec, lease_seconds=None):
    """The validated ``build_vm`` parameters of one build (the module's own argument spec), and its no_log values.

    ``lease_seconds``: the lease of the build's temporary group (build_vm's option; its default when None)."""
    raw = {
        "build_id": item["build_id"], "run_id": item["run_id"], "resource_group": item["resource_group"],
        "location": item["location"], "image": item["image"], "plan": item.get("plan") or None,
        "os_type": item["os_type"], "vm_size": item["vm_size"], "admin_username": item["admin_username"],
        "os_disk_type": item["os_disk_type"], "security_type": item["security_type"],
        "os_disk_size_gb": int(item.get("os_disk_size_gb") or 0) or None, "os_disk_tier": item.get("os_disk_tier") or None,
        "allowed_sources": item["allowed_sources"], "allow_any_source": bool(item.get("allow_any_source")),
        "tags": item.get("tags") or {}, "public_ip_tags": item.get("public_ip_tags") or {},
        "wait_timeout": int(create_timeout),
        "data_disks": item.get("data_disks") or [],
        "public_ip": item.get("public_ip") is not False,
    }
    if lease_seconds is not None:
        raw["lease_seconds"] = int(lease_seconds)
    if item.get("subnet_id"):
        raw["subnet_id"] = item["subnet_id"]
    if item.get("security_encryption_type"):  # a choice: absent, not None, when unset
        raw["security_encryption_type"] = item["security_encryption_type"]
    if item.get("disk_encryption_set"):  # customer-managed keys for every disk (build_vm checks the set first)
        raw["disk_encryption_set"] = item["disk_encryption_set"]
    if item.get("encryption_at_host"):
        raw["encryption_at_host"] = True
    if item["os_type"] == "linux":
        raw["ssh_public_key"] = _read(os.path.join(item["dir"], "id_ed25519.pub"))
        raw["ssh_host_key"] = {"private_key": _read(os.path.join(item["dir"], "ssh_host_ed25519_key")),
                               "public_key": _read(os.path.join(item["dir"], "ssh_host_ed25519_key.pub"))}
    else:
        raw["admin_password"] = password
        if item.get("winrm_certificate_url"):
            raw["winrm_certificate_url"] = item["winrm_certificate_url"]
        if item.get("key_vault_id"):
            raw["key_vault_id"] = item["key_vault_id"]
        if item["winrm_pinned"]:
            raw["winrm_private_key"] = _read(os.path.join(item["dir"], "winrm_key.pem"))
    validated = ArgumentSpecValidator(build_vm_spec).validate(raw)
    if validated.error_messages:
        raise BuildHostsError("Build '%s': %s" % (item["name"], "; ".join(validated.error_messages)))
    try:  # every build's data disks (LUNs, sizes) before any build is created; the size limit is build_vm's
        _build_vm.check_data_disks(validated.validated_parameters.get("data_disks"),
                                   validated.validated_parameters.get("os_disk_type") or "Premium_LRS")
        _build_vm.check_lease(validated.validated_parameters.get("lease_seconds"))
    except AzureError as err:
        raise BuildHostsError("Build '%s': builder_%s" % (item["name"], err.message)) from None
    no_log = set(validated._no_log_values)  # pylint: disable=protected-access  # what AnsibleModule scrubs too
    for key in ("ssh_host_key", "winrm_private_key"):
        if isinstance(raw.get(key), dict):
            no_log.add(raw[key]["private_key"])
        elif raw.get(key):
            no_log.add(raw[key])
    for value in no_log:
        register_secret(value)
    return validated.validated_parameters, no_log


def record(item, ok=True, phase="create build VM", msg="", vm=None):
    """The builder_results entry of one build."""
    return {
        "name": item["name"], "build_id": item["build_id"], "run_id": item["run_id"],
        "resource_group": item["resource_group"], "dir": item["dir"],
        "known_hosts": os.path.join(item["dir"], "known_hosts"),
        "winrm_certificate": os.path.join(item["dir"], "winrm_cert.pem") if item["winrm_pinned"] else "",
        "os_type": item["os_type"], "ok": ok, "phase": phase, "msg": msg, "vm": vm or {},
    }


def create_one(session, item, params, no_log, check_mode, connect_timeout, wait_for_port):
    """Create one build environment, pin its host key or certificate, wait for its port. Returns its record."""
    try:
        vm = _build_vm.create(session, params, check_mode)
    except AzureError as err:
        msg = err.message + (" (%s)" % err.code if err.code and err.code not in err.message else "")
        return record(item, ok=False, msg=msg)
    except Exception as exc:  # pylint: disable=broad-except  # one build's crash must not lose the others' results
        return record(item, ok=False, msg=remove_values("%s: %s" % (type(exc).__name__, exc), no_log))
    vm = remove_values(vm, no_log)
    entry = record(item, vm=vm)
    # Where Ansible connects: the public IP, else (a private build) the NIC's private address, maybe through a jump.
    address = vm.get("public_ip") or vm.get("private_ip")
    entry.update(address=address, jump_host=item.get("jump_host") or "")
    if address and item["os_type"] == "linux":
        _write(entry["known_hosts"], ("%s %s" % (address, _read(os.path.join(
            item["dir"], "ssh_host_ed25519_key.pub")).strip()) + "\n").encode(), 0o600)
    if entry["winrm_certificate"] and vm.get("winrm_certificate"):
        # only the run that created the VM gets the certificate back; a rerun keeps the file the first run wrote
        _write(entry["winrm_certificate"], vm["winrm_certificate"].encode(), 0o600)
    if wait_for_port and not check_mode and not entry["jump_host"]:  # through a jump: wait_for_connection waits
        error = wait_port(address, vm.get("port"), connect_timeout)
        if error:
            entry.update(ok=False, phase="wait for " + ("SSH" if item["os_type"] == "linux" else "WinRM"),
                         msg="nothing answered on %s:%s within %s s: %s"
                         % (address, vm.get("port"), connect_timeout, error))
    return entry


def wait_port(host, port, timeout, sleep=0.5):
    """None once a TCP connection to host:port succeeds, else the last error at the bound."""
    if not host or not port:
        return "no address (neither a public nor a private IP)"
    deadline = time.monotonic() + float(timeout)
    ticker = Ticker("wait for %s:%s to answer" % (host, port))
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=min(5.0, max(0.1, deadline - time.monotonic()))):
                return None
        except OSError as exc:
            if time.monotonic() + sleep > deadline:
                return str(exc)
            time.sleep(sleep)
            ticker.tick()


def create_all(session, items, prepared, check_mode, connect_timeout, wait_for_port):
    """Every build concurrently (threads of this process); results in the order of ``items``."""
    workers = max(1, min(MAX_THREADS, len(items)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(create_one, session, item, params, no_log, check_mode, connect_timeout, wait_for_port)
                   for item, (params, no_log) in zip(items, prepared)]
        return [future.result() for future in futures]
