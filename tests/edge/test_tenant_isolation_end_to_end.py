"""Two accounts on one real edge (issue 10, Done when 1): one account's origin name stops resolving, and the
other account is never the worse for it, nor learns anything of it.

The console (PostgreSQL, the Celery worker and its reconciler over Redis) delivers to an edge agent that owns
a real nginx and resolves origin names at request time through a dnsmasq the test controls. Account A's
origin is a host name; account B's an IP address. A's name stops resolving: B's change still applies and is
served, also after the agent restarts; A's change fails on that edge with A's own reason, which A reads on
its page, through REST and through the Alibaba-compatible API, and nothing of A appears in anything B reads.
Then A's name resolves again, and A is served, and shown online, without anyone acting.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.audit import ChangeContext
from accounts.models import Role
from alibaba_api import credentials
from domains.models import Domain, DomainStatus, OriginType
from domains.origin_services import OriginInput
from domains.services import domain_create
from edge.models import DeploymentStatus, NodeDomainState
from origin_fetch.services import origin_host_update, origin_protocol_update
from tests import factories
from tests.alibaba_api.conftest import SignedClient, make_key
from tests.conftest import require, require_postgresql_and_redis
from tests.edge_agent.nginx_support import Dns, NginxEdge, PlainOrigin, answer, nginx_program
from tests.processes import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

KEY = "tenants-edge-key"
FLAKY = "flaky.acme.test"
A_DOMAIN, B_DOMAIN = "shop.acme.test", "www.bravo.test"
# Whatever of account A that account B must never read.
OF_A = (A_DOMAIN, FLAKY, "does not resolve", "acme", "anneliese")


@pytest.fixture
def nginx_bin() -> str:
    program = nginx_program()
    require(program is not None, "nginx is not installed (apt-get install nginx)")
    require(shutil.which("dnsmasq") or Path("/usr/sbin/dnsmasq").exists(), "apt-get install dnsmasq-base")
    assert program is not None
    return program


@pytest.fixture
def dns() -> Iterator[Dns]:
    # Not under pytest's folders (readable by their owner only): dnsmasq reads as an unprivileged user.
    folder = Path(tempfile.mkdtemp(prefix="tenants-dns-"))
    server = Dns(folder)
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def origin() -> Iterator[PlainOrigin]:
    server = PlainOrigin("127.0.0.1").start()
    yield server
    server.stop()


@pytest.fixture
def edge(nginx_bin: str, dns: Dns, tmp_path: Path, celery_worker) -> Iterator[NginxEdge]:  # type: ignore[no-untyped-def]
    require_postgresql_and_redis()
    node = NginxEdge(
        "tenants-edge",
        tmp_path / "edge",
        KEY,
        nginx_bin=nginx_bin,
        extra=["--resolver", f"127.0.0.1:{dns.port}", "--resolver-valid", "1"],
    )
    try:
        node.start()
        factories.make_node(node.name, node.url, key=KEY)
        yield node
    finally:
        node.stop()
        node.kill_nginx()


def add_domain(user, name: str, origin: OriginInput) -> Domain:  # type: ignore[no-untyped-def]
    """A domain of the user's account, fetching each origin on its own port (the protocol policy off)."""
    context = ChangeContext(user=user)
    factories.hold_root(user.membership.account, name)
    domain = domain_create(
        account=user.membership.account,
        name=name,
        product="cdn",
        business_type="web",
        coverage="global",
        origins=[origin],
        context=context,
    )
    origin_protocol_update(
        domain=domain, enabled=False, policy="http", http_port=80, https_port=443, context=context
    )
    return domain


def latest(domain: Domain) -> Domain:
    return Domain.objects.get(pk=domain.pk)


def served(edge: NginxEdge, domain: Domain) -> tuple[int, str | None, str | None]:
    """Once the edge holds the domain's latest revision: status, revision served, Host the origin received."""
    number = latest(domain).config_revision
    wait_for(
        lambda: (edge.held(domain.name) or {}).get("revision") == number,
        timeout=30,
        what=f"the edge to hold revision {number} of {domain.name}",
    )
    status, revision, body = answer(edge.get(domain.name))
    return status, revision, body["host"] if body else None


def failure_of(domain: Domain) -> NodeDomainState | None:
    """The failed delivery of the domain's latest revision, if it failed."""
    number = latest(domain).config_revision
    return NodeDomainState.objects.filter(
        domain=domain, number=number, applied_number__lt=number, status=DeploymentStatus.FAILED
    ).first()


def readings(user, domain: Domain) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Everything the user reads about their account and `domain`: pages, REST, Alibaba-compatible API."""
    pages = Client()
    pages.force_login(user)
    on = {"product": "cdn", "name": domain.name}
    urls = [
        reverse("domains:list", kwargs={"product": "cdn"}),
        *(reverse(f"domains:{name}", kwargs=on) for name in ("basic", "status", "operations")),
        *(reverse(f"origin_fetch:{name}", kwargs=on) for name in ("tab", "history")),
        reverse("operation_log"),
        reverse("team"),
    ]
    read = {url: pages.get(url) for url in urls}
    rest = APIClient()
    rest.credentials(HTTP_AUTHORIZATION=f"Token {factories.make_token(user)}")
    base = f"/api/v1/domains/{domain.name}/"
    for url in [
        "/api/v1/domains/",
        base,
        base + "deployments/",
        base + "origins/",
        base + "origin-fetch/",
        base + "revisions/",
        "/api/v1/operations/",
    ]:
        read[url] = rest.get(url)
    texts = {url: response.content.decode() for url, response in read.items()}
    assert {url: response.status_code for url, response in read.items()} == dict.fromkeys(read, 200)
    api = SignedClient(Client(), make_key(user))
    for action, params in [
        ("DescribeUserDomains", {}),
        ("DescribeCdnDomainDetail", {"DomainName": domain.name}),
        ("DescribeCdnDomainConfigs", {"DomainName": domain.name}),
        ("DescribeCdnDomainConfigs", {"DomainName": domain.name, "FunctionNames": "set_req_host_header"}),
    ]:
        answered = api.call(action, params)
        assert answered.status == 200, answered.body
        texts[f"{action}:{params.get('FunctionNames', '')}"] = str(answered.body)
    return texts


def test_one_accounts_origin_name_that_stops_resolving_never_touches_another_account(
    edge: NginxEdge, dns: Dns, origin: PlainOrigin
) -> None:
    credentials.forget()
    ann = factories.make_user("anneliese", account=factories.make_account("acme"), role=Role.OWNER)
    ben = factories.make_user("benedikt", account=factories.make_account("bravo"), role=Role.OWNER)
    dns.set({FLAKY: "127.0.0.1"})
    a = add_domain(ann, A_DOMAIN, OriginInput(OriginType.DOMAIN, FLAKY, origin.port))
    b = add_domain(ben, B_DOMAIN, OriginInput(OriginType.IPADDR, "127.0.0.1", origin.port))
    assert served(edge, a) == (200, str(latest(a).config_revision), A_DOMAIN)
    assert served(edge, b) == (200, str(latest(b).config_revision), B_DOMAIN)

    # A's name stops resolving: A's requests fail, and A's next change fails on the edge with A's own reason.
    dns.set({})
    wait_for(lambda: edge.get(A_DOMAIN).status_code == 502, timeout=15, what="A's name to stop resolving")
    origin_host_update(domain=a, host="origin.acme.test", context=ChangeContext(user=ann))
    failed = wait_for(lambda: failure_of(a), timeout=40, what="A's change to fail on the edge")
    assert failed.last_error.startswith(f"origins[0].address: {FLAKY} does not resolve"), failed.last_error
    wait_for(lambda: latest(a).status == DomainStatus.CONFIGURE_FAILED, what="A's domain to show the failure")

    # B's change applies and is served, and still is after the agent restarts.
    origin_host_update(domain=b, host="origin.bravo.test", context=ChangeContext(user=ben))
    assert served(edge, b) == (200, str(latest(b).config_revision), "origin.bravo.test")
    wait_for(lambda: latest(b).status == DomainStatus.ONLINE, what="B online")
    edge.stop()
    edge.start()
    assert answer(edge.get(B_DOMAIN))[:2] == (200, str(latest(b).config_revision))
    assert edge.get(A_DOMAIN).status_code == 502
    # While the agent was down, the reconciler's retries of A's change met a node that did not answer; once
    # it is back, the next retry records A's own reason again.
    wait_for(
        lambda: "does not resolve" in getattr(failure_of(a), "last_error", ""),
        timeout=40,
        what="A's own reason after the restart",
    )

    # A reads its own reason: on its page, through REST, and as the Status of its configs in the vendor's API.
    of_a = readings(ann, a)
    status_page = of_a[reverse("domains:status", kwargs={"product": "cdn", "name": A_DOMAIN})]
    assert "Configuration failed" in status_page and f"{FLAKY} does not resolve" in status_page
    assert f"{FLAKY} does not resolve" in of_a[f"/api/v1/domains/{A_DOMAIN}/deployments/"]
    assert "'Status': 'failed'" in of_a["DescribeCdnDomainConfigs:set_req_host_header"]

    # Nothing of A in anything B reads; A's domain is not found for B.
    of_b = readings(ben, b)
    assert B_DOMAIN in of_b[reverse("domains:list", kwargs={"product": "cdn"})]
    assert B_DOMAIN in of_b["/api/v1/operations/"] and B_DOMAIN in of_b["DescribeUserDomains:"]
    for where, text in of_b.items():
        for secret in OF_A:
            assert secret not in text, f"{secret!r} in what B reads at {where}"
    pages = Client()
    pages.force_login(ben)
    assert (
        pages.get(reverse("domains:status", kwargs={"product": "cdn", "name": A_DOMAIN})).status_code == 404
    )
    rest = APIClient()
    rest.force_authenticate(ben)
    assert rest.get(f"/api/v1/domains/{A_DOMAIN}/deployments/").status_code == 404
    not_found = SignedClient(Client(), make_key(ben)).call(
        "DescribeCdnDomainConfigs", {"DomainName": A_DOMAIN}
    )
    assert (not_found.status, not_found.code) == (404, "InvalidDomain.NotFound")

    # A's name resolves again: A is served, and shown online, without anyone acting.
    dns.set({FLAKY: "127.0.0.1"})
    wait_for(lambda: edge.get(A_DOMAIN).status_code == 200, timeout=15, what="A served again")
    assert answer(edge.get(A_DOMAIN))[:2] == (200, str(latest(a).config_revision))
    wait_for(lambda: latest(a).status == DomainStatus.ONLINE, timeout=30, what="A online again, by itself")
