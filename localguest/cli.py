"""Command line: prepare, up, provision, snapshot, reimage, down, list, inventory, ssh, key."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import rootfs
from .errors import GuestError
from .guest import MODES, Guest, default_workdir, list_guests, start_guest, stop_guest
from .inventory import inventory


def _err(message: str) -> None:
    print(f"localguest: {message}", file=sys.stderr)


def cmd_prepare(args) -> int:
    started = time.monotonic()
    base = rootfs.prepare(log=lambda msg: print(f"localguest: {msg}", file=sys.stderr))
    print(json.dumps({"base": str(base), "key": str(rootfs.key_path()), "seconds": round(time.monotonic() - started, 1)})
          if args.json else base)
    return 0


def cmd_up(args) -> int:
    if args.sim_url and not args.ca and args.sim_url.startswith("https:"):
        _err("--sim-url needs --ca (the simulator's CA certificate) to verify TLS")
        return 2
    guest = start_guest(args.name, address=args.address, port=args.port, mode=args.mode, workdir=args.workdir,
                        sim_url=args.sim_url, ca=args.ca, timeout=args.timeout)
    if args.json:
        print(json.dumps(guest.to_dict(), indent=2))
    else:
        print(f"{guest.name}: up at {guest.address}:{guest.port} in {guest.up_seconds} s "
              f"(mode {guest.mode}, leader {guest.leader}, root {guest.root})"
              + (f", registered with {guest.sim_url}" if guest.sim_url else ""))
    return 0


def cmd_provision(args) -> int:
    guest = Guest.load(args.name, args.workdir)
    if args.admin_username:
        keys = [Path(path).read_text().strip() for path in args.ssh_public_key_file or []]
        if not keys:
            keys = [Path(f"{rootfs.ensure_keypair()}.pub").read_text().strip()]
        payload = {"vm_name": args.name, "admin_username": args.admin_username, "ssh_public_keys": keys,
                   "os_type": "linux"}
    else:
        raw = sys.stdin.read()
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            raise GuestError(f"provision reads the VM's osProfile as JSON on stdin: {exc}") from None
    summary = guest.provision(payload)
    print(json.dumps(summary))
    return 0


def cmd_snapshot(args) -> int:
    from .snapshots import snapshot

    print(snapshot(args.name, args.dest, workdir=args.workdir))
    return 0


def cmd_reimage(args) -> int:
    from .snapshots import reimage

    guest = reimage(args.name, args.source, workdir=args.workdir, timeout=args.timeout)
    print(json.dumps(guest.to_dict()) if args.json else
          f"{guest.name}: reimaged from {guest.reimaged_from}, up at {guest.address}:{guest.port} in {guest.up_seconds} s")
    return 0


def cmd_down(args) -> int:
    status = 0
    for name in args.names:
        if not (Path(args.workdir or default_workdir()) / name).exists():
            if not args.missing_ok:
                _err(f"no guest named {name}")
                status = 1
            continue
        stop_guest(name, workdir=args.workdir)
        print(f"{name}: down")
    return status


def cmd_list(args) -> int:
    guests = list_guests(args.workdir)
    if args.json:
        print(json.dumps([g.to_dict() for g in guests], indent=2))
        return 0
    if not guests:
        print("no guests")
    for g in guests:
        print(f"{g.name:20} {g.address + ':' + str(g.port):22} {'running' if g.running else 'STOPPED':8} "
              f"{g.mode:7} user={g.admin_username or '-':12} {g.root}")
    return 0


def cmd_inventory(args) -> int:
    guests = [Guest.load(name, args.workdir) for name in args.names] if args.names else list_guests(args.workdir)
    sys.stdout.write(inventory(guests, key=args.key, group=args.group, fmt=args.format, python=args.python))
    return 0


def cmd_ssh(args) -> int:
    guest = Guest.load(args.name, args.workdir)
    argv = guest.ssh_args(user=args.user, key=args.key) + list(args.remote)
    os.execvp(argv[0], argv)
    return 127


def cmd_key(args) -> int:
    print(rootfs.ensure_keypair(args.path))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localguest",
                                     description="Real Debian 12 Azure-like guests (root; see localguest/README.md).")
    sub = parser.add_subparsers(dest="command", required=True)
    workdir = argparse.ArgumentParser(add_help=False)
    workdir.add_argument("--workdir", default=None,
                         help=f"where guests live (default $LOCALGUEST_WORKDIR or {default_workdir()})")

    p = sub.add_parser("prepare", help="install host tools if missing, build the rootfs cache once")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("up", parents=[workdir], help="start a guest (no admin user yet)")
    p.add_argument("name")
    p.add_argument("--address", help="loopback address to serve SSH on (default: a free one in 127.77.0.0/16)")
    p.add_argument("--port", type=int, default=22)
    p.add_argument("--mode", choices=MODES, default="chroot")
    p.add_argument("--sim-url", help="register the guest with the ARM simulator at this URL")
    p.add_argument("--ca", help="CA certificate to verify the simulator's TLS")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--json", action="store_true", help="print the guest's state as JSON")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("provision", parents=[workdir],
                       help="apply a VM osProfile (JSON on stdin) as Azure's provisioning does")
    p.add_argument("name")
    p.add_argument("--admin-username", help="build the payload from options instead of stdin")
    p.add_argument("--ssh-public-key-file", action="append", help="with --admin-username (default: the cache key)")
    p.set_defaults(func=cmd_provision)

    p = sub.add_parser("snapshot", parents=[workdir],
                       help="copy the guest's filesystem (its overlay upper dir) to DEST, atomically")
    p.add_argument("name")
    p.add_argument("dest", help="a path that does not exist yet")
    p.set_defaults(func=cmd_snapshot)

    p = sub.add_parser("reimage", parents=[workdir],
                       help="restart the guest from a snapshot (same address, port, mode and registration)")
    p.add_argument("name")
    p.add_argument("--from", dest="source", required=True, help="a directory written by snapshot")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reimage)

    p = sub.add_parser("down", parents=[workdir], help="stop guests and delete their files")
    p.add_argument("names", nargs="+")
    p.add_argument("--missing-ok", action="store_true", help="no error for guests that do not exist")
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("list", parents=[workdir], help="list guests")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("inventory", parents=[workdir], help="print an Ansible inventory for guests")
    p.add_argument("names", nargs="*", help="default: every guest")
    p.add_argument("--format", choices=("ini", "yaml"), default="ini")
    p.add_argument("--group", default="guests")
    p.add_argument("--key", help="private key (default: the cache key)")
    p.add_argument("--python", default="/usr/bin/python3", help="ansible_python_interpreter in the guest")
    p.set_defaults(func=cmd_inventory)

    p = sub.add_parser("ssh", parents=[workdir], help="ssh into a guest")
    p.add_argument("name")
    p.add_argument("--user")
    p.add_argument("--key")
    p.add_argument("remote", nargs="*", help="command to run in the guest (after --)")
    p.set_defaults(func=cmd_ssh)

    p = sub.add_parser("key", help="create (once) and print the controller key pair path")
    p.add_argument("path", nargs="?")
    p.set_defaults(func=cmd_key)
    return parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    trailing = []
    if "--" in argv:  # `ssh NAME [options] -- command ...` (argparse mishandles -- after a subcommand)
        trailing = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    args = build_parser().parse_args(argv)
    if trailing:
        if args.command != "ssh":
            _err("'--' is only used with ssh")
            return 2
        args.remote = trailing
    try:
        return args.func(args)
    except GuestError as exc:
        _err(str(exc))
        return getattr(exc, "exit_code", 1)  # 75: provisioning skipped (ProvisioningSkipped)
    except KeyboardInterrupt:
        return 130
