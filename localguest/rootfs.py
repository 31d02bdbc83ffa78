"""The root filesystem cache: host tools, one mmdebstrap tarball, one extracted ``base/``.

Layout (outside the repository)::

    <cache>/id_ed25519{,.pub}        controller key pair for tests and the demo
    <cache>/<key>/rootfs.tar.zst     mmdebstrap output (written under a temporary name, then renamed)
    <cache>/<key>/base/              extracted once (temporary name, then renamed): the read-only lower layer
    <cache>/<key>/build.json         what was built, how long it took
    <cache>/<key>.lock               serialises concurrent ``prepare`` runs

``<key>`` is derived from the suite, variant and package list, so changing the list builds a new cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .errors import GuestError

SUITE = "bookworm"
VARIANT = "minbase"
# What an Azure Debian 12 image needs for these tests, plus what the guest's init needs.
# systemd/systemd-sysv/dbus/libpam-systemd make the same cache usable for nspawn mode (--mode nspawn).
PACKAGES = (
    "openssh-server", "python3", "sudo", "waagent", "cloud-init", "iproute2", "procps",
    "systemd", "systemd-sysv", "dbus", "libpam-systemd",
)
# The host's deb822 sources file: mmdebstrap copies it into the guest, so no mirror name appears here.
HOST_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
HOST_PACKAGES = {
    # command -> Debian package
    "mmdebstrap": "mmdebstrap",
    "socat": "socat",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "nsenter": "util-linux",
    "unshare": "util-linux",
    "zstd": "zstd",
}
OPTIONAL_HOST_PACKAGES = {"systemd-nspawn": "systemd-container"}
FORMAT_VERSION = 1


def require_root(action: str) -> None:
    if os.geteuid() != 0:
        raise GuestError(f"localguest {action} needs root (overlay mounts, namespaces, chroot); "
                         f"run it as root, e.g. sudo {sys.executable} -m localguest {action}")


def cache_root() -> Path:
    """``$LOCALGUEST_CACHE``, else ``$XDG_CACHE_HOME/goldenimage-guests``, else ``/var/cache/goldenimage-guests``."""
    if os.environ.get("LOCALGUEST_CACHE"):
        return Path(os.environ["LOCALGUEST_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "goldenimage-guests"
    return Path("/var/cache/goldenimage-guests")


def cache_key(packages=PACKAGES) -> str:
    text = json.dumps({"format": FORMAT_VERSION, "suite": SUITE, "variant": VARIANT,
                       "packages": sorted(packages)}, sort_keys=True)
    return f"{SUITE}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def cache_dir(packages=PACKAGES) -> Path:
    return cache_root() / cache_key(packages)


def base_dir(packages=PACKAGES) -> Path:
    return cache_dir(packages) / "base"


def key_path() -> Path:
    return cache_root() / "id_ed25519"


def missing_host_packages(optional: bool = True) -> list[str]:
    wanted = dict(HOST_PACKAGES)
    if optional:
        wanted.update(OPTIONAL_HOST_PACKAGES)
    return sorted({pkg for cmd, pkg in wanted.items() if shutil.which(cmd) is None})


def ensure_host_packages(log=print) -> None:
    """apt-get install what is missing (only then); nspawn's package is optional."""
    missing = missing_host_packages(optional=True)
    if not missing:
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log(f"installing host packages: {' '.join(missing)}")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    result = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if result.returncode != 0:
        still = missing_host_packages(optional=False)
        if still:
            raise GuestError(f"apt-get install {' '.join(missing)} failed:\n{result.stdout[-2000:]}")
        log("systemd-container could not be installed: nspawn mode unavailable, chroot mode works")


def ensure_keypair(path: Path | None = None) -> Path:
    """An ed25519 key pair (no passphrase) at ``path`` (default: in the cache); returns the private key path."""
    path = Path(path or key_path())
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        for stale in (tmp, Path(f"{tmp}.pub")):
            stale.unlink(missing_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "localguest-controller", "-f", str(tmp)],
                       check=True)
        os.replace(f"{tmp}.pub", f"{path}.pub")
        os.replace(tmp, path)
    return path


def _generalize_base(base: Path) -> None:
    """Make the extracted tree look like a Marketplace image: no host keys, no build-host names."""
    for key in (base / "etc/ssh").glob("ssh_host_*key*"):
        key.unlink()
    (base / "etc/hostname").write_text("localhost\n")
    (base / "etc/hostname").chmod(0o644)
    machine_id = base / "etc/machine-id"
    machine_id.write_text("")  # systemd first-boot state
    resolv = base / "etc/resolv.conf"
    if resolv.is_symlink() or resolv.exists():
        resolv.unlink()


def prepare(packages=PACKAGES, log=print, install=True) -> Path:
    """Build the cache once (idempotent, safe to run concurrently). Returns the ``base/`` path."""
    require_root("prepare")
    if install:
        ensure_host_packages(log=log)
    elif missing_host_packages(optional=False):
        raise GuestError(f"missing host packages: {' '.join(missing_host_packages(optional=False))} "
                         "(run: python -m localguest prepare)")
    if not HOST_SOURCES.is_file():
        raise GuestError(f"{HOST_SOURCES} not found: localguest builds from the host's own Debian sources")
    ensure_keypair()
    target = cache_dir(packages)
    target.mkdir(parents=True, exist_ok=True)
    base = target / "base"
    with open(f"{target}.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if base.is_dir():
            return base
        info = {"suite": SUITE, "variant": VARIANT, "packages": list(packages)}
        tarball = target / "rootfs.tar.zst"
        if not tarball.is_file():
            partial = target / f"rootfs.partial-{os.getpid()}.tar.zst"
            log(f"building {tarball} with mmdebstrap (about a minute, once)")
            started = time.monotonic()
            result = subprocess.run(
                ["mmdebstrap", "--quiet", f"--variant={VARIANT}", "--include=" + ",".join(packages),
                 SUITE, str(partial), str(HOST_SOURCES)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
            if result.returncode != 0:
                partial.unlink(missing_ok=True)
                raise GuestError(f"mmdebstrap failed (rc {result.returncode}):\n{result.stdout[-3000:]}")
            os.replace(partial, tarball)
            info["mmdebstrap_seconds"] = round(time.monotonic() - started, 1)
        partial_base = target / f"base.partial-{os.getpid()}"
        if partial_base.exists():
            shutil.rmtree(partial_base)
        partial_base.mkdir()
        started = time.monotonic()
        subprocess.run(["tar", "--zstd", "--numeric-owner", "-xpf", str(tarball), "-C", str(partial_base)], check=True)
        _generalize_base(partial_base)
        os.replace(partial_base, base)
        info["extract_seconds"] = round(time.monotonic() - started, 1)
        info["built"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        (target / "build.json").write_text(json.dumps(info, indent=2) + "\n")
        log(f"cache ready: {base}")
    return base
