"""An origin value nginx would refuse, typed in any page of the console, is refused there with a message
that names the problem, and nothing is saved or published (the other entry points: tests/api,
tests/alibaba_api and tests/origin_fetch/test_admin.py)."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from domains.models import Domain, OriginType
from edge.models import ConfigRevision
from tests.domains.test_domain_add import add_url, form_data
from tests.factories import make_domain
from tests.unservable import HOST_NAMES, ORIGIN_ADDRESSES

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def page(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


@pytest.fixture
def domain(alpha) -> Domain:  # type: ignore[no-untyped-def]
    return make_domain(
        account=alpha, name="www.alpha.example", origins=[(OriginType.DOMAIN, "o.example.net", 443)]
    )


@pytest.mark.parametrize(("kind", "address", "problem"), ORIGIN_ADDRESSES)
def test_add_domain_name_refuses_the_origin(client, alice, kind, address, problem) -> None:
    client.force_login(alice)
    body = page(client.post(add_url(), form_data(origins=[(kind, address, 443, 20, 10)])))
    assert 'id="id_origin-0-address_error"' in body and problem in body
    assert not Domain.objects.filter(name="new.alpha.example").exists()


@pytest.mark.parametrize(("kind", "address", "problem"), ORIGIN_ADDRESSES)
@pytest.mark.parametrize("dialog", ["add", "edit"])
def test_the_origin_dialogs_refuse_the_origin(client, alice, domain, dialog, kind, address, problem) -> None:
    client.force_login(alice)
    kwargs = {"product": "cdn", "name": domain.name}
    if dialog == "add":
        url = reverse("domains:origin_add", kwargs=kwargs)
    else:
        url = reverse("domains:origin_edit", kwargs=kwargs | {"origin_id": domain.origins.get().pk})
    data = {"type": kind, "address": address, "port": "443", "priority": "20", "weight": "10"}
    body = page(client.post(url, data, **HTMX))
    assert 'id="id_address_error"' in body and problem in body
    assert list(domain.origins.values_list("address", flat=True)) == ["o.example.net"]
    assert not ConfigRevision.objects.exists()


@pytest.mark.parametrize(("name", "problem"), HOST_NAMES)
def test_the_back_to_origin_dialogs_refuse_the_name(client, alice, domain, name, problem) -> None:
    client.force_login(alice)
    kwargs = {"product": "cdn", "name": domain.name}
    origin = domain.origins.get()
    posts = [
        (
            reverse("origin_fetch:origin_sni_dialog", kwargs=kwargs),
            {"enabled": "on", "name": name, "version": 1},
        ),
        (
            reverse("origin_fetch:dialog", kwargs=kwargs | {"section": "origin-host"}),
            {"host_type": "custom", "host": name, "version": 1},
        ),
        (
            reverse("origin_fetch:origin_sni_host_dialog", kwargs=kwargs | {"origin_id": origin.pk}),
            {"mode": "name", "name": name},
        ),
    ]
    for url, data in posts:
        body = page(client.post(url, data, **HTMX))
        assert problem in body, url
    domain.origin_fetch.refresh_from_db()
    origin.refresh_from_db()
    assert (domain.origin_fetch.sni_name, domain.origin_fetch.origin_host, origin.sni_host) == ("", "", "")
    assert not ConfigRevision.objects.exists()
