"""Names belong to whoever proves they own their root: the TXT record (through a real DNS server the test
runs) and the file (from a real HTTP server) pass and fail as they should, on the page, the REST API and the
Alibaba-compatible API; the file fetch never follows a redirect, or a DNS answer, into a refused address."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import OperationLog
from domains.models import Domain, VerifiedRoot
from domains.ownership import root_of, verification_token
from tests.alibaba_api.conftest import SignedClient, make_key
from tests.api.helpers import codes
from tests.dnsmasq import DnsServer
from tests.processes import free_port

pytestmark = pytest.mark.django_db

ROOT = "owner.example"


class Site:
    """An HTTP server standing for the root's web site: `/verification.html` answers `files[path]`, or a
    redirect for `redirects[path]`; it records the paths asked."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, str]] = {}
        self.redirects: dict[str, str] = {}
        self.asked: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                site.asked.append(f"{self.headers.get('Host')}{self.path}")
                if self.path in site.redirects:
                    self.send_response(302)
                    self.send_header("Location", site.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, body = site.files.get(self.path, (404, "not found"))
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    server = DnsServer().start()
    server.hosts({ROOT: "127.0.0.1", f"www.{ROOT}": "127.0.0.1", "inside.example": "10.0.0.1"})
    yield server
    server.remove()


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.stop()


@pytest.fixture
def verifying(dns: DnsServer, site: Site) -> Iterator[None]:
    """The console looks TXT records and hosts up in the test's DNS server and fetches files from the test's
    site (HTTPS on a closed port: it falls back to HTTP, as for a site without HTTPS)."""
    with override_settings(
        VERIFY_DNS_RESOLVER=[dns.address],
        VERIFY_HTTP_PORT=site.port,
        VERIFY_HTTPS_PORT=free_port(),
        VERIFY_TIMEOUT=3.0,
    ):
        yield


def add_form(name: str, **extra: str) -> dict[str, object]:
    return {
        "name": name,
        "business_type": "web",
        "coverage": "domestic",
        "description": "",
        "origin_count": 1,
        "origin-0-type": "ipaddr",
        "origin-0-address": "203.0.113.10",
        "origin-0-port": 443,
        "origin-0-priority": 20,
        "origin-0-weight": 10,
        **extra,
    }


def test_the_root_of_a_name_follows_the_public_suffix_list() -> None:
    assert root_of("www.example.com") == "example.com"
    assert root_of("*.shop.example.co.uk") == "example.co.uk"
    assert root_of("alice.github.io") == "alice.github.io"  # a private suffix: each site is its own root
    assert root_of("www.acme.example") == "acme.example"  # an unknown top-level label: the default rule
    assert root_of("co.uk") is None and root_of("*.co.uk") is None


def test_adding_a_name_under_an_unverified_root_shows_the_txt_record_and_the_file(client, alice, verifying):
    client.force_login(alice)
    response = client.post(reverse("domains:add", kwargs={"product": "cdn"}), add_form(f"www.{ROOT}"))
    body = response.content.decode()
    token = verification_token(alice.membership.account)
    assert response.status_code == 200 and not Domain.objects.filter(name=f"www.{ROOT}").exists()
    assert f"Verify that you own {ROOT} first" in body
    assert f"verification.{ROOT}" in body and token in body
    assert f"http://{ROOT}/verification.html" in body and "Verify by file" in body


def test_a_txt_record_with_the_accounts_value_verifies_the_root_and_adds_the_domain(
    client, alice, dns, verifying
):
    token = verification_token(alice.membership.account)
    dns.set_txt({f"verification.{ROOT}": [token]})
    client.force_login(alice)
    url = reverse("domains:add", kwargs={"product": "cdn"})
    response = client.post(url, add_form(f"www.{ROOT}", verify="dns"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Domain.objects.get(name=f"www.{ROOT}").account == alice.membership.account
    held = VerifiedRoot.objects.get(root=ROOT)
    assert (held.account, held.method, held.actor_name) == (alice.membership.account, "dns", "alice")
    entry = OperationLog.objects.get(action="domain_root.verify")
    assert entry.after == {"root": ROOT, "method": "dns"}
    # Any other name under the root is added without verifying again.
    assert client.post(url, add_form(f"api.{ROOT}")).status_code == 302


@pytest.mark.parametrize(
    ("records", "words"),
    [
        ({}, f"No TXT record verification.{ROOT} was found"),
        ({f"verification.{ROOT}": ["verify_0123456789abcdef0123456789abcdef"]}, "does not hold"),
    ],
)
def test_a_missing_or_wrong_txt_record_fails_with_what_to_fix(client, alice, dns, verifying, records, words):
    dns.set_txt(records)
    client.force_login(alice)
    response = client.post(
        reverse("domains:add", kwargs={"product": "cdn"}), add_form(f"www.{ROOT}", verify="dns")
    )
    body = response.content.decode()
    assert response.status_code == 200 and words in body
    assert verification_token(alice.membership.account) in body
    assert not VerifiedRoot.objects.filter(root=ROOT).exists() and not Domain.objects.exists()


def test_another_accounts_value_does_not_verify(alice, charlie, dns, verifying):
    dns.set_txt({f"verification.{ROOT}": [verification_token(charlie.membership.account)]})
    api = APIClient()
    api.force_authenticate(alice)
    response = api.post("/api/v1/domain-ownership/", {"name": ROOT, "method": "dns"}, format="json")
    assert response.status_code == 400 and codes(response) == {"name": ["dns_mismatch"]}


def test_the_file_verifies_over_http_through_the_rest_api(alice, site, verifying):
    token = verification_token(alice.membership.account)
    site.files["/verification.html"] = (200, f"{token}\n")
    api = APIClient()
    api.force_authenticate(alice)
    before = api.get("/api/v1/domain-ownership/", {"name": f"*.shop.{ROOT}"})
    assert before.status_code == 200
    assert before.json() == {
        "root": ROOT,
        "verified": False,
        "dns": {"type": "TXT", "host": "verification", "name": f"verification.{ROOT}", "value": token},
        "file": {
            "urls": [f"https://{ROOT}/verification.html", f"http://{ROOT}/verification.html"],
            "content": token,
        },
    }
    response = api.post("/api/v1/domain-ownership/", {"name": f"www.{ROOT}", "method": "file"}, format="json")
    assert response.status_code == 200 and response.json()["verified"] is True
    assert site.asked == [f"{ROOT}:{site.port}/verification.html"]
    origin = {"type": "ipaddr", "address": "203.0.113.10", "port": 443}
    body = {"name": f"*.shop.{ROOT}", "product": "cdn", "business_type": "web", "origins": [origin]}
    assert api.post("/api/v1/domains/", body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("files", "code"),
    [({}, "file_missing"), ({"/verification.html": (200, "verify_wrong")}, "file_mismatch")],
)
def test_a_missing_or_wrong_file_fails(alice, site, verifying, files, code):
    site.files.update(files)
    api = APIClient()
    api.force_authenticate(alice)
    response = api.post("/api/v1/domain-ownership/", {"name": ROOT, "method": "file"}, format="json")
    assert response.status_code == 400 and codes(response) == {"name": [code]}


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/verification.html", "http://inside.example/verification.html"]
)
def test_the_file_fetch_follows_no_redirect_into_a_refused_address(alice, site, verifying, target):
    site.redirects["/verification.html"] = target
    api = APIClient()
    api.force_authenticate(alice)
    response = api.post("/api/v1/domain-ownership/", {"name": ROOT, "method": "file"}, format="json")
    assert response.status_code == 400 and codes(response) == {"name": ["file_refused"]}
    assert site.asked == [f"{ROOT}:{site.port}/verification.html"]


def test_a_root_resolving_into_a_refused_address_is_not_fetched(alice, site, verifying):
    api = APIClient()
    api.force_authenticate(alice)
    with override_settings(ORIGIN_ALLOWED_NETWORKS=[]):
        response = api.post("/api/v1/domain-ownership/", {"name": ROOT, "method": "file"}, format="json")
    assert codes(response) == {"name": ["file_refused"]} and site.asked == []


def test_viewers_cannot_verify(bob, verifying):
    api = APIClient()
    api.force_authenticate(bob)
    assert (
        api.post("/api/v1/domain-ownership/", {"name": ROOT, "method": "dns"}, format="json").status_code
        == 403
    )
    assert api.get("/api/v1/domain-ownership/", {"name": ROOT}).status_code == 200


def test_the_alibaba_api_gives_the_content_and_verifies_with_the_vendors_codes(
    client, alice, dns, site, verifying
):
    api = SignedClient(client, make_key(alice))
    token = verification_token(alice.membership.account)
    content = api.call("DescribeVerifyContent", {"DomainName": f"www.{ROOT}"})
    assert (content.status, content.body["Content"]) == (200, token)

    missing = api.call("VerifyDomainOwner", {"DomainName": f"www.{ROOT}", "VerifyType": "fileCheck"})
    assert (missing.status, missing.code) == (400, "InvalidFile")
    site.files["/verification.html"] = (200, "verify_not_mine")
    wrong = api.call("VerifyDomainOwner", {"DomainName": f"www.{ROOT}", "VerifyType": "fileCheck"})
    assert (wrong.status, wrong.code) == (400, "VerifyError")
    failed = api.call("VerifyDomainOwner", {"DomainName": f"www.{ROOT}", "VerifyType": "dnsCheck"})
    assert (failed.status, failed.code) == (400, "DomainOwnerVerifyFail")
    assert f"No TXT record verification.{ROOT}" in failed.body["Message"]
    bad = api.call("VerifyDomainOwner", {"DomainName": ROOT, "VerifyType": "emailCheck"})
    assert (bad.status, bad.code) == (400, "InvalidParameter")

    dns.set_txt({f"verification.{ROOT}": [token]})
    dcdn = SignedClient(client, api.key, version="2018-01-15")
    verified = dcdn.call("VerifyDcdnDomainOwner", {"DomainName": f"www.{ROOT}", "VerifyType": "dnsCheck"})
    assert (verified.status, verified.body["Content"]) == (200, token)
    assert VerifiedRoot.objects.get(root=ROOT).account == alice.membership.account
