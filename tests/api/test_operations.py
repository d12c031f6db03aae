"""The account's operation log through the REST API, and its filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.audit import ChangeContext
from accounts.models import Source
from origin_fetch.services import origin_host_update
from tests import factories
from tests.api.helpers import codes

URL = "/api/v1/operations/"


@pytest.fixture
def entries(alpha, alice, bob, cdn_domain, dcdn_domain) -> None:
    """Three changes by alice (console, REST API) and one by the system, and one in another account."""
    origin_host_update(domain=cdn_domain, host="a.alpha.example", context=ChangeContext(alice))
    origin_host_update(domain=cdn_domain, host="b.alpha.example", context=ChangeContext(alice, Source.REST))
    origin_host_update(domain=dcdn_domain, host="c.alpha.example", context=ChangeContext(alice))
    origin_host_update(domain=dcdn_domain, host="d.alpha.example", context=ChangeContext.system())
    other = factories.make_domain(account=factories.make_account("third"), name="www.third.example")
    origin_host_update(domain=other, host="e.third.example", context=ChangeContext.system())


def hosts(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [entry["after"]["origin_host"] for entry in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["d.alpha.example", "c.alpha.example", "b.alpha.example", "a.alpha.example"]),
        ({"domain": "www.alpha.example"}, ["b.alpha.example", "a.alpha.example"]),
        ({"domain": "WWW.ALPHA.EXAMPLE"}, ["b.alpha.example", "a.alpha.example"]),
        ({"user": "alice"}, ["c.alpha.example", "b.alpha.example", "a.alpha.example"]),
        ({"user": "system"}, ["d.alpha.example"]),
        ({"source": "rest"}, ["b.alpha.example"]),
        (
            {"action": "origin_host.update", "domain": "dynamic.alpha.example"},
            ["d.alpha.example", "c.alpha.example"],
        ),
        ({"action": "domain.delete"}, []),
    ],
)
def test_the_log_of_the_account_newest_first_with_filters(owner, entries, query, expected) -> None:
    response = owner.get(URL, query)
    assert response.status_code == 200
    assert hosts(response) == expected


def test_the_log_filters_by_time(owner, entries) -> None:
    now = timezone.now()
    assert hosts(owner.get(URL, {"since": (now + timedelta(minutes=1)).isoformat()})) == []
    assert len(hosts(owner.get(URL, {"since": (now - timedelta(minutes=1)).isoformat()}))) == 4
    assert len(hosts(owner.get(URL, {"until": (now + timedelta(minutes=1)).isoformat()}))) == 4
    assert hosts(owner.get(URL, {"until": (now - timedelta(minutes=1)).isoformat()})) == []


def test_an_entry_says_who_when_from_where_and_what_changed(owner, entries) -> None:
    entry = owner.get(URL, {"source": "rest"}).json()["results"][0]
    assert entry["domain"] == "www.alpha.example"
    assert (entry["actor"], entry["source"], entry["action"]) == ("alice", "rest", "origin_host.update")
    assert (entry["before"], entry["after"]) == (
        {"origin_host": "a.alpha.example"},
        {"origin_host": "b.alpha.example"},
    )
    assert entry["revision"] == 2
    assert owner.get(f"{URL}{entry['id']}/").json() == entry


def test_an_invalid_time_is_400_naming_the_filter(owner, entries) -> None:
    response = owner.get(URL, {"since": "yesterday"})
    assert response.status_code == 400
    assert codes(response) == {"since": ["invalid"]}
