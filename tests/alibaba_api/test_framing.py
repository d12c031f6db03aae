"""Requests framed every way the official clients frame them, against the console under gunicorn (the server
of `make run` and of production): parameters in the query string, in a form body with Content-Length or
chunked, or in a JSON body; signed with ACS3-HMAC-SHA256 (V3) or HMAC-SHA1 (V1); every action."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx
import pytest
from django.conf import settings

from alibaba_api.actions import ACTIONS, CDN_VERSION
from alibaba_api.signatures import V1_SIGNATURE_FIELDS, format_timestamp, sign_v1, sign_v3
from alibaba_api.views import MAX_BODY_BYTES
from domains.models import Domain
from tests import factories
from tests.alibaba_api.conftest import Key
from tests.processes import ROOT, database_url, free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FRAMINGS = ("query", "form", "chunked", "json")
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The console under gunicorn on the test database and Redis; chunked bodies are decoded by gunicorn."""
    with django_db_blocker.unblock():
        url_of_database = database_url()
    port = free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": url_of_database,
        "CONSOLE_VAR_DIR": str(settings.VAR_DIR),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "console.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
        + ["--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{url}/login/", timeout=2).status_code == 200, what="gunicorn up")
    yield url
    process.terminate()
    process.wait(timeout=20)


def encode(params: dict[str, str], framing: str) -> tuple[bytes, str]:
    if framing == "json":
        return json.dumps(params).encode(), "application/json; charset=utf-8"
    return urlencode(params).encode(), FORM


def request(
    url: str, key: Key, action: str, params: dict[str, str], *, framing: str, style: str, version: str
):  # type: ignore[no-untyped-def]
    """A signed call of `action`, its parameters framed as asked; returns (query, headers, body)."""
    host = url.removeprefix("http://")
    in_query = framing == "query"
    if style == "v1":
        signed = sign_v1(
            method="POST",
            params={"Action": action, "Version": version, "Format": "JSON", **params},
            access_key_id=key.access_key_id,
            secret=key.secret,
            nonce=uuid.uuid4().hex,
            timestamp=datetime.now(UTC),
        )
        protocol = {k: v for k, v in signed.items() if k in V1_SIGNATURE_FIELDS or k not in params}
        query = signed if in_query else protocol
        body, content_type = (b"", "") if in_query else encode(params, framing)
        headers = {"host": host} | ({"content-type": content_type} if content_type else {})
        return query, headers, body
    query = params if in_query else {}
    body, content_type = (b"", "") if in_query else encode(params, framing)
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": format_timestamp(datetime.now(UTC)),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "accept": "application/json",
    } | ({"content-type": content_type} if content_type else {})
    headers |= sign_v3(
        method="POST",
        path="/",
        query=query,
        headers=headers,
        body=body,
        access_key_id=key.access_key_id,
        secret=key.secret,
    )
    return query, headers, body


def send(
    url: str, query: dict[str, str], headers: dict[str, str], body: bytes, *, chunked: bool
) -> httpx.Response:
    content = iter([body[: len(body) // 2], body[len(body) // 2 :]]) if chunked else body
    with httpx.Client(timeout=10) as client:
        built = client.build_request("POST", f"{url}/?{urlencode(query)}", headers=headers, content=content)
        if chunked:  # as the body goes on the wire: no length, chunks
            assert "content-length" not in built.headers and built.headers["transfer-encoding"] == "chunked"
        return client.send(built)


def call(
    url: str,
    key: Key,
    action: str,
    params: dict[str, str],
    *,
    framing: str,
    style: str,
    version: str = CDN_VERSION,
):  # type: ignore[no-untyped-def]
    query, headers, body = request(url, key, action, params, framing=framing, style=style, version=version)
    response = send(url, query, headers, body, chunked=framing == "chunked")
    return response.status_code, response.json()


def probe(action: str, ghost: str) -> tuple[dict[str, str], int, str]:
    """Parameters of `action` naming a domain the caller lacks, and the answer proving that they were read."""
    if action.startswith("Add"):
        return (
            {"DomainName": ghost, "CdnType": "web", "Sources": '[{"type":"ipaddr","content":"1.2.3.4"}]'},
            200,
            "",
        )
    if action in ("DescribeUserDomains", "DescribeDcdnUserDomains"):
        return {"PageSize": "1", "DomainName": ghost}, 200, ""
    if action.endswith("VerifyContent"):
        return {"DomainName": ghost}, 200, ""
    if action.startswith("Verify"):
        # A verification type named after the domain: refused, naming what was read.
        return {"DomainName": ghost, "VerifyType": ghost}, 400, ghost
    if action.startswith("Batch"):
        functions = (
            '[{"functionName":"https_origin_sni","functionArgs":[{"argName":"enabled","argValue":"off"}]}]'
        )
        extra = {"Functions": functions, "FunctionNames": "forward_scheme"}
        return {"DomainNames": ghost, **extra}, 404, ghost
    if "tag" in action.lower():
        return (
            {"ResourceType": "DOMAIN", "ResourceId.1": ghost, "Tag.1.Key": "k", "TagKey.1": "k"},
            404,
            ghost,
        )
    return (
        {"DomainName": ghost, "ConfigId": "1", "Sources": '[{"type":"ipaddr","content":"1.2.3.4"}]'},
        404,
        ghost,
    )


@pytest.mark.parametrize("style", ["v3", "v1"])
@pytest.mark.parametrize("framing", FRAMINGS)
def test_every_action_verifies_and_reads_its_parameters_however_framed(server, alice_key, framing, style):
    for (version, action), _ in sorted(ACTIONS.items()):
        ghost = f"{framing}-{style}-{action.lower()}.alpha.example"
        params, status, named = probe(action, ghost)
        code, body = call(server, alice_key, action, params, framing=framing, style=style, version=version)
        assert (action, code) == (action, status), body
        if status == 404:
            assert (body["Code"], named in body["Message"]) == ("InvalidDomain.NotFound", True), (
                action,
                body,
            )
        elif status == 400:
            assert (body["Code"], named in body["Message"]) == ("InvalidParameter", True), (action, body)
        elif action.startswith("Add"):
            assert Domain.objects.filter(name=ghost).exists()
        elif action.endswith("VerifyContent"):
            assert body["Content"].startswith("verify_"), body
        else:
            assert (body["PageSize"], body["TotalCount"]) == (1, 0)


@pytest.mark.parametrize("style", ["v3", "v1"])
@pytest.mark.parametrize("framing", ["form", "chunked", "json"])
def test_a_tampered_body_fails(server, alpha, alice_key, framing, style):
    domain = factories.make_domain(account=alpha)
    params = {
        "DomainNames": domain.name,
        "Functions": json.dumps(
            [
                {
                    "functionName": "set_req_host_header",
                    "functionArgs": [{"argName": "domain_name", "argValue": "a.example.com"}],
                }
            ]
        ),
    }
    query, headers, body = request(
        server,
        alice_key,
        "BatchSetCdnDomainConfig",
        params,
        framing=framing,
        style=style,
        version=CDN_VERSION,
    )
    tampered = body.replace(b"a.example.com", b"b.example.com")
    response = send(server, query, headers, tampered, chunked=framing == "chunked")
    assert (response.status_code, response.json()["Code"]) == (400, "SignatureDoesNotMatch")
    if style == "v3":
        assert "x-acs-content-sha256 is not the SHA-256 of the request body" in response.json()["Message"]
    domain.refresh_from_db()
    assert domain.config_revision == 0
    # The same request untouched goes through.
    assert send(server, query, headers, body, chunked=framing == "chunked").status_code == 200


def raw_exchange(url: str, data: bytes) -> tuple[bytes, dict]:
    """Send these bytes and no more (the body they start is never finished), then read the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while not (b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}")):
            received = sock.recv(65536)
            if not received:
                break
            answer += received
    status, _, body = answer.partition(b"\r\n\r\n")
    return status, json.loads(body)


def head(url: str, framing: str) -> bytes:
    host = url.removeprefix("http://")
    lines = [
        "POST / HTTP/1.1",
        f"Host: {host}",
        "x-acs-action: DescribeUserDomains",
        f"x-acs-version: {CDN_VERSION}",
        f"Content-Type: {FORM}",
        "Authorization: ACS3-HMAC-SHA256 Credential=LTAIx,SignedHeaders=host,Signature=00",
        f"Content-Length: {8 * MAX_BODY_BYTES}" if framing == "length" else "Transfer-Encoding: chunked",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_an_oversized_body_with_its_length_declared_is_refused_before_it_is_sent(server):
    # Only 1 KiB of the 8 MiB declared is ever sent: the answer comes from the header alone.
    status, body = raw_exchange(server, head(server, "length") + b"x" * 1024)
    assert status.startswith(b"HTTP/1.1 413")
    assert body["Code"] == "RequestEntityTooLarge"


def test_an_oversized_chunked_body_is_refused_without_being_read_whole(server):
    # 1 MiB and 64 KiB of chunks, and no last chunk: the body never ends, so an answer shows that the server
    # stopped reading once past the limit, rather than waiting for the rest.
    chunk = b"%x\r\n" % 4096 + b"x" * 4096 + b"\r\n"
    status, body = raw_exchange(server, head(server, "chunked") + chunk * (MAX_BODY_BYTES // 4096 + 16))
    assert status.startswith(b"HTTP/1.1 413")
    assert body["Code"] == "RequestEntityTooLarge"
    assert f"larger than {MAX_BODY_BYTES} bytes" in body["Message"]
