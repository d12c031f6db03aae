"""Serve the held domains with nginx, one domain's change at a time, without reloading nginx.

nginx's configuration is the same whatever the domains (`edge-agent.conf`, written when the agent starts):
a control server on a unix socket, and the edge's HTTP listener whose Lua (`lua/edge_agent.lua`) reads each
domain's record from the shared dictionary `edge_domains` at request time. Applying a change is one call on
the control socket that writes (or deletes) the records of the changed domains: every worker sees it at once,
whatever the number of domains held, and a record that cannot be stored fails alone.

Fetching from origins goes through three named locations, one per kind of fetch (plain HTTP, HTTPS, HTTPS
with the certificate verified against the CA bundle): one TLS context per kind for the whole node, not one per
domain. Origins are `proxy_pass` variables: names are resolved at request time (by the Lua, through the
configured resolvers, each answer kept `resolver_valid` seconds), never at load, so a name that stops
resolving fails only its own domain's requests; a name that resolves into a range the origin policy refuses
(`edge_agent.addresses`) is never fetched from. No connection or TLS
session is shared between requests to origins (a variable `proxy_pass` keeps none, and session reuse is off),
so none crosses an SNI or a verification setting.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import logging
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from edge_agent.addresses import Policy
from edge_agent.nginx_process import (
    GENERATION_HEADER,
    TEMP_PREFIX,
    NginxError,
    NginxProcess,
    _write_atomic,
)
from edge_agent.resolve import parse_resolver

__all__ = ["DEFAULT_CA_BUNDLE", "GENERATION_HEADER", "NginxApplier", "NginxError", "render_edge_conf"]

logger = logging.getLogger("edge_agent.nginx")

DEFAULT_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CONF_NAME = "edge-agent.conf"
SOCKET_NAME = "edge-agent.sock"
REVISION_HEADER = "X-Config-Revision"
LUA_DIR = Path(__file__).resolve().parent / "lua"
MODULES = ("ndk_http_module.so", "ngx_http_lua_module.so")
MODULE_DIR = Path("/usr/lib/nginx/modules")
CHUNK = 2000  # records per control call in a full sync: bounded memory on both sides


# A unix socket's path is at most 107 bytes on Linux (sun_path), which a deep --state-dir exceeds.
MAX_SOCKET_PATH = 100


def control_socket_path(conf_dir: Path) -> Path:
    """Where nginx's control server listens: beside the configuration, or, when that path is too long for a
    unix socket, in a folder of this user's own (mode 0700) under the system's temporary folder, named
    after the configuration folder so that two agents on one host never share it."""
    path = conf_dir / SOCKET_NAME
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(os.fsencode(conf_dir.resolve())).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"edge-agent-{os.getuid()}-{digest}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise NginxError(f"{folder} must belong to this user and be private (mode 0700)")
    return folder / SOCKET_NAME


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_edge_conf(
    *,
    listen: str,
    socket: Path,
    generation: str,
    ca_bundle: Path | None,
    resolvers: list[str],
    resolver_valid: int = 30,
    shm: str = "512m",
    connect_timeout: str = "5s",
    origin_policy: Policy | None = None,
) -> str:
    """The `http {}` part the agent owns; the same for any set of domains."""
    verify = (
        [
            "        proxy_ssl_verify on;",
            f"        proxy_ssl_trusted_certificate {_quote(str(ca_bundle))};",
            "        proxy_ssl_verify_depth 4;",
        ]
        if ca_bundle is not None
        else ["        return 502;"]
    )
    ranges = (origin_policy or Policy(allowed=(ipaddress.ip_network("0.0.0.0/0"),))).ipv4_ranges()
    lua_conf = json.dumps(
        {
            "resolvers": [list(parse_resolver(value)) for value in resolvers],
            "valid": resolver_valid,
            "timeout": 2000,
            **ranges,
        },
        separators=(",", ":"),
    )

    def fetch(name: str, scheme: str, tls: list[str]) -> list[str]:
        return [
            f"    location {name} {{",
            f"        proxy_pass {scheme}://$edge_peer;",
            *tls,
            "        error_page 502 504 = @edge_next;",
            "    }",
        ]

    tls = [
        "        proxy_ssl_server_name on;",
        "        proxy_ssl_name $edge_sni;",
        "        proxy_ssl_session_reuse off;",
    ]
    lines = [
        f"# Written by the edge agent; generation {generation}. Do not edit.",
        f"lua_package_path {_quote(str(LUA_DIR) + '/?.lua;;')};",
        f"lua_shared_dict edge_domains {shm};",
        "init_by_lua_block {",
        f'    require("edge_agent").generation = {_quote(generation)}',
        f'    require("edge_agent").configure([=[{lua_conf}]=])',
        "}",
        # Each worker its own random sequence (a fork copies the master's): DNS query ids, origin picks.
        "init_worker_by_lua_block { math.randomseed(ngx.now() * 1000 + ngx.worker.pid()) }",
        "server {",
        f"    listen unix:{socket};",
        "    access_log off;",
        "    client_max_body_size 0;",
        "    client_body_buffer_size 32m;",
        '    location / { content_by_lua_block { require("edge_agent").control() } }',
        "}",
        "server {",
        f"    listen {listen} default_server;",
        "    server_name _;",
        '    set $edge_revision "";',
        '    set $edge_key "";',
        '    set $edge_tried ",";',
        '    set $edge_peer "";',
        '    set $edge_sni "";',
        '    set $edge_host "";',
        f"    add_header {REVISION_HEADER} $edge_revision always;",
        f"    proxy_hide_header {REVISION_HEADER};",
        "    proxy_http_version 1.1;",
        "    proxy_set_header Host $edge_host;",
        '    proxy_set_header Connection "";',
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        f"    proxy_connect_timeout {connect_timeout};",
        "    recursive_error_pages on;",
        "    location / {",
        '        rewrite_by_lua_block { require("edge_agent").route() }',
        "        content_by_lua_block { ngx.exit(502) }",
        "    }",
        "    location @edge_next {",
        '        rewrite_by_lua_block { require("edge_agent").retry() }',
        "        content_by_lua_block { ngx.exit(502) }",
        "    }",
        *fetch("@edge_http", "http", []),
        *fetch("@edge_https", "https", tls),
        *fetch("@edge_https_verify", "https", tls + verify),
        "}",
        "",
    ]
    return "\n".join(lines)


def render_main_conf(prefix: Path, include: Path, workers: str) -> str:
    """The main configuration of an nginx the agent owns: every path under `prefix`, in the foreground."""
    logs, temp = prefix / "logs", prefix / "temp"
    return "\n".join(
        [
            "# Written by the edge agent at every start. Do not edit.",
            *(f"load_module {_quote(str(MODULE_DIR / module))};" for module in MODULES),
            "daemon off;",
            f"worker_processes {workers};",
            f"pid {_quote(str(logs / 'nginx.pid'))};",
            f"error_log {_quote(str(logs / 'error.log'))} warn;",
            "worker_shutdown_timeout 30s;",
            "events {",
            "    worker_connections 4096;",
            "}",
            "http {",
            f"    access_log {_quote(str(logs / 'access.log'))};",
            *(
                f"    {kind}_temp_path {_quote(str(temp / kind))};"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            ),
            "    server_tokens off;",
            f"    include {_quote(str(include))};",
            "}",
            "",
        ]
    )


class NginxApplier:
    """Makes an nginx serve the agent's domain records (the `Applier` of `edge_agent.server`).

    `owned()`: an nginx the agent starts, adopts after a crash of its own, and stops; `external()`: an nginx
    run by someone else, which loads the Lua module and whose `http {}` includes `CONF_DIR/*.conf`.
    """

    def __init__(
        self,
        process: NginxProcess,
        *,
        ca_bundle: Path | None = DEFAULT_CA_BUNDLE,
        workers: str = "auto",
        resolvers: list[str] | None = None,
        resolver_valid: int = 30,
        shm: str = "512m",
        origin_policy: Policy | None = None,
    ) -> None:
        self.process = process
        self.origin_policy = origin_policy
        self.conf_file = process.conf_dir / CONF_NAME
        self.socket = control_socket_path(process.conf_dir)
        self.ca_bundle = ca_bundle
        self.workers = workers
        self.resolvers = list(resolvers or [])
        self.resolver_valid = resolver_valid
        self.shm = shm
        self.verify_ready = ca_bundle is not None and os.access(ca_bundle, os.R_OK)
        self._lock = asyncio.Lock()

    @classmethod
    def owned(
        cls,
        prefix: Path,
        *,
        listen: str,
        nginx_bin: str = "nginx",
        confirm_timeout: float = 20.0,
        **options: Any,
    ) -> NginxApplier:
        prefix = prefix.resolve()
        process = NginxProcess(
            listen=listen,
            conf_dir=prefix / "conf" / "edge-agent",
            main_conf=prefix / "conf" / "nginx.conf",
            nginx_bin=nginx_bin,
            prefix=prefix,
            pid_file=prefix / "logs" / "nginx.pid",
            error_log=prefix / "logs" / "error.log",
            own=True,
            confirm_timeout=confirm_timeout,
        )
        return cls(process, **options)

    @classmethod
    def external(
        cls,
        *,
        main_conf: Path,
        conf_dir: Path,
        listen: str,
        nginx_bin: str = "nginx",
        prefix: Path | None = None,
        pid_file: Path | None = None,
        confirm_timeout: float = 20.0,
        **options: Any,
    ) -> NginxApplier:
        process = NginxProcess(
            listen=listen,
            conf_dir=conf_dir.resolve(),
            main_conf=main_conf.resolve(),
            nginx_bin=nginx_bin,
            prefix=prefix.resolve() if prefix else None,
            pid_file=pid_file,
            confirm_timeout=confirm_timeout,
        )
        return cls(process, **options)

    @property
    def master_pid(self) -> int | None:
        return self.process.master_pid

    # The Applier protocol -----------------------------------------------------------------------------

    async def start(self, records: dict[str, str]) -> None:
        """Write the configuration, (re)load nginx with it, then load every held record (one full sync)."""
        async with self._lock:
            process = self.process
            for folder in [process.conf_dir] + (
                [process.prefix / "logs", process.prefix / "temp"] if process.own and process.prefix else []
            ):
                folder.mkdir(parents=True, exist_ok=True)
            for leftover in process.conf_dir.glob(f"{TEMP_PREFIX}*.tmp"):
                leftover.unlink(missing_ok=True)
            self.verify_ready = self.ca_bundle is not None and os.access(self.ca_bundle, os.R_OK)
            if self.ca_bundle is not None and not self.verify_ready:
                logger.error(
                    "cannot read the CA bundle %s: domains verifying their origin fail", self.ca_bundle
                )
            generation = f"{os.getpid()}-{secrets.token_hex(6)}"
            conf = render_edge_conf(
                listen=process.listen,
                socket=self.socket,
                generation=generation,
                ca_bundle=self.ca_bundle if self.verify_ready else None,
                resolvers=self.resolvers,
                resolver_valid=self.resolver_valid,
                shm=self.shm,
                origin_policy=self.origin_policy,
            )
            await asyncio.to_thread(_write_atomic, self.conf_file, conf.encode())
            if process.own:
                assert process.prefix is not None
                main = render_main_conf(process.prefix, self.conf_file, self.workers)
                await asyncio.to_thread(_write_atomic, process.main_conf, main.encode())
                process.adopt()
            try:
                await process.load(generation)
                await self._sync(records)
            except BaseException:
                if process.own:
                    await process.stop()
                raise

    async def apply(self, changes: dict[str, str | None]) -> dict[str, str]:
        """Store each changed record (None deletes it); the domains whose record nginx could not store."""
        async with self._lock:
            sets = {key: raw for key, raw in changes.items() if raw is not None}
            deletes = [key for key, raw in changes.items() if raw is None]
            answer = await self._call("/set", {"set": sets, "delete": deletes})
            return {
                key: "the edge node has no room left for this domain" for key in answer.get("failed") or {}
            }

    async def stop(self) -> None:
        async with self._lock:
            await self.process.stop()

    # Steps --------------------------------------------------------------------------------------------

    async def _sync(self, records: dict[str, str]) -> None:
        keys = list(records)
        failed: list[str] = []
        for start in range(0, len(keys), CHUNK):
            chunk = {key: records[key] for key in keys[start : start + CHUNK]}
            answer = await self._call("/set", {"set": chunk, "delete": []})
            failed += list(answer.get("failed") or {})
        await self._call("/keep", {"keep": keys})
        if failed:
            logger.error("nginx could not store %d domains (the shared dictionary is full)", len(failed))

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One HTTP call on the control socket."""
        data = json.dumps(body, separators=(",", ":")).encode()
        try:
            reader, writer = await asyncio.open_unix_connection(str(self.socket))
        except OSError as exc:
            raise NginxError(f"nginx does not answer on its control socket: {exc.strerror or exc}") from exc
        try:
            head = f"POST {path} HTTP/1.0\r\nHost: control\r\nContent-Length: {len(data)}\r\n\r\n".encode()
            writer.write(head + data)
            await writer.drain()
            response = await asyncio.wait_for(reader.read(), 60)
        except (OSError, TimeoutError) as exc:
            raise NginxError(f"nginx did not answer a control call: {exc}") from exc
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        status_line, _, rest = response.partition(b"\r\n")
        _, _, payload = rest.partition(b"\r\n\r\n")
        if b" 200 " not in status_line + b" ":
            raise NginxError(f"nginx refused a control call: {status_line.decode(errors='replace')}")
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise NginxError("nginx sent an unreadable control answer") from exc
