"""Command line: ``python -m azsim serve|env``."""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import sys

from .core.tls import bundle_path, ca_path, default_tls_dir


def _env_lines(port, host, tls_dir, settings=None):
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
        "AZSIM_URL": base,
    }
    return env


def cmd_env(args):
    for key, value in _env_lines(args.port, args.host, args.tls_dir).items():
        print(f"export {key}={shlex.quote(value)}")


def cmd_serve(args):
    import json

    from aiohttp import web

    from .core.tls import server_context
    from .server import Sim, build_app

    settings = {}
    if args.time_scale is not None:
        settings["time_scale"] = args.time_scale
    if args.settings:
        with open(args.settings, encoding="utf-8") as handle:
            settings.update(json.load(handle))
    sim = Sim(settings=settings, state_dir=args.state, catalog_path=args.catalog)
    if args.time_scale is not None:
        sim.settings.values["time_scale"] = args.time_scale
        sim.initial_settings["time_scale"] = args.time_scale
    context = server_context(args.tls_dir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)  # queue connections from the moment the ready file exists, before run_app serves
    port = sock.getsockname()[1]
    sim.base_url = f"https://{args.host}:{port}"
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump({"port": port, "url": sim.base_url, "ca": ca_path(args.tls_dir), "pid": os.getpid(),
                       "env": _env_lines(port, args.host, args.tls_dir, sim.settings.values)}, handle)
        os.replace(tmp, args.ready_file)
    print(f"azsim listening on {sim.base_url} (CA {ca_path(args.tls_dir)})", flush=True)
    try:
        web.run_app(build_app(sim), sock=sock, ssl_context=context, print=None, access_log=None,
                    handle_signals=True, shutdown_timeout=1)
    finally:
        sim.save(force=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m azsim", description="Local HTTPS Azure Resource Manager simulator.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve in the foreground")
    serve.add_argument("--port", type=int, default=8443, help="TCP port (0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--state", help="directory where the world is saved, so it survives a restart")
    serve.add_argument("--catalog", help="Marketplace catalog JSON file replacing the default one")
    serve.add_argument("--settings", help="JSON file merged into the default settings")
    serve.add_argument("--time-scale", type=float, help="multiply every operation duration (0 = instant)")
    serve.add_argument("--tls-dir", default=default_tls_dir(), help="where the CA is kept (default %(default)s)")
    serve.add_argument("--ready-file", help="write port, URL and CA path here once listening")
    serve.set_defaults(func=cmd_serve)
    env = sub.add_parser("env", help="print shell export lines that point Azure SDKs and this collection here")
    env.add_argument("--port", type=int, default=8443)
    env.add_argument("--host", default="127.0.0.1")
    env.add_argument("--tls-dir", default=default_tls_dir())
    env.set_defaults(func=cmd_env)
    args = parser.parse_args(argv)
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
