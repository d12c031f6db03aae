"""`python -m edge_agent --name NODE --listen HOST:PORT --state-dir DIR --key-file FILE [--nginx ...]`.

Without `--nginx` or `--nginx-conf` the agent only keeps and reports its state. With `--nginx` it starts an
nginx of its own (files under STATE_DIR/nginx), serves the held domains on `--http-listen` and stops it when
it stops; with `--nginx-conf` it drives an nginx run by someone else, whose `http {}` block includes
`NGINX_CONF_DIR/*.conf`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from edge_agent.addresses import Policy, parse_address, parse_networks
from edge_agent.nginx import DEFAULT_CA_BUNDLE, NginxApplier, NginxError
from edge_agent.resolve import parse_resolver, system_resolvers
from edge_agent.server import AGENT, MAX_BODY, create_app
from edge_agent.signing import KeyRing
from edge_agent.state import StateError


def _nginx_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("nginx", "serve the held domains with nginx")
    group.add_argument("--nginx", action="store_true", help="start and own an nginx (stopped with the agent)")
    group.add_argument("--nginx-conf", type=Path, help="drive a running nginx instead: its main config file")
    group.add_argument(
        "--nginx-conf-dir", type=Path, help="with --nginx-conf: the folder of edge-agent.conf (it includes)"
    )
    group.add_argument(
        "--nginx-pid", type=Path, help="with --nginx-conf: its pid file (default: nginx -s reload)"
    )
    group.add_argument("--nginx-prefix", type=Path, help="nginx's -p prefix (with --nginx: STATE_DIR/nginx)")
    group.add_argument("--nginx-bin", default="nginx", help="the nginx program (default: nginx)")
    group.add_argument("--nginx-workers", default="auto", help="worker_processes of an owned nginx")
    group.add_argument(
        "--http-listen", default="127.0.0.1:8080", help="HOST:PORT of the edge's HTTP listener (nginx's)"
    )
    group.add_argument(
        "--ca-bundle",
        type=Path,
        default=DEFAULT_CA_BUNDLE,
        help=f"CA certificates that origin certificates are verified against (default: {DEFAULT_CA_BUNDLE})",
    )
    group.add_argument(
        "--confirm-timeout", type=float, default=20.0, help="seconds to wait for nginx to serve a new config"
    )
    group.add_argument(
        "--resolver",
        action="append",
        default=[],
        metavar="ADDRESS[:PORT]",
        help="DNS server resolving origin names at request time (repeatable; default: /etc/resolv.conf's)",
    )
    group.add_argument(
        "--resolver-valid",
        type=int,
        default=30,
        help="seconds nginx keeps a resolved origin name (default 30)",
    )
    group.add_argument(
        "--nginx-shm", default="512m", help="size of nginx's shared dictionary of domains (default 512m)"
    )


def _nginx_applier(
    parser: argparse.ArgumentParser, args: argparse.Namespace, policy: Policy
) -> NginxApplier | None:
    if args.nginx and args.nginx_conf:
        parser.error("--nginx (own an nginx) and --nginx-conf (drive a running one) exclude each other")
    if not args.nginx and not args.nginx_conf:
        for flag in ("nginx_conf_dir", "nginx_pid", "nginx_prefix"):
            if getattr(args, flag) is not None:
                parser.error(f"--{flag.replace('_', '-')} needs --nginx or --nginx-conf")
        return None
    port = args.http_listen.rpartition(":")[2]
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        parser.error(f"--http-listen must be HOST:PORT, not {args.http_listen!r}")
    resolvers = args.resolver or system_resolvers()
    for value in resolvers:
        try:
            parse_resolver(value)
        except ValueError:
            parser.error(f"--resolver must be ADDRESS or ADDRESS:PORT, not {value!r}")
    options = {
        "ca_bundle": args.ca_bundle,
        "resolvers": resolvers,
        "resolver_valid": args.resolver_valid,
        "shm": args.nginx_shm,
        "confirm_timeout": args.confirm_timeout,
        "nginx_bin": args.nginx_bin,
        "listen": args.http_listen,
        "origin_policy": policy,
    }
    if args.nginx:
        if args.nginx_conf_dir or args.nginx_pid:
            parser.error("--nginx-conf-dir and --nginx-pid go with --nginx-conf, not --nginx")
        return NginxApplier.owned(
            args.nginx_prefix or args.state_dir / "nginx", workers=args.nginx_workers, **options
        )
    if not args.nginx_conf_dir:
        parser.error("--nginx-conf needs --nginx-conf-dir, the folder its http block includes")
    return NginxApplier.external(
        main_conf=args.nginx_conf,
        conf_dir=args.nginx_conf_dir,
        prefix=args.nginx_prefix,
        pid_file=args.nginx_pid,
        **options,
    )


def _origin_policy(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Policy:
    """What origins may be: public addresses other than this node's own, and the allowed networks."""
    try:
        allowed = parse_networks([os.environ.get("EDGE_AGENT_ORIGIN_ALLOW", ""), *args.origin_allow])
    except ValueError as exc:
        parser.error(f"--origin-allow: {exc}")
    hosts = [args.listen.rpartition(":")[0], args.http_listen.rpartition(":")[0]]
    addresses = [parse_address(host) for host in hosts]
    own = frozenset(a for a in addresses if a is not None and not a.is_unspecified)
    return Policy(allowed=allowed, own=own)


def main(argv: list[str] | None = None) -> int:
    """Run the agent until SIGTERM or SIGINT; non-zero if it cannot start."""
    parser = argparse.ArgumentParser(prog="edge_agent", description="The CDN Console edge agent.")
    parser.add_argument("--name", required=True, help="this node's name, as in the console")
    parser.add_argument("--listen", default="127.0.0.1:9100", help="HOST:PORT to listen on")
    parser.add_argument("--state-dir", required=True, type=Path, help="folder of the agent's state")
    parser.add_argument(
        "--key-file",
        type=Path,
        help="file holding the node's signing key (or EDGE_AGENT_KEY); during a key rotation it may hold "
        "the old and the new key, a line each, and it is read again whenever it changes",
    )
    parser.add_argument(
        "--max-body", type=int, default=MAX_BODY, help=f"largest push body in bytes (default {MAX_BODY})"
    )
    parser.add_argument(
        "--origin-allow",
        action="append",
        default=[],
        metavar="CIDR[,CIDR...]",
        help="networks origins may be in although private, loopback, reserved... (repeatable; also "
        "EDGE_AGENT_ORIGIN_ALLOW); other such addresses are refused, IP origins on receipt and names where "
        "they are resolved",
    )
    _nginx_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format=f"%(asctime)s {args.name} %(levelname)s %(message)s"
    )
    try:
        key = (
            KeyRing(path=args.key_file)
            if args.key_file
            else KeyRing(os.environ.get("EDGE_AGENT_KEY", "").strip())
        )
    except OSError as exc:
        parser.error(f"cannot read the key file {args.key_file}: {exc.strerror or exc}")
    if not key.keys():
        parser.error("the node's signing key is needed: --key-file FILE or EDGE_AGENT_KEY")
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        parser.error(f"--listen must be HOST:PORT, not {args.listen!r}")
    policy = _origin_policy(parser, args)
    applier = _nginx_applier(parser, args, policy)
    try:
        listeners = [args.listen] + ([args.http_listen] if applier is not None else [])
        app = create_app(
            args.name,
            key,
            args.state_dir,
            applier=applier,
            listeners=listeners,
            max_body=args.max_body,
            origin_policy=policy,
        )
    except StateError as exc:
        print(
            f"edge_agent {args.name}: {exc}; refusing to start (move the file away to start empty)",
            file=sys.stderr,
        )
        return 2
    if applier is not None:

        async def serve_with_nginx(app: web.Application) -> AsyncIterator[None]:
            await applier.start(app[AGENT].held_records())
            yield
            await applier.stop()

        app.cleanup_ctx.append(serve_with_nginx)
    try:
        web.run_app(
            app, host=host.strip("[]"), port=int(port), print=None, access_log=None, shutdown_timeout=5
        )
    except NginxError as exc:
        print(f"edge_agent {args.name}: nginx: {exc}; refusing to start", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
