"""Serve the held domains with nginx: render, `nginx -t`, reload, confirm; on failure, restore the old config.

One file, `edge-agent.conf`, holds every domain (replaced atomically, so nginx never reads half a batch):

* a default server on the edge's HTTP listener answers 404 to unknown hosts with the config generation in
  `X-Edge-Config-Generation`; after a reload the agent polls it until the new generation is served, so a push
  is answered only once nginx's new workers serve the new config;
* one server block per domain, `server_name` = the domain (wildcards included), `X-Config-Revision` on every
  answer; a disabled domain answers 403 (with its revision), a deleted one is absent (404 from the default);
* back-to-origin over the policy's scheme and port: `https` uses HTTPS on `https_port`; `http` and `follow`
  use HTTP on `http_port` (the edge's client listener is plain HTTP, so following the client means HTTP);
* one named upstream per (domain, priority level, SNI): TLS sessions and keep-alive connections are cached
  per upstream, so a session made with one SNI (or verified one way) is never resumed for another. Origins of
  one SNI share an upstream whose backups (priority above the lowest) carry `backup`; origins with different
  SNIs are split by weight (`split_clients`), and the backup level is reached through `error_page`;
* `proxy_ssl_name` is the origin's effective SNI; with no SNI none is sent, and with verification on the
  certificate is checked against that SNI only, so no SNI means the upstream's own name, which no certificate
  carries: a 502, as when a vendor compares the certificate with an absent SNI.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import os
import re
import secrets
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("edge_agent.nginx")

DEFAULT_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CONF_NAME = "edge-agent.conf"
GENERATION_HEADER = "X-Edge-Config-Generation"
REVISION_HEADER = "X-Config-Revision"
TEMP_PREFIX = ".edge-agent-"
CONFIRMATIONS = 3
SETTLE_SECONDS = 0.5
HOST_LABELS = re.compile(r"[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*\.?")
PORT_SUFFIX = re.compile(r"(.*):([0-9]{1,5})")


class NginxError(Exception):
    """nginx refused a configuration or did not serve it; the message carries nginx's own words."""


class NginxConfigError(NginxError):
    """A document holds a value that cannot be written into an nginx configuration."""


# Rendering ----------------------------------------------------------------------------------------------


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _host_name(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) > 253 or not HOST_LABELS.fullmatch(value):
        raise NginxConfigError(f"{where}: {value!r} is not a host name")
    return value


def _server_address(value: object, where: str) -> str:
    """An origin address as nginx's `server` wants it: a host name, an IPv4 or a bracketed IPv6."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            address = ipaddress.ip_address(value.strip("[]"))
            return f"[{address}]" if address.version == 6 else str(address)
    return _host_name(value, where)


def _origin_host(value: object, where: str) -> str:
    """The Host header for the origin: the configured one, or the client's for an empty or wildcard value."""
    if not value or (isinstance(value, str) and value.startswith("*.")):
        return "$host"
    if not isinstance(value, str):
        raise NginxConfigError(f"{where}: origin_host must be a string")
    host, port = value, ""
    match = PORT_SUFFIX.fullmatch(value)
    if match and (value.count(":") == 1 or value.startswith("[")):
        host, port = match.group(1), match.group(2)
    _server_address(host, f"{where} origin_host")
    if port and not 1 <= int(port) <= 65535:
        raise NginxConfigError(f"{where}: origin_host has a bad port: {value!r}")
    return _quote(value)


def _weight(value: object) -> int:
    return min(max(value if isinstance(value, int) else 1, 1), 100)


@dataclass(frozen=True)
class RenderOptions:
    """What the rendering needs besides the documents."""

    listen: str
    ca_bundle: Path | None = DEFAULT_CA_BUNDLE
    verify_depth: int = 4
    keepalive: int = 16
    connect_timeout: str = "5s"


@dataclass(frozen=True)
class _Group:
    """Origins of one domain at one priority level that are fetched with the same SNI."""

    upstream: str
    sni: str | None
    origins: tuple[dict[str, Any], ...]

    @property
    def weight(self) -> int:
        return sum(_weight(origin.get("weight")) for origin in self.origins)


def _groups(origins: Iterable[dict[str, Any]], prefix: str) -> list[_Group]:
    by_sni: dict[str | None, list[dict[str, Any]]] = {}
    for origin in origins:
        by_sni.setdefault(origin.get("sni"), []).append(origin)
    return [_Group(f"{prefix}_{n}", sni, tuple(members)) for n, (sni, members) in enumerate(by_sni.items())]


def _upstream(name: str, servers: list[str], keepalive: int) -> str:
    lines = [f"upstream {name} {{", *(f"    {server}" for server in servers)]
    if keepalive:
        lines.append(f"    keepalive {keepalive};")
    return "\n".join([*lines, "}"])


def _server_line(origin: dict[str, Any], port: int, where: str, backup: bool = False) -> str:
    address = _server_address(origin.get("address"), f"{where} origin address")
    return f"server {address}:{port} weight={_weight(origin.get('weight'))}{' backup' if backup else ''};"


def _sni_lines(sni: str | None, where: str) -> list[str]:
    if sni is None:
        return ["proxy_ssl_server_name off;"]
    return ["proxy_ssl_server_name on;", f"proxy_ssl_name {_quote(_host_name(sni, f'{where} sni'))};"]


def render_domain(doc: dict[str, Any], options: RenderOptions) -> str:
    """The upstreams, maps and server block of one domain document."""
    domain = where = doc["domain"]
    revision = int(doc["revision"])
    key = "edge_" + hashlib.sha256(domain.encode()).hexdigest()[:12]
    head = [f"# {domain} revision {revision}"]
    server = [
        "server {",
        f"    listen {options.listen};",
        f"    server_name {domain};",
        f"    add_header {REVISION_HEADER} {revision} always;",
    ]
    origins = [origin for origin in doc.get("origins", []) if isinstance(origin, dict)]
    if not doc.get("enabled"):
        return "\n".join([*head, *server, "    return 403;", "}", ""])
    if not origins:
        return "\n".join([*head, *server, "    return 502;", "}", ""])

    scheme_doc = doc["forward_scheme"]
    tls = scheme_doc["policy"] == "https"
    scheme, port = ("https", int(scheme_doc["https_port"])) if tls else ("http", int(scheme_doc["http_port"]))
    host = _origin_host(doc.get("origin_host"), where)
    server += [
        f"    proxy_hide_header {REVISION_HEADER};",
        "    proxy_http_version 1.1;",
        f"    proxy_set_header Host {host};",
        '    proxy_set_header Connection "";',
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        f"    proxy_connect_timeout {options.connect_timeout};",
    ]
    verify = doc.get("verify_origin") or {}
    if tls and verify.get("enabled"):
        if options.ca_bundle is None:
            raise NginxConfigError(f"{where}: verifying origin certificates needs a CA bundle (--ca-bundle)")
        server += [
            "    proxy_ssl_verify on;",
            f"    proxy_ssl_trusted_certificate {_quote(str(options.ca_bundle))};",
            f"    proxy_ssl_verify_depth {options.verify_depth};",
        ]

    lowest = min(origin.get("priority", 0) for origin in origins)
    primary = [origin for origin in origins if origin.get("priority", 0) == lowest]
    backup = [origin for origin in origins if origin.get("priority", 0) != lowest]
    blocks: list[str] = []
    if not tls or len({origin.get("sni") for origin in origins}) == 1:
        servers = [_server_line(o, port, where) for o in primary]
        servers += [_server_line(o, port, where, backup=True) for o in backup]
        blocks.append(_upstream(f"{key}_0", servers, options.keepalive))
        location = [f"proxy_pass {scheme}://{key}_0;"]
        if tls:
            location += _sni_lines(origins[0].get("sni"), where)
        server += ["    location / {", *(f"        {line}" for line in location), "    }"]
    else:
        for level, members in enumerate([primary, backup]):
            if not members:
                continue
            groups = _groups(members, f"{key}_{level}")
            for group in groups:
                servers = [_server_line(o, port, where) for o in group.origins]
                blocks.append(_upstream(group.upstream, servers, options.keepalive))
            if len(groups) == 1:
                location = [f"proxy_pass {scheme}://{groups[0].upstream};", *_sni_lines(groups[0].sni, where)]
            else:
                pick = f"${key}_{level}"
                blocks.append(_split(pick, groups))
                blocks.append(_sni_map(pick, groups, where))
                location = [f"proxy_pass {scheme}://{pick};", "proxy_ssl_server_name on;"]
                location.append(f"proxy_ssl_name {pick}_sni;")
            if level == 0 and backup:
                location.append("error_page 502 504 = @edge_backup;")
            name = "/" if level == 0 else "@edge_backup"
            server += [f"    location {name} {{", *(f"        {line}" for line in location), "    }"]
    return "\n".join([*head, *blocks, *server, "}", ""])


def _split(variable: str, groups: list[_Group]) -> str:
    total = sum(group.weight for group in groups)
    lines = [f'split_clients "${{request_id}}" {variable} {{']
    for group in groups[:-1]:
        share = max(group.weight * 10000 // total, 1) / 100
        lines.append(f"    {share:.2f}% {group.upstream};")
    lines.append(f"    * {groups[-1].upstream};")
    return "\n".join([*lines, "}"])


def _sni_map(variable: str, groups: list[_Group], where: str) -> str:
    lines = [f"map {variable} {variable}_sni {{", '    default "";']
    for group in groups:
        name = "" if group.sni is None else _host_name(group.sni, f"{where} sni")
        lines.append(f"    {group.upstream} {_quote(name)};")
    return "\n".join([*lines, "}"])


def render_config(documents: dict[str, dict[str, Any]], options: RenderOptions, generation: str) -> str:
    """The whole `edge-agent.conf`: the default server, then every domain in name order."""
    parts = [
        f"# Written by the edge agent; generation {generation}, {len(documents)} domains. Do not edit.",
        "server {",
        f"    listen {options.listen} default_server;",
        '    server_name "";',
        f"    add_header {GENERATION_HEADER} {_quote(generation)} always;",
        "    return 404;",
        "}",
        "",
    ]
    parts += [render_domain(documents[name], options) for name in sorted(documents)]
    return "\n".join(parts)


def render_main_conf(prefix: Path, include: Path, workers: str) -> str:
    """The main configuration of an nginx the agent owns: every path under `prefix`, in the foreground."""
    logs, temp = prefix / "logs", prefix / "temp"
    return "\n".join(
        [
            "# Written by the edge agent at every start. Do not edit.",
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
            "    server_names_hash_max_size 131072;",
            "    server_names_hash_bucket_size 512;",
            "    variables_hash_max_size 131072;",
            "    variables_hash_bucket_size 128;",
            "    map_hash_bucket_size 128;",
            f"    include {_quote(str(include))};",
            "}",
            "",
        ]
    )


# Running ------------------------------------------------------------------------------------------------


def _probe_address(listen: str) -> tuple[str, int]:
    """Where to reach the listener from this host: wildcard addresses become the loopback."""
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"the HTTP listener must be HOST:PORT or PORT, not {listen!r}")
    host = host.strip("[]")
    if host in ("", "*", "0.0.0.0"):  # noqa: S104 - a wildcard listener is reached through the loopback
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return host, int(port)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] != "Z"
    return True


def _children(pid: int) -> set[int] | None:
    """The processes whose parent is `pid` (None where /proc cannot tell)."""
    children = set()
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:
        return None
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 1 and fields[1] == str(pid):
            children.add(int(entry.name))
    return children


def _accepting(pid: int) -> bool:
    """Whether an nginx worker may still take new connections: alive and not retitled as shutting down."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return _alive(pid) and b"shutting down" not in cmdline


class NginxApplier:
    """Makes an nginx serve the agent's documents (the `Applier` of `edge_agent.server`).

    Use `owned()` for an nginx the agent starts, adopts after a crash of its own, and stops; or `external()`
    for an nginx run by someone else whose `http {}` includes `CONF_DIR/*.conf`.
    """

    def __init__(
        self,
        *,
        listen: str,
        conf_dir: Path,
        main_conf: Path,
        nginx_bin: str = "nginx",
        prefix: Path | None = None,
        pid_file: Path | None = None,
        error_log: Path | None = None,
        ca_bundle: Path | None = DEFAULT_CA_BUNDLE,
        own: bool = False,
        workers: str = "auto",
        confirm_timeout: float = 20.0,
        verify_depth: int = 4,
    ) -> None:
        self.options = RenderOptions(listen=listen, ca_bundle=ca_bundle, verify_depth=verify_depth)
        self.probe = _probe_address(listen)
        self.conf_dir = conf_dir
        self.conf_file = conf_dir / CONF_NAME
        self.main_conf = main_conf
        self.nginx_bin = nginx_bin
        self.prefix = prefix
        self.pid_file = pid_file
        self.error_log = error_log
        self.own = own
        self.workers = workers
        self.confirm_timeout = confirm_timeout
        self.generation: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._adopted: int | None = None
        self._counter = 0
        self._lock = asyncio.Lock()

    @classmethod
    def owned(
        cls,
        prefix: Path,
        *,
        listen: str,
        nginx_bin: str = "nginx",
        ca_bundle: Path | None = DEFAULT_CA_BUNDLE,
        workers: str = "auto",
        confirm_timeout: float = 20.0,
    ) -> NginxApplier:
        """An nginx of the agent's own, with every file under `prefix`."""
        prefix = prefix.resolve()
        return cls(
            listen=listen,
            conf_dir=prefix / "conf" / "edge-agent",
            main_conf=prefix / "conf" / "nginx.conf",
            nginx_bin=nginx_bin,
            prefix=prefix,
            pid_file=prefix / "logs" / "nginx.pid",
            error_log=prefix / "logs" / "error.log",
            ca_bundle=ca_bundle,
            own=True,
            workers=workers,
            confirm_timeout=confirm_timeout,
        )

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
        ca_bundle: Path | None = DEFAULT_CA_BUNDLE,
        confirm_timeout: float = 20.0,
    ) -> NginxApplier:
        """A running nginx: tested with `-c main_conf`, reloaded through `pid_file` or `nginx -s reload`."""
        return cls(
            listen=listen,
            conf_dir=conf_dir.resolve(),
            main_conf=main_conf.resolve(),
            nginx_bin=nginx_bin,
            prefix=prefix.resolve() if prefix else None,
            pid_file=pid_file,
            ca_bundle=ca_bundle,
            confirm_timeout=confirm_timeout,
        )

    # The Applier protocol -----------------------------------------------------------------------------

    async def apply(self, documents: dict[str, dict[str, Any]]) -> None:
        """Serve exactly `documents`, or raise NginxError and keep serving what was served before."""
        async with self._lock:
            await self._apply(documents)

    async def start(self, documents: dict[str, dict[str, Any]]) -> None:
        """Serve the documents held at start: start (or adopt) an owned nginx, or reload an external one."""
        async with self._lock:
            if not self.own:
                await self._apply(documents)
                return
            assert self.prefix is not None and self.error_log is not None
            for folder in (self.prefix / "logs", self.prefix / "temp", self.conf_dir):
                folder.mkdir(parents=True, exist_ok=True)
            for leftover in self.conf_dir.glob(f"{TEMP_PREFIX}*.tmp"):
                leftover.unlink(missing_ok=True)
            main = render_main_conf(self.prefix, self.conf_file, self.workers)
            await asyncio.to_thread(_write_atomic, self.main_conf, main.encode())
            self._adopted = self._running_master()
            if self._adopted:
                logger.info("adopting the running nginx master %s", self._adopted)
            try:
                await self._apply(documents)
            except BaseException:
                await self._stop_master()
                raise

    async def stop(self) -> None:
        """Stop an owned nginx (gracefully, then by force); an external one is left running."""
        async with self._lock:
            if self.own:
                await self._stop_master()

    @property
    def master_pid(self) -> int | None:
        if self._process is not None and self._process.poll() is None:
            return self._process.pid
        if self._adopted is not None and _alive(self._adopted):
            return self._adopted
        return None

    # Steps --------------------------------------------------------------------------------------------

    async def _apply(self, documents: dict[str, dict[str, Any]]) -> None:
        started = time.monotonic()
        self._counter += 1
        generation = f"{self._counter}-{secrets.token_hex(6)}"
        text = render_config(documents, self.options, generation)
        previous = await asyncio.to_thread(self._read_current)
        await asyncio.to_thread(_write_atomic, self.conf_file, text.encode())
        reloaded = False
        try:
            await self._test()
            reloaded = True
            await self._reload_and_confirm(generation)
        except BaseException:
            await self._put_back(previous, reloaded)
            raise
        self.generation = generation
        logger.info(
            "nginx serves generation %s (%d domains) after %.0f ms",
            generation,
            len(documents),
            (time.monotonic() - started) * 1000,
        )

    def _read_current(self) -> bytes | None:
        try:
            return self.conf_file.read_bytes()
        except FileNotFoundError:
            return None

    async def _put_back(self, previous: bytes | None, reloaded: bool) -> None:
        """Restore the file served before and, if nginx was asked to reload, bring it back to that file."""
        if previous is None:
            await asyncio.to_thread(self.conf_file.unlink, missing_ok=True)
        else:
            await asyncio.to_thread(_write_atomic, self.conf_file, previous)
        if not reloaded or (self.own and self.generation is None):
            return
        try:
            workers, log_offset = self._workers(), self._log_size()
            await self._reload()
            if self.generation is not None:
                await self._confirm(self.generation, min(self.confirm_timeout, 10.0), log_offset, workers)
        except Exception as exc:  # noqa: BLE001 - the original failure is what the caller reports
            logger.error("nginx did not come back to generation %s: %s", self.generation, exc)

    def _command(self, *extra: str) -> list[str]:
        command = [self.nginx_bin]
        if self.prefix is not None:
            command += ["-p", f"{self.prefix}/"]
        return [*command, "-c", str(self.main_conf), *extra]

    async def _run(self, *extra: str) -> tuple[int, str]:
        try:
            process = await asyncio.create_subprocess_exec(
                *self._command(*extra),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as exc:
            raise NginxError(f"cannot run {self.nginx_bin}: {exc.strerror or exc}") from exc
        output, _ = await process.communicate()
        text = " ".join(line.strip() for line in output.decode(errors="replace").splitlines() if line.strip())
        return process.returncode or 0, text

    async def _test(self) -> None:
        code, text = await self._run("-t", *(["-e", "stderr"] if self.own else []))
        if code != 0:
            raise NginxError(f"nginx -t refused the configuration: {text}")

    async def _reload_and_confirm(self, generation: str) -> None:
        log_offset = self._log_size()
        workers = self._workers()
        await self._reload()
        await self._confirm(generation, self.confirm_timeout, log_offset, workers)

    def _signalled_master(self) -> int | None:
        if self.own:
            return self.master_pid
        try:
            return int(self.pid_file.read_text().strip()) if self.pid_file else None
        except (OSError, ValueError):
            return None

    def _workers(self) -> set[int] | None:
        """The workers serving before a reload, which must stop accepting before it counts as done."""
        master = self._signalled_master()
        if master is None:
            return set() if self.own else None
        return _children(master)

    async def _reload(self) -> None:
        """Make nginx read its files again (start an owned one that is not running)."""
        if self.own:
            pid = self.master_pid
            if pid is None:
                self._spawn()
            else:
                os.kill(pid, signal.SIGHUP)
        elif self.pid_file is not None:
            try:
                os.kill(int(self.pid_file.read_text().strip()), signal.SIGHUP)
            except (OSError, ValueError) as exc:
                raise NginxError(f"cannot signal nginx through {self.pid_file}: {exc}") from exc
        else:
            code, text = await self._run("-s", "reload")
            if code != 0:
                raise NginxError(f"nginx -s reload failed: {text}")

    def _spawn(self) -> None:
        assert self.error_log is not None
        self._adopted = None
        try:
            self._process = subprocess.Popen(
                self._command("-e", str(self.error_log)),
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise NginxError(f"cannot run {self.nginx_bin}: {exc.strerror or exc}") from exc
        logger.info("started nginx, master %s", self._process.pid)

    async def _confirm(
        self, generation: str, timeout: float, log_offset: int, workers: set[int] | None = None
    ) -> None:
        """Wait until `generation` is served and the workers of before take no new connections.

        nginx's master starts the new workers and only about 100 ms later tells the old ones to stop, so for a
        while both accept. The old workers are known when the master is (they retitle themselves "shutting
        down" as they close their listeners); otherwise a margin past that pause is waited.
        """
        deadline = time.monotonic() + timeout
        first_seen: float | None = None
        streak = 0
        while True:
            if self.own and self.master_pid is None:
                raise NginxError(f"nginx exited: {self._log_news(log_offset) or 'see its error log'}")
            served = await self._served_generation()
            if served == generation:
                first_seen = first_seen or time.monotonic()
                if workers is None:
                    settled = time.monotonic() - first_seen >= SETTLE_SECONDS
                else:
                    settled = not any(_accepting(pid) for pid in workers)
                if settled:
                    streak += 1
                    if streak >= CONFIRMATIONS:
                        return
                    continue
            else:
                streak = 0
            if time.monotonic() > deadline:
                news = self._log_news(log_offset)
                hint = f": {news}" if news else f" (does nginx's http block include {self.conf_dir}/*.conf?)"
                raise NginxError(
                    f"nginx did not serve generation {generation} within {timeout:g}s "
                    f"(it serves {served or 'nothing'} on {self.options.listen}){hint}"
                )
            await asyncio.sleep(0.02)

    async def _served_generation(self) -> str | None:
        """The generation the default server answers with, to a request without a Host header."""
        host, port = self.probe
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
        except (OSError, TimeoutError):
            return None
        try:
            writer.write(b"GET / HTTP/1.0\r\n\r\n")
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return None
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        wanted = GENERATION_HEADER.lower().encode()
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == wanted:
                return value.strip().strip(b'"').decode(errors="replace")
        return None

    def _log_size(self) -> int:
        try:
            return self.error_log.stat().st_size if self.error_log else 0
        except OSError:
            return 0

    def _log_news(self, offset: int) -> str:
        """nginx's serious complaints written to its error log since `offset`."""
        if self.error_log is None:
            return ""
        try:
            with self.error_log.open("rb") as handle:
                handle.seek(offset)
                news = handle.read(256 * 1024).decode(errors="replace")
        except OSError:
            return ""
        serious = [line for line in news.splitlines() if re.search(r"\[(emerg|alert|crit)\]", line)]
        return " ".join(line.strip() for line in serious[-5:])

    def _running_master(self) -> int | None:
        """The master of an nginx started earlier on this prefix (by an agent that did not stop it)."""
        try:
            pid = int(self.pid_file.read_text().strip()) if self.pid_file else 0
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes() if pid > 0 else b""
        except (OSError, ValueError):
            return None
        if b"nginx" in cmdline and str(self.main_conf).encode() in cmdline and _alive(pid):
            return pid
        return None

    async def _stop_master(self) -> None:
        pid = self.master_pid
        if pid is None:
            self._process = self._adopted = None
            return
        for sig, wait in ((signal.SIGQUIT, 10.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and self.master_pid is not None:
                await asyncio.sleep(0.02)
            if self.master_pid is None:
                break
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=1)
        logger.info("stopped nginx, master %s", pid)
        self._process = self._adopted = None
