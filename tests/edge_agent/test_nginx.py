"""Edge agents serving through a real nginx: SNI to an origin with two certificates, verification, refusal."""

from __future__ import annotations

import json
import random
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from edge_agent.contract import ContractError, DomainDocument, parse
from edge_agent.nginx import MODULE_DIR, MODULES
from edge_agent.runtime import Listener, compile_record
from tests.conftest import require
from tests.edge_agent.nginx_support import (
    NAME_A,
    NAME_B,
    NginxEdge,
    Pki,
    SniOrigin,
    answer,
    document,
    nginx_edges,
    nginx_program,
    origin,
    pid_alive,
    refused,
)
from tests.processes import AgentProcess, wait_for

KEY = "nginx-edge-key"
DEAD = "127.0.0.2"  # a loopback address nothing listens on: connections are refused at once
SECOND = "127.0.0.3"  # the origin's second address


@pytest.fixture(scope="module")
def nginx_bin() -> str:
    program = nginx_program()
    require(program is not None, "nginx is not installed (apt-get install nginx)")
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


@pytest.fixture(scope="module")
def edges(nginx_bin: str, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[NginxEdge]]:
    names = ["edge-1", "edge-2"]
    folders = (tmp_path_factory.mktemp(name) for name in names)
    with nginx_edges(names, folders, key=KEY, nginx_bin=nginx_bin, ca_file=pki.ca_file) as started:
        yield started


def served(edge: NginxEdge, host: str) -> tuple[int, str | None, str | None]:
    """Status, revision header and the certificate the origin served (None if nginx answered itself)."""
    status, revision, body = answer(edge.get(host))
    if body is not None:
        assert body["host"] == host
        assert body["sni"] in (None, body["cert"]) and (body["sni"] is not None or body["cert"] == NAME_A)
    return status, revision, body["cert"] if body else None


def push_all(edges: list[NginxEdge], *docs: dict) -> None:
    for edge in edges:
        response = edge.push(*docs)
        assert response.status_code == 200, (edge.name, response.text)
        assert all(item["status"] == "applied" for item in response.json()["results"]), response.text


def test_each_edge_fetches_with_the_pushed_sni_and_names_the_revision(
    edges: list[NginxEdge], upstream: SniOrigin
) -> None:
    domain = "sni.example.test"
    push_all(edges, document(domain, 1, [origin(NAME_B)], port=upstream.port))
    for edge in edges:
        assert served(edge, domain) == (200, "1", NAME_B)
        assert edge.held(domain)["revision"] == 1

    push_all(edges, document(domain, 2, [origin(NAME_A)], port=upstream.port))
    for edge in edges:
        assert served(edge, domain) == (200, "2", NAME_A)
        response = edge.get(domain, "/some/path?q=1")
        assert response.json()["path"] == "/some/path?q=1"
        assert response.headers.get_list("X-Config-Revision") == ["2"], "the origin's own header is hidden"


def test_once_a_push_is_answered_no_worker_serves_the_revision_before(
    edges: list[NginxEdge], upstream: SniOrigin
) -> None:
    domain = "quick.example.test"
    edge = edges[0]
    for revision in range(1, 9):
        push_all([edge], document(domain, revision, [origin(NAME_B)], port=upstream.port))
        revisions = {edge.get(domain).headers.get("X-Config-Revision") for _ in range(5)}
        assert revisions == {str(revision)}


def test_without_sni_verification_fails_and_without_verification_the_default_certificate_serves(
    edges: list[NginxEdge], upstream: SniOrigin
) -> None:
    domain = "no-sni.example.test"
    push_all(edges, document(domain, 1, [origin(NAME_B)], port=upstream.port))
    push_all(edges, document(domain, 2, [origin(None)], port=upstream.port, verify=True))
    for edge in edges:
        assert served(edge, domain) == (502, "2", None)

    push_all(edges, document(domain, 3, [origin(None)], port=upstream.port, verify=False))
    for edge in edges:
        assert served(edge, domain) == (200, "3", NAME_A)


def test_per_origin_sni_goes_with_the_origin_that_answers(
    edges: list[NginxEdge], upstream: SniOrigin
) -> None:
    domain = "per-origin.example.test"
    edge = edges[0]
    failover = [origin(NAME_A, DEAD, priority=20), origin(NAME_B, SECOND, priority=30)]
    push_all([edge], document(domain, 1, failover, port=upstream.port))
    for _ in range(3):
        response = edge.get(domain)
        assert response.status_code == 200
        assert (response.json()["cert"], response.json()["address"]) == (NAME_B, SECOND)

    failover = [origin(NAME_B, DEAD, priority=20), origin(NAME_A, priority=30)]
    push_all([edge], document(domain, 2, failover, port=upstream.port))
    assert served(edge, domain) == (200, "2", NAME_A)

    shared = [origin(NAME_A, weight=50), origin(NAME_B, SECOND, weight=50)]
    push_all([edge], document(domain, 3, shared, port=upstream.port))
    seen = set()
    for _ in range(40):
        body = edge.get(domain).json()
        assert (body["cert"], body["address"]) in {(NAME_A, "127.0.0.1"), (NAME_B, SECOND)}
        seen.add(body["cert"])
    assert seen == {NAME_A, NAME_B}, "both origins take a share, each with its own SNI"


def test_domains_with_different_sni_through_one_worker_each_get_their_own_origin(
    edges: list[NginxEdge], upstream: SniOrigin
) -> None:
    port = upstream.port
    expected = {
        "b.mixed.test": (200, "1", NAME_B),
        "none.mixed.test": (502, "1", None),
        "a.mixed.test": (200, "1", NAME_A),
        "wrong.mixed.test": (502, "1", None),
        "plain.mixed.test": (200, "1", NAME_A),
        "x.wild.mixed.test": (200, "1", NAME_B),
        "off.mixed.test": (403, "1", None),
        "unknown.mixed.test": (404, None, None),
    }
    docs = [
        document("b.mixed.test", 1, [origin(NAME_B)], port=port),
        document("none.mixed.test", 1, [origin(None)], port=port),
        document("a.mixed.test", 1, [origin(NAME_A)], port=port),
        document("wrong.mixed.test", 1, [origin("c.origin.test")], port=port),
        document("plain.mixed.test", 1, [origin(None)], port=port, verify=False),
        document("*.wild.mixed.test", 1, [origin(NAME_B)], port=port),
        document("off.mixed.test", 1, [origin(NAME_B)], port=port, enabled=False),
    ]
    push_all(edges, *docs)
    hosts = list(expected)
    shuffled = random.Random(7)
    for edge in edges:
        for _ in range(4):
            shuffled.shuffle(hosts)
            for host in hosts:
                assert served(edge, host) == expected[host], (edge.name, host)


def test_a_value_nginx_could_not_take_fails_only_its_own_domain(
    edges: list[NginxEdge], upstream: SniOrigin
) -> None:
    edge = edges[0]
    bad, good = "zone.example.test", "neighbour.example.test"
    push_all([edge], document(bad, 1, [origin(NAME_B)], port=upstream.port))
    # Signed by hand: an IPv6 zone id that would have broken nginx's whole configuration.
    broken = document(bad, 2, [origin(NAME_A)], port=upstream.port)
    broken["origins"][0]["address"] = "fe80::1%x;}"
    response = edge.push(broken, document(good, 1, [origin(NAME_A)], port=upstream.port))
    assert response.status_code == 200, response.text
    bad_result, good_result = response.json()["results"]
    assert bad_result == {
        "domain": bad,
        "revision": 2,
        "status": "failed",
        "held_revision": 1,
        "error": bad_result["error"],
    }
    assert bad_result["error"].startswith("origins[0].address: ")
    for leak in (good, "127.0.0.1", str(edge.state_dir), "nginx"):
        assert leak not in bad_result["error"], bad_result["error"]
    assert good_result["status"] == "applied"
    assert served(edge, good) == (200, "1", NAME_A)
    assert served(edge, bad) == (200, "1", NAME_B), "the failed domain keeps its previous revision"

    later = edge.push(document(good, 2, [origin(NAME_B)], port=upstream.port))
    assert later.json()["results"][0]["status"] == "applied"
    assert served(edge, good) == (200, "2", NAME_B)


def test_without_its_ca_bundle_a_node_fails_only_the_domains_that_verify(
    nginx_bin: str, upstream: SniOrigin, tmp_path: Path
) -> None:
    edge = NginxEdge(
        "edge-no-ca", tmp_path / "no-ca", KEY, nginx_bin=nginx_bin, ca_bundle=tmp_path / "gone.pem"
    )
    try:
        edge.start()
        response = edge.push(
            document("verified.example.test", 1, [origin(NAME_B)], port=upstream.port),
            document("plain.example.test", 1, [origin(NAME_B)], port=upstream.port, verify=False),
        )
        verified, plain = response.json()["results"]
        assert verified["status"] == "failed" and verified["held_revision"] == 0
        assert verified["error"].startswith("verify_origin.enabled: ") and "gone.pem" not in verified["error"]
        assert plain["status"] == "applied"
        assert served(edge, "plain.example.test") == (200, "1", NAME_B)
        assert served(edge, "verified.example.test") == (404, None, None)
    finally:
        edge.stop()
        edge.kill_nginx()


def test_an_owned_nginx_outlives_a_killed_agent_and_stops_with_a_stopped_one(
    nginx_bin: str, pki: Pki, upstream: SniOrigin, tmp_path: Path
) -> None:
    edge = NginxEdge("edge-own", tmp_path / "own", KEY, nginx_bin=nginx_bin, ca_bundle=pki.ca_file)
    try:
        edge.start()
        push_all([edge], document("own.example.test", 1, [origin(NAME_B)], port=upstream.port))
        master = edge.nginx_pid()
        assert master and pid_alive(master)

        edge.stop(signal.SIGKILL)
        assert served(edge, "own.example.test") == (200, "1", NAME_B), "the edge keeps serving"

        edge.start()
        assert edge.nginx_pid() == master, "the restarted agent adopts its nginx"
        push_all([edge], document("own.example.test", 2, [origin(NAME_A)], port=upstream.port))
        assert served(edge, "own.example.test") == (200, "2", NAME_A)

        edge.stop()
        assert not pid_alive(master)
        assert refused(edge.http_port)
    finally:
        edge.stop(signal.SIGKILL)
        edge.kill_nginx()


def test_an_agent_whose_nginx_cannot_listen_refuses_to_start(nginx_bin: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        edge = NginxEdge("edge-busy", tmp_path / "busy", KEY, nginx_bin=nginx_bin, http_port=port)
        process = edge.launch()
        try:
            assert process.wait(timeout=30) == 2
        finally:
            edge.stop(signal.SIGKILL)
            edge.kill_nginx()
    assert "Address already in use" in edge.stderr_text()
    assert edge.nginx_pid() is None or not pid_alive(edge.nginx_pid() or 0)


def test_an_agent_drives_a_running_nginx_it_does_not_own(
    nginx_bin: str, pki: Pki, upstream: SniOrigin, tmp_path: Path
) -> None:
    prefix = tmp_path / "system-nginx"
    conf_dir = prefix / "edge.d"
    for folder in (prefix / "logs", prefix / "temp", conf_dir):
        folder.mkdir(parents=True)
    main = prefix / "nginx.conf"
    # An nginx run by someone else loads the Lua module itself (Debian: /etc/nginx/modules-enabled).
    modules = "".join(f"load_module {MODULE_DIR / module};\n" for module in MODULES)
    main.write_text(
        modules
        + f"""daemon off;
worker_processes 1;
pid {prefix}/logs/nginx.pid;
error_log {prefix}/logs/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {prefix}/temp/body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    include {conf_dir}/*.conf;
}}
"""
    )
    system = subprocess.Popen([nginx_bin, "-p", f"{prefix}/", "-c", str(main), "-e", "stderr"])
    edge = NginxEdge(
        "edge-ext",
        tmp_path / "ext",
        KEY,
        nginx_bin=nginx_bin,
        ca_bundle=pki.ca_file,
        external=[
            "--nginx-conf",
            str(main),
            "--nginx-conf-dir",
            str(conf_dir),
            "--nginx-prefix",
            f"{prefix}",
        ],
    )
    try:
        wait_for(lambda: (prefix / "logs" / "nginx.pid").exists(), timeout=10, what="the running nginx")
        edge.start()
        push_all([edge], document("ext.example.test", 1, [origin(NAME_B)], port=upstream.port))
        assert served(edge, "ext.example.test") == (200, "1", NAME_B)
        assert (conf_dir / "edge-agent.conf").exists()

        edge.stop()
        assert system.poll() is None, "an nginx the agent does not own keeps running"
        assert served(edge, "ext.example.test") == (200, "1", NAME_B)
    finally:
        edge.stop(signal.SIGKILL)
        system.send_signal(signal.SIGQUIT)
        system.wait(timeout=10)


class TestRecords:
    """What the agent hands nginx's Lua for one domain, checked without running it."""

    @staticmethod
    def record(doc: dict, **options) -> dict:
        parsed = parse(doc)
        assert isinstance(parsed, DomainDocument)
        return json.loads(compile_record(parsed, **options))

    def test_levels_weights_sni_and_the_revision(self) -> None:
        doc = document(
            "r.example.test", 7, [origin(NAME_B, weight=30), origin(NAME_A, "::1", priority=30)], port=443
        )
        rec = self.record(doc)
        assert rec["r"] == 7 and rec["on"] is True and rec["host"] == "r.example.test"
        assert rec["o"] == [
            [{"a": "127.0.0.1:443", "n": NAME_B, "w": 30, "loc": "@edge_https_verify"}],
            [{"a": "[::1]:443", "n": NAME_A, "w": 10, "loc": "@edge_https_verify"}],
        ]

    def test_follow_and_http_fetch_over_http_on_the_http_port(self) -> None:
        for policy in ("follow", "http"):
            doc = document("h.example.test", 1, [origin(NAME_B)], port=8080, policy=policy)
            assert self.record(doc)["o"][0][0] | {"n": None} == {
                "a": "127.0.0.1:8080",
                "n": None,
                "w": 10,
                "loc": "@edge_http",
            }

    def test_a_wildcard_domain_sends_the_clients_host(self) -> None:
        assert self.record(document("*.w.example.test", 1, [origin(NAME_A)], port=443))["host"] == ""

    def test_verification_without_sni_can_never_pass(self) -> None:
        assert self.record(document("v.example.test", 1, [origin(None)], port=443))["o"][0][0]["loc"] == ""
        off = document("v.example.test", 1, [origin(None)], port=443, verify=False)
        assert self.record(off)["o"][0][0]["loc"] == "@edge_https"

    def test_verification_without_a_ca_bundle_fails_that_domain(self) -> None:
        with pytest.raises(ContractError, match="verify_origin.enabled"):
            self.record(document("v.example.test", 1, [origin(NAME_A)], port=443), verify_ready=False)

    def test_an_origin_on_the_nodes_own_listeners_is_refused(self) -> None:
        own = [Listener.parse("127.0.0.1:9101"), Listener.parse("0.0.0.0:8080")]
        for address, port in (("127.0.0.1", 9101), ("127.0.0.2", 9101), ("127.0.0.1", 8080), ("::1", 8080)):
            doc = document("s.example.test", 1, [origin(None, address)], port=port, policy="http")
            with pytest.raises(ContractError, match=r"origins\[0\].address"):
                self.record(doc, own=own)
        elsewhere = document("s.example.test", 1, [origin(None, "192.0.2.1")], port=9101, policy="http")
        assert self.record(elsewhere, own=own)["o"][0][0]["a"] == "192.0.2.1:9101"


def test_the_agent_without_nginx_options_needs_no_nginx(tmp_path: Path) -> None:
    agent = AgentProcess("edge-plain", tmp_path / "plain", key=KEY).start()
    try:
        assert httpx.get(f"{agent.url}/healthz", timeout=2).text == "ok"
        assert not (tmp_path / "plain" / "nginx").exists()
    finally:
        agent.stop()


def test_each_origins_port_follows_the_vendors_rule(edges: list[NginxEdge], upstream: SniOrigin) -> None:
    """With a protocol policy its port wins; without one, the origin's own port (HTTPS on 443, else HTTP)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Plain(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            body = b'{"plain": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    plain = ThreadingHTTPServer(("127.0.0.1", 0), Plain)
    Thread(target=plain.serve_forever, daemon=True).start()
    edge = edges[0]
    try:
        policy = document("port-policy.example.test", 1, [origin(NAME_B) | {"port": 1}], port=upstream.port)
        push_all([edge], policy)
        assert served(edge, "port-policy.example.test") == (200, "1", NAME_B), "the policy's port, not 1"

        own = document("port-own.example.test", 1, [origin(None) | {"port": plain.server_port}], port=1)
        own["forward_scheme"]["enabled"] = False
        push_all([edge], own)
        response = edge.get("port-own.example.test")
        assert (response.status_code, response.json()) == (200, {"plain": True}), "HTTP on the origin's port"
    finally:
        plain.shutdown()
        plain.server_close()


def test_extra_common_names_are_not_honoured_and_verification_fails_closed(
    edges: list[NginxEdge], upstream: SniOrigin
) -> None:
    """nginx 1.22 checks the origin certificate against the SNI it sends and nothing else (see the report)."""
    doc = document("cn.example.test", 1, [origin("c.origin.test")], port=upstream.port)
    doc["verify_origin"]["common_names"] = [NAME_A]
    push_all([edges[0]], doc)
    assert served(edges[0], "cn.example.test") == (502, "1", None)


def test_a_deep_state_folder_still_gets_a_control_socket_nginx_can_listen_on(tmp_path):
    from edge_agent.nginx import MAX_SOCKET_PATH, control_socket_path

    shallow = tmp_path / "conf"
    assert control_socket_path(shallow) == shallow / "edge-agent.sock"
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 6)
    path = control_socket_path(deep)
    assert len(str(path)) <= MAX_SOCKET_PATH
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert control_socket_path(deep) == path  # the same agent finds it again
    assert control_socket_path(deep / "other") != path  # another agent does not share it
