"""Real edges for tests: an HTTPS origin picking its certificate by SNI, and agents serving through nginx."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import trustme

from edge_agent.signing import signed_headers
from tests.processes import ROOT, AgentProcess, free_port, wait_for

NAME_A = "a.origin.test"
NAME_B = "b.origin.test"
CLIENT = httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0))


def nginx_program() -> str | None:
    """The nginx binary of this machine, if any."""
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(path).exists()), None
    )


class Pki:
    """A test CA and certificates for the origin's two names, written to files."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.ca = trustme.CA()
        self.ca_file = folder / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.leaves = {name: self.ca.issue_cert(name) for name in (NAME_A, NAME_B)}

    def context(self, name: str) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.leaves[name].configure_cert(context)
        return context


class SniOrigin:
    """An HTTPS origin on one port of several loopback addresses: certificate A by default, B for SNI B.

    Each answer is JSON naming the certificate that served, the SNI received, the Host header and the address.
    """

    def __init__(self, pki: Pki, addresses: Sequence[str] = ("127.0.0.1", "127.0.0.3")) -> None:
        self.contexts = {NAME_A: pki.context(NAME_A), NAME_B: pki.context(NAME_B)}
        self.default = self.contexts[NAME_A]
        self.default.sni_callback = self._choose
        self.addresses = tuple(addresses)
        self.port = free_port()
        self.servers: list[ThreadingHTTPServer] = []

    def _choose(self, sock: ssl.SSLSocket, server_name: str | None, context: ssl.SSLContext) -> None:
        sock.sni = server_name  # type: ignore[attr-defined]
        if server_name in self.contexts:
            sock.context = self.contexts[server_name]

    def start(self) -> SniOrigin:
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                context = self.connection.context  # type: ignore[attr-defined]
                cert = next(name for name, known in origin.contexts.items() if known is context)
                body = json.dumps(
                    {
                        "cert": cert,
                        "sni": getattr(self.connection, "sni", None),
                        "host": self.headers.get("Host"),
                        "address": self.connection.getsockname()[0],
                        "path": self.path,
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Config-Revision", "spoofed-by-origin")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        for address in self.addresses:
            server = Server((address, self.port), Handler)
            server.socket = self.default.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            self.servers.append(server)
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        self.servers = []


class PlainOrigin:
    """A plain-HTTP origin on one address and a free port; each answer is JSON naming it and the Host."""

    def __init__(self, address: str = "127.0.0.1") -> None:
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                body = json.dumps(
                    {
                        "plain": True,
                        "address": origin.address,
                        "port": origin.port,
                        "host": self.headers.get("Host"),
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server((address, 0), Handler)
        self.address, self.port = address, int(self.server.server_address[1])

    def start(self) -> PlainOrigin:
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Dns:
    """A dnsmasq on a free port answering the names of its hosts file; `set` rewrites it and reloads."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)  # dnsmasq reads its hosts file after dropping its privileges
        self.hosts = folder / "hosts"
        self.hosts.write_text("")
        self.pid_file = folder / "dnsmasq.pid"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            self.port = int(udp.getsockname()[1])
        self.process = subprocess.Popen(
            [
                shutil.which("dnsmasq") or "/usr/sbin/dnsmasq",
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                f"--port={self.port}",
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                f"--addn-hosts={self.hosts}",
                "--local=/test/",
                f"--pid-file={self.pid_file}",
            ]
        )
        # A SIGHUP before dnsmasq set its handlers would end it: wait for its pid file.
        wait_for(
            lambda: self.pid_file.exists() and self.pid_file.read_text().strip(), timeout=10, what="dnsmasq"
        )

    def set(self, entries: dict[str, str]) -> None:
        self.hosts.write_text("".join(f"{address} {name}\n" for name, address in entries.items()))
        self.hosts.chmod(0o644)
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def origin(
    sni: str | None, address: str = "127.0.0.1", *, priority: int = 20, weight: int = 10
) -> dict[str, Any]:
    return {
        "type": "ipaddr",
        "address": address,
        "port": 443,
        "priority": priority,
        "weight": weight,
        "sni": sni,
        "sni_source": "origin" if sni else "none",
    }


def document(
    domain: str,
    revision: int,
    origins: list[dict[str, Any]],
    *,
    port: int,
    verify: bool = True,
    enabled: bool = True,
    policy: str = "https",
    origin_host: str | None = None,
) -> dict[str, Any]:
    sni = next((o["sni"] for o in origins if o["sni"]), "")
    return {
        "schema": 1,
        "domain": domain,
        "revision": revision,
        "product": "cdn",
        "enabled": enabled,
        "origins": origins,
        "forward_scheme": {"policy": policy, "http_port": port, "https_port": port},
        "origin_host": domain if origin_host is None else origin_host,
        "origin_sni": {"enabled": bool(sni), "name": sni},
        "verify_origin": {"enabled": verify, "common_names": []},
    }


class NginxEdge(AgentProcess):
    """An edge agent process serving its domains through nginx (its own, or one given with `external`)."""

    def __init__(
        self,
        name: str,
        state_dir: Path,
        key: str,
        *,
        nginx_bin: str,
        ca_bundle: Path | None = None,
        http_port: int | None = None,
        external: Sequence[str] = (),
        extra: Sequence[str] = (),
    ) -> None:
        super().__init__(name, state_dir, key)
        self.extra = list(extra)
        self.nginx_bin = nginx_bin
        self.http_port = http_port or free_port()
        self.ca_bundle = ca_bundle
        self.external = list(external)
        self.stderr_file = state_dir / "agent.stderr"

    @property
    def prefix(self) -> Path:
        return self.state_dir / "nginx"

    def command(self) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "edge_agent",
            "--name",
            self.name,
            "--listen",
            f"127.0.0.1:{self.port}",
            "--state-dir",
            str(self.state_dir),
            "--key-file",
            str(self.key_file),
            "--nginx-bin",
            self.nginx_bin,
            "--http-listen",
            f"127.0.0.1:{self.http_port}",
            "--confirm-timeout",
            "10",
        ]
        if self.ca_bundle is not None:
            command += ["--ca-bundle", str(self.ca_bundle)]
        return command + self.extra + (self.external or ["--nginx", "--nginx-workers", "1"])

    def launch(self) -> subprocess.Popen[bytes]:
        with self.stderr_file.open("ab") as stderr:
            self.process = subprocess.Popen(self.command(), cwd=ROOT, stderr=stderr)
        return self.process

    def start(self) -> NginxEdge:
        process = self.launch()

        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {process.returncode}: {self.stderr_text()[-2000:]}")
            return CLIENT.get(f"{self.url}/healthz", timeout=1).status_code == 200

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if up():
                    return self
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not answer within 20 s: {self.stderr_text()[-2000:]}")

    def stderr_text(self) -> str:
        return self.stderr_file.read_text(errors="replace") if self.stderr_file.exists() else ""

    def push(self, *docs: dict[str, Any]) -> httpx.Response:
        body = json.dumps({"domains": list(docs)}).encode()
        return CLIENT.post(f"{self.url}/v1/config", content=body, headers=signed_headers(self.key, body))

    def get(self, host: str, path: str = "/") -> httpx.Response:
        """A request to the edge's nginx for `host`, on a fresh connection."""
        return CLIENT.get(f"http://127.0.0.1:{self.http_port}{path}", headers={"Host": host})

    def nginx_pid(self) -> int | None:
        try:
            return int((self.prefix / "logs" / "nginx.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def kill_nginx(self) -> None:
        """Make sure no nginx of this edge is left behind (a test's cleanup)."""
        pid = self.nginx_pid()
        with contextlib.suppress(OSError):
            ours = pid and str(self.prefix).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
            if pid and ours and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def nginx_edges(
    names: Sequence[str], folders: Iterator[Path], *, key: str, nginx_bin: str, ca_file: Path
) -> Iterator[list[NginxEdge]]:
    """Edge agents each owning an nginx (in a folder of `folders`, with a copy of the CA), stopped after."""
    started: list[NginxEdge] = []
    try:
        for name, folder in zip(names, folders, strict=False):
            ca_bundle = folder / "ca.pem"
            shutil.copy(ca_file, ca_bundle)
            edge = NginxEdge(name, folder, key, nginx_bin=nginx_bin, ca_bundle=ca_bundle)
            started.append(edge)
            edge.start()
        yield started
    finally:
        for edge in started:
            edge.stop()
            edge.kill_nginx()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def answer(response: httpx.Response) -> tuple[int, str | None, dict[str, Any] | None]:
    """Status, X-Config-Revision and the origin's JSON (None when nginx answered by itself)."""
    body = None
    if response.headers.get("content-type") == "application/json":
        body = response.json()
    return response.status_code, response.headers.get("X-Config-Revision"), body
