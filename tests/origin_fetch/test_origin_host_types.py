"""Origin host by type, as the vendor offers it: the accelerated domain (the default), an origin's domain (a
domain-name origin, or an OSS bucket's domain, the default of a domain added with an OSS origin), or custom;
the page, REST and the Alibaba-compatible API accept and refuse alike."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.audit import ChangeContext
from domains.models import OriginFetchSettings, OriginType
from domains.origin_services import OriginInput
from domains.services import domain_create
from origin_fetch.services import origin_host_update
from tests.factories import make_domain

pytestmark = pytest.mark.django_db

OSS = "bucket.oss-cn-hangzhou.aliyuncs.com"


@pytest.fixture
def domain(alpha):
    return make_domain(
        account=alpha,
        name="host.alpha.example",
        origins=[(OriginType.IPADDR, "203.0.113.10", 443), (OriginType.DOMAIN, "origin.alpha.example", 443)],
    )


@pytest.fixture
def ip_only(alpha):
    return make_domain(account=alpha, name="ip.alpha.example")


def _host(domain) -> str:
    return OriginFetchSettings.objects.get(domain=domain).origin_host


def _update(domain, user, **kwargs):
    return origin_host_update(domain=domain, context=ChangeContext(user=user), **kwargs)


def test_each_type_gives_its_host(alice, domain):
    _update(domain, alice, host_type="origin", host="")
    assert _host(domain) == "origin.alpha.example"
    _update(domain, alice, host_type="custom", host="Site.Alpha.Example")
    assert _host(domain) == "site.alpha.example"
    _update(domain, alice, host_type="domain", host="")
    assert _host(domain) == ""


@pytest.mark.parametrize(
    ("host_type", "host", "message"),
    [
        ("domain", "other.alpha.example", "clear other.alpha.example, or choose Custom domain"),
        (
            "origin",
            "elsewhere.alpha.example",
            "Choose the origin whose domain is sent: origin.alpha.example.",
        ),
        ("custom", "", "Enter the custom origin host."),
        ("custom", "*.alpha.example", "Wildcard"),
        ("sideways", "", "Choose the origin host type"),
    ],
)
def test_the_service_refuses_what_a_type_cannot_take(alice, domain, host_type, host, message):
    with pytest.raises(ValidationError) as caught:
        _update(domain, alice, host_type=host_type, host=host)
    assert message in " ".join(caught.value.messages)
    assert _host(domain) == ""


def test_origin_domain_needs_an_origin_that_is_a_name(alice, ip_only):
    with pytest.raises(ValidationError) as caught:
        _update(ip_only, alice, host_type="origin", host="")
    assert "every origin of this domain is an IP address" in " ".join(caught.value.messages)


def test_a_domain_added_with_an_oss_origin_sends_the_buckets_domain(alice, alpha):
    added = domain_create(
        account=alpha,
        name="oss.alpha.example",
        product="cdn",
        business_type="web",
        coverage="domestic",
        origins=[OriginInput(OriginType.OSS, OSS, 443)],
        context=ChangeContext(user=alice),
    )
    assert _host(added) == OSS
    assert added.revisions.get().document["origin_host"] == OSS
    plain = domain_create(
        account=alpha,
        name="plain.alpha.example",
        product="cdn",
        business_type="web",
        coverage="domestic",
        origins=[OriginInput(OriginType.DOMAIN, "origin.alpha.example", 443)],
        context=ChangeContext(user=alice),
    )
    assert _host(plain) == ""  # the accelerated domain


def _dialog(domain) -> str:
    return reverse(
        "origin_fetch:dialog", kwargs={"product": "cdn", "name": domain.name, "section": "origin-host"}
    )


def test_the_dialog_offers_the_three_types_and_the_origins(client, alice, domain):
    client.force_login(alice)
    body = client.get(_dialog(domain)).content.decode()
    for label in ("Accelerated domain", "Origin domain", "Custom domain", "origin.alpha.example"):
        assert label in body
    assert re.search(r'<input type="radio" name="host_type" value="domain"[^>]*checked', body)


def test_the_dialog_saves_the_origin_picked(client, alice, domain):
    client.force_login(alice)
    data = {"host_type": "origin", "origin": "origin.alpha.example", "host": "", "version": 1}
    assert client.post(_dialog(domain), data, headers={"HX-Request": "true"}).status_code == 204
    assert _host(domain) == "origin.alpha.example"
    tab = reverse("origin_fetch:tab", kwargs={"product": "cdn", "name": domain.name})
    assert "Origin domain" in client.get(tab).content.decode()


def test_the_dialog_refuses_a_name_typed_with_another_type(client, alice, domain):
    client.force_login(alice)
    for host_type in ("origin", "domain"):
        data = {
            "host_type": host_type,
            "origin": "origin.alpha.example",
            "host": "typed.alpha.example",
            "version": 1,
        }
        body = client.post(_dialog(domain), data).content.decode()
        assert "clear typed.alpha.example" in body and 'aria-invalid="true"' in body, host_type
    assert _host(domain) == ""


def test_rest_takes_the_type_and_refuses_alike(alice, domain):
    api = APIClient()
    api.force_authenticate(alice)
    url = f"/api/v1/domains/{domain.name}/origin-fetch/origin-host/"
    response = api.put(url, {"origin_host_type": "origin", "origin_host": ""}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["origin_host_type"] == "origin"
    assert response.json()["origin_host"] == "origin.alpha.example"
    response = api.patch(url, {"origin_host_type": "custom", "origin_host": ""}, format="json")
    assert response.status_code == 400 and "Enter the custom origin host." in response.content.decode()
    response = api.patch(url, {"origin_host": "site.alpha.example"}, format="json")  # without a type
    assert response.status_code == 200 and response.json()["origin_host_type"] == "custom"
