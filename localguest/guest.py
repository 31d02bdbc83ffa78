"""Start, find and stop guests: an overlay over the cached ``base/``, namespaces, sshd, a host-side forwarder.

A guest ``NAME`` lives in ``<workdir>/NAME/``::

    upper/ work/    the overlay's writable layer (exactly what changed in the guest)
    root/           the mounted overlay: the guest's ``/`` as the host sees it (tests read files here)
    console.log     the guest's init and sshd output
    forwarder.log   socat's output
    state.json      name, address, port, mode, pids (with their start times), root, admin user, simulator

The guest runs in its own mount, UTS, IPC, PID and network namespaces; its network namespace holds only
``lo``, so nothing in the guest can reach anything. sshd listens on 127.0.0.1:22 inside it. On the host,
``socat TCP-LISTEN:<port>,bind=<address>,fork EXEC:"nsenter -t <leader> -n socat STDIO TCP:127.0.0.1:22"``
makes the guest reachable at a plain address (127.77.0.0/16 is loopback) as a VM is at its public IP.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import image, rootfs
from .errors import GuestError

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
ADDRESS_POOL = ipaddress.ip_network("127.77.0.0/16")
MODES = ("chroot", "nspawn")

# PID 1 of a chroot-mode guest: a shell that mounts what sshd needs, runs sshd and reaps orphans.
CHROOT_INIT = r"""
set -e
ip link set lo up
mount -t proc proc /proc
mount -t sysfs -o ro sysfs /sys 2>/dev/null || true
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /run/sshd /run/lock /dev/shm /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
mount --bind /dev/pts/ptmx /dev/ptmx
: > /run/utmp
hostname "$(cat /etc/hostname)"
[ -e /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -A
echo "localguest: starting sshd"
set +e
/usr/sbin/sshd -D -e
echo "localguest: sshd exited rc=$?"
"""


def default_workdir() -> Path:
    return Path(os.environ.get("LOCALGUEST_WORKDIR") or "/run/localguest")


def _starttime(pid: int) -> int | None:
    """The process start time (clock ticks since boot), or None when gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _alive(pid: int | None, started: int | None) -> bool:
    """True when ``pid`` runs and is the same process (same start time): PIDs get reused."""
    if not pid:
        return False
    now = _starttime(pid)
    return now is not None and (started is None or now == started)


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found.extend(int(child) for child in handle.read().split())
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def _wait_gone(pids, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(pid, started) for pid, started in pids):
            return True
        time.sleep(0.02)
    return False


def _ssh_banner(address: str, port: int, timeout: float = 2.0) -> bytes:
    with socket.create_connection((address, port), timeout=timeout) as conn:
        conn.settimeout(timeout)
        return conn.recv(64)


def _bindable(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


@dataclass
class Guest:
    """One guest; ``state.json`` is this object. Paths are host paths."""

    name: str
    workdir: str
    address: str
    port: int = 22
    mode: str = "chroot"
    runner_pid: int | None = None        # unshare (chroot mode) or systemd-nspawn
    runner_start: int | None = None
    leader: int | None = None            # the guest's PID 1, as a host PID
    leader_start: int | None = None
    forwarder_pid: int | None = None
    forwarder_start: int | None = None
    admin_username: str | None = None
    computer_name: str | None = None
    vm_id: str | None = None
    sim_url: str | None = None
    sim_ca: str | None = None
    started: str | None = None
    up_seconds: float | None = None
    owned_address: str | None = None     # a private address this guest added to the host's lo (removed at stop)
    reimaged_from: str | None = None     # the snapshot this guest was last reimaged from (see snapshots.py)
    image_boot: bool = False             # reimaged and not provisioned since: the image's first boot
    _procs: list = field(default_factory=list, repr=False, compare=False)

    # -- paths --------------------------------------------------------------------------------
    @property
    def dir(self) -> Path:
        return Path(self.workdir) / self.name

    @property
    def root(self) -> Path:
        return self.dir / "root"

    @property
    def live_root(self) -> Path:
        """The guest's ``/`` as its own processes see it, mounts inside the guest included (nspawn puts a
        tmpfs on /tmp): ``/proc/<leader>/root``. Only while the guest runs; ``root`` is the overlay itself."""
        if not _alive(self.leader, self.leader_start):
            raise GuestError(f"guest {self.name} is not running")
        return Path(f"/proc/{self.leader}/root")

    def path(self, guest_path: str) -> Path:
        """Host path of a path inside the guest, e.g. ``guest.path("/etc/passwd")``."""
        return self.root / guest_path.lstrip("/")

    # -- state --------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "_procs"}
        data["root"] = str(self.root)
        data["running"] = self.running
        return data

    def save(self) -> None:
        state = self.to_dict()
        state.pop("running")
        tmp = self.dir / ".state.json.tmp"
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        os.replace(tmp, self.dir / "state.json")

    @classmethod
    def load(cls, name: str, workdir=None) -> Guest:
        workdir = Path(workdir or default_workdir())
        state_file = workdir / name / "state.json"
        try:
            data = json.loads(state_file.read_text())
        except FileNotFoundError:
            raise GuestError(f"no guest named {name!r} under {workdir} (see: python -m localguest list)") from None
        data.pop("root", None)
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__ and key != "_procs"}
        return cls(**known)

    @property
    def running(self) -> bool:
        return _alive(self.leader, self.leader_start) and _alive(self.forwarder_pid, self.forwarder_start)

    # -- use ----------------------------------------------------------------------------------
    def nsenter(self, *command, check=True, input=None, capture=True):
        """Run a command inside the guest (all its namespaces and its root)."""
        if not _alive(self.leader, self.leader_start):
            raise GuestError(f"guest {self.name} is not running")
        argv = ["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-n", "-p", "-r", "-w", *command]
        result = subprocess.run(argv, input=input, text=True, capture_output=capture, check=False)
        if check and result.returncode != 0:
            raise GuestError(f"in guest {self.name}: {' '.join(command)} failed (rc {result.returncode}): "
                             f"{(result.stderr or '').strip()}")
        return result

    def ssh_args(self, user: str | None = None, key=None) -> list[str]:
        """``ssh`` arguments that reach the guest at its address, as Ansible does."""
        return ["ssh", "-p", str(self.port), "-i", str(key or rootfs.key_path()),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
                f"{user or self.admin_username or 'root'}@{self.address}"]

    def provision(self, payload: dict) -> dict:
        """Do what Azure's provisioning does inside the guest (see :func:`localguest.image.provision`)."""
        summary = image.provision(self, payload)
        self.admin_username = summary["admin_username"]
        self.computer_name = summary["computer_name"]
        self.vm_id = summary["vm_id"]
        self.image_boot = False  # provisioned: the image's first boot is over
        self.save()
        return summary

    def stop(self) -> None:
        stop_guest(self)

    def inventory_vars(self, key=None, python="/usr/bin/python3") -> dict:
        return {
            "ansible_host": self.address,
            "ansible_port": self.port,
            "ansible_user": self.admin_username or "azureuser",
            "ansible_ssh_private_key_file": str(key or rootfs.key_path()),
            "ansible_python_interpreter": python,
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
            "localguest_root": str(self.root),
        }

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# -- start ----------------------------------------------------------------------------------------
def _used_addresses(workdir: Path) -> set[tuple[str, int]]:
    used = set()
    for state in workdir.glob("*/state.json"):
        with contextlib.suppress(ValueError, OSError, KeyError):
            data = json.loads(state.read_text())
            used.add((data["address"], int(data.get("port", 22))))
    return used


def _pick_address(workdir: Path, port: int) -> str:
    used = _used_addresses(workdir)
    for host in ADDRESS_POOL.hosts():
        address = str(host)
        if address.endswith(".0.1") or (address, port) in used:
            continue
        if _bindable(address, port):
            return address
    raise GuestError(f"no free address in {ADDRESS_POOL} for port {port}")


def _find_leader(guest: Guest, runner: subprocess.Popen, deadline: float) -> int:
    """The guest's PID 1 as a host PID: the runner's child (nspawn: the child that is systemd)."""
    while time.monotonic() < deadline:
        if runner.poll() is not None:
            break
        for child in _children(runner.pid):
            if guest.mode == "chroot":
                return child
            with contextlib.suppress(OSError):
                if Path(f"/proc/{child}/comm").read_text().strip() == "systemd":
                    return child
        time.sleep(0.01)
    raise GuestError(f"guest {guest.name} did not start; console:\n{_tail(guest.dir / 'console.log')}")


def _tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no output)"


def _start_forwarder(guest: Guest) -> subprocess.Popen:
    inner = f"nsenter -t {guest.leader} -n socat STDIO TCP\\:127.0.0.1\\:22"
    log = open(guest.dir / "forwarder.log", "ab")  # noqa: SIM115 - owned by the child
    with log:
        return subprocess.Popen(
            ["socat", f"TCP-LISTEN:{guest.port},bind={guest.address},reuseaddr,fork", f"EXEC:{inner}"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)


def _mount_overlay(guest: Guest, base: Path) -> None:
    for sub in ("upper", "work", "root"):
        (guest.dir / sub).mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    f"lowerdir={base},upperdir={guest.dir / 'upper'},workdir={guest.dir / 'work'}", str(guest.root)],
                   check=True, capture_output=True, text=True)


def start_guest(name: str, address: str | None = None, port: int = 22, mode: str = "chroot", workdir=None,
                sim_url: str | None = None, ca: str | None = None, timeout: float = 60.0,
                private: bool = False) -> Guest:
    """Start guest ``name`` and return it once its sshd answers at ``address:port``.

    ``private``: ``address`` is a private (RFC 1918) address, as a VM without a public IP has on its NIC. It is added
    to the host's ``lo`` as a /32 for the guest's lifetime (removed by :func:`stop_guest`), so the host reaches the
    guest at exactly that address; an address the host already has is refused.

    The guest has the image's and the agent's first-boot leftovers but no admin user yet: call
    :meth:`Guest.provision` (or let the simulator do it). On any failure the half-started guest is torn down.
    """
    rootfs.require_root("up")
    if not NAME_RE.match(name):
        raise GuestError(f"invalid guest name {name!r}: lower-case letters, digits and '-', at most 40")
    if mode not in MODES:
        raise GuestError(f"mode must be one of {', '.join(MODES)}")
    if mode == "nspawn" and shutil.which("systemd-nspawn") is None:
        raise GuestError("nspawn mode needs systemd-nspawn (apt-get install systemd-container)")
    for tool in ("socat", "nsenter", "unshare", "ssh-keygen"):
        if shutil.which(tool) is None:
            raise GuestError(f"{tool} not found on the host: run python -m localguest prepare")
    base = rootfs.base_dir()
    if not base.is_dir():
        raise GuestError(f"no rootfs cache at {base}: run python -m localguest prepare (as root) first")
    workdir = Path(workdir or default_workdir()).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if (workdir / name).exists():
        try:
            existing = Guest.load(name, workdir)
        except GuestError:
            existing = None
        if existing is not None and existing.running:
            raise GuestError(f"guest {name} is already running at {existing.address}:{existing.port}")
        stop_guest(name, workdir=workdir)  # stale leftovers of a guest that died
    if private:
        _check_private_address(address)
    elif address is not None and ipaddress.ip_address(address) not in ipaddress.ip_network("127.0.0.0/8"):
        raise GuestError(f"address {address} is not a loopback address (use 127.77.0.0/16)")
    # Concurrent `up`s must not pick the same address: hold a host-wide lock until the forwarder listens.
    with open(Path(tempfile.gettempdir()) / "localguest-addresses.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if address is None:
            address = _pick_address(workdir, port)
        elif private:
            return _start_private(name, address, port, mode, workdir, base, sim_url, ca, timeout)
        elif not _bindable(address, port):
            raise GuestError(f"{address}:{port} is already in use on the host")
        return _start(name, address, port, mode, workdir, base, sim_url, ca, timeout)


PRIVATE_NETWORKS = tuple(ipaddress.ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _check_private_address(address) -> None:
    try:
        parsed = ipaddress.IPv4Address(address)
    except (ipaddress.AddressValueError, ValueError, TypeError):
        raise GuestError(f"a private guest needs an IPv4 address, not {address!r}") from None
    if not any(parsed in net for net in PRIVATE_NETWORKS):
        raise GuestError(f"address {address} is not a private (RFC 1918) address")


def _host_has(address: str) -> bool:
    shown = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=False).stdout
    return any(f" {address}/" in line for line in shown.splitlines())


def _start_private(name, address, port, mode, workdir, base, sim_url, ca, timeout) -> Guest:
    """Add ``address``/32 to the host's lo, then start as usual; the guest owns the address until it stops."""
    if shutil.which("ip") is None:
        raise GuestError("a private guest needs the ip command (iproute2) on the host")
    if _host_has(address):
        raise GuestError(f"address {address} is already an address of this host")
    subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], check=True, capture_output=True, text=True)
    try:
        guest = _start(name, address, port, mode, workdir, base, sim_url, ca, timeout, owned_address=address)
    except BaseException:
        _drop_address(address)
        raise
    return guest


def _drop_address(address: str | None) -> None:
    if address and _host_has(address):
        subprocess.run(["ip", "addr", "del", f"{address}/32", "dev", "lo"], capture_output=True, text=True, check=False)


def _start(name, address, port, mode, workdir, base, sim_url, ca, timeout, owned_address=None) -> Guest:
    guest = Guest(name=name, workdir=str(workdir), address=address, port=port, mode=mode, sim_url=sim_url, sim_ca=ca,
                  started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), owned_address=owned_address)
    guest.dir.mkdir(parents=True)
    guest.save()
    return boot(guest, base, timeout)


def boot(guest: Guest, base: Path, timeout: float, register: bool = True, image_boot: bool = False) -> Guest:
    """Mount the overlay over the guest's (existing or new) ``upper/``, seed first boot, start it, wait for SSH.

    ``image_boot``: the upper dir came from a captured image (``snapshots.reimage``): first boot regenerates only what
    the image lacks. ``register``: register with the simulator (a reimage keeps the registration it has: the simulator
    is waiting for the reimage and could not answer). On any failure the guest is torn down."""
    started = time.monotonic()
    mode, name = guest.mode, guest.name
    try:
        _mount_overlay(guest, base)
        guest.save()
        image.seed_first_boot(guest, image_boot=image_boot)
        console = open(guest.dir / "console.log", "ab")  # noqa: SIM115 - owned by the child
        with console:
            if mode == "chroot":
                argv = ["unshare", "--mount", "--uts", "--ipc", "--pid", "--net", "--fork", "--kill-child=SIGKILL",
                        "--propagation", "private", "chroot", str(guest.root), "/bin/sh", "-c", CHROOT_INIT]
            else:
                argv = ["systemd-nspawn", "--quiet", "--boot", "-D", str(guest.root), "-M", name, "--register=no",
                        "--keep-unit", "--private-network", "--console=pipe"]
            runner = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=console, stderr=console,
                                      start_new_session=True)
        guest._procs.append(runner)
        guest.runner_pid, guest.runner_start = runner.pid, _starttime(runner.pid)
        guest.save()
        deadline = time.monotonic() + timeout
        guest.leader = _find_leader(guest, runner, deadline)
        guest.leader_start = _starttime(guest.leader)
        guest.save()
        forwarder = _start_forwarder(guest)
        guest._procs.append(forwarder)
        guest.forwarder_pid, guest.forwarder_start = forwarder.pid, _starttime(forwarder.pid)
        guest.save()
        _wait_ssh(guest, runner, forwarder, deadline)
        if mode == "nspawn":  # nspawn's intermediate child can be mistaken for the leader: read it again
            guest.leader = _find_leader(guest, runner, deadline)
            guest.leader_start = _starttime(guest.leader)
        guest.up_seconds = round(time.monotonic() - started, 2)
        guest.save()
        if guest.sim_url and register:
            from . import sim

            sim.register(guest)
    except BaseException:
        if not register:  # the simulator waits for this process: calling it back would only time out
            guest.sim_url = None
        with contextlib.suppress(Exception):
            stop_guest(guest)
        raise
    return guest


def _wait_ssh(guest: Guest, runner, forwarder, deadline: float) -> None:
    last = None
    while time.monotonic() < deadline:
        if runner.poll() is not None:
            raise GuestError(f"guest {guest.name} stopped during start; console:\n{_tail(guest.dir / 'console.log')}")
        if forwarder.poll() is not None:
            raise GuestError(f"the forwarder on {guest.address}:{guest.port} exited:\n"
                             f"{_tail(guest.dir / 'forwarder.log')}")
        try:
            if _ssh_banner(guest.address, guest.port).startswith(b"SSH-"):
                return
        except OSError as exc:
            last = exc
        time.sleep(0.02)
    raise GuestError(f"guest {guest.name}: no SSH at {guest.address}:{guest.port} in time ({last}); console:\n"
                     f"{_tail(guest.dir / 'console.log')}")


# -- stop -----------------------------------------------------------------------------------------
def _kill(pid: int | None, started: int | None, group: bool = False) -> None:
    if not _alive(pid, started):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)


def stop_guest(guest, workdir=None, timeout: float = 20.0) -> None:
    """Stop a guest (a :class:`Guest` or a name) and delete everything it had on the host.

    unshare ignores SIGTERM while it waits, so it gets SIGKILL (``--kill-child`` then kills the guest's
    PID 1 and with it the whole PID namespace). nspawn mode kills the container's PID 1, never just nspawn
    (that would orphan the container). Then the overlay is unmounted and the guest's directory deleted.
    """
    rootfs.require_root("down")
    if not isinstance(guest, Guest):
        workdir = Path(workdir or default_workdir())
        try:
            guest = Guest.load(guest, workdir)
        except GuestError:
            if not (workdir / guest).exists():
                raise
            guest = Guest(name=guest, workdir=str(workdir), address="")
    if guest.sim_url:
        from . import sim

        with contextlib.suppress(Exception):
            sim.unregister(guest)
    halt(guest, timeout)
    _drop_address(guest.owned_address)  # a private guest's address leaves the host with it
    shutil.rmtree(guest.dir, ignore_errors=True)


def halt(guest: Guest, timeout: float = 20.0) -> None:
    """Kill the guest's processes and unmount its overlay; keep its files, address and registration."""
    _kill(guest.forwarder_pid, guest.forwarder_start, group=True)
    if guest.mode == "nspawn":
        _kill(guest.leader, guest.leader_start)
    _kill(guest.runner_pid, guest.runner_start)
    for proc in guest._procs:  # reap our own children: no zombies
        with contextlib.suppress(Exception):
            proc.wait(timeout=timeout)
    pids = [(guest.forwarder_pid, guest.forwarder_start), (guest.runner_pid, guest.runner_start),
            (guest.leader, guest.leader_start)]
    if not _wait_gone(pids, timeout):
        raise GuestError(f"guest {guest.name}: processes {[pid for pid, _ in pids if pid]} did not exit")
    if guest.mode == "nspawn":  # nspawn leaves these behind when the host's PID 1 is not systemd
        with contextlib.suppress(OSError):
            shutil.rmtree(f"/run/systemd/nspawn/propagate/{guest.name}")
        with contextlib.suppress(OSError):
            root_stat = os.stat(guest.root)
            os.unlink(f"/run/systemd/nspawn/locks/inode-{root_stat.st_dev}:{root_stat.st_ino}")
    if os.path.ismount(guest.root):
        for attempt in range(50):
            result = subprocess.run(["umount", str(guest.root)], capture_output=True, text=True, check=False)
            if result.returncode == 0 or not os.path.ismount(guest.root):
                break
            time.sleep(0.05 * (attempt + 1) if attempt < 10 else 0.5)
        else:
            raise GuestError(f"cannot unmount {guest.root}: {result.stderr.strip()}")
    if os.path.ismount(guest.root):  # never delete through a mounted overlay
        raise GuestError(f"{guest.root} is still mounted")


def list_guests(workdir=None) -> list[Guest]:
    workdir = Path(workdir or default_workdir())
    found = []
    for state in sorted(workdir.glob("*/state.json")):
        with contextlib.suppress(GuestError, ValueError, TypeError):
            found.append(Guest.load(state.parent.name, workdir))
    return found


@contextlib.contextmanager
def guest(name: str, payload: dict | None = None, **kwargs):
    """``with guest("g1", {"admin_username": "azureuser", "ssh_public_keys": [...]}) as g:`` start, provision, stop."""
    started = start_guest(name, **kwargs)
    try:
        if payload is not None:
            started.provision(payload)
        yield started
    finally:
        stop_guest(started)
