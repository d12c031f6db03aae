"""A wildcard domain's origins cannot follow the origin host while it is the wildcard name itself: the SNI
would be `*.…`, which no edge can send. Refused on the page, the REST API and the services, with the rule."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.audit import ChangeContext
from domains.models import FOLLOW_HOST, OriginFetchSettings, OriginType
from origin_fetch.origin_sni_host import origin_sni_host_update
from origin_fetch.services import origin_host_update
from tests import factories

pytestmark = pytest.mark.django_db
RULE = "SNI supports only specific domain names"


@pytest.fixture
def wildcard(alpha):
    return factories.make_domain(
        account=alpha, name="*.wild.alpha.example", origins=[(OriginType.IPADDR, "203.0.113.10", 443)]
    )


def test_the_service_refuses_to_follow_a_wildcard_origin_host(wildcard, alice):
    origin = wildcard.origins.get()
    with pytest.raises(ValidationError, match=RULE):
        origin_sni_host_update(origin=origin, sni_host=FOLLOW_HOST, context=ChangeContext(user=alice))
    assert wildcard.origins.get().sni_host == ""


def test_a_specific_origin_host_can_be_followed_and_then_cannot_be_cleared(wildcard, alice):
    context = ChangeContext(user=alice)
    origin_host_update(domain=wildcard, host="www.wild.alpha.example", context=context)
    origin_sni_host_update(origin=wildcard.origins.get(), sni_host=FOLLOW_HOST, context=context)
    document = wildcard.revisions.order_by("-number").first().document
    assert document["origins"][0]["sni"] == "www.wild.alpha.example"

    with pytest.raises(ValidationError, match=RULE) as refused:
        origin_host_update(domain=wildcard, host="", context=context)
    assert "origin_host" in refused.value.error_dict
    assert OriginFetchSettings.objects.get(domain=wildcard).origin_host == "www.wild.alpha.example"


def test_the_page_shows_the_rule_in_the_dialog(client, alice, wildcard):
    client.force_login(alice)
    origin = wildcard.origins.get()
    url = reverse(
        "origin_fetch:origin_sni_host_dialog",
        kwargs={"product": "cdn", "name": wildcard.name, "origin_id": origin.pk},
    )
    response = client.post(url, {"mode": FOLLOW_HOST, "name": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert RULE in response.content.decode()
    assert wildcard.origins.get().sni_host == ""


def test_the_rest_api_answers_400_with_the_rule(alice, wildcard):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {factories.make_token(alice)}")
    origin = wildcard.origins.get()
    response = api.put(
        f"/api/v1/domains/{wildcard.name}/origins/{origin.pk}/sni/", {"sni_host": FOLLOW_HOST}, format="json"
    )
    assert response.status_code == 400
    assert RULE in response.content.decode()
    assert wildcard.origins.get().sni_host == ""
