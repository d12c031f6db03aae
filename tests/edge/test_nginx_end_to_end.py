"""From the page's service to what a real nginx edge sends to the origin.

Origin SNI is changed with the services the console's dialogs call; the change is committed to PostgreSQL,
delivered by the real Celery worker over Redis to two edge agents, and each agent renders and reloads its own
nginx. Requests through each edge with the domain's Host then prove which certificate the origin served
(chosen by the SNI nginx sent) and which config revision the edge serves.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from django.urls import reverse

from accounts.audit import ChangeContext
from accounts.models import Role
from domains.models import Domain, DomainStatus, OriginType
from domains.origin_services import OriginInput
from domains.services import domain_create
from edge.models import DeploymentStatus, NodeDomainState
from origin_fetch.origin_sni_host import origin_sni_host_update
from origin_fetch.services import origin_protocol_update, origin_sni_update, origin_verification_update
from tests import factories
from tests.conftest import require, require_postgresql_and_redis
from tests.edge_agent.nginx_support import (
    NAME_A,
    NAME_B,
    NginxEdge,
    Pki,
    SniOrigin,
    nginx_edges,
    nginx_program,
)
from tests.processes import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

KEY = "nginx-end-to-end-key"
# Origin SNI needs back-to-origin HTTPS on port 443, so the origin listens on 443 of a loopback address of
# its own (any 127.x.y.z reaches the loopback interface), which no other test run is likely to hold.
ORIGIN_ADDRESSES = (f"127.{random.randint(64, 250)}.{random.randint(0, 255)}.1",)


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
    server = SniOrigin(pki, addresses=ORIGIN_ADDRESSES)
    server.port = 443
    try:
        server.start()
    except OSError as exc:
        pytest.fail(f"the test origin cannot listen on {ORIGIN_ADDRESSES[0]}:443: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def edges(nginx_bin: str, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[NginxEdge]]:
    """Two edge agents, each owning an nginx with one worker (so requests share that worker's TLS cache)."""
    names = ["nginx-edge-1", "nginx-edge-2"]
    folders = (tmp_path_factory.mktemp(name) for name in names)
    with nginx_edges(names, folders, key=KEY, nginx_bin=nginx_bin, ca_file=pki.ca_file) as started:
        yield started


@pytest.fixture
def fleet(edges: list[NginxEdge], upstream: SniOrigin, celery_worker) -> list[NginxEdge]:
    """The two nginx edges registered as the console's enabled edge nodes, with the real worker running."""
    require_postgresql_and_redis()
    for edge in edges:
        factories.make_node(edge.name, edge.url, key=KEY)
    return edges


@pytest.fixture
def owner():
    account = factories.make_account("nginx")
    factories.hold_root(account, "nginx.test")  # the account proved it owns the domains' root
    return factories.make_user("olga", account=account, role=Role.OWNER)


def context(user) -> ChangeContext:
    return ChangeContext(user=user)


def new_domain(user, name: str) -> Domain:
    """An accelerated domain fetching over HTTPS (443) from the test origin, verifying its certificate."""
    domain = domain_create(
        account=user.membership.account,
        name=name,
        product="cdn",
        business_type="web",
        coverage="global",
        origins=[OriginInput(OriginType.IPADDR, ORIGIN_ADDRESSES[0], 443)],
        context=context(user),
    )
    origin_protocol_update(domain=domain, policy="https", http_port=80, https_port=443, context=context(user))
    origin_verification_update(domain=domain, enabled=True, common_names=[], context=context(user))
    return domain


def through(edge: NginxEdge, host: str) -> tuple[int, str | None, str | None]:
    """What a client of `edge` gets for `host`: status, X-Config-Revision, certificate the origin served."""
    response = edge.get(host)
    cert = None
    if response.headers.get("content-type") == "application/json":
        body = response.json()
        assert body["host"] == host, "the origin Host header is the accelerated domain"
        cert = body["cert"]
    return response.status_code, response.headers.get("X-Config-Revision"), cert


Served = dict[str, tuple[int, str | None, str | None]]


def serving(edges: list[NginxEdge], host: str, revision: int) -> Served:
    """Wait until every edge's agent holds `revision` of `host`; return what each edge then serves.

    An agent answers a push only once nginx serves the new config and its previous workers take no new
    connections; before that, one request may see the new revision and the next still the old one.
    """
    for edge in edges:
        wait_for(
            lambda e=edge: (e.held(host) or {}).get("revision") == revision,
            timeout=30,
            what=f"{edge.name} to hold revision {revision} of {host}",
        )
    return {edge.name: through(edge, host) for edge in edges}


def everywhere(edges: list[NginxEdge], status: int, revision: int, cert: str | None) -> Served:
    return {edge.name: (status, str(revision), cert) for edge in edges}


def set_sni(domain: Domain, user, name: str, *, enabled: bool = True) -> int:
    """Origin SNI through the service the dialog uses; the new revision's number."""
    change = origin_sni_update(domain=domain, enabled=enabled, name=name, context=context(user))
    return change.revision.number


def online(domain: Domain) -> bool:
    return Domain.objects.values_list("status", flat=True).get(pk=domain.pk) == DomainStatus.ONLINE


def test_the_sni_saved_in_the_console_is_the_one_each_edge_sends_to_the_origin(fleet, owner):
    domain = new_domain(owner, "shop.nginx.test")

    revision = set_sni(domain, owner, NAME_B)
    assert serving(fleet, domain.name, revision) == everywhere(fleet, 200, revision, NAME_B)
    wait_for(lambda: online(domain), what="the domain online once both edges applied")

    revision = set_sni(domain, owner, NAME_A)
    assert serving(fleet, domain.name, revision) == everywhere(fleet, 200, revision, NAME_A)

    # Without SNI the origin presents its default certificate, which verification refuses for this name.
    revision = set_sni(domain, owner, "", enabled=False)
    assert serving(fleet, domain.name, revision) == everywhere(fleet, 502, revision, None)

    # A per-origin SNI beats the domain's Origin SNI.
    set_sni(domain, owner, NAME_A)
    change = origin_sni_host_update(origin=domain.origins.get(), sni_host=NAME_B, context=context(owner))
    revision = change.revision.number
    assert serving(fleet, domain.name, revision) == everywhere(fleet, 200, revision, NAME_B)
    wait_for(lambda: online(domain), what="the domain online again")


def test_domains_with_different_sni_through_one_nginx_worker_each_get_their_own_origin(fleet, owner):
    expected: dict[str, tuple[int, str | None]] = {}

    b = new_domain(owner, "b.several.nginx.test")
    set_sni(b, owner, NAME_B)
    expected[b.name] = (200, NAME_B)

    a = new_domain(owner, "a.several.nginx.test")
    set_sni(a, owner, NAME_A)
    expected[a.name] = (200, NAME_A)

    # No SNI and verification on: must fail even right after the worker held a good session with SNI B.
    none = new_domain(owner, "none.several.nginx.test")
    expected[none.name] = (502, None)

    # The domain default says A, the origin's own SNI says B.
    per_origin = new_domain(owner, "per-origin.several.nginx.test")
    set_sni(per_origin, owner, NAME_A)
    origin_sni_host_update(origin=per_origin.origins.get(), sni_host=NAME_B, context=context(owner))
    expected[per_origin.name] = (200, NAME_B)

    domains = [b, a, none, per_origin]
    for domain in domains:
        domain.refresh_from_db()
        serving(fleet, domain.name, domain.config_revision)

    hosts = list(expected)
    shuffled = random.Random(3)
    for edge in fleet:
        for _ in range(4):
            shuffled.shuffle(hosts)
            for host in hosts:
                status, _revision, cert = through(edge, host)
                assert (status, cert) == expected[host], (edge.name, host)


def test_a_domain_an_edge_cannot_serve_fails_alone_with_its_own_reason_while_it_serves_the_previous(
    fleet, owner, client
):
    broken, healthy = fleet
    domain = new_domain(owner, "refused.nginx.test")
    neighbour = new_domain(owner, "neighbour.nginx.test")
    before = set_sni(domain, owner, NAME_B)
    serving(fleet, domain.name, before)
    wait_for(lambda: online(domain), what="the first change applied everywhere")

    # The broken edge restarts without its CA bundle: it can no longer verify origins.
    assert broken.ca_bundle is not None
    hidden = broken.ca_bundle.with_suffix(".away")
    broken.stop()
    broken.ca_bundle.rename(hidden)
    try:
        broken.start()
        after = set_sni(domain, owner, NAME_A)
        assert serving([healthy], domain.name, after) == {healthy.name: (200, str(after), NAME_A)}
        failed = wait_for(
            lambda: NodeDomainState.objects.filter(
                domain=domain,
                number=after,
                applied_number__lt=after,
                node__name=broken.name,
                status=DeploymentStatus.FAILED,
            ).first(),
            timeout=40,
            what="the node that cannot verify to be failed for this domain",
        )
        assert failed.last_error.startswith("verify_origin.enabled: "), failed.last_error
        for leak in (str(broken.ca_bundle), str(broken.state_dir), neighbour.name, "nginx"):
            assert leak not in failed.last_error, failed.last_error
        wait_for(
            lambda: Domain.objects.get(pk=domain.pk).status == DomainStatus.CONFIGURE_FAILED,
            what="the domain to show the failure",
        )

        client.force_login(owner)
        page = client.get(
            reverse("domains:status", kwargs={"product": "cdn", "name": domain.name})
        ).content.decode()
        assert "1 of 2 edge nodes" in page and "Configuration failed" in page, page
        row = page.split(f'data-node="{broken.name}"', 1)[1].split("</tr>", 1)[0]
        assert "failed" in row and "verify_origin.enabled" in row and str(broken.ca_bundle) not in row, row

        # That edge still holds the domain's previous revision (which it cannot verify either, so it does not
        # serve it until its CA bundle is back).
        assert broken.held(domain.name)["revision"] == before
    finally:
        broken.stop()
        hidden.rename(broken.ca_bundle)
        broken.start()

    # With its CA bundle back, the reconciler brings the node up to date by itself.
    assert serving(fleet, domain.name, after) == everywhere(fleet, 200, after, NAME_A)
    wait_for(lambda: online(domain), what="the domain online after the node recovered")
