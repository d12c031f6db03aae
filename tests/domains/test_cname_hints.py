"""The Domain Names list's "CNAME not yet pointed" hint, looked up through the configured resolver: a real
DNS server (dnsmasq) answers; the list page itself never waits for DNS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.dnsmasq import DnsServer
from tests.factories import make_domain

pytestmark = pytest.mark.django_db

HINTS = reverse("domains:cname_hints", kwargs={"product": "cdn"})


@pytest.fixture
def dns(settings) -> Iterator[DnsServer]:
    server = DnsServer().start()
    settings.VERIFY_DNS_RESOLVER = [server.address]
    cache.clear()
    yield server
    server.remove()
    cache.clear()


@pytest.fixture
def pointed_and_not(alpha):
    return (
        make_domain(account=alpha, name="pointed.alpha.example"),
        make_domain(account=alpha, name="waiting.alpha.example"),
    )


def test_a_domain_whose_dns_does_not_point_at_its_cname_gets_the_hint(client, alice, dns, pointed_and_not):
    pointed, waiting = pointed_and_not
    dns.set_cnames({pointed.name: pointed.cname})
    client.force_login(alice)
    body = client.get(HINTS, {"id": [pointed.pk, waiting.pk]}).content.decode()
    assert body.count('hx-swap-oob="true"') == 2
    waiting_part = body[body.index(f'id="cname-hint-{waiting.pk}"') :]
    pointed_at = body.index(f'id="cname-hint-{pointed.pk}"')
    pointed_part = body[pointed_at : body.index(f'id="cname-hint-{waiting.pk}"')]
    assert "CNAME not yet pointed" in waiting_part and "waiting.alpha.example" in waiting_part
    assert "CNAME not yet pointed" not in pointed_part


def test_a_cname_pointing_elsewhere_gets_the_hint(client, alice, dns, pointed_and_not):
    pointed, _waiting = pointed_and_not
    dns.set_cnames({pointed.name: "somewhere-else.test"})
    client.force_login(alice)
    assert "CNAME not yet pointed" in client.get(HINTS, {"id": [pointed.pk]}).content.decode()


def test_answers_are_kept_for_a_while(client, alice, dns, pointed_and_not):
    pointed, _waiting = pointed_and_not
    dns.set_cnames({pointed.name: pointed.cname})
    client.force_login(alice)
    assert "CNAME not yet pointed" not in client.get(HINTS, {"id": [pointed.pk]}).content.decode()
    dns.set_cnames({})  # the record is gone, but the answer is still cached
    assert "CNAME not yet pointed" not in client.get(HINTS, {"id": [pointed.pk]}).content.decode()
    cache.clear()
    assert "CNAME not yet pointed" in client.get(HINTS, {"id": [pointed.pk]}).content.decode()


def test_an_unreachable_resolver_shows_no_hint(client, alice, settings, pointed_and_not):
    settings.VERIFY_DNS_RESOLVER = ["127.0.0.1:9"]  # nothing answers there
    cache.clear()
    client.force_login(alice)
    body = client.get(HINTS, {"id": [pointed_and_not[0].pk]}).content.decode()
    assert 'id="cname-hint-' in body and "CNAME not yet pointed" not in body


def test_another_accounts_domains_are_left_out(client, charlie, dns, pointed_and_not):
    client.force_login(charlie)
    body = client.get(HINTS, {"id": [d.pk for d in pointed_and_not]}).content.decode()
    assert "cname-hint" not in body


def test_the_list_page_asks_for_the_hints_of_its_rows_without_looking_up_dns(client, alice, pointed_and_not):
    client.force_login(alice)
    url = reverse("domains:list", kwargs={"product": "cdn"})
    with CaptureQueriesContext(connection) as few:
        body = client.get(url).content.decode()
    assert f"{HINTS}?id={pointed_and_not[0].pk}&amp;id={pointed_and_not[1].pk}" in body
    for index in range(30):
        make_domain(account=pointed_and_not[0].account, name=f"more{index}.alpha.example")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)  # the page's cost does not grow with the number of domains
