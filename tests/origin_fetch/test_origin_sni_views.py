from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from domains.models import OriginFetchSettings
from edge.models import ConfigRevision

pytestmark = pytest.mark.django_db


def urls(domain):
    kwargs = {"product": domain.product, "name": domain.name}
    return {
        "tab": reverse("origin_fetch:tab", kwargs=kwargs),
        "section": reverse("origin_fetch:origin_sni_section", kwargs=kwargs),
        "dialog": reverse("origin_fetch:origin_sni_dialog", kwargs=kwargs),
    }


def post_dialog(client, domain, **data):
    settings = OriginFetchSettings.objects.get(domain=domain)
    payload = {"version": settings.version, "name": "origin.example.com", "enabled": "on"} | data
    payload = {k: v for k, v in payload.items() if v is not None}
    return client.post(urls(domain)["dialog"], payload, HTTP_HX_REQUEST="true")


@pytest.mark.parametrize("page", ["tab", "section", "dialog"])
def test_the_owner_sees_each_page(client, alice, cdn_domain, page):
    client.force_login(alice)
    response = client.get(urls(cdn_domain)[page])
    assert response.status_code == 200
    assert b"Origin SNI" in response.content


@pytest.mark.parametrize("page", ["tab", "section", "dialog"])
def test_another_account_gets_404_for_each_page(client, charlie, cdn_domain, page):
    client.force_login(charlie)
    assert client.get(urls(cdn_domain)[page]).status_code == 404


def test_another_account_gets_404_on_save(client, charlie, cdn_domain):
    client.force_login(charlie)
    assert post_dialog(client, cdn_domain).status_code == 404
    assert not OriginFetchSettings.objects.get(domain=cdn_domain).sni_enabled


def test_a_viewer_sees_the_dialog_but_gets_403_on_save(client, bob, cdn_domain):
    client.force_login(bob)
    assert client.get(urls(cdn_domain)["dialog"]).status_code == 200
    assert post_dialog(client, cdn_domain).status_code == 403
    assert not OriginFetchSettings.objects.get(domain=cdn_domain).sni_enabled


def test_anonymous_users_are_sent_to_log_on(client, cdn_domain):
    response = client.get(urls(cdn_domain)["tab"])
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_tab_is_named_for_each_product(client, alice, cdn_domain, dcdn_domain):
    client.force_login(alice)
    assert b"Back-to-origin" in client.get(urls(cdn_domain)["tab"]).content
    assert b"Origin Fetch" in client.get(urls(dcdn_domain)["tab"]).content


def test_a_valid_save_closes_the_dialog_and_refreshes_the_section(client, alice, cdn_domain):
    client.force_login(alice)
    response = post_dialog(client, cdn_domain, name="Origin.Example.com")
    assert response.status_code == 204
    trigger = json.loads(response["HX-Trigger"])
    assert set(trigger) == {"origin-sni-saved", "domain-changed", "console-notice"}
    assert trigger["console-notice"]["message"].startswith("Saved.")
    settings = OriginFetchSettings.objects.get(domain=cdn_domain)
    assert (settings.sni_enabled, settings.sni_name) == (True, "origin.example.com")
    section = client.get(urls(cdn_domain)["section"]).content.decode()
    assert "origin.example.com" in section and "Enabled" in section


@pytest.mark.parametrize(
    "name, message",
    [
        ("*.example.com", "Wildcard"),
        ("203.0.113.10", "IP address"),
        ("https://origin.example.com", "scheme"),
        ("origin.example.com:443", "port"),
        ("", "required"),
    ],
)
def test_a_bad_name_keeps_the_dialog_open_with_the_message_and_saves_nothing(
    client, alice, cdn_domain, name, message
):
    client.force_login(alice)
    response = post_dialog(client, cdn_domain, name=name)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_name_error"' in body and message.lower() in body.lower()
    assert not OriginFetchSettings.objects.get(domain=cdn_domain).sni_enabled
    assert not ConfigRevision.objects.exists()


def test_a_dialog_post_without_the_csrf_token_is_refused(alice, cdn_domain):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = post_dialog(client, cdn_domain)
    assert response.status_code == 403
    assert not OriginFetchSettings.objects.get(domain=cdn_domain).sni_enabled


def test_a_stale_dialog_is_refused_with_a_message(client, alice, cdn_domain):
    client.force_login(alice)
    post_dialog(client, cdn_domain)
    response = client.post(
        urls(cdn_domain)["dialog"],
        {"version": 1, "enabled": "on", "name": "other.example.com"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "Someone else changed" in response.content.decode()
    assert OriginFetchSettings.objects.get(domain=cdn_domain).sni_name == "origin.example.com"
