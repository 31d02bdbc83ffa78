"""Command line: ``azsim serve|env`` (also ``python -m azsim ...``; the wheel installs the ``azsim`` entry point)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import socket
import sys
import tempfile
import time

from .core.tls import bundle_path, ca_path, default_tls_dir, ensure_bundle, is_loopback, write_atomic

SERVER_FILE = "server.json"  # in the run directory: URL, pid, CA and the environment with the admin token (0600)


def default_run_dir(port):
    """Where ``azsim serve --port N`` (without --state or --run-dir) keeps its CA and server.json; ``azsim env
    --port N`` reads the same place."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(cache, "azsim", "run", str(port))


def _dirs(args, port):
    """(run directory or None, CA directory): --run-dir, else --state, else the per-port default; the CA is
    --tls-dir (or AZSIM_TLS_DIR), else <state>/tls, else <run dir>/tls."""
    run_dir = getattr(args, "run_dir", None) or args.state or (default_run_dir(port) if port else None)
    tls_dir = args.tls_dir or (os.path.join(args.state, "tls") if args.state else None) or \
        (os.path.join(run_dir, "tls") if run_dir else None)
    return run_dir, tls_dir


def _env_lines(port, host, tls_dir, settings=None, admin_token=None):
    from .core.settings import defaults

    values = settings or defaults()
    auth = values["auth"]
    base = f"https://{host}:{port}"
    env = {
        # Our collection's cloud endpoints (see plugins/doc_fragments/azure.py).
        "AZURE_ARM_ENDPOINT": base + "/",
        # azure-identity's own variables: authority, credentials.
        "AZURE_AUTHORITY_HOST": base,
        "AZURE_DISABLE_INSTANCE_DISCOVERY": "true",
        "AZURE_TENANT_ID": auth["tenant_id"],
        "AZURE_CLIENT_ID": auth["client_id"],
        "AZURE_CLIENT_SECRET": auth["client_secret"],
        "AZURE_SUBSCRIPTION_ID": values["subscriptions"][0]["subscription_id"],
        # requests (under azure-core) trusts the simulator's CA through this.
        "REQUESTS_CA_BUNDLE": bundle_path(tls_dir),
        "AZSIM_CA": ca_path(tls_dir),  # the simulator's CA alone (localguest/fakewinrm --ca, curl --cacert)
        "AZSIM_URL": base,
        # The builder role's "what is my public address" service (GET /_azsim/myip answers like api.ipify.org).
        "GOLDENIMAGE_PUBLIC_ADDRESS_URL": base + "/_azsim/myip",
    }
    if admin_token:
        # Every /_azsim/ admin request needs it (Authorization: Bearer ...); new at every start.
        env["AZSIM_ADMIN_TOKEN"] = admin_token
    return env


def _alive(pid):
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    return True


def read_server_file(run_dir):
    """What a running ``azsim serve`` wrote to its run directory, or None (absent, unreadable, or its process
    is gone)."""
    try:
        with open(os.path.join(run_dir, SERVER_FILE), encoding="utf-8") as handle:
            info = json.load(handle)
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and _alive(info.get("pid")) else None


def _write_private_json(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    write_atomic(os.path.abspath(path), json.dumps(data).encode("utf-8"), mode=0o600)


def _fail(message, status=1):
    """One line on stderr, nothing on stdout: ``eval "$(azsim env)"`` then sets nothing and the shell says why."""
    print(f"azsim: {message}", file=sys.stderr)
    return status


def _serve_command(args):
    """How to start the simulator these lines point at, with this interpreter (works from any directory)."""
    import sysconfig

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    installed = root in {os.path.abspath(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")}
    script = os.path.join(os.path.dirname(sys.executable), "azsim")
    if installed:  # pip install of the wheel: the entry point, else this interpreter
        argv = [script] if os.path.exists(script) else [sys.executable, "-m", "azsim"]
    else:  # a checkout: -m azsim finds the package only with its parent on PYTHONPATH
        argv = ["env", f"PYTHONPATH={root}", sys.executable, "-m", "azsim"]
    argv += ["serve", "--port", str(args.port), "--host", args.host]
    if args.state:
        argv += ["--state", os.path.abspath(args.state)]
    elif args.run_dir:
        argv += ["--run-dir", os.path.abspath(args.run_dir)]
    if args.tls_dir:
        argv += ["--tls-dir", os.path.abspath(args.tls_dir)]
    if args.settings:
        argv += ["--settings", os.path.abspath(args.settings)]
    return " ".join(shlex.quote(item) for item in argv)


def cmd_env(args):
    # Everything is computed before anything is printed, so a failure leaves nothing on stdout to eval.
    if not 0 < args.port < 65536:
        return _fail(f"env: --port must be the port `azsim serve` listens on (1-65535), got {args.port}", 2)
    try:
        from .core.settings import Settings, load_file

        settings = Settings(load_file(args.settings) if args.settings else None).values
        run_dir, tls_dir = _dirs(args, args.port)
        info = read_server_file(run_dir)
        deadline = time.monotonic() + max(args.wait, 0)
        while info is None and time.monotonic() < deadline:  # `azsim serve &` just before: let it start
            time.sleep(0.1)
            info = read_server_file(run_dir)
        if info is not None:  # the running simulator's own lines, its admin token included
            env = dict(info["env"])
        else:
            ensure_bundle(tls_dir)  # REQUESTS_CA_BUNDLE must name a file even before the first serve
            env = _env_lines(args.port, args.host, tls_dir, settings)
        lines = [f"export {key}={shlex.quote(value)}" for key, value in env.items()]
        if info is None:
            lines.append(f"# start the simulator these variables point at: {_serve_command(args)}")
            lines.append("# then run this again for AZSIM_ADMIN_TOKEN: the admin API (/_azsim/) needs it, "
                         "and it is new at every start")
    except Exception as err:  # noqa: BLE001 - any failure must reach the user's terminal, not an empty eval
        return _fail(f"env: {err}")
    print("\n".join(lines))
    return 0


def cmd_serve(args):
    import json

    from aiohttp import web

    from .core.tls import server_context
    from .server import Sim, build_app

    from .core.settings import SettingsError, load_file
    from .providers.marketplace.models import CatalogError

    settings = {}
    if args.time_scale is not None:
        settings["time_scale"] = args.time_scale
    try:
        if args.settings:
            settings.update(load_file(args.settings))  # checked against azsim/schemas/settings.schema.json
        sim = Sim(settings=settings, state_dir=args.state, catalog_path=args.catalog)
    except (SettingsError, CatalogError) as err:
        return _fail(f"serve: {err}", 2)
    if args.time_scale is not None:
        sim.settings.values["time_scale"] = args.time_scale
        sim.initial_settings["time_scale"] = args.time_scale
    run_dir, tls_dir = _dirs(args, args.port)
    scratch = None
    if run_dir is None:  # --port 0 with neither --state nor --run-dir: a CA for this run only
        run_dir = scratch = tempfile.mkdtemp(prefix="azsim-run-")
        tls_dir = tls_dir or os.path.join(run_dir, "tls")
    hosts = [args.host] if is_loopback(args.host) else []  # the CA signs loopback names only
    context = server_context(tls_dir, extra_hosts=hosts)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)  # queue connections from the moment the ready file exists, before run_app serves
    port = sock.getsockname()[1]
    sim.base_url = f"https://{args.host}:{port}"
    info = {"port": port, "url": sim.base_url, "ca": ca_path(tls_dir), "pid": os.getpid(), "run_dir": run_dir,
            "env": _env_lines(port, args.host, tls_dir, sim.settings.values, sim.admin_token)}
    server_file = os.path.join(run_dir, SERVER_FILE)
    _write_private_json(server_file, info)  # what `azsim env` prints, the admin token included (0600)
    if args.ready_file:
        _write_private_json(args.ready_file, info)
    if scratch:
        where = f"the environment, admin token included, is in {server_file}"
    else:
        where = "in another shell: eval \"$(azsim env --port %d%s)\"" % (
            port, f" --state {shlex.quote(args.state)}" if args.state else
            (f" --run-dir {shlex.quote(args.run_dir)}" if args.run_dir else ""))
    print(f"azsim listening on {sim.base_url} (CA {ca_path(tls_dir)}); {where}", flush=True)
    try:
        web.run_app(build_app(sim), sock=sock, ssl_context=context, print=None, access_log=None,
                    handle_signals=True, shutdown_timeout=1)
    finally:
        sim.save(force=True)
        if (read_server_file(run_dir) or {}).get("pid") == os.getpid():
            with contextlib.suppress(OSError):
                os.unlink(server_file)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="azsim", description="Local HTTPS Azure Resource Manager simulator.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve in the foreground")
    serve.add_argument("--port", type=int, default=8443, help="TCP port (0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--state", help="directory where the world is saved, so it survives a restart")
    serve.add_argument("--catalog", help="Marketplace catalog JSON file replacing the default one "
                       "(format: azsim/schemas/catalog.schema.json)")
    serve.add_argument("--settings", help="JSON file merged into the default settings "
                       "(format: azsim/schemas/settings.schema.json)")
    serve.add_argument("--time-scale", type=float, help="multiply every operation duration (0 = instant)")
    serve.add_argument("--run-dir", help="where server.json (URL, CA, admin token) and, without --state, the CA "
                       "are kept (default: the --state directory, else ~/.cache/azsim/run/PORT; with --port 0 a "
                       "temporary directory)")
    serve.add_argument("--tls-dir", default=default_tls_dir(),
                       help="keep the CA here instead (default: <state>/tls, else <run dir>/tls; AZSIM_TLS_DIR)")
    serve.add_argument("--ready-file", help="write port, URL, CA path and environment (admin token included) "
                       "here once listening (mode 0600)")
    serve.set_defaults(func=cmd_serve)
    env = sub.add_parser("env", help="print shell export lines that point Azure SDKs and this collection here")
    env.add_argument("--port", type=int, default=8443)
    env.add_argument("--host", default="127.0.0.1")
    env.add_argument("--state", help="the --state directory `azsim serve` got")
    env.add_argument("--run-dir", help="the --run-dir `azsim serve` got")
    env.add_argument("--tls-dir", default=default_tls_dir(), help="the CA `azsim serve` uses (created if missing)")
    env.add_argument("--wait", type=float, default=0,
                     help="seconds to wait for the simulator to start (for AZSIM_ADMIN_TOKEN), default 0")
    env.add_argument("--settings", help="the settings file `azsim serve` gets (credentials, subscriptions)")
    env.set_defaults(func=cmd_env)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
