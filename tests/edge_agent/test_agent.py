"""The edge agent as a real process: signatures, revision rules, batches, tombstones, restarts, state file."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from edge_agent.server import create_app
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
from edge_agent.state import load_state
from tests.processes import ROOT, AgentProcess

KEY = "node-key-for-tests"


def doc(domain: str = "www.example.com", revision: int = 1, sni: str = "origin.example.com", **extra) -> dict:
    return {
        "schema": 1,
        "domain": domain,
        "revision": revision,
        "product": "cdn",
        "enabled": True,
        "origins": [
            {
                "type": "ipaddr",
                "address": "192.0.2.1",
                "port": 443,
                "priority": 20,
                "weight": 10,
                "sni": sni,
                "sni_source": "domain",
            }
        ],
        "forward_scheme": {"policy": "https", "http_port": 80, "https_port": 443},
        "origin_host": domain,
        "origin_sni": {"enabled": bool(sni), "name": sni},
        "verify_origin": {"enabled": False, "common_names": []},
    } | extra


def body_of(*docs: dict) -> bytes:
    return json.dumps({"domains": list(docs)}).encode()


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    process = AgentProcess("edge-test", tmp_path_factory.mktemp("agent"), key=KEY).start()
    yield process
    process.stop()


def push(agent: AgentProcess, *docs: dict, key: str = KEY, now: float | None = None) -> httpx.Response:
    body = body_of(*docs)
    return httpx.post(f"{agent.url}/v1/config", content=body, headers=signed_headers(key, body, now=now))


class TestSigning:
    def test_round_trip(self) -> None:
        headers = signed_headers(KEY, b"{}")
        assert verify(KEY, headers, b"{}") == headers[NONCE_HEADER]
        assert verify(KEY, {k.lower(): v for k, v in headers.items()}, b"{}")

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (lambda h, b: ({}, b), "missing signature"),
            (lambda h, b: (h, b + b" "), "bad signature"),
            (lambda h, b: (h | {SIGNATURE_HEADER: "0" * 64}, b), "bad signature"),
            (lambda h, b: (h | {TIMESTAMP_HEADER: str(int(h[TIMESTAMP_HEADER]) + 1)}, b), "bad signature"),
            (lambda h, b: (h | {NONCE_HEADER: "another"}, b), "bad signature"),
            (lambda h, b: ({k: v for k, v in h.items() if k != NONCE_HEADER}, b), "missing signature"),
            (lambda h, b: (h | {TIMESTAMP_HEADER: "soon"}, b), "malformed timestamp"),
        ],
    )
    def test_refusals(self, change, message: str) -> None:
        headers, body = change(signed_headers(KEY, b"{}"), b"{}")
        with pytest.raises(SignatureError, match=message):
            verify(KEY, headers, body)

    def test_another_key_is_refused(self) -> None:
        with pytest.raises(SignatureError, match="bad signature"):
            verify("other", signed_headers(KEY, b"{}"), b"{}")

    def test_clock_window_both_ways(self) -> None:
        for skew in (-301, 301):
            with pytest.raises(SignatureError, match="window"):
                verify(KEY, signed_headers(KEY, b"{}", now=time.time() + skew), b"{}")
        verify(KEY, signed_headers(KEY, b"{}", now=time.time() - 290), b"{}")

    def test_signature_covers_timestamp_and_body(self) -> None:
        signatures = {
            sign(KEY, "1", "n", b"a"),
            sign(KEY, "2", "n", b"a"),
            sign(KEY, "1", "m", b"a"),
            sign(KEY, "1", "n", b"b"),
        }
        assert len(signatures) == 4

    def test_the_same_body_twice_in_one_second_gets_two_nonces(self) -> None:
        assert (
            signed_headers(KEY, b"{}", now=1)[NONCE_HEADER] != signed_headers(KEY, b"{}", now=1)[NONCE_HEADER]
        )


class TestPushes:
    def test_a_signed_push_is_applied_and_shown_in_status(self, agent) -> None:
        response = push(agent, doc("a.example.com", 3, "sni-a.example.net"))
        assert response.status_code == 200
        assert response.json() == {
            "node": "edge-test",
            "results": [{"domain": "a.example.com", "revision": 3, "status": "applied", "held_revision": 3}],
        }
        held = agent.held("a.example.com")
        assert held["revision"] == 3 and held["origin_sni"] == {"enabled": True, "name": "sni-a.example.net"}
        assert agent.read("/v1/config/a.example.com").json()["origin_sni"]["name"] == "sni-a.example.net"

    def test_only_newer_revisions_apply(self, agent) -> None:
        assert (
            push(agent, doc("b.example.com", 5, "five.example.net")).json()["results"][0]["status"]
            == "applied"
        )
        same = push(agent, doc("b.example.com", 5, "other.example.net")).json()["results"][0]
        assert same == {"domain": "b.example.com", "revision": 5, "status": "unchanged", "held_revision": 5}
        older = push(agent, doc("b.example.com", 4, "four.example.net")).json()["results"][0]
        assert older["status"] == "stale" and older["held_revision"] == 5
        assert agent.held("b.example.com")["origin_sni"]["name"] == "five.example.net"
        assert (
            push(agent, doc("b.example.com", 7, "seven.example.net")).json()["results"][0]["status"]
            == "applied"
        )
        assert agent.held("b.example.com")["revision"] == 7

    def test_wrong_key_old_timestamp_and_replay_are_refused_and_change_nothing(self, agent) -> None:
        push(agent, doc("c.example.com", 1, "one.example.net"))
        before = agent.status()
        wrong = push(agent, doc("c.example.com", 2, "evil.example.net"), key="wrong-key")
        assert wrong.status_code == 401 and wrong.json()["error"] == "bad signature"
        old = push(agent, doc("c.example.com", 2, "evil.example.net"), now=time.time() - 3600)
        assert old.status_code == 401 and "window" in old.json()["error"]

        body = body_of(doc("c.example.com", 2, "two.example.net"))
        headers = signed_headers(KEY, body)
        assert httpx.post(f"{agent.url}/v1/config", content=body, headers=headers).status_code == 200
        replay = httpx.post(f"{agent.url}/v1/config", content=body, headers=headers)
        assert replay.status_code == 401 and replay.json()["error"] == "replayed request"
        after = agent.status()
        assert after["pushes"] == before["pushes"] + 1
        assert after["domains"]["c.example.com"]["revision"] == 2

    @pytest.mark.parametrize(
        ("payload", "words"),
        [
            (b"not json", "malformed config"),
            (b"[]", "must be a JSON object"),
            (b'{"domains": {}}', "'domains' must be a list"),
            (
                json.dumps({"domains": [doc("ok.example.com", 9), {"revision": 9}]}).encode(),
                "domains[1]: domain:",
            ),
            (
                json.dumps({"domains": [doc("ok.example.com", 9), doc("x.example.com", "9")]}).encode(),
                "domains[1]: revision:",
            ),
            (
                json.dumps({"domains": [doc("ok.example.com", 9), doc("x.example.com", 0)]}).encode(),
                "domains[1]: revision:",
            ),
            (
                json.dumps({"domains": [doc("ok.example.com", 9), doc("ok.example.com", 10)]}).encode(),
                "twice",
            ),
        ],
    )
    def test_a_malformed_batch_is_refused_whole(self, agent, payload: bytes, words: str) -> None:
        before = agent.status()
        response = httpx.post(f"{agent.url}/v1/config", content=payload, headers=signed_headers(KEY, payload))
        assert response.status_code == 400
        assert words in response.json()["error"]
        assert "ok.example.com" not in agent.status()["domains"]
        assert agent.status()["pushes"] == before["pushes"]

    def test_a_document_breaking_the_contract_fails_alone(self, agent) -> None:
        response = push(
            agent, doc("ok2.example.com", 9), doc("bad.example.com", 9, origins=[{"type": "ftp"}])
        )
        assert response.status_code == 200
        ok, bad = response.json()["results"]
        assert ok == {"domain": "ok2.example.com", "revision": 9, "status": "applied", "held_revision": 9}
        assert bad == {
            "domain": "bad.example.com",
            "revision": 9,
            "status": "failed",
            "held_revision": 0,
            "error": "origins[0].type: must be ipaddr, domain or oss",
        }
        assert "bad.example.com" not in agent.status()["domains"]

    def test_a_tombstone_removes_the_domain_and_older_revisions_cannot_bring_it_back(self, agent) -> None:
        push(agent, doc("d.example.com", 1))
        gone = push(agent, {"domain": "d.example.com", "revision": 2, "deleted": True})
        assert gone.json()["results"][0]["status"] == "applied"
        held = agent.held("d.example.com")
        assert held["deleted"] is True and held["origin_sni"] is None and held["revision"] == 2
        assert agent.read("/v1/config/d.example.com").status_code == 404
        assert push(agent, doc("d.example.com", 1)).json()["results"][0]["status"] == "stale"
        assert agent.held("d.example.com")["deleted"] is True
        assert push(agent, doc("d.example.com", 3)).json()["results"][0]["status"] == "applied"
        assert agent.held("d.example.com")["deleted"] is False

    def test_one_push_carries_many_domains(self, agent) -> None:
        docs = [doc(f"m{n}.example.com", 1, f"s{n}.example.net") for n in range(50)]
        results = push(agent, *docs).json()["results"]
        assert [r["status"] for r in results] == ["applied"] * 50
        assert agent.held("m49.example.com")["origin_sni"]["name"] == "s49.example.net"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_state_survives_a_restart(tmp_path: Path, how: int) -> None:
    agent = AgentProcess("edge-r", tmp_path, key=KEY).start()
    try:
        for revision in range(1, 21):
            assert push(agent, doc("r.example.com", revision, f"r{revision}.example.net")).status_code == 200
        agent.stop(how)
        state = load_state(tmp_path)
        assert state.domains["r.example.com"].revision == 20
        assert not list(tmp_path.glob(".state-*"))  # no temp file left behind
        agent.start()
        held = agent.held("r.example.com")
        assert held["revision"] == 20 and held["origin_sni"]["name"] == "r20.example.net"
        assert agent.status()["pushes"] == 20
    finally:
        agent.stop()


def test_a_corrupt_state_file_stops_the_agent_from_starting(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"domains": {"x": ')
    (tmp_path / "key").write_text(KEY)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge_agent",
            "--name",
            "edge-c",
            "--listen",
            "127.0.0.1:1",
            "--state-dir",
            str(tmp_path),
            "--key-file",
            str(tmp_path / "key"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "cannot read" in result.stderr and "refusing to start" in result.stderr


def test_the_key_is_required(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "edge_agent", "--name", "edge-k", "--state-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2 and "signing key is needed" in result.stderr


class FailingApplier:
    def __init__(self) -> None:
        self.fail = True
        self.seen: list[dict] = []

    async def apply(self, changes: dict) -> dict:
        self.seen.append(changes)
        if self.fail:
            raise RuntimeError("nginx: [emerg] cannot load certificate")
        return {}


def test_an_applier_failure_refuses_the_batch_and_keeps_the_state(tmp_path: Path) -> None:
    applier = FailingApplier()

    async def scenario() -> None:
        async with TestClient(TestServer(create_app("edge-a", KEY, tmp_path, applier=applier))) as client:
            body = body_of(doc("f.example.com", 1))
            response = await client.post("/v1/config", data=body, headers=signed_headers(KEY, body))
            # A failure of the node's nginx is the node's: no domain's result, and no words of nginx's.
            assert response.status == 503
            assert (await response.json())["error"] == "the edge node could not apply the change"
            assert (await (await client.get("/status", headers=read_headers(KEY, "/status"))).json())[
                "domains"
            ] == {}
            applier.fail = False
            body = body_of(doc("f.example.com", 2))
            response = await client.post("/v1/config", data=body, headers=signed_headers(KEY, body))
            assert response.status == 200
            held = (await (await client.get("/status", headers=read_headers(KEY, "/status"))).json())[
                "domains"
            ]["f.example.com"]
            assert held["revision"] == 2

    # In a thread of its own: the browser tests may leave an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()
    assert list(applier.seen[-1]) == ["f.example.com"]
    assert load_state(tmp_path).domains["f.example.com"].revision == 2
