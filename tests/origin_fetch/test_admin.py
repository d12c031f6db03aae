"""Operators change the origin protocol policy (on or off) and Origin SNI in the admin, through the console's
services and rules; extra common names are not offered there either, and origins are read-only."""

from __future__ import annotations

import html

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import OperationLog, Source
from domains.models import Origin, OriginFetchSettings, OriginType
from edge.models import ConfigRevision
from tests import factories
from tests.unservable import HOST_NAMES, ORIGIN_ADDRESSES

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_superuser("operator", password=factories.PASSWORD)
    client.force_login(user)
    return client


def change_url(domain) -> str:  # type: ignore[no-untyped-def]
    return reverse("admin:domains_originfetchsettings_change", args=[domain.pk])


def form(domain, **changes) -> dict[str, object]:  # type: ignore[no-untyped-def]
    settings = OriginFetchSettings.objects.get(pk=domain.pk)
    data = {
        "forward_scheme_enabled": "on" if settings.forward_scheme_enabled else "",
        "forward_scheme": settings.forward_scheme,
        "http_port": settings.http_port,
        "https_port": settings.https_port,
        "sni_enabled": "on" if settings.sni_enabled else "",
        "sni_name": settings.sni_name,
    }
    return {k: v for k, v in (data | changes).items() if v != ""}


def test_the_change_page_offers_the_policy_switch_and_no_common_names(operator, alpha):
    domain = factories.make_domain(account=alpha)
    page = operator.get(change_url(domain)).content.decode()
    assert 'name="forward_scheme_enabled"' in page and 'name="sni_name"' in page
    assert "common" not in page.lower()


def test_an_operator_turns_the_policy_off_and_sni_on_in_one_save_through_the_services(operator, alpha):
    domain = factories.make_domain(
        account=alpha,
        policy="http",
        origins=[(OriginType.IPADDR, "203.0.113.10", 443), (OriginType.IPADDR, "203.0.113.11", 8080)],
    )
    response = operator.post(
        change_url(domain),
        form(domain, forward_scheme_enabled="", sni_enabled="on", sni_name="O.Example.COM"),
    )
    assert response.status_code == 302
    settings = OriginFetchSettings.objects.get(pk=domain.pk)
    assert (settings.forward_scheme_enabled, settings.sni_enabled, settings.sni_name) == (
        False,
        True,
        "o.example.com",
    )
    latest = ConfigRevision.objects.filter(domain=domain).latest("number").document
    assert latest["forward_scheme"]["enabled"] is False and latest["origin_sni"]["enabled"] is True
    actions = list(OperationLog.objects.order_by("id").values_list("action", "source"))
    assert actions == [("origin_protocol.update", Source.ADMIN), ("origin_sni.update", Source.ADMIN)]

    # Back on, and Origin SNI off with a protocol it would refuse: SNI goes off first.
    response = operator.post(change_url(domain), form(domain, forward_scheme_enabled="on", sni_enabled=""))
    assert response.status_code == 302
    settings.refresh_from_db()
    assert (settings.forward_scheme_enabled, settings.forward_scheme, settings.sni_enabled) == (
        True,
        "http",
        False,
    )


def test_a_combination_that_sends_sni_nowhere_stays_on_the_form(operator, alpha):
    domain = factories.make_domain(account=alpha, origins=[(OriginType.IPADDR, "203.0.113.10", 8443)])
    response = operator.post(
        change_url(domain),
        form(domain, forward_scheme_enabled="", sni_enabled="on", sni_name="o.example.com"),
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 200 and "no origin of this domain is on port 443" in body
    assert OriginFetchSettings.objects.get(pk=domain.pk).forward_scheme_enabled
    assert not ConfigRevision.objects.exists() and not OperationLog.objects.exists()


@pytest.mark.parametrize(("name", "problem"), HOST_NAMES)
def test_an_sni_nginx_would_refuse_stays_on_the_form(operator, alpha, name, problem):
    domain = factories.make_domain(account=alpha)
    response = operator.post(change_url(domain), form(domain, sni_enabled="on", sni_name=name))
    assert response.status_code == 200 and problem in html.unescape(response.content.decode())
    assert not OriginFetchSettings.objects.get(pk=domain.pk).sni_enabled
    assert not ConfigRevision.objects.exists()


@pytest.mark.parametrize(("kind", "address", "_problem"), ORIGIN_ADDRESSES)
def test_origins_are_read_only_in_the_admin(operator, alpha, kind, address, _problem):
    domain = factories.make_domain(account=alpha)
    origin = domain.origins.get()
    url = reverse("admin:domains_origin_change", args=[origin.pk])
    operator.post(url, {"type": kind, "address": address, "port": 443, "priority": 20, "weight": 10})
    assert Origin.objects.get(pk=origin.pk).address == "203.0.113.10"
    assert not ConfigRevision.objects.exists()
