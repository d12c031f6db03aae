"""Origins cannot point inside, on the edge too: the one table of refused ranges agrees with Python's own
classification, an IP origin in one fails alone on receipt, and a name that resolves into one is refused
where it is resolved: when a push arrives, and by nginx at request time (a name moved into a refused range
after it was accepted is never fetched from)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_agent.addresses import Policy, parse_networks, special_kind
from edge_agent.server import create_app
from edge_agent.signing import signed_headers
from tests.dnsmasq import DnsServer
from tests.edge_agent.nginx_support import NAME_B, NginxEdge, Pki, SniOrigin, answer, document, origin
from tests.edge_agent.test_isolation import nginx_bin, pki, upstream  # noqa: F401 - fixtures
from tests.processes import ROOT, wait_for

KEY = "policy-key"
SHARED = ipaddress.ip_network("100.64.0.0/10")


def python_refuses(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether Python's `ipaddress` puts the address in a range no origin may be in."""
    flags = [
        address.is_loopback,
        address.is_unspecified,
        address.is_link_local,
        address.is_private,
        address.is_multicast,
        address.is_reserved,
    ]
    if isinstance(address, ipaddress.IPv4Address):
        flags.append(address in SHARED)
    else:
        flags.append(address.is_site_local)
    return any(flags)


@settings(max_examples=3000, deadline=None)
@given(st.ip_addresses(v=4) | st.ip_addresses(v=6))
def test_the_refused_ranges_agree_with_pythons_classification(address) -> None:
    assert (special_kind(address) is not None) == python_refuses(address), address


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a listener
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "shared"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "reserved"),
        ("::127.0.0.1", "reserved"),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_each_kind_of_range_is_named(address: str, kind: str | None) -> None:
    assert special_kind(ipaddress.ip_address(address)) == kind


def test_allowed_networks_let_an_address_through_and_own_addresses_are_refused() -> None:
    policy = Policy(
        allowed=parse_networks(["127.0.0.0/8, 10.1.0.0/16"]), own=frozenset([ipaddress.ip_address("8.8.4.4")])
    )
    assert policy.refusal(ipaddress.ip_address("127.0.0.9")) is None
    assert policy.refusal(ipaddress.ip_address("10.1.2.3")) is None
    assert policy.refusal(ipaddress.ip_address("10.2.0.1")) == "private"
    assert policy.refusal(ipaddress.ip_address("8.8.4.4")) == "own"
    assert policy.refusal(ipaddress.ip_address("8.8.8.8")) is None
    with pytest.raises(ValueError, match="10.0.0.0/33"):
        parse_networks(["10.0.0.0/33"])


def ip_doc(domain: str, address: str) -> dict:
    return document(domain, 1, [origin(None, address)], port=443, verify=False)


def test_an_ip_origin_in_a_refused_range_fails_alone_when_pushed(tmp_path: Path) -> None:
    policy = Policy(allowed=parse_networks(["203.0.113.0/24"]))

    async def scenario() -> list[dict]:
        app = create_app("edge-policy", KEY, tmp_path, origin_policy=policy)
        async with TestClient(TestServer(app)) as client:
            docs = [
                ip_doc("metadata.acme.test", "169.254.169.254"),
                ip_doc("inside.acme.test", "10.0.0.1"),
                ip_doc("fine.bravo.test", "203.0.113.10"),
            ]
            body = json.dumps({"domains": docs}).encode()
            response = await client.post("/v1/config", data=body, headers=signed_headers(KEY, body))
            return (await response.json())["results"]

    with ThreadPoolExecutor(1) as pool:
        results = {r["domain"]: r for r in pool.submit(asyncio.run, scenario()).result()}
    assert results["fine.bravo.test"]["status"] == "applied"
    for domain, kind in (("metadata.acme.test", "link-local"), ("inside.acme.test", "private")):
        assert results[domain]["status"] == "failed"
        assert results[domain]["error"] == (
            f"origins[0].address: must be a public address, not a {kind} one "
            "(this edge node does not fetch from it)"
        )


def test_the_agent_refuses_a_bad_allowed_network_at_start(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge_agent",
            "--name",
            "e",
            "--state-dir",
            str(tmp_path),
            "--origin-allow",
            "x/8",
        ],
        cwd=ROOT,
        env={"EDGE_AGENT_KEY": "k", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 2 and "--origin-allow: 'x/8' is not a network" in run.stderr


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    server = DnsServer().start()
    yield server
    server.remove()


def test_a_name_resolving_into_a_refused_range_is_never_fetched_from(
    nginx_bin: str,  # noqa: F811 - the fixture
    pki: Pki,  # noqa: F811
    upstream: SniOrigin,  # noqa: F811
    dns: DnsServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The origin answers on 127.0.0.1 and 127.0.0.3; only 127.0.0.1 is allowed on this edge.
    monkeypatch.setenv("EDGE_AGENT_ORIGIN_ALLOW", "127.0.0.1/32")
    name, domain = "moving.acme.test", "shop.acme.test"
    by_name = origin(NAME_B) | {"type": "domain", "address": name}
    dns.hosts({name: "127.0.0.1"})
    edge = NginxEdge(
        "edge-policy",
        tmp_path / "edge",
        KEY,
        nginx_bin=nginx_bin,
        ca_bundle=pki.ca_file,
        extra=["--resolver", f"127.0.0.1:{dns.port}", "--resolver-valid", "1"],
    )
    try:
        edge.start()
        first = edge.push(document(domain, 1, [by_name], port=upstream.port)).json()["results"][0]
        assert first["status"] == "applied", first
        status, revision, body = answer(edge.get(domain))
        assert (status, revision, body and body["address"]) == (200, "1", "127.0.0.1")

        # The name moves to an address the edge refuses: nginx stops fetching, though the origin answers.
        dns.hosts({name: "127.0.0.3"})
        wait_for(lambda: edge.get(domain).status_code == 502, timeout=15, what="the move to be refused")
        assert answer(edge.get(domain))[2] is None  # nginx's own answer: nothing came from 127.0.0.3

        # A push of the domain now says why, in that domain's result only.
        again = edge.push(document(domain, 2, [by_name], port=upstream.port)).json()["results"][0]
        assert again["status"] == "failed", again
        assert again["error"] == (
            f"origins[0].address: {name} resolves to 127.0.0.3, a loopback address, "
            "which this edge node does not fetch from"
        )

        dns.hosts({name: "127.0.0.1"})
        wait_for(lambda: edge.get(domain).status_code == 200, timeout=15, what="the name to come back")
    finally:
        edge.stop()
        edge.kill_nginx()
