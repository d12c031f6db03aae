"""The Modify dialogs of the Back-to-origin tab besides Origin SNI: protocol, origin host, verification,
per-origin SNI. Each saves through its service, refreshes the tab, and keeps bad input in the dialog."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from domains.models import OriginFetchSettings, OriginType
from edge.models import ConfigRevision
from tests.factories import make_domain

pytestmark = pytest.mark.django_db


def dialog_url(domain, section):
    return reverse(
        "origin_fetch:dialog",
        kwargs={"product": domain.product, "name": domain.name, "section": section},
    )


def settings_of(domain):
    return OriginFetchSettings.objects.get(domain=domain)


@pytest.mark.parametrize(
    ("section", "data", "check"),
    [
        (
            "protocol",
            {"enabled": "on", "policy": "follow", "http_port": "8080", "https_port": "443"},
            lambda s: s.forward_scheme_enabled and s.forward_scheme == "follow" and s.http_port == 8080,
        ),
        (
            "origin-host",
            {"host_type": "custom", "host": "Origin.Example.NET"},
            lambda s: s.origin_host == "origin.example.net",
        ),
        (
            "verification",
            {"enabled": "on"},
            lambda s: s.verify_origin_cert,
        ),
    ],
)
def test_each_dialog_saves_and_asks_the_tab_to_refresh(client, alice, cdn_domain, section, data, check):
    client.force_login(alice)
    assert client.get(dialog_url(cdn_domain, section)).status_code == 200
    response = client.post(
        dialog_url(cdn_domain, section), data | {"version": settings_of(cdn_domain).version}
    )
    assert response.status_code == 204 and "origin-fetch-saved" in response["HX-Trigger"]
    assert check(settings_of(cdn_domain))
    assert ConfigRevision.objects.filter(domain=cdn_domain).count() == 1
    section_url = reverse(
        "origin_fetch:section", kwargs={"product": "cdn", "name": cdn_domain.name, "section": section}
    )
    assert client.get(section_url).status_code == 200


def test_a_protocol_change_that_breaks_sni_stays_in_the_dialog(client, alpha, alice):
    domain = make_domain(account=alpha, sni_enabled=True, sni_name="origin.example.com")
    client.force_login(alice)
    response = client.post(
        dialog_url(domain, "protocol"),
        {"enabled": "on", "policy": "http", "http_port": 80, "https_port": 443, "version": 1},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_policy_error"' in body and "Turn off Origin SNI first" in body
    assert settings_of(domain).forward_scheme == "https" and not ConfigRevision.objects.exists()


def test_the_protocol_dialog_turns_the_policy_off_and_keeps_the_policy_for_later(client, alpha, alice):
    domain = make_domain(account=alpha, origins=[(OriginType.IPADDR, "203.0.113.10", 8080)])
    client.force_login(alice)
    form = html.unescape(client.get(dialog_url(domain, "protocol")).content.decode())
    assert 'name="enabled" checked' in form and "each origin's own port is ignored" in form
    response = client.post(
        dialog_url(domain, "protocol"), {"policy": "https", "http_port": 80, "https_port": 443, "version": 1}
    )
    assert response.status_code == 204
    stored = settings_of(domain)
    assert (stored.forward_scheme_enabled, stored.forward_scheme, stored.https_port) == (False, "https", 443)
    document = ConfigRevision.objects.get(domain=domain).document
    assert document["forward_scheme"] == {
        "policy": "https",
        "http_port": 80,
        "https_port": 443,
        "enabled": False,
    }


def test_turning_the_policy_off_with_sni_on_and_no_origin_on_443_stays_in_the_dialog(client, alpha, alice):
    domain = make_domain(
        account=alpha,
        origins=[(OriginType.IPADDR, "203.0.113.10", 8443)],
        sni_enabled=True,
        sni_name="origin.example.com",
    )
    client.force_login(alice)
    response = client.post(
        dialog_url(domain, "protocol"), {"policy": "https", "http_port": 80, "https_port": 443, "version": 1}
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 200 and 'id="id_enabled_error"' in body
    assert "none is on port 443" in body and "Turn off Origin SNI first, or add an origin on port 443" in body
    assert settings_of(domain).forward_scheme_enabled and not ConfigRevision.objects.exists()


def test_a_bad_origin_host_names_the_problem(client, alice, cdn_domain):
    client.force_login(alice)
    response = client.post(
        dialog_url(cdn_domain, "origin-host"),
        {"host_type": "custom", "host": "origin.example.net:8080", "version": 1},
    )
    assert 'id="id_host_error"' in response.content.decode() and "port" in response.content.decode()


def test_per_origin_sni_dialog(client, alpha, alice, bob, charlie):
    domain = make_domain(
        account=alpha,
        origins=[(OriginType.DOMAIN, "a.origin.net", 443)],
        sni_enabled=True,
        sni_name="d.example.com",
    )
    origin = domain.origins.get()
    url = reverse(
        "origin_fetch:origin_sni_host_dialog",
        kwargs={"product": "cdn", "name": domain.name, "origin_id": origin.pk},
    )
    client.force_login(alice)
    assert client.post(url, {"mode": "name", "name": "*.x.com"}).status_code == 200
    assert (
        "Wildcard domain names are not supported"
        in client.post(url, {"mode": "name", "name": "*.x.com"}).content.decode()
    )
    assert client.post(url, {"mode": "name", "name": "Special.example.com"}).status_code == 204
    origin.refresh_from_db()
    assert origin.sni_host == "special.example.com"
    tab = client.get(
        reverse("origin_fetch:tab", kwargs={"product": "cdn", "name": domain.name})
    ).content.decode()
    assert "special.example.com" in tab and "SNI set for this origin" in tab
    assert client.post(url, {"mode": "ali_follow_origin"}).status_code == 204
    origin.refresh_from_db()
    assert origin.sni_host == "ali_follow_origin"

    client.force_login(bob)
    assert client.get(url).status_code == 200 and client.post(url, {"mode": "default"}).status_code == 403
    client.force_login(charlie)
    assert client.get(url).status_code == 404 and client.post(url, {"mode": "default"}).status_code == 404


@pytest.mark.parametrize("section", ["protocol", "origin-host", "verification"])
def test_ownership_and_csrf(client, bob, charlie, alice, cdn_domain, section):
    client.force_login(bob)
    assert client.get(dialog_url(cdn_domain, section)).status_code == 200
    assert client.post(dialog_url(cdn_domain, section), {"version": 1}).status_code == 403
    client.force_login(charlie)
    assert client.get(dialog_url(cdn_domain, section)).status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(dialog_url(cdn_domain, section), {"version": 1, "host": ""}).status_code == 403


def test_an_unknown_section_is_404(client, alice, cdn_domain):
    client.force_login(alice)
    assert client.get(dialog_url(cdn_domain, "nope")).status_code == 404
