"""A DNS server the tests control: Debian's dnsmasq on a free port, answering A records from a hosts file and
TXT and CNAME records given at start (changing those restarts it on the same port), NXDOMAIN for other names
under its local zones."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

from tests.conftest import require
from tests.processes import wait_for


def dnsmasq_program() -> str | None:
    return shutil.which("dnsmasq") or ("/usr/sbin/dnsmasq" if Path("/usr/sbin/dnsmasq").exists() else None)


def _free_udp_and_tcp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (dnsmasq listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
        with socket.socket() as tcp:
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


class DnsServer:
    def __init__(self, zones: tuple[str, ...] = ("test", "example")) -> None:
        program = dnsmasq_program()
        require(program is not None, "dnsmasq is not installed (apt-get install dnsmasq-base)")
        assert program is not None
        self.program = program
        self.zones = zones
        # Not under pytest's folders (readable by their owner only): dnsmasq reads as an unprivileged user.
        self.folder = Path(tempfile.mkdtemp(prefix="test-dns-"))
        self.folder.chmod(0o755)
        self.hosts_file = self.folder / "hosts"
        self.hosts_file.write_text("")
        self.hosts_file.chmod(0o644)
        self.pid_file = self.folder / "dnsmasq.pid"
        self.port = _free_udp_and_tcp_port()
        self.txt: dict[str, list[str]] = {}
        self.cnames: dict[str, str] = {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> DnsServer:
        self.pid_file.unlink(missing_ok=True)
        command = [
            self.program,
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            f"--port={self.port}",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            f"--addn-hosts={self.hosts_file}",
            f"--pid-file={self.pid_file}",
            *(f"--local=/{zone}/" for zone in self.zones),
            *(f"--txt-record={name},{value}" for name, values in self.txt.items() for value in values),
            *(f"--cname={name},{target}" for name, target in self.cnames.items()),
        ]
        process = self.process = subprocess.Popen(command, stderr=subprocess.PIPE)

        def up() -> bool:
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"dnsmasq exited: {error}")
            return self.pid_file.exists() and bool(self.pid_file.read_text().strip())

        # A SIGHUP before dnsmasq set its handlers would end it: wait for its pid file.
        wait_for(up, timeout=10, what="dnsmasq")
        return self

    def hosts(self, entries: dict[str, str]) -> None:
        """Answer these names with these addresses from now on."""
        self.hosts_file.write_text("".join(f"{address} {name}\n" for name, address in entries.items()))
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)

    def set_txt(self, records: dict[str, list[str]]) -> None:
        """Answer these TXT records from now on (dnsmasq reads them at start: a restart)."""
        self.txt = records
        self.stop()
        self.start()

    def set_cnames(self, records: dict[str, str]) -> None:
        """Answer these CNAME records (name: target) from now on: a restart. dnsmasq answers a CNAME only
        for a target it knows, so each target is given an address (192.0.2.1) in the hosts file."""
        self.cnames = records
        self.hosts_file.write_text("".join(f"192.0.2.1 {target}\n" for target in records.values()))
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
