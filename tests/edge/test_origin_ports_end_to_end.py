"""Each origin's port, as the vendor documents it, from the console's page to what a real nginx edge fetches.

A domain has two origins on different ports: a primary on a port of its own (a plain-HTTP origin listens
there) and a backup on 443 (an HTTPS origin choosing its certificate by SNI, trustme's). With the origin
protocol policy on (HTTPS, port 443), the edge fetches the primary on 443 over HTTPS, its own port ignored.
Turned off on the Back-to-origin tab, it fetches the primary on its own port over HTTP, and the backup on
443 over HTTPS, with Origin SNI and verification. The change goes through the page, PostgreSQL, the Celery
worker over Redis and the edge agent into its nginx.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Iterator

import pytest
from django.urls import reverse

from accounts.audit import ChangeContext
from accounts.models import Role
from domains.models import Domain, OriginFetchSettings, OriginType
from domains.origin_services import OriginInput
from domains.services import domain_create
from origin_fetch.services import origin_sni_update, origin_verification_update
from tests import factories
from tests.conftest import require, require_postgresql_and_redis
from tests.edge_agent.nginx_support import (
    NAME_B,
    NginxEdge,
    Pki,
    PlainOrigin,
    SniOrigin,
    answer,
    nginx_edges,
    nginx_program,
)
from tests.processes import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

KEY = "origin-ports-key"
# Loopback addresses of this module's own (any 127.x.y.z reaches the loopback interface), so that the HTTPS
# origin can listen on 443 without meeting another test run's.
NET = f"127.{random.randint(64, 250)}.{random.randint(0, 255)}"
PRIMARY, BACKUP = f"{NET}.2", f"{NET}.1"


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
def https_origin(pki: Pki) -> Iterator[SniOrigin]:
    """Certificates A and B by SNI on port 443 of both addresses."""
    server = SniOrigin(pki, addresses=(PRIMARY, BACKUP))
    server.port = 443
    try:
        server.start()
    except OSError as exc:
        pytest.fail(f"the test origin cannot listen on port 443 of {NET}.x: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def edge(nginx_bin: str, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxEdge]:
    folders = iter([tmp_path_factory.mktemp("ports-edge")])
    with nginx_edges(["ports-edge"], folders, key=KEY, nginx_bin=nginx_bin, ca_file=pki.ca_file) as started:
        yield started[0]


@pytest.fixture
def plain_origin() -> Iterator[PlainOrigin]:
    server = PlainOrigin(PRIMARY).start()
    yield server
    server.stop()


@pytest.fixture
def node(edge: NginxEdge, https_origin: SniOrigin, celery_worker) -> NginxEdge:  # type: ignore[no-untyped-def]
    require_postgresql_and_redis()
    factories.make_node(edge.name, edge.url, key=KEY)
    return edge


def served(edge: NginxEdge, domain: Domain) -> tuple[int, dict[str, object] | None]:
    """Once the edge's agent holds the domain's latest revision: the status and the origin's answer."""
    domain.refresh_from_db()
    wait_for(
        lambda: (edge.held(domain.name) or {}).get("revision") == domain.config_revision,
        timeout=30,
        what=f"the edge to hold revision {domain.config_revision}",
    )
    status, revision, body = answer(edge.get(domain.name))
    assert revision == str(domain.config_revision)
    return status, body


def fetch_cells(page: str) -> list[str]:
    """What the Back-to-origin tab says, per origin, about the scheme and port the edge fetches with."""
    cells = re.findall(r'<td id="origin-\d+-fetch">(.*?)</td>', page, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", html.unescape(cell)).split()) for cell in cells]


def test_with_the_policy_on_its_port_wins_and_off_each_origin_fetches_on_its_own(
    node: NginxEdge, plain_origin: PlainOrigin, client
) -> None:
    user = factories.make_user("pia", account=factories.make_account("ports"), role=Role.OWNER)
    context = ChangeContext(user=user)
    factories.hold_root(user.membership.account, "ports.example.test")
    domain = domain_create(
        account=user.membership.account,
        name="ports.example.test",
        product="cdn",
        business_type="web",
        coverage="global",
        origins=[
            OriginInput(OriginType.IPADDR, PRIMARY, plain_origin.port, priority=20),
            OriginInput(OriginType.IPADDR, BACKUP, 443, priority=30),
        ],
        context=context,
    )
    origin_verification_update(domain=domain, enabled=True, context=context)
    origin_sni_update(domain=domain, enabled=True, name=NAME_B, context=context)
    client.force_login(user)
    tab = reverse("origin_fetch:tab", kwargs={"product": "cdn", "name": domain.name})

    # On (HTTPS, 443, as a domain with an origin on 443 starts): the primary on 443 over HTTPS, not its port.
    status, body = served(node, domain)
    assert (status, body and body.get("address"), body and body.get("cert")) == (200, PRIMARY, NAME_B)
    assert fetch_cells(client.get(tab).content.decode()) == [
        "HTTPS 443 The protocol policy's HTTPS port",
        "HTTPS 443 The protocol policy's HTTPS port",
    ]

    # Off, on the protocol dialog (its switch left off): each origin's own port.
    dialog = reverse(
        "origin_fetch:dialog", kwargs={"product": "cdn", "name": domain.name, "section": "protocol"}
    )
    version = OriginFetchSettings.objects.get(pk=domain.pk).version
    response = client.post(
        dialog, {"policy": "https", "http_port": 80, "https_port": 443, "version": version}
    )
    assert response.status_code == 204, response.content.decode()
    status, body = served(node, domain)
    assert (status, body) == (
        200,
        {"plain": True, "address": PRIMARY, "port": plain_origin.port, "host": domain.name},
    ), "the primary over HTTP on its own port"
    page = client.get(tab).content.decode()
    assert fetch_cells(page) == [
        f"HTTP {plain_origin.port} The origin's own port",
        "HTTPS 443 The origin's own port",
    ]
    assert "not sent over HTTP" in page

    # The primary gone, the backup on 443 is fetched over HTTPS with Origin SNI, its certificate verified.
    plain_origin.stop()
    status, _revision, body = answer(node.get(domain.name))
    assert (status, body and body.get("address"), body and body.get("cert")) == (200, BACKUP, NAME_B)
