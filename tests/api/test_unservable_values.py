"""An origin value nginx would refuse, sent through the REST API, is a 400 naming the field, the rule and the
problem; nothing is saved or published."""

from __future__ import annotations

import pytest

from domains.models import Domain, OriginType
from edge.models import ConfigRevision
from tests import factories
from tests.api.helpers import messages
from tests.unservable import HOST_NAMES, ORIGIN_ADDRESSES

D = "/api/v1/domains/www.alpha.example"


@pytest.fixture
def domain(alpha) -> Domain:  # type: ignore[no-untyped-def]
    return factories.make_domain(
        account=alpha, name="www.alpha.example", origins=[(OriginType.DOMAIN, "o.example.net", 443)]
    )


@pytest.mark.parametrize(("kind", "address", "problem"), ORIGIN_ADDRESSES)
def test_adding_a_domain_refuses_the_origin(owner, alpha, kind, address, problem) -> None:
    body = {
        "name": "new.alpha.example",
        "product": "cdn",
        "business_type": "web",
        "origins": [{"type": kind, "address": address, "port": 443}],
    }
    response = owner.post("/api/v1/domains/", body, format="json")
    assert response.status_code == 400
    assert problem in " ".join(messages(response, "origins.0.address"))
    assert not Domain.objects.filter(name="new.alpha.example").exists()


@pytest.mark.parametrize(("kind", "address", "problem"), ORIGIN_ADDRESSES)
def test_adding_or_changing_an_origin_refuses_it(owner, domain, kind, address, problem) -> None:
    origin = domain.origins.get()
    for response in (
        owner.post(D + "/origins/", {"type": kind, "address": address, "port": 443}, format="json"),
        owner.put(
            f"{D}/origins/{origin.pk}/", {"type": kind, "address": address, "port": 443}, format="json"
        ),
    ):
        assert response.status_code == 400
        assert problem in " ".join(messages(response, "address"))
    assert list(domain.origins.values_list("address", flat=True)) == ["o.example.net"]
    assert not ConfigRevision.objects.exists()


@pytest.mark.parametrize(("name", "problem"), HOST_NAMES)
def test_the_sni_the_origin_host_and_an_origins_sni_refuse_the_name(owner, domain, name, problem) -> None:
    origin = domain.origins.get()
    for url, body, field in (
        (D + "/origin-fetch/origin-sni/", {"enabled": True, "name": name}, "name"),
        (D + "/origin-fetch/origin-host/", {"origin_host": name}, "origin_host"),
        (f"{D}/origins/{origin.pk}/sni/", {"sni_host": name}, "sni_host"),
    ):
        response = owner.put(url, body, format="json")
        assert response.status_code == 400, url
        assert problem in " ".join(messages(response, field)), url
    assert not ConfigRevision.objects.exists()
