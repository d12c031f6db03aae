"""The Operation Log page and a domain's Operation Log tab: who, when, source, domain, before → after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.audit import ChangeContext
from accounts.models import OperationLog, Source
from domains.models import OriginPriority
from domains.origin_services import OriginInput, origin_update
from domains.services import domain_disable
from origin_fetch.services import origin_host_update, origin_sni_update
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/operations/"


@pytest.fixture
def entries(alpha, alice, cdn_domain, dcdn_domain):
    """Alice changes the CDN domain from the console and the DCDN one by REST; the system changes one too."""
    origin_sni_update(
        domain=cdn_domain,
        enabled=True,
        name="origin-a.example.net",
        context=ChangeContext(alice, remote_addr="198.51.100.7"),
    )
    origin_host_update(
        domain=dcdn_domain, host="api.alpha.example", context=ChangeContext(alice, Source.REST)
    )
    origin_host_update(domain=cdn_domain, host="b.alpha.example", context=ChangeContext.system())
    other = factories.make_domain(account=factories.make_account("third"), name="www.third.example")
    origin_host_update(domain=other, host="secret.third.example", context=ChangeContext.system())


def rows(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The text of each row of the log table."""
    from html.parser import HTMLParser

    class Rows(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[str] = []
            self.inside = False

        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            if tag == "tr" and dict(attrs).get("id", "").startswith("operation-"):
                self.inside = True
                self.rows.append("")

        def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
            if tag == "tr":
                self.inside = False

        def handle_data(self, data):  # type: ignore[no-untyped-def]
            if self.inside:
                self.rows[-1] += " " + data.strip()

    parser = Rows()
    parser.feed(response.content.decode())
    return [" ".join(row.split()) for row in parser.rows]


def test_the_owner_sees_every_change_of_the_account_newest_first(client, alice, entries):
    client.force_login(alice)
    response = client.get(URL)
    assert response.status_code == 200
    found = rows(response)
    assert len(found) == 3
    assert found[0].startswith(timezone.localtime().strftime("%Y-%m-%d"))
    assert "system" in found[0] and "Modify origin host" in found[0]
    assert "alice" in found[1] and "REST API" in found[1] and "dynamic.alpha.example" in found[1]
    assert "alice" in found[2] and "198.51.100.7" in found[2] and "Console" in found[2]
    assert "www.alpha.example" in found[2] and "Modify Origin SNI" in found[2]


def test_a_change_reads_as_before_and_after_not_as_json(client, alice, entries):
    client.force_login(alice)
    sni_row = rows(client.get(URL))[2]
    assert "Origin SNI : off → on" in sni_row
    assert "SNI : — → origin-a.example.net" in sni_row
    assert "{" not in sni_row and '"' not in sni_row and "sni_name" not in sni_row


def test_a_change_names_fields_and_choices_in_the_readers_language(client, alice, cdn_domain):
    context = ChangeContext(alice)
    domain_disable(domain=cdn_domain, context=context)
    origin = cdn_domain.origins.get()
    origin_update(
        origin=origin,
        changes=OriginInput(origin.type, origin.address, 8443, OriginPriority.BACKUP, origin.weight),
        context=context,
    )
    client.force_login(alice)
    origin_row, status_row = rows(client.get(URL))[:2]
    assert f"Modify origin {origin.address}" in origin_row
    assert f"Port : {origin.port} → 8443" in origin_row
    assert "Priority : Primary → Backup" in origin_row
    assert "Status : Enabled → Disabled" in status_row

    client.cookies["django_language"] = "zh-hans"
    origin_row, status_row = rows(client.get(URL, headers={"accept-language": "zh-hans"}))[:2]
    assert f"端口 : {origin.port} → 8443" in origin_row
    assert "优先级 : 主 → 备" in origin_row
    assert "状态 : 正常运行 → 已停用" in status_row


def test_a_key_no_model_names_is_shown_as_stored(client, alice, cdn_domain):
    OperationLog.objects.create(
        account=cdn_domain.account,
        domain=cdn_domain,
        domain_name=cdn_domain.name,
        actor_name="alice",
        action="origin_host.update",
        before={"legacy_key": "a"},
        after={"legacy_key": "b"},
    )
    client.force_login(alice)
    assert "legacy_key : a → b" in rows(client.get(URL))[0]


def test_another_accounts_entries_never_show(client, alice, charlie, entries):
    client.force_login(alice)
    assert "third" not in client.get(URL).content.decode()
    client.force_login(charlie)
    assert rows(client.get(URL)) == []


def test_a_viewer_reads_the_log(client, bob, entries):
    client.force_login(bob)
    assert len(rows(client.get(URL))) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"domain": "www.alpha.example"}, 2),
        ({"domain": "WWW.alpha.example."}, 2),
        ({"domain": "dynamic.alpha.example"}, 1),
        ({"user": "alice"}, 2),
        ({"user": "system"}, 1),
        ({"user": "alice", "domain": "www.alpha.example"}, 1),
        ({"source": "rest"}, 1),
        ({"domain": "www.third.example"}, 0),
    ],
)
def test_it_filters_by_domain_user_and_source(client, alice, entries, query, expected):
    client.force_login(alice)
    assert len(rows(client.get(URL, query))) == expected


def test_it_filters_by_time_to_the_minute(client, alice, entries):
    client.force_login(alice)
    now = timezone.localtime()
    minute = "%Y-%m-%dT%H:%M"
    assert len(rows(client.get(URL, {"since": now.strftime(minute)}))) == 3
    assert len(rows(client.get(URL, {"until": now.strftime(minute)}))) == 3
    assert rows(client.get(URL, {"since": (now + timedelta(minutes=2)).strftime(minute)})) == []
    assert rows(client.get(URL, {"until": (now - timedelta(minutes=2)).strftime(minute)})) == []


def test_an_invalid_time_says_so_and_filters_nothing(client, alice, entries):
    client.force_login(alice)
    response = client.get(URL, {"since": "yesterday"})
    assert response.status_code == 200
    assert "Enter a valid date/time." in response.content.decode()
    assert len(rows(response)) == 3


def test_the_filter_form_answers_htmx_with_the_table_only(client, alice, entries):
    client.force_login(alice)
    response = client.get(URL, {"user": "system"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="operation-table")
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="operation-table">')
    assert "<nav" not in content.split('<div id="operation-table">')[0]
    assert len(rows(response)) == 1


def test_it_is_paginated(client, alice, cdn_domain):
    for index in range(25):
        origin_host_update(domain=cdn_domain, host=f"h{index}.alpha.example", context=ChangeContext(alice))
    client.force_login(alice)
    first = client.get(URL)
    assert len(rows(first)) == 20 and "h24.alpha.example" in rows(first)[0]
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(URL, {"page": 2, "user": "alice"})
    assert len(rows(second)) == 5 and "h4.alpha.example" in rows(second)[0]
    assert "user=alice&amp;page=1" in second.content.decode()


def test_the_page_offers_no_way_to_change_or_delete_entries(client, alice, entries):
    client.force_login(alice)
    content = client.get(URL).content.decode()
    table = content[content.index('id="operation-table"') :]
    assert "<form" not in table and 'method="post"' not in table
    assert client.post(URL).status_code == 405
    assert OperationLog.objects.count() == 4


def test_anonymous_users_are_sent_to_log_on(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# The domain's Operation Log tab


def tab(domain) -> str:  # type: ignore[no-untyped-def]
    return reverse("domains:operations", kwargs={"product": domain.product, "name": domain.name})


def test_the_domain_tab_shows_only_that_domains_changes(client, alice, cdn_domain, entries):
    client.force_login(alice)
    response = client.get(tab(cdn_domain))
    assert response.status_code == 200
    found = rows(response)
    assert len(found) == 2
    assert "Modify origin host" in found[0] and "Modify Origin SNI" in found[1]
    content = response.content.decode()
    assert 'aria-current="page">Operation Log</a>' in content


def test_the_domain_tab_is_in_the_panes_navigation(client, alice, cdn_domain):
    client.force_login(alice)
    basic = client.get(reverse("domains:basic", kwargs={"product": "cdn", "name": cdn_domain.name}))
    assert f'href="{tab(cdn_domain)}"' in basic.content.decode()


def test_the_domain_tab_is_404_for_another_account(client, charlie, cdn_domain, entries):
    client.force_login(charlie)
    assert client.get(tab(cdn_domain)).status_code == 404


def test_the_domain_tab_is_readable_by_a_viewer(client, bob, cdn_domain, entries):
    client.force_login(bob)
    assert len(rows(client.get(tab(cdn_domain)))) == 2


def test_the_left_navigation_links_the_account_pages_after_the_domain_names(client, alice):
    client.force_login(alice)
    content = client.get(URL).content.decode()
    nav = content[content.index('class="sidenav"') : content.index("</nav>")]
    links = [nav.index(label) for label in ("Domain Names", "Operation Log", "AccessKey", "Team")]
    assert links == sorted(links)
    assert nav.count("Domain Names") == 2
    assert 'aria-current="page">Operation Log' in nav
