"""Running an nginx: start it in its own prefix (or drive one run by someone else), reload, confirm, stop.

A reload returns before the new workers serve, so every (re)load is confirmed by polling the generation the
configuration's catch-all answers with, until it is served and the workers of before take no new connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

logger = logging.getLogger("edge_agent.nginx")

GENERATION_HEADER = "X-Edge-Config-Generation"
TEMP_PREFIX = ".edge-agent-"
CONFIRMATIONS = 3
SETTLE_SECONDS = 0.5


class NginxError(Exception):
    """nginx refused a configuration or did not serve it; the message carries nginx's own words."""


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


class NginxProcess:
    """The nginx of one edge node: owned (started, adopted after an agent crash, stopped) or external."""

    def __init__(
        self,
        *,
        listen: str,
        main_conf: Path,
        conf_dir: Path,
        nginx_bin: str = "nginx",
        prefix: Path | None = None,
        pid_file: Path | None = None,
        error_log: Path | None = None,
        own: bool = False,
        confirm_timeout: float = 20.0,
    ) -> None:
        self.listen = listen
        self.probe = _probe_address(listen)
        self.main_conf = main_conf
        self.conf_dir = conf_dir
        self.nginx_bin = nginx_bin
        self.prefix = prefix
        self.pid_file = pid_file
        self.error_log = error_log
        self.own = own
        self.confirm_timeout = confirm_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._adopted: int | None = None

    @property
    def master_pid(self) -> int | None:
        if self._process is not None and self._process.poll() is None:
            return self._process.pid
        if self._adopted is not None and _alive(self._adopted):
            return self._adopted
        return None

    def adopt(self) -> None:
        """Take over the master an earlier agent left running on this prefix, if any."""
        self._adopted = self._running_master()
        if self._adopted:
            logger.info("adopting the running nginx master %s", self._adopted)

    async def load(self, generation: str) -> None:
        """Test the files, (re)load them, and wait until `generation` is served."""
        await self._test()
        log_offset = self._log_size()
        workers = self._workers()
        await self._reload()
        await self._confirm(generation, self.confirm_timeout, log_offset, workers)

    async def stop(self) -> None:
        if self.own:
            await self._stop_master()

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
                    f"(it serves {served or 'nothing'} on {self.listen}){hint}"
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
