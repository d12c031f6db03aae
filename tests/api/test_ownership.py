"""The ownership trio on every endpoint of a domain: the owner may, a stranger gets 404, a viewer reads but
gets 403 on any write (and changes nothing); and anonymous requests get 401."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

from accounts.audit import ChangeContext
from accounts.models import OperationLog, Source
from domains.models import Domain, OriginType
from domains.services import domain_disable
from origin_fetch.services import origin_host_update
from tests import factories

D = "/api/v1/domains/{name}"
ORIGIN = {"type": "ipaddr", "address": "203.0.113.30", "port": 443, "priority": 20, "weight": 10}

# (method, path, body, the owner's status)
READS = [
    ("get", D + "/", None, 200),
    ("get", D + "/origins/", None, 200),
    ("get", D + "/origins/{origin}/", None, 200),
    ("get", D + "/origins/{origin}/sni/", None, 200),
    ("get", D + "/origin-fetch/", None, 200),
    ("get", D + "/origin-fetch/origin-sni/", None, 200),
    ("get", D + "/origin-fetch/protocol/", None, 200),
    ("get", D + "/origin-fetch/origin-host/", None, 200),
    ("get", D + "/origin-fetch/verification/", None, 200),
    ("get", D + "/deployments/", None, 200),
    ("get", D + "/revisions/", None, 200),
    ("get", D + "/revisions/1/", None, 200),
]
WRITES = [
    ("post", D + "/disable/", None, 200),
    ("post", D + "/enable/", None, 200),
    ("delete", D + "/", None, 204),
    ("post", D + "/origins/", ORIGIN, 201),
    ("put", D + "/origins/{origin}/", ORIGIN, 200),
    ("patch", D + "/origins/{origin}/", {"weight": 50}, 200),
    ("delete", D + "/origins/{origin}/", None, 204),
    ("put", D + "/origins/{origin}/sni/", {"sni_host": "sni.alpha.example"}, 200),
    ("put", D + "/origin-fetch/origin-sni/", {"enabled": True, "name": "sni.alpha.example"}, 200),
    ("patch", D + "/origin-fetch/origin-sni/", {"name": "sni.alpha.example"}, 200),
    (
        "put",
        D + "/origin-fetch/protocol/",
        {"forward_scheme": "follow", "http_port": 80, "https_port": 443},
        200,
    ),
    ("patch", D + "/origin-fetch/protocol/", {"http_port": 8080}, 200),
    ("put", D + "/origin-fetch/origin-host/", {"origin_host": "host.alpha.example"}, 200),
    ("patch", D + "/origin-fetch/origin-host/", {"origin_host": "host.alpha.example"}, 200),
    ("put", D + "/origin-fetch/verification/", {"enabled": True}, 200),
    ("patch", D + "/origin-fetch/verification/", {"enabled": True}, 200),
    ("post", D + "/revisions/1/rollback/", None, 201),
]
ENDPOINTS = READS + WRITES


def _shape(method: str, path: str) -> tuple[str, str]:
    """A method and path with every path parameter (named or filled in) replaced by `{}`."""
    path = re.sub(r"{[^}]+}", "{}", path)
    return method.lower(), re.sub(r"/\d+(?=/)", "/{}", path)


def test_the_trio_covers_every_endpoint_of_a_domain_in_the_served_schema(db) -> None:
    schema = yaml.safe_load(APIClient().get("/api/v1/schema/").content)
    served = {
        _shape(method, path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/domains/{")
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    covered = {_shape(method, path) for method, path, _body, _status in ENDPOINTS}
    assert served - covered == set(), "endpoints without the ownership trio"
    assert covered - served == set(), "endpoints the schema does not document"


def _id(endpoint: tuple[str, str, Any, int]) -> str:
    return f"{endpoint[0].upper()} {endpoint[1].removeprefix(D)}"


@pytest.fixture
def domain(alpha, alice) -> Domain:
    """An alpha domain with two origins and two revisions."""
    domain = factories.make_domain(
        account=alpha,
        name="www.alpha.example",
        origins=[(OriginType.IPADDR, "203.0.113.10", 443), (OriginType.DOMAIN, "origin.alpha.example", 443)],
    )
    context = ChangeContext(user=alice)
    origin_host_update(domain=domain, host="origin.alpha.example", context=context)
    origin_host_update(domain=domain, host="other.alpha.example", context=context)
    domain.refresh_from_db()
    return domain


def call(client, endpoint: tuple[str, str, Any, int], domain: Domain):  # type: ignore[no-untyped-def]
    method, path, body, _status = endpoint
    url = path.format(name=domain.name, origin=domain.origins.order_by("id").first().pk)
    return getattr(client, method)(url, body, format="json")


def _state(domain: Domain) -> tuple[object, ...]:
    domain.refresh_from_db()
    return (
        OperationLog.objects.count(),
        domain.config_revision,
        domain.status,
        domain.deleted_at,
        domain.origin_fetch.version,
        sorted(domain.origins.values_list("address", "port", "weight", "sni_host")),
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_the_owner_may(owner, alice, domain, endpoint) -> None:
    response = call(owner, endpoint, domain)
    assert response.status_code == endpoint[3], response.content


@pytest.mark.parametrize("endpoint", WRITES, ids=_id)
def test_a_write_by_the_owner_is_logged_as_coming_from_the_rest_api(owner, alice, domain, endpoint) -> None:
    if endpoint[1].endswith("/enable/"):
        domain_disable(domain=domain, context=ChangeContext(user=alice))
    before = OperationLog.objects.count()
    call(owner, endpoint, domain)
    entry = OperationLog.objects.order_by("-id").first()
    assert OperationLog.objects.count() == before + 1
    assert (entry.source, entry.actor, entry.domain_name) == (Source.REST, alice, domain.name)
    assert entry.remote_addr == "127.0.0.1"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_a_stranger_gets_404_and_changes_nothing(stranger, domain, endpoint) -> None:
    before = _state(domain)
    response = call(stranger, endpoint, domain)
    assert response.status_code == 404, response.content
    assert response.json() == {
        "errors": {"non_field_errors": [{"code": "not_found", "message": "Not found."}]}
    }
    assert _state(domain) == before


@pytest.mark.parametrize("endpoint", READS, ids=_id)
def test_a_viewer_may_read(viewer, domain, endpoint) -> None:
    assert call(viewer, endpoint, domain).status_code == 200


@pytest.mark.parametrize("endpoint", WRITES, ids=_id)
def test_a_viewer_gets_403_on_writes_and_changes_nothing(viewer, domain, endpoint) -> None:
    before = _state(domain)
    response = call(viewer, endpoint, domain)
    assert response.status_code == 403, response.content
    assert response.json()["errors"]["non_field_errors"][0]["code"] == "permission_denied"
    assert _state(domain) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_anonymous_requests_get_401(client_for, domain, endpoint) -> None:
    before = _state(domain)
    response = call(client_for(None), endpoint, domain)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["errors"]["non_field_errors"][0]["code"] == "not_authenticated"
    assert _state(domain) == before


@pytest.mark.parametrize("path", ["/api/v1/domains/", "/api/v1/operations/"])
def test_account_lists_show_a_stranger_nothing_of_the_account(owner, stranger, viewer, domain, path) -> None:
    assert owner.get(path).json()["count"] > 0
    assert viewer.get(path).json()["count"] == owner.get(path).json()["count"]
    assert stranger.get(path).json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_an_operation_log_entry_of_another_account_is_404(stranger, owner, domain) -> None:
    entry = OperationLog.objects.filter(domain=domain).first()
    assert owner.get(f"/api/v1/operations/{entry.pk}/").status_code == 200
    assert stranger.get(f"/api/v1/operations/{entry.pk}/").status_code == 404


def test_a_viewer_cannot_add_a_domain(viewer, domain) -> None:
    body = {"name": "new.alpha.example", "product": "cdn", "business_type": "web", "origins": [ORIGIN]}
    response = viewer.post("/api/v1/domains/", body, format="json")
    assert response.status_code == 403
    assert not Domain.objects.filter(name="new.alpha.example").exists()


def test_a_domain_is_added_to_the_account_of_its_creator(stranger, charlie, domain) -> None:
    body = {"name": "new.other.example", "product": "cdn", "business_type": "web", "origins": [ORIGIN]}
    assert stranger.post("/api/v1/domains/", body, format="json").status_code == 201
    assert Domain.objects.get(name="new.other.example").account == charlie.membership.account
