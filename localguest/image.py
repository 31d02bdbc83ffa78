"""What an Azure VM's disk holds: first-boot leftovers of the image and the agent, then provisioning.

``seed_first_boot`` runs on the host before the guest starts (the VM booted, the agent and cloud-init ran,
nobody provisioned yet). ``provision`` does what Azure's provisioning (waagent/cloud-init reading
``ovf-env.xml``) does with the VM's ``osProfile``: host name, admin user, keys, sudo, agent and cloud-init
instance state. Files are written from the host into the guest's root, never following a symlink out of it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
import uuid
from pathlib import Path
from xml.sax.saxutils import escape

from .errors import GuestError, ProvisioningSkipped

USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# Azure refuses these admin user names (osProfile.adminUsername).
RESERVED_USERS = {
    "root", "admin", "administrator", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp",
    "proxy", "www-data", "backup", "list", "irc", "gnats", "nobody", "sshd", "messagebus", "systemd-network",
    "test", "user", "user1", "guest", "support", "owner", "sql", "console", "server", "adm", "sudo",
}
SUDO_GROUPS = "adm,sudo"
CLOUD_INIT_VERSION = "22.4.2"
AGENT_VERSION = "2.7.3.0"
# Dummy SHA-512 hash of a throwaway password: images often carry one; waagent locks it (DeleteRootPassword=y).
ROOT_PASSWORD_HASH = "$6$lgroot0123456789$.img/42SsUNbMN.I8F4JyhhTrUaqQw/IA/0h4g7rx3jtsUOoNxrPsmH7HoZrRFbfDahc93Va.tSCOV45c2dpM."
AZURE_DNS = "168.63.129.16"
DNS_SUFFIX = "reddog.microsoft.com"


def _stamp(fmt="%Y-%m-%dT%H:%M:%S.000000Z") -> str:
    return time.strftime(fmt, time.gmtime())


def _host_path(root: Path, guest_path: str) -> Path:
    """Host path for ``guest_path``; refuses parents that resolve outside the guest (absolute symlinks)."""
    path = root / guest_path.lstrip("/")
    parent = Path(os.path.realpath(path.parent))
    real_root = Path(os.path.realpath(root))
    if parent != real_root and real_root not in parent.parents:
        raise GuestError(f"{guest_path}: a parent is a symlink leaving the guest ({parent})")
    return path


def _ensure_dir(root: Path, guest_path: str, mode=0o755, uid=0, gid=0) -> Path:
    path = _host_path(root, guest_path)
    if not path.is_dir():
        if path.is_symlink() or path.exists():
            path.unlink()
        path.mkdir(parents=True)
    os.chown(path, uid, gid, follow_symlinks=False)
    os.chmod(path, mode)
    return path


def write(root: Path, guest_path: str, content, mode=0o644, uid=0, gid=0, only_if_missing=False) -> bool:
    """Write a file in the guest (atomically, replacing a symlink rather than following it). True if changed."""
    data = content.encode() if isinstance(content, str) else content
    path = _host_path(root, guest_path)
    if path.exists() and not path.is_symlink():
        if only_if_missing:
            return False
        stat = path.stat()
        if (path.read_bytes() == data and stat.st_mode & 0o7777 == mode and stat.st_uid == uid
                and stat.st_gid == gid):
            return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.localguest-tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.chown(tmp, uid, gid)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


def symlink(root: Path, guest_path: str, target: str) -> bool:
    path = _host_path(root, guest_path)
    if path.is_symlink() and os.readlink(path) == target:
        return False
    if path.is_symlink() or path.is_file():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)
    return True


def _lease(address: str, hostname: str) -> str:
    now = time.time()
    fmt = "%w %Y/%m/%d %H:%M:%S"
    renew, rebind, expire = (time.strftime(fmt, time.gmtime(now + delta)) for delta in (43200, 75600, 86400))
    return (
        "lease {\n"
        '  interface "eth0";\n'
        f"  fixed-address {address};\n"
        f'  server-name "RD{hashlib.sha1(hostname.encode()).hexdigest()[:12].upper()}";\n'
        "  option subnet-mask 255.255.255.0;\n"
        "  option routers 10.0.0.1;\n"
        "  option dhcp-lease-time 4294967295;\n"
        "  option dhcp-message-type 5;\n"
        f"  option domain-name-servers {AZURE_DNS};\n"
        f"  option dhcp-server-identifier {AZURE_DNS};\n"
        "  option unknown-245 a8:3f:81:10;\n"
        f'  option host-name "{hostname}";\n'
        f'  option domain-name "{DNS_SUFFIX}";\n'
        f"  renew {renew};\n  rebind {rebind};\n  expire {expire};\n"
        "}\n"
    )


def _set_root_password(root: Path) -> None:
    shadow = _host_path(root, "/etc/shadow")
    lines = shadow.read_text().splitlines(keepends=True)
    for index, line in enumerate(lines):
        fields = line.split(":")
        if fields[0] == "root" and fields[1] != ROOT_PASSWORD_HASH:
            fields[1] = ROOT_PASSWORD_HASH
            lines[index] = ":".join(fields)
    write(root, "/etc/shadow", "".join(lines), mode=0o640, gid=_group_id(root, "shadow"))


def _group_id(root: Path, group: str) -> int:
    for line in _host_path(root, "/etc/group").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == group:
            return int(fields[2])
    raise GuestError(f"group {group} not found in the guest")


def _passwd_entry(root: Path, user: str):
    for line in _host_path(root, "/etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3]), fields[5]
    return None


def seed_first_boot(guest, image_boot: bool = False) -> None:
    """The state of a VM that booted from the image, before provisioning: agent, cloud-init, DHCP, DNS.

    ``image_boot``: the guest's files are a captured image's (a reimage). Then first boot regenerates only what
    the image lacks, as a real boot does: host keys only when missing (``ssh-keygen -A``), machine-id only when
    ``/etc/machine-id`` is missing or empty (systemd), the DHCP lease and ``resolv.conf`` (dhclient); the image's
    host name, hosts, root password, users and agent state stay as they are (provisioning sets the host name)."""
    import subprocess

    root = guest.root
    name = guest.name
    if not image_boot:
        write(root, "/etc/hostname", f"{name}\n")
        write(root, "/etc/hosts", f"127.0.0.1\tlocalhost\n127.0.1.1\t{name}\n\n"
                                  "::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\n"
                                  "ff02::2\tip6-allrouters\n")
    elif not _read(root, "/etc/hostname").strip():
        write(root, "/etc/hostname", "localhost\n")  # the chroot init names the host from it
    # sshd inside the guest's own network namespace (only lo there); the host forwards address:port to it.
    write(root, "/etc/ssh/sshd_config.d/00-localguest.conf",
          "# localguest: sshd listens inside the guest's network namespace; the host forwards to it\n"
          "Port 22\nListenAddress 127.0.0.1\nUseDNS no\nPasswordAuthentication no\n")
    # Fresh host keys per guest, as first boot generates them (ssh-keygen -A with a prefix).
    subprocess.run(["ssh-keygen", "-A", "-f", str(root)], check=True, capture_output=True)
    if not image_boot or not _read(root, "/etc/machine-id").strip():
        write(root, "/etc/machine-id", uuid.uuid4().hex + "\n", mode=0o444)
    if not image_boot:
        _set_root_password(root)
    write(root, "/etc/resolv.conf", f"# Generated by dhclient\nsearch {DNS_SUFFIX}\nnameserver {AZURE_DNS}\n")
    _ensure_dir(root, "/var/lib/dhcp")
    write(root, "/var/lib/dhcp/dhclient.eth0.leases", _lease("10.0.0.4", name))
    # The agent's first contact with the wire server.
    _ensure_dir(root, "/var/lib/waagent", mode=0o700)
    container = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"container.{name}"))
    role_instance = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"role.{name}"))
    write(root, "/var/lib/waagent/Incarnation", "1", mode=0o600)
    write(root, "/var/lib/waagent/Protocol", "WireProtocol", mode=0o600)
    write(root, "/var/lib/waagent/GoalState.1.xml", (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<GoalState xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="goalstate10.xsd"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        "  <Version>2012-11-30</Version>\n  <Incarnation>1</Incarnation>\n"
        "  <Machine><ExpectedState>Started</ExpectedState><StopRolesDeadlineHint>300000</StopRolesDeadlineHint>"
        "</Machine>\n"
        f"  <Container><ContainerId>{container}</ContainerId><RoleInstanceList><RoleInstance>"
        f"<InstanceId>{role_instance}._{name}</InstanceId><State>Started</State></RoleInstance></RoleInstanceList>"
        "</Container>\n</GoalState>\n"), mode=0o600)
    status = {"version": "1.1", "timestampUTC": _stamp(),
              "aggregateStatus": {"guestAgentStatus": {"version": AGENT_VERSION, "status": "Ready"}}}
    write(root, "/var/lib/waagent/waagent_status.1.json", json.dumps(status) + "\n", mode=0o600)
    _ensure_dir(root, "/var/lib/waagent/history", mode=0o700)
    write(root, "/var/log/waagent.log",
          f"{_stamp()} INFO Daemon Azure Linux Agent Version: {AGENT_VERSION}\n"
          f"{_stamp()} INFO Daemon OS: debian 12\n"
          f"{_stamp()} INFO Daemon Wire server endpoint:{AZURE_DNS}\n"
          f"{_stamp()} INFO Daemon Fetched a new incarnation for the WireServer goal state [incarnation 1]\n",
          only_if_missing=True)
    _ensure_dir(root, "/var/log/azure")
    _ensure_dir(root, "/var/log/azure/Microsoft.CPlat.Core.RunCommandLinux")
    write(root, "/var/log/azure/Microsoft.CPlat.Core.RunCommandLinux/handler.log",
          f"time={_stamp()} version=v1.3.9 operation=enable seq=0 event=start\n", only_if_missing=True)
    # cloud-init's first stages ran (instance state comes with provisioning, once the instance id is known).
    write(root, "/var/log/cloud-init.log",
          f"{_stamp('%Y-%m-%d %H:%M:%S,000')} - util.py[DEBUG]: Cloud-init v. {CLOUD_INIT_VERSION} running "
          "'init-local'\n", only_if_missing=True)
    write(root, "/var/log/cloud-init-output.log", f"Cloud-init v. {CLOUD_INIT_VERSION} running 'init-local'\n",
          only_if_missing=True)
    _ensure_dir(root, "/var/lib/cloud/data")
    write(root, "/var/lib/cloud/data/python-version", "3.11\n", only_if_missing=True)


def ovf_env(hostname: str, user: str, keys: list[str], custom_data: str | None, password: bool = False) -> str:
    """The OVF environment document Azure attaches to a Linux VM (what waagent reads for ``+user``)."""
    public_keys = "".join(
        "          <PublicKey>\n"
        f"            <Fingerprint>{hashlib.sha1(key.encode()).hexdigest().upper()}</Fingerprint>\n"
        f"            <Path>/home/{escape(user)}/.ssh/authorized_keys</Path>\n"
        f"            <Value>{escape(key)}</Value>\n"
        "          </PublicKey>\n" for key in keys)
    custom = f"      <CustomData>{escape(custom_data)}</CustomData>\n" if custom_data else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" '
        'xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" xmlns:wa="http://schemas.microsoft.com/windowsazure" '
        'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">\n'
        "  <wa:ProvisioningSection>\n"
        "    <wa:Version>1.0</wa:Version>\n"
        '    <LinuxProvisioningConfigurationSet xmlns="http://schemas.microsoft.com/windowsazure" '
        'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">\n'
        "      <ConfigurationSetType>LinuxProvisioningConfiguration</ConfigurationSetType>\n"
        f"      <HostName>{escape(hostname)}</HostName>\n"
        f"      <UserName>{escape(user)}</UserName>\n"
        f"      <DisableSshPasswordAuthentication>{'false' if password else 'true'}</DisableSshPasswordAuthentication>\n"
        "      <SSH>\n        <PublicKeys>\n"
        f"{public_keys}"
        "        </PublicKeys>\n        <KeyPairs />\n      </SSH>\n"
        f"{custom}"
        "    </LinuxProvisioningConfigurationSet>\n"
        "  </wa:ProvisioningSection>\n"
        "  <wa:PlatformSettingsSection>\n"
        "    <wa:Version>1.0</wa:Version>\n"
        '    <PlatformSettings xmlns="http://schemas.microsoft.com/windowsazure" '
        'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">\n'
        "      <ProvisionGuestAgent>true</ProvisionGuestAgent>\n"
        '      <GuestAgentPackageName i:nil="true" />\n'
        "      <PreprovisionedVm>false</PreprovisionedVm>\n"
        "    </PlatformSettings>\n"
        "  </wa:PlatformSettingsSection>\n"
        "</Environment>\n")


def _payload(payload: dict, guest) -> dict:
    if not isinstance(payload, dict):
        raise GuestError("the provisioning payload must be a JSON object")
    os_type = (payload.get("os_type") or "linux").lower()
    if os_type != "linux":
        raise GuestError(f"guest {guest.name} is a Linux guest; cannot provision os_type {payload.get('os_type')!r}")
    user = payload.get("admin_username") or ""
    if not USER_RE.match(user) or user in RESERVED_USERS:
        raise GuestError(f"invalid admin_username {user!r} (Azure refuses reserved or malformed names)")
    keys = payload.get("ssh_public_keys") or []
    if isinstance(keys, str):
        keys = [keys]
    keys = [key.get("key_data") or key.get("keyData") if isinstance(key, dict) else key for key in keys]
    keys = [key.strip() for key in keys if key and key.strip()]
    password = payload.get("admin_password") or None
    if not keys and not password:
        raise GuestError("neither ssh_public_keys nor admin_password: Azure refuses a Linux VM without either")
    vm_name = payload.get("vm_name") or guest.name
    computer = payload.get("computer_name") or vm_name
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$", computer):
        raise GuestError(f"invalid computer_name {computer!r}")
    vm_id = payload.get("vm_id") or str(uuid.uuid5(uuid.NAMESPACE_URL, f"localguest:{guest.name}:{vm_name}"))
    custom = payload.get("custom_data") or None
    return {"user": user, "keys": keys, "password": password, "vm_name": vm_name, "computer": computer, "vm_id": str(vm_id).lower(),
            "custom": custom}


HOST_KEY_TYPES = ("rsa", "ecdsa", "ed25519")


def cloud_config_host_keys(custom: bytes) -> dict:
    """The ``ssh_keys`` of a ``#cloud-config`` custom data (cloud-init's cc_ssh), as {type: (private, public)}."""
    text = custom.decode("utf-8", "replace") if isinstance(custom, bytes) else str(custom)
    if not text.lstrip().startswith("#cloud-config"):
        return {}
    try:
        import yaml

        config = yaml.safe_load(text) or {}
    except Exception as exc:  # noqa: BLE001 - cloud-init logs and ignores a broken cloud-config; we refuse it
        raise GuestError(f"custom data is a #cloud-config that does not parse: {exc}") from None
    keys = (config.get("ssh_keys") or {}) if isinstance(config, dict) else {}
    found = {}
    for kind in HOST_KEY_TYPES:
        private, public = keys.get(f"{kind}_private"), keys.get(f"{kind}_public")
        if private and public:
            found[kind] = (str(private).strip() + "\n", str(public).strip() + "\n")
    return found


def install_host_keys(guest, host_keys: dict) -> bool:
    """Install the given host keys as cloud-init does (``ssh_deletekeys`` first), then let sshd reload them."""
    root = guest.root
    wanted = {f"/etc/ssh/ssh_host_{kind}_key": pair for kind, pair in host_keys.items()}
    if all(_read(root, path) == pair[0] and _read(root, path + ".pub") == pair[1] for path, pair in wanted.items()):
        return False
    for kind in HOST_KEY_TYPES:
        for suffix in ("", ".pub"):
            path = _host_path(root, f"/etc/ssh/ssh_host_{kind}_key{suffix}")
            if path.exists():
                path.unlink()
    for path, (private, public) in wanted.items():
        write(root, path, private, mode=0o600)
        write(root, path + ".pub", public, mode=0o644)
    # SIGHUP: the listening sshd re-executes itself and reads the new host keys (as if cloud-init had run first).
    pid = guest.nsenter("cat", "/run/sshd.pid", check=False).stdout.strip()
    if pid.isdigit():
        guest.nsenter("kill", "-HUP", pid, check=False)
        _wait_sshd(guest, [pair[1] for pair in host_keys.values()])
    return True


def _wait_sshd(guest, public_keys, timeout: float = 10.0) -> None:
    """Bounded wait until sshd (re-executed on SIGHUP) serves the new host key (ssh-keyscan)."""
    import subprocess

    wanted = {" ".join(key.split()[:2]) for key in public_keys}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        scan = subprocess.run(["ssh-keyscan", "-T", "2", "-t", "ed25519,rsa,ecdsa", "-p", str(guest.port), guest.address],
                              capture_output=True, text=True, check=False)
        served = {" ".join(line.split()[1:3]) for line in scan.stdout.splitlines() if line and not line.startswith("#")}
        if served and served <= wanted:
            return
        time.sleep(0.1)
    raise GuestError(f"guest {guest.name}: sshd did not serve the provisioned host key within {timeout:.0f} s")


# Agent state in a captured image that makes the agent skip provisioning (azsim/docs/image-filesystems.md).
PROVISIONED_MARKER = "/var/lib/waagent/provisioned"


def provisioning_leftovers(root: Path) -> list[str]:
    """What in an image's files makes Azure's agent believe the VM is already provisioned."""
    path = _host_path(root, PROVISIONED_MARKER)
    return [PROVISIONED_MARKER] if path.exists() or path.is_symlink() else []


def provision(guest, payload: dict) -> dict:
    """Apply the VM's osProfile to a running guest. Idempotent: a second run changes nothing.

    On a reimaged guest's first provisioning (``guest.image_boot``) an image that still has the agent's
    ``provisioned`` marker is not provisioned: waagent skips provisioning, no admin user is created
    (:class:`~localguest.errors.ProvisioningSkipped`, exit status 75 on the command line)."""
    spec = _payload(payload, guest)
    # Before the first provisioning after a reimage the marker can only be the image's (provisioning writes it).
    leftovers = provisioning_leftovers(guest.root) if getattr(guest, "image_boot", False) else []
    if leftovers:
        raise ProvisioningSkipped(
            f"guest {guest.name}: the image still has {', '.join(leftovers)} (not deprovisioned): the "
            f"agent believes the VM is already provisioned and skips provisioning; user {spec['user']} was not "
            "created")
    root = guest.root
    user, computer, vm_id = spec["user"], spec["computer"], spec["vm_id"]
    changed = []

    def track(what, did):
        if did:
            changed.append(what)

    # Host name: the file and the running (UTS namespace) name.
    track("hostname", write(root, "/etc/hostname", f"{computer}\n"))
    hosts = _host_path(root, "/etc/hosts").read_text()
    new_hosts = re.sub(r"(?m)^127\.0\.1\.1\s.*$", f"127.0.1.1\t{computer}", hosts)
    if "127.0.1.1" not in new_hosts:
        new_hosts += f"127.0.1.1\t{computer}\n"
    track("hosts", write(root, "/etc/hosts", new_hosts))
    if guest.nsenter("hostname").stdout.strip() != computer:
        guest.nsenter("hostname", computer)
        changed.append("running hostname")

    # The admin user, in the sudo groups, with the keys.
    entry = _passwd_entry(root, user)
    if entry is None:
        guest.nsenter("useradd", "--create-home", "--user-group", "--shell", "/bin/bash", "--groups", SUDO_GROUPS,
                      "--comment", "", user)
        changed.append("user")
        entry = _passwd_entry(root, user)
    else:
        groups = guest.nsenter("id", "-nG", user).stdout.split()
        if not set(SUDO_GROUPS.split(",")) <= set(groups):
            guest.nsenter("usermod", "--append", "--groups", SUDO_GROUPS, user)
            changed.append("groups")
    uid, gid, home = entry
    if spec["password"]:
        # osProfile.adminPassword: set it, and allow password logins as Azure does for such a VM
        guest.nsenter("chpasswd", input=f"{user}:{spec['password']}\n")
        track("password authentication", write(root, "/etc/ssh/sshd_config.d/50-cloudimg-settings.conf",
                                                "PasswordAuthentication yes\n"))
    _ensure_dir(root, f"{home}/.ssh", mode=0o700, uid=uid, gid=gid)
    track("authorized_keys", write(root, f"{home}/.ssh/authorized_keys", "\n".join(spec["keys"]) + "\n",
                                   mode=0o600, uid=uid, gid=gid))
    track("sudoers.d/waagent", write(root, "/etc/sudoers.d/waagent", f"{user} ALL=(ALL) NOPASSWD: ALL\n",
                                     mode=0o440))
    track("sudoers.d/90-cloud-init-users", write(
        root, "/etc/sudoers.d/90-cloud-init-users",
        f"# Created by cloud-init v. {CLOUD_INIT_VERSION} on {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}"
        f"\n\n# User rules for {user}\n{user} ALL=(ALL) NOPASSWD:ALL\n", mode=0o440, only_if_missing=True))

    # The agent: the OVF environment naming the user (what -deprovision+user reads), provisioned marker.
    ovf = ovf_env(computer, user, spec["keys"], spec["custom"], password=bool(spec["password"]))
    track("ovf-env.xml", write(root, "/var/lib/waagent/ovf-env.xml", ovf, mode=0o600))
    track("waagent provisioned", write(root, "/var/lib/waagent/provisioned", "", mode=0o644, only_if_missing=True))
    if spec["custom"]:
        try:
            decoded = base64.b64decode(spec["custom"], validate=True)
        except ValueError:
            decoded = spec["custom"].encode()
        track("CustomData", write(root, "/var/lib/waagent/CustomData", decoded, mode=0o600))
        host_keys = cloud_config_host_keys(decoded)
        if host_keys:
            track("ssh host keys", install_host_keys(guest, host_keys))

    # cloud-init: the instance, keyed by the VM id, and the Azure seed.
    instance = f"/var/lib/cloud/instances/{vm_id}"
    _ensure_dir(root, instance)
    _ensure_dir(root, f"{instance}/sem")
    track("cloud-init instance", write(root, f"{instance}/datasource",
                                       "DataSourceAzure: DataSourceAzure [seed=/dev/sr0]\n"))
    track("user-data", write(root, f"{instance}/user-data.txt",
                             base64.b64decode(spec["custom"]) if spec["custom"] else b"", mode=0o600))
    write(root, f"{instance}/vendor-data.txt", "", mode=0o600, only_if_missing=True)
    write(root, f"{instance}/sem/config_users_groups", f"{_stamp()}\n", only_if_missing=True)
    write(root, f"{instance}/sem/config_ssh", f"{_stamp()}\n", only_if_missing=True)
    write(root, f"{instance}/boot-finished", f"{time.time():.2f} up 4.20 secs\n", only_if_missing=True)
    track("instance link", symlink(root, "/var/lib/cloud/instance", instance))
    track("instance-id", write(root, "/var/lib/cloud/data/instance-id", f"{vm_id}\n"))
    write(root, "/var/lib/cloud/data/previous-instance-id", f"{vm_id}\n", only_if_missing=True)
    _ensure_dir(root, "/var/lib/cloud/seed/azure", mode=0o700)
    track("seed", write(root, "/var/lib/cloud/seed/azure/ovf-env.xml", ovf, mode=0o600))

    # Traces of people having logged in, and the lease that named the host.
    write(root, "/root/.bash_history", "apt-get update\nsystemctl status walinuxagent\n", mode=0o600,
          only_if_missing=True)
    write(root, f"{home}/.bash_history", "sudo -i\nls -la /var/lib/waagent\ncat /etc/os-release\n", mode=0o600,
          uid=uid, gid=gid, only_if_missing=True)
    track("lease", write(root, "/var/lib/dhcp/dhclient.eth0.leases", _lease("10.0.0.4", computer))
          if f'"{computer}"' not in _read(root, "/var/lib/dhcp/dhclient.eth0.leases") else False)
    if changed:
        with open(_host_path(root, "/var/log/waagent.log"), "a", encoding="utf-8") as log:
            log.write(f"{_stamp()} INFO Daemon Provisioning complete for {user} on {computer}\n")
        with open(_host_path(root, "/var/log/cloud-init.log"), "a", encoding="utf-8") as log:
            log.write(f"{_stamp('%Y-%m-%d %H:%M:%S,000')} - handlers.py[DEBUG]: finish: modules-final: "
                      f"SUCCESS: running modules for final (instance {vm_id})\n")
    return {"name": guest.name, "changed": bool(changed), "changes": changed, "admin_username": user,
            "computer_name": computer, "vm_id": vm_id, "address": guest.address, "port": guest.port}


def _read(root: Path, guest_path: str) -> str:
    try:
        return _host_path(root, guest_path).read_text()
    except FileNotFoundError:
        return ""
