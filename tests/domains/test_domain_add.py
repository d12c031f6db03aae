from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import OperationLog, Source
from domains.models import Domain, Origin
from edge.models import ConfigRevision
from tests import factories
from tests.factories import make_domain

pytestmark = pytest.mark.django_db


def add_url(product: str = "cdn") -> str:
    return reverse("domains:add", kwargs={"product": product})


def form_data(name: str = "new.alpha.example", origins=None, **fields) -> dict[str, object]:
    origins = origins if origins is not None else [("ipaddr", "203.0.113.10", 80, 20, 10)]
    data: dict[str, object] = {
        "name": name,
        "business_type": "web",
        "coverage": "domestic",
        "description": "",
        "origin_count": len(origins),
        **fields,
    }
    for index, (kind, address, port, priority, weight) in enumerate(origins):
        data |= {
            f"origin-{index}-type": kind,
            f"origin-{index}-address": address,
            f"origin-{index}-port": port,
            f"origin-{index}-priority": priority,
            f"origin-{index}-weight": weight,
        }
    return data


def error_of(body: str, field_id: str) -> str:
    """The error message shown next to the field with that id."""
    match = re.search(rf'<p class="field-error" id="{field_id}_error" role="alert">(.*?)</p>', body, re.S)
    assert match, f"no error next to {field_id}"
    return match.group(1)


@pytest.fixture
def charlie_holds_alpha_example(charlie):
    """Charlie's account, not alpha, proved it owns alpha.example (names under it are its to add)."""
    factories.hold_root(charlie.membership.account, "alpha.example")


class TestOwnership:
    def test_an_owner_gets_the_form(self, client, alice):
        client.force_login(alice)
        response = client.get(add_url())
        body = response.content.decode()
        assert response.status_code == 200
        for label in ["Domain name", "Business type", "Acceleration region", "Origin information"]:
            assert label in body
        assert "Image and small file" in body and "Dynamic and static acceleration" not in body

    def test_the_dcdn_form_offers_the_dcdn_business_type(self, client, alice):
        client.force_login(alice)
        body = client.get(add_url("dcdn")).content.decode()
        assert "Dynamic and static acceleration" in body and "Image and small file" not in body

    def test_a_viewer_gets_403_on_the_page_and_the_post(self, client, bob):
        client.force_login(bob)
        assert client.get(add_url()).status_code == 403
        assert client.post(add_url(), form_data()).status_code == 403
        assert not Domain.objects.filter(name="new.alpha.example").exists()

    @pytest.mark.usefixtures("charlie_holds_alpha_example")
    def test_another_account_adds_to_its_own_account_only(self, client, charlie, alpha):
        client.force_login(charlie)
        response = client.post(add_url(), form_data())
        assert response.status_code == 302
        domain = Domain.objects.get(name="new.alpha.example")
        assert domain.account == charlie.membership.account != alpha

    def test_a_stranger_cannot_reach_a_domain_it_did_not_add(self, client, charlie, cdn_domain):
        client.force_login(charlie)
        url = reverse("domains:basic", kwargs={"product": "cdn", "name": cdn_domain.name})
        assert client.get(url).status_code == 404

    def test_anonymous_users_are_sent_to_log_on(self, client):
        response = client.get(add_url())
        assert response.status_code == 302 and "/login/" in response["Location"]

    def test_a_post_without_the_csrf_token_is_refused(self, alice):
        client = Client(enforce_csrf_checks=True)
        client.force_login(alice)
        assert client.post(add_url(), form_data()).status_code == 403
        assert not Domain.objects.filter(name="new.alpha.example").exists()


def test_an_owner_adds_a_cdn_domain_with_two_origins(client, alice, alpha):
    client.force_login(alice)
    origins = [("ipaddr", "203.0.113.10", 443, 20, 60), ("domain", "Backup.Origin.Example", 80, 30, 40)]
    response = client.post(
        add_url(), form_data("New.Alpha.Example", origins, business_type="video", coverage="global")
    )

    domain = Domain.objects.get(name="new.alpha.example")
    assert response.status_code == 302
    assert response["Location"] == reverse("domains:basic", kwargs={"product": "cdn", "name": domain.name})
    assert (domain.account, domain.product, domain.business_type, domain.coverage) == (
        alpha,
        "cdn",
        "video",
        "global",
    )
    assert domain.cname == "new.alpha.example.w.cdnconsole.net"
    assert [(o.type, o.address, o.port, o.priority, o.weight) for o in domain.origins.all()] == [
        ("ipaddr", "203.0.113.10", 443, 20, 60),
        ("domain", "backup.origin.example", 80, 30, 40),
    ]
    entry = OperationLog.objects.get(domain=domain)
    assert (entry.action, entry.source, entry.actor) == ("domain.create", Source.CONSOLE, alice)
    assert ConfigRevision.objects.filter(domain=domain).count() == 1

    pane = client.get(response["Location"]).content.decode()
    assert "new.alpha.example" in pane and "new.alpha.example.w.cdnconsole.net" in pane


def test_an_owner_adds_a_dcdn_domain(client, alice):
    client.force_login(alice)
    response = client.post(add_url("dcdn"), form_data("api.alpha.example", business_type="dynamic"))
    assert response.status_code == 302
    domain = Domain.objects.get(name="api.alpha.example")
    assert (domain.product, domain.business_type) == ("dcdn", "dynamic")
    assert response["Location"] == reverse("domains:basic", kwargs={"product": "dcdn", "name": domain.name})


def test_a_wildcard_domain_can_be_added(client, alice):
    client.force_login(alice)
    response = client.post(add_url(), form_data("*.pics.alpha.example"))
    assert response.status_code == 302
    domain = Domain.objects.get(name="*.pics.alpha.example")
    assert domain.cname == "all.pics.alpha.example.w.cdnconsole.net"
    assert client.get(response["Location"]).status_code == 200


def saved() -> tuple[int, ...]:
    """What a refused submission must leave unchanged: domains, origins, log entries, config revisions."""
    models = (Domain, Origin, OperationLog, ConfigRevision)
    return tuple(model.objects.count() for model in models)  # type: ignore[attr-defined]


def assert_nothing_saved(before: tuple[int, ...]) -> None:
    assert saved() == before


@pytest.fixture
def counts(db):
    return saved()


def test_a_name_already_added_is_refused_next_to_the_name(client, alice, cdn_domain):
    client.force_login(alice)
    before = saved()
    response = client.post(add_url(), form_data("WWW.alpha.example"))
    assert response.status_code == 200
    assert "already added" in error_of(response.content.decode(), "id_name")
    assert_nothing_saved(before)


def test_a_name_of_another_account_is_refused_without_saying_whose(client, alice, charlie):
    other = make_domain(account=charlie.membership.account, name="taken.other.example")
    client.force_login(alice)
    before = saved()
    response = client.post(add_url(), form_data(other.name))
    body = response.content.decode()
    message = error_of(body, "id_name")
    assert "taken.other.example is already added" in message
    for secret in ["charlie", "Other", "other account"]:
        assert secret not in message
    assert_nothing_saved(before)
    assert Domain.objects.get(name=other.name).account == charlie.membership.account


@pytest.mark.parametrize(
    "name, message",
    [
        ("https://new.alpha.example", "scheme"),
        ("new.alpha.example:8080", "port"),
        ("a.*.alpha.example", "wildcard is allowed only as the whole first label"),
        ("localhost", "at least two labels"),
        ("", "required"),
    ],
)
def test_a_bad_name_is_refused_next_to_the_name(client, alice, counts, name, message):
    client.force_login(alice)
    body = client.post(add_url(), form_data(name)).content.decode()
    assert message in error_of(body, "id_name")
    assert_nothing_saved(counts)


@pytest.mark.parametrize(
    "origin, field, message",
    [
        (("ipaddr", "203.0.113.300", 80, 20, 10), "address", "is not an IP address"),
        (("domain", "https://origin.example", 80, 20, 10), "address", "scheme"),
        (("ipaddr", "203.0.113.20", 70000, 20, 10), "port", "between 1 and 65535"),
        (("ipaddr", "203.0.113.20", 0, 20, 10), "port", "between 1 and 65535"),
        (("ipaddr", "203.0.113.20", 80, 20, 101), "weight", "between 1 and 100"),
        (("ipaddr", "", 80, 20, 10), "address", "Enter the origin"),
    ],
)
def test_a_bad_origin_is_refused_next_to_its_field_in_its_row(client, alice, counts, origin, field, message):
    client.force_login(alice)
    origins = [("ipaddr", "203.0.113.10", 80, 20, 10), origin]
    body = client.post(add_url(), form_data(origins=origins)).content.decode()
    assert message in error_of(body, f"id_origin-1-{field}")
    assert 'id="id_origin-0-address_error"' not in body
    assert 'value="203.0.113.10"' in body  # what was typed stays in the form
    assert_nothing_saved(counts)


def test_the_same_origin_twice_is_refused(client, alice, counts):
    client.force_login(alice)
    origins = [("ipaddr", "203.0.113.10", 80, 20, 10), ("ipaddr", "203.0.113.10", 80, 30, 10)]
    body = client.post(add_url(), form_data(origins=origins)).content.decode()
    assert "listed twice" in error_of(body, "id_origin-1-address")
    assert_nothing_saved(counts)


def test_a_business_type_of_the_other_product_is_refused(client, alice, counts):
    client.force_login(alice)
    body = client.post(add_url("dcdn"), form_data(business_type="web")).content.decode()
    assert "Select a valid choice" in error_of(body, "id_business_type")
    assert_nothing_saved(counts)


def test_add_origin_and_remove_redraw_the_rows_and_save_nothing(client, alice, counts):
    client.force_login(alice)
    data = form_data(origins=[("ipaddr", "203.0.113.10", 80, 20, 10)])
    body = client.post(add_url(), data | {"add_origin": "1"}).content.decode()
    assert 'name="origin-1-address"' in body and 'value="203.0.113.10"' in body
    assert 'value="new.alpha.example"' in body and "field-error" not in body
    assert "Remove origin 2" in body

    two = form_data(origins=[("ipaddr", "203.0.113.10", 80, 20, 10), ("ipaddr", "203.0.113.11", 80, 20, 10)])
    body = client.post(add_url(), two | {"remove_origin": "0"}).content.decode()
    assert 'name="origin-1-address"' not in body
    assert 'value="203.0.113.11"' in body and 'value="203.0.113.10"' not in body
    assert_nothing_saved(counts)
