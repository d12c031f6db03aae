"""Real processes for end-to-end tests: edge agents and a Celery worker, started and stopped by tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

from edge_agent.signing import read_headers

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    predicate: Callable[[], object], *, timeout: float = 20.0, interval: float = 0.1, what: str = ""
) -> object:
    """Poll until `predicate` returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - the condition may not be reachable yet
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what or predicate}: {last_error!r}")


class AgentProcess:
    """One edge agent (`python -m edge_agent`) with its own state folder and key."""

    def __init__(self, name: str, state_dir: Path, key: str, port: int | None = None) -> None:
        self.name = name
        self.state_dir = state_dir
        self.key = key
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.key_file = self.state_dir / "key"
        self.key_file.write_text(key)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AgentProcess:
        self.process = subprocess.Popen(
            [
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
            ],
            cwd=ROOT,
        )
        wait_for(
            lambda: httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200, what=f"{self.name} up"
        )
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)
        self.process = None

    def read(self, path: str) -> httpx.Response:
        """A signed read of the agent (reads need the node's key)."""
        return httpx.get(f"{self.url}{path}", headers=read_headers(self.key, path), timeout=5)

    def status(self) -> dict:
        return self.read("/status").json()

    def held(self, domain: str) -> dict | None:
        return self.status()["domains"].get(domain)


def database_url() -> str:
    """The URL of the database the tests use (the test database), for other processes."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


class CeleryWorker:
    """A real `celery worker` process (with beat, for the reconciler) on the suite's database and broker."""

    def __init__(self, *, reconcile_interval: float = 1.0, max_retries: int = 2) -> None:
        self.env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CONSOLE_VAR_DIR": str(settings.VAR_DIR),
            "EDGE_RECONCILE_INTERVAL": str(reconcile_interval),
            "EDGE_PUSH_MAX_RETRIES": str(max_retries),
            "EDGE_PUSH_TIMEOUT": "2",
            # The reconciler reads the deployment tables every second, also while a transactional test's
            # teardown truncates them; when the two lock each other, the worker's query is the one to give
            # way (it runs again a second later), never the teardown.
            "PGOPTIONS": "-c deadlock_timeout=50ms",
        }
        # Each worker keeps its beat schedule in a folder of its own: two beats never share a shelve file.
        self.schedule = Path(tempfile.mkdtemp(prefix="beat-")) / "schedule"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> CeleryWorker:
        self.schedule.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "console",
                "worker",
                "--beat",
                "--schedule",
                str(self.schedule),
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--hostname",
                f"test-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
        )
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.schedule.parent, ignore_errors=True)


class RedisServer:
    """A private `redis-server` on a free port, which a test may stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        import redis

        wait_for(lambda: redis.Redis.from_url(self.url).ping(), what="redis-server up")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
