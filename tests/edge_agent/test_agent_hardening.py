"""The edge agent under harder conditions: odd signatures and documents, out-of-order and concurrent pushes,
kills in the middle of a push, signals, key sources, logs, and a failing state disk."""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from edge_agent.documents import DocumentError, check_batch
from edge_agent.server import AGENT, create_app
from edge_agent.signing import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    read_headers,
    sign,
    signed_headers,
    verify,
)
from edge_agent.state import StateStore, load_state

ROOT = Path(__file__).resolve().parents[2]
KEY = "hardening-key-5f1c"


def doc(domain: str, revision: int, sni: str = "origin.example.com") -> dict[str, Any]:
    return {
        "schema": 1,
        "domain": domain,
        "revision": revision,
        "product": "cdn",
        "enabled": True,
        "origins": [
            {
                "type": "domain",
                "address": "origin.example.com",
                "port": 443,
                "priority": 20,
                "weight": 10,
                "sni": sni or None,
                "sni_source": "domain" if sni else "none",
            }
        ],
        "forward_scheme": {"policy": "https", "http_port": 80, "https_port": 443},
        "origin_host": domain,
        "origin_sni": {"enabled": bool(sni), "name": sni},
        "verify_origin": {"enabled": True, "common_names": ["origin.example.com"]},
    }


def tombstone(domain: str, revision: int) -> dict[str, Any]:
    return {"domain": domain, "revision": revision, "deleted": True, "schema": 1}


def body_of(*docs: dict[str, Any]) -> bytes:
    return json.dumps({"domains": list(docs)}, separators=(",", ":")).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Agent:
    """`python -m edge_agent` with its output in a log file."""

    def __init__(self, folder: Path, *, name: str = "edge-h", key_text: str | None = None) -> None:
        self.folder, self.name = folder, name
        self.port = free_port()
        self.state_dir = folder / "state"
        self.key_file = folder / "key"
        self.key_file.write_text(f"\n  {KEY}  \n" if key_text is None else key_text)
        self.log_file = folder / "agent.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    def args(self, *, key_file: bool = True) -> list[str]:
        args = [sys.executable, "-m", "edge_agent", "--name", self.name, "--listen", f"127.0.0.1:{self.port}"]
        args += ["--state-dir", str(self.state_dir)]
        return args + (["--key-file", str(self.key_file)] if key_file else [])

    def start(self, *, key_file: bool = True, env: dict[str, str] | None = None) -> Agent:
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                self.args(key_file=key_file), cwd=ROOT, stdout=log, stderr=log, env=env
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the agent exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).text == "ok":
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"the agent did not come up:\n{self.log()}")

    def run_to_exit(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.args(), cwd=ROOT, capture_output=True, text=True, timeout=30)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(sig)
        return process.wait(timeout=10)

    def log(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""

    def push(self, *docs: dict[str, Any], now: float | None = None) -> httpx.Response:
        body = body_of(*docs)
        return httpx.post(f"{self.url}/v1/config", content=body, headers=signed_headers(KEY, body, now=now))

    def status(self) -> dict[str, Any]:
        return self.read("/status").json()

    def read(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers=read_headers(KEY, path), timeout=5)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory):
    agent = Agent(tmp_path_factory.mktemp("hardening")).start()
    yield agent
    agent.stop()


@pytest.fixture
def own(tmp_path: Path):
    agent = Agent(tmp_path)
    yield agent
    agent.stop(signal.SIGKILL)


def run_async(scenario: Callable[[], Any]) -> Any:
    """Run a coroutine function in a thread of its own (another test may have a loop running in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario()).result()


class TestSignatureEdges:
    def test_a_non_ascii_signature_is_a_bad_signature_not_a_crash(self) -> None:
        headers = signed_headers(KEY, b"{}") | {SIGNATURE_HEADER: "é" * 64}
        with pytest.raises(SignatureError, match="bad signature"):
            verify(KEY, headers, b"{}")

    @pytest.mark.parametrize("timestamp", [" 1800000000", "1_800_000_000", "1.8e9", "١٨٠٠٠٠٠٠٠٠"])
    def test_a_timestamp_that_is_not_plain_digits_is_malformed(self, timestamp: str) -> None:
        headers = {
            TIMESTAMP_HEADER: timestamp,
            NONCE_HEADER: "n",
            SIGNATURE_HEADER: sign(KEY, timestamp, "n", b""),
        }
        with pytest.raises(SignatureError, match="malformed timestamp"):
            verify(KEY, headers, b"", now=1_800_000_000)

    def test_the_comparison_is_constant_time(self, monkeypatch: pytest.MonkeyPatch) -> None:
        calls: list[tuple[bytes, bytes]] = []
        real = hmac.compare_digest
        monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
        verify(KEY, signed_headers(KEY, b"{}"), b"{}")
        assert len(calls) == 1

    def test_signed_headers_sign_what_sign_computes(self) -> None:
        headers = signed_headers(KEY, b"{}", now=1_800_000_000.9)
        assert headers[TIMESTAMP_HEADER] == "1800000000"
        assert headers["Content-Type"] == "application/json"
        assert headers[SIGNATURE_HEADER] == sign(KEY, "1800000000", headers[NONCE_HEADER], b"{}")


class TestDocumentEdges:
    def test_a_console_document_and_a_console_tombstone_pass(self) -> None:
        payload = {
            "domains": [doc("a.example.com", 1), tombstone("b.example.com", 4), doc("*.c.example.com", 2)]
        }
        assert [d.domain for d in check_batch(payload)] == [
            "a.example.com",
            "b.example.com",
            "*.c.example.com",
        ]

    @pytest.mark.parametrize(
        ("change", "words"),
        [
            ({"domain": "../../etc/passwd"}, "domain: must be a host name"),
            ({"domain": "a.example.com/x"}, "domain: must be a host name"),
            ({"domain": "a b.example.com"}, "domain: must be a host name"),
            ({"deleted": "yes"}, "deleted: must be true or false"),
            ({"product": ""}, "product:"),
            ({"verify_origin": {"enabled": True, "common_names": "x"}}, "verify_origin.common_names:"),
            ({"revision": True}, "revision:"),
            ({"revision": 1.0}, "revision:"),
        ],
    )
    def test_bad_fields_are_named(self, change: dict[str, Any], words: str) -> None:
        with pytest.raises(DocumentError, match="domains\\[1\\]") as error:
            check_batch({"domains": [doc("ok.example.com", 1), doc("x.example.com", 1) | change]})
        assert words in str(error.value)


class TestPushesOverHttp:
    def test_out_of_order_batches_settle_on_the_newest_revision_of_each_domain(self, shared: Agent) -> None:
        first = shared.push(doc("o1.example.com", 5, "five.example.net"), doc("o2.example.com", 2))
        assert [r["status"] for r in first.json()["results"]] == ["applied", "applied"]
        late = shared.push(
            doc("o1.example.com", 3, "three.example.net"),
            doc("o2.example.com", 2),
            doc("o3.example.com", 1),
        ).json()["results"]
        assert late == [
            {"domain": "o1.example.com", "revision": 3, "status": "stale", "held_revision": 5},
            {"domain": "o2.example.com", "revision": 2, "status": "unchanged", "held_revision": 2},
            {"domain": "o3.example.com", "revision": 1, "status": "applied", "held_revision": 1},
        ]
        held = shared.status()["domains"]
        assert held["o1.example.com"]["revision"] == 5
        assert held["o1.example.com"]["origin_sni"] == {"enabled": True, "name": "five.example.net"}

    def test_a_tombstone_for_a_domain_never_seen_blocks_an_older_creation(self, shared: Agent) -> None:
        assert shared.push(tombstone("never.example.com", 4)).json()["results"][0]["status"] == "applied"
        assert shared.push(doc("never.example.com", 3)).json()["results"][0]["status"] == "stale"
        held = shared.status()["domains"]["never.example.com"]
        assert held == held | {"revision": 4, "deleted": True, "enabled": False, "origin_sni": None}
        assert shared.read("/v1/config/never.example.com").json() == {"error": "unknown domain"}

    @pytest.mark.parametrize(
        "headers",
        [
            lambda body: signed_headers(KEY, body, now=time.time() + 3600),
            lambda body: {"Content-Type": "application/json"},
            lambda body: signed_headers(KEY, body) | {NONCE_HEADER: "swapped"},
        ],
        ids=["future-timestamp", "unsigned", "nonce-swapped"],
    )
    def test_refused_pushes_change_nothing(self, shared: Agent, headers: Callable[[bytes], dict]) -> None:
        before = shared.status()
        body = body_of(doc("refused.example.com", 1))
        response = httpx.post(f"{shared.url}/v1/config", content=body, headers=headers(body))
        assert response.status_code == 401 and response.json()["error"]
        after = shared.status()
        assert after["pushes"] == before["pushes"] and "refused.example.com" not in after["domains"]

    def test_status_and_health(self, shared: Agent) -> None:
        status = shared.status()
        assert status["node"] == "edge-h" and status["healthy"] is True and "T" in status["started_at"]
        health = httpx.get(f"{shared.url}/healthz")
        assert (health.status_code, health.text) == (200, "ok")
        assert shared.read("/v1/config/nothing.example.com").status_code == 404


def test_concurrent_pushes_leave_a_whole_state_file(own: Agent) -> None:
    own.start()
    revisions = list(range(1, 41))
    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(
                lambda n: own.push(doc("busy.example.com", n, f"r{n}.example.net")).status_code, revisions
            )
        )
    assert codes == [200] * 40
    state = load_state(own.state_dir)
    assert state.pushes == 40
    assert state.domains["busy.example.com"].revision == 40
    assert own.status()["domains"]["busy.example.com"]["origin_sni"]["name"] == "r40.example.net"
    assert not list(own.state_dir.glob(".state-*"))


def test_a_kill_in_the_middle_of_pushes_leaves_a_state_the_agent_restarts_from(own: Agent) -> None:
    own.start()
    own.push(doc("k.example.com", 1))

    def keep_pushing(n: int) -> int:
        try:
            return own.push(doc("k.example.com", n)).status_code
        except httpx.HTTPError:
            return 0

    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(keep_pushing, n) for n in range(2, 200)]
        time.sleep(0.3)
        assert own.stop(signal.SIGKILL) == -signal.SIGKILL
        accepted = [n for n, future in zip(range(2, 200), futures, strict=True) if future.result() == 200]
    held = load_state(own.state_dir).domains["k.example.com"].revision
    assert held >= max(accepted, default=1)
    (own.state_dir / ".state-leftover.tmp").write_text("{")
    own.start()
    assert own.status()["domains"]["k.example.com"]["revision"] == held
    assert not (own.state_dir / ".state-leftover.tmp").exists()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_stop_cleanly_and_keep_the_state(own: Agent, how: int) -> None:
    own.start()
    own.push(doc("s.example.com", 2, "two.example.net"))
    assert own.stop(how) == 0
    own.start()
    status = own.status()
    assert (
        status["pushes"] == 1
        and status["domains"]["s.example.com"]["origin_sni"]["name"] == "two.example.net"
    )


@pytest.mark.parametrize(
    "content",
    ["", "{not json", "[]", '{"domains": {"a.example.com": {"document": {}, "applied_at": "x"}}}'],
    ids=["empty", "garbage", "list", "entry-without-revision"],
)
def test_an_unreadable_state_file_is_left_alone_and_the_agent_refuses_to_start(
    own: Agent, content: str
) -> None:
    own.state_dir.mkdir()
    own.state_file.write_text(content)
    result = own.run_to_exit()
    assert result.returncode != 0
    assert "refusing to start" in result.stderr and "edge-h" in result.stderr
    assert "Traceback" not in result.stderr
    assert own.state_file.read_text() == content


def test_the_key_comes_from_the_environment_without_a_key_file(own: Agent) -> None:
    own.start(key_file=False, env=os.environ | {"EDGE_AGENT_KEY": f" {KEY}\n"})
    assert own.push(doc("env.example.com", 1)).status_code == 200


def test_an_unreadable_key_file_is_a_usage_error(own: Agent) -> None:
    own.key_file.unlink()
    result = own.run_to_exit()
    assert result.returncode == 2 and "cannot read the key file" in result.stderr
    assert "Traceback" not in result.stderr


def test_logs_name_the_node_and_never_show_the_key_or_signatures(own: Agent) -> None:
    own.start()
    body = body_of(doc("log.example.com", 1))
    headers = signed_headers(KEY, body)
    assert httpx.post(f"{own.url}/v1/config", content=body, headers=headers).status_code == 200
    assert httpx.post(f"{own.url}/v1/config", content=body, headers=headers).status_code == 401
    forged = signed_headers("not-the-key", body)
    assert httpx.post(f"{own.url}/v1/config", content=body, headers=forged).status_code == 401
    own.stop()
    log = own.log()
    assert "edge-h" in log and "log.example.com" in log and "replayed" in log
    for secret in (KEY, headers[SIGNATURE_HEADER], headers[NONCE_HEADER], forged[SIGNATURE_HEADER]):
        assert secret not in log


class RecordingApplier:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[dict[str, dict]] = []
        self.active = 0
        self.overlapped = False

    async def apply(self, changes: dict[str, str | None]) -> dict[str, str]:
        self.active += 1
        self.overlapped |= self.active > 1
        await asyncio.sleep(self.delay)
        self.calls.append({key: None if raw is None else json.loads(raw) for key, raw in changes.items()})
        self.active -= 1
        return {}


async def post(client: TestClient, *docs: dict[str, Any]) -> tuple[int, dict]:
    body = body_of(*docs)
    response = await client.post("/v1/config", data=body, headers=signed_headers(KEY, body))
    return response.status, await response.json()


def test_the_applier_gets_only_the_changes_and_is_not_called_for_nothing(tmp_path: Path) -> None:
    applier = RecordingApplier()

    async def scenario() -> None:
        async with TestClient(TestServer(create_app("edge-i", KEY, tmp_path, applier=applier))) as client:
            assert (await post(client, doc("a.example.com", 1), doc("b.example.com", 1)))[0] == 200
            assert (await post(client, tombstone("a.example.com", 2), doc("c.example.com", 1)))[0] == 200
            assert (await post(client, doc("c.example.com", 1), doc("b.example.com", 1)))[0] == 200

    run_async(scenario)
    assert [sorted(call) for call in applier.calls] == [
        ["a.example.com", "b.example.com"],
        ["a.example.com", "c.example.com"],
    ]
    assert applier.calls[1]["a.example.com"] is None, "a tombstone removes the domain"


def test_concurrent_pushes_are_applied_one_at_a_time(tmp_path: Path) -> None:
    applier = RecordingApplier(delay=0.05)

    async def scenario() -> list[int]:
        async with TestClient(TestServer(create_app("edge-i", KEY, tmp_path, applier=applier))) as client:
            outcomes = await asyncio.gather(*(post(client, doc(f"p{n}.example.com", 1)) for n in range(6)))
            status = await (await client.get("/status", headers=read_headers(KEY, "/status"))).json()
            assert status["pushes"] == 6 and len(status["domains"]) == 6
            return [code for code, _ in outcomes]

    assert run_async(scenario) == [200] * 6
    assert not applier.overlapped
    assert [len(call) for call in applier.calls] == [1] * 6, "each push hands over its own domain only"


def test_a_state_that_cannot_be_saved_refuses_the_push_and_restores_the_edge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applier = RecordingApplier()

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    async def scenario() -> None:
        app = create_app("edge-i", KEY, tmp_path, applier=applier)
        async with TestClient(TestServer(app)) as client:
            assert (await post(client, doc("a.example.com", 1)))[0] == 200
            monkeypatch.setattr(StateStore, "append", full_disk)
            code, answer = await post(client, doc("a.example.com", 2), doc("b.example.com", 1))
            assert code == 500 and "No space left" in answer["error"]
            status = await (await client.get("/status", headers=read_headers(KEY, "/status"))).json()
            assert status["pushes"] == 1 and list(status["domains"]) == ["a.example.com"]
            assert status["domains"]["a.example.com"]["revision"] == 1
            assert app[AGENT].state.held_revision("b.example.com") == 0

    run_async(scenario)
    assert [sorted(call) for call in applier.calls] == [
        ["a.example.com"],
        ["a.example.com", "b.example.com"],
        ["a.example.com", "b.example.com"],
    ]
    assert applier.calls[-1]["a.example.com"]["r"] == 1 and applier.calls[-1]["b.example.com"] is None
    assert load_state(tmp_path).pushes == 1
