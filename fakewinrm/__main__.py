"""python -m fakewinrm serve|provision|state (see fakewinrm/README.md)."""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import tempfile
import urllib.error
import urllib.request

from .server import CERT_FILE, KEY_FILE, provisioned_tls, serve_forever, tls_context
from .windows import FakeWindows


def _sim_call(url, ca, method, path, body=None):
    context = ssl.create_default_context(cafile=ca) if url.startswith("https:") else None
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if os.environ.get("AZSIM_ADMIN_TOKEN"):  # the simulator's admin API needs its per-start token
        headers["Authorization"] = "Bearer " + os.environ["AZSIM_ADMIN_TOKEN"]
    request = urllib.request.Request(url.rstrip("/") + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=15, context=context) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The simulator runs this from its own working directory: import fakewinrm from this checkout.
_PROVISION = (f"import sys; sys.path.insert(0, {ROOT!r}); from fakewinrm.__main__ import main; "
              "sys.exit(main(sys.argv[1:]))")


def registration(name, address, port, state_dir):
    """The guest-pool entry: its provision_command records the VM's admin user and password for Basic auth."""
    return {"name": name, "address": address, "ports": {"winrm": port}, "os": "windows",
            "provision_command": [sys.executable, "-c", _PROVISION, "provision", "--state-dir", state_dir]}


def cmd_serve(args):
    scenario = {}
    if args.scenario:
        with open(args.scenario, encoding="utf-8") as handle:
            scenario = json.load(handle)
    state_dir = os.path.abspath(args.state_dir or tempfile.mkdtemp(prefix="fakewinrm-"))
    os.makedirs(state_dir, exist_ok=True)
    for stale in ("provisioned.json", CERT_FILE, KEY_FILE):
        if os.path.exists(os.path.join(state_dir, stale)):
            os.remove(os.path.join(state_dir, stale))
    windows = FakeWindows(scenario, os.path.join(state_dir, "state.json"))
    if args.sim_url:
        try:
            _sim_call(args.sim_url, args.ca, "POST", "/_azsim/guests",
                      registration(args.name, args.address, args.port, state_dir))
        except (urllib.error.URLError, OSError) as err:
            print(f"fakewinrm: cannot register guest {args.name!r} with {args.sim_url}: {err}", file=sys.stderr)
            return 2
    context, ca_path = tls_context(args.address, state_dir) if args.tls else (None, None)
    if context is not None:
        provisioned_tls(context, state_dir, rekey=scenario.get("winrm_certificate") == "rekeyed")
    print(json.dumps({"address": args.address, "port": args.port, "scheme": "https" if args.tls else "http",
                      "ca": ca_path, "state_dir": state_dir, "state": os.path.join(state_dir, "state.json")}),
          flush=True)
    try:
        serve_forever(windows, args.address, args.port, context)
    finally:
        if args.sim_url:
            try:
                _sim_call(args.sim_url, args.ca, "DELETE", f"/_azsim/guests/{args.name}")
            except (urllib.error.URLError, OSError):
                pass
    return 0


def cmd_provision(args):
    """Called by the simulator when a VM bound to this guest finishes creating (payload on stdin)."""
    payload = json.load(sys.stdin)
    if str(payload.get("os_type", "windows")).lower() != "windows":
        print(f"fakewinrm is a Windows guest; VM {payload.get('vm_name')} has osType {payload.get('os_type')}",
              file=sys.stderr)
        return 1
    if not payload.get("admin_username") or not payload.get("admin_password"):
        print("fakewinrm: a Windows VM needs adminUsername and adminPassword", file=sys.stderr)
        return 1
    _install_winrm_certificate(payload.get("custom_data"), args.state_dir)
    path = os.path.join(args.state_dir, "provisioned.json")
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump({key: payload.get(key) for key in ("vm_name", "computer_name", "admin_username", "admin_password",
                                                      "vm_id", "os_type")}, handle)
    os.replace(path + ".tmp", path)
    return 0


def _install_winrm_certificate(custom_data, state_dir):
    """What the builder's listener script does on Windows (import the PKCS#12, listen on 5986 with it): write the
    certificate and key from custom data to STATE_DIR, where `serve --tls` picks them up for the next handshake."""
    import base64
    import re

    if not custom_data:
        return
    try:
        script = base64.b64decode(custom_data).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return
    found = re.search(r"^\$Pfx = '([A-Za-z0-9+/=]+)'", script, re.MULTILINE)
    if "# goldenimage-winrm-listener" not in script or not found:
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    key, cert, _extra = pkcs12.load_key_and_certificates(base64.b64decode(found.group(1)), None)
    for name, data in ((KEY_FILE, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption())),
                       (CERT_FILE, cert.public_bytes(serialization.Encoding.PEM))):
        path = os.path.join(state_dir, name)
        fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(path + ".tmp", path)  # the key first: the certificate's arrival switches the listener


def cmd_state(args):
    with open(os.path.join(args.state_dir, "state.json"), encoding="utf-8") as handle:
        print(handle.read())
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fakewinrm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve WinRM (HTTP, Basic auth) for a simulated Windows guest")
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5985)
    p.add_argument("--scenario", help="scenario JSON file (see README)")
    p.add_argument("--tls", action="store_true", help="serve HTTPS (a throw-away CA, written to STATE_DIR/ca.pem)")
    p.add_argument("--state-dir", help="where state.json (and provisioned.json) live; default: a new temp dir")
    p.add_argument("--sim-url", help="register in this ARM simulator's guest pool")
    p.add_argument("--ca", help="CA bundle to verify the simulator")
    p.add_argument("--name", default="fakewinrm", help="guest name in the pool")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("provision", help="(run by the simulator) record the VM's admin credentials from stdin")
    p.add_argument("--state-dir", required=True)
    p.set_defaults(func=cmd_provision)
    p = sub.add_parser("state", help="print state.json")
    p.add_argument("--state-dir", required=True)
    p.set_defaults(func=cmd_state)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
