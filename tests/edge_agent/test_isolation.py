"""One tenant never breaks another on a shared edge: origin names resolved at request time through a resolver
the test controls (dnsmasq), the agent's reads and pushes refused without the key, bounded bodies."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from edge_agent.server import create_app
from edge_agent.signing import read_headers, signed_headers
from tests.conftest import require
from tests.edge_agent.nginx_support import (
    NAME_A,
    NAME_B,
    Dns,
    NginxEdge,
    Pki,
    SniOrigin,
    answer,
    document,
    nginx_program,
    origin,
)
from tests.processes import AgentProcess, wait_for

KEY = "isolation-key"
FLAKY = "flaky.acme.test"


@pytest.fixture(scope="module")
def nginx_bin() -> str:
    program = nginx_program()
    require(program is not None, "nginx is not installed (apt-get install nginx)")
    require(shutil.which("dnsmasq") or Path("/usr/sbin/dnsmasq").exists(), "apt-get install dnsmasq-base")
    assert program is not None
    return program


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def upstream(pki: Pki) -> Iterator[SniOrigin]:
    server = SniOrigin(pki).start()
    yield server
    server.stop()


@pytest.fixture
def dns() -> Iterator[Dns]:
    # Not under pytest's folders (readable by their owner only): dnsmasq reads as an unprivileged user.
    folder = Path(tempfile.mkdtemp(prefix="edge-dns-"))
    folder.chmod(0o755)
    server = Dns(folder)
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_a_name_that_stops_resolving_fails_only_its_own_domain(
    nginx_bin: str, pki: Pki, upstream: SniOrigin, dns: Dns, tmp_path: Path
) -> None:
    a, b = "shop.acme.test", "www.bravo.test"
    dns.set({FLAKY: "127.0.0.1"})
    edge = NginxEdge(
        "edge-dns",
        tmp_path / "edge",
        KEY,
        nginx_bin=nginx_bin,
        ca_bundle=pki.ca_file,
        extra=["--resolver", f"127.0.0.1:{dns.port}", "--resolver-valid", "1"],
    )
    by_name = origin(NAME_B) | {"type": "domain", "address": FLAKY}
    try:
        edge.start()
        first = edge.push(
            document(a, 1, [by_name], port=upstream.port),
            document(b, 1, [origin(NAME_A)], port=upstream.port),
        )
        assert [r["status"] for r in first.json()["results"]] == ["applied", "applied"], first.text
        assert answer(edge.get(a))[:2] == (200, "1")
        assert answer(edge.get(b))[:2] == (200, "1")

        dns.set({})
        wait_for(lambda: edge.get(a).status_code == 502, timeout=15, what="the name to stop resolving")
        changed_b = edge.push(document(b, 2, [origin(NAME_B)], port=upstream.port)).json()["results"][0]
        assert changed_b["status"] == "applied"
        assert answer(edge.get(b))[:2] == (200, "2")

        changed_a = edge.push(document(a, 2, [by_name | {"sni": NAME_A}], port=upstream.port)).json()[
            "results"
        ][0]
        assert changed_a["status"] == "failed" and changed_a["held_revision"] == 2, changed_a
        assert changed_a["error"].startswith(f"origins[0].address: {FLAKY} does not resolve"), changed_a
        for other in (b, "127.0.0.1", str(tmp_path)):
            assert other not in changed_a["error"]

        edge.stop()
        edge.start()
        assert answer(edge.get(b))[:2] == (200, "2"), "a restart serves every domain that can be served"
        assert answer(edge.get(a))[:2] == (502, "2")

        dns.set({FLAKY: "127.0.0.1"})
        wait_for(
            lambda: edge.get(a).status_code == 200, timeout=15, what="the name to resolve again, no push"
        )
        status, revision, body = answer(edge.get(a))
        assert (status, revision, body["cert"] if body else None) == (200, "2", NAME_A)
        again = edge.push(document(a, 2, [by_name | {"sni": NAME_A}], port=upstream.port)).json()["results"][
            0
        ]
        assert again == {"domain": a, "revision": 2, "status": "unchanged", "held_revision": 2}
    finally:
        edge.stop()
        edge.kill_nginx()


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[AgentProcess]:
    process = AgentProcess("edge-surface", tmp_path / "surface", key=KEY).start()
    yield process
    process.stop()


def test_reads_need_the_nodes_key(agent: AgentProcess) -> None:
    for path in ("/status", "/v1/config/www.example.com"):
        assert httpx.get(agent.url + path).status_code == 401
        assert httpx.get(agent.url + path, headers=read_headers("not-the-key", path)).status_code == 401
        stolen = read_headers(KEY, "/status")
        if path != "/status":
            assert httpx.get(agent.url + path, headers=stolen).status_code == 401, "signed for another path"
    assert agent.read("/status").status_code == 200
    assert agent.read("/v1/config/www.example.com").status_code == 404


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_twenty_concurrent_garbage_posts_do_not_grow_the_agent(agent: AgentProcess) -> None:
    assert agent.process is not None
    garbage = os.urandom(8 * 1024 * 1024)
    forged = signed_headers("not-the-key", garbage)
    before = rss_kb(agent.process.pid)
    codes: list[int] = []

    def post(n: int) -> None:
        headers = forged if n % 2 else {"Content-Type": "application/json"}
        try:
            codes.append(
                httpx.post(f"{agent.url}/v1/config", content=garbage, headers=headers, timeout=30).status_code
            )
        except httpx.HTTPError:
            codes.append(0)  # the agent may close the connection while the body is still being sent

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    grown = rss_kb(agent.process.pid) - before
    assert set(codes) <= {401, 0} and 401 in codes, codes
    assert grown < 8 * 1024, f"the agent grew by {grown} KB (the bodies sent: 160 MB)"
    assert agent.status()["pushes"] == 0


def test_a_body_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, int]:
        app = create_app("edge-small", KEY, tmp_path, max_body=1000)
        async with TestClient(TestServer(app)) as client:
            big = json.dumps({"domains": [], "padding": "x" * 2000}).encode()
            small = json.dumps({"domains": []}).encode()
            over = await client.post("/v1/config", data=big, headers=signed_headers(KEY, big))
            under = await client.post("/v1/config", data=small, headers=signed_headers(KEY, small))
            return over.status, under.status

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, scenario()).result() == (413, 200)
