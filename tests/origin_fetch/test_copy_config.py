"""Copy Configuration: one domain's back-to-origin settings onto other domains of the account, through the
settings services' rules (each target checked against its own origins), all or nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.audit import ChangeContext
from accounts.models import OperationLog
from domains.models import OriginFetchSettings, OriginType, ProtocolPolicy
from origin_fetch.copy_services import origin_fetch_settings_copy
from origin_fetch.services import DomainValidationError
from tests.factories import make_domain

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(alpha):
    domain = make_domain(
        account=alpha, name="source.alpha.example", sni_enabled=True, sni_name="origin.alpha.example"
    )
    OriginFetchSettings.objects.filter(domain=domain).update(
        origin_host="host.alpha.example", verify_origin_cert=True
    )
    return domain


def _settings(domain):
    return OriginFetchSettings.objects.get(domain=domain)


def _url(domain) -> str:
    return reverse("origin_fetch:copy_config", kwargs={"product": domain.product, "name": domain.name})


def test_the_settings_are_copied_with_one_revision_and_log_entry_each(alice, alpha, source):
    targets = [
        make_domain(account=alpha, name=f"t{i}.alpha.example", policy=ProtocolPolicy.HTTP) for i in (1, 2)
    ]
    origin_fetch_settings_copy(source=source, targets=targets, context=ChangeContext(user=alice))
    for target in targets:
        copied = _settings(target)
        assert (copied.forward_scheme, copied.https_port) == (ProtocolPolicy.HTTPS, 443)
        assert (copied.sni_enabled, copied.sni_name) == (True, "origin.alpha.example")
        assert (copied.origin_host, copied.verify_origin_cert) == ("host.alpha.example", True)
        target.refresh_from_db()
        assert target.revisions.count() == 1
        assert target.revisions.get().summary == "Configuration copied from source.alpha.example"
    assert OperationLog.objects.filter(action="origin_fetch.copy").count() == 2


def test_a_target_the_rules_refuse_stops_the_whole_copy(alice, alpha, source):
    fine = make_domain(account=alpha, name="fine.alpha.example", policy=ProtocolPolicy.HTTP)
    # Protocol policy off with its only origin on port 80: Origin SNI would reach no origin.
    bad = make_domain(
        account=alpha, name="bad.alpha.example", origins=[(OriginType.IPADDR, "203.0.113.9", 80)]
    )
    OriginFetchSettings.objects.filter(domain=source).update(forward_scheme_enabled=False)
    with pytest.raises(DomainValidationError) as caught:
        origin_fetch_settings_copy(source=source, targets=[fine, bad], context=ChangeContext(user=alice))
    assert caught.value.domain == bad
    assert not _settings(fine).sni_enabled and not _settings(bad).sni_enabled


def test_the_dialog_copies_to_the_names_typed(client, alice, alpha, source):
    target = make_domain(account=alpha, name="target.alpha.example")
    client.force_login(alice)
    response = client.post(_url(source), {"targets": "target.alpha.example"}, headers={"HX-Request": "true"})
    assert response.status_code == 204 and "domain-changed" in response.headers["HX-Trigger"]
    assert _settings(target).sni_name == "origin.alpha.example"


def test_the_dialog_refuses_unknown_and_other_accounts_names_alike(client, alice, charlie, source):
    make_domain(account=charlie.membership.account, name="www.other.example")
    client.force_login(alice)
    for name in ("www.other.example", "nowhere.alpha.example"):
        body = client.post(_url(source), {"targets": name}).content.decode()
        assert f"Not a domain name of this account and product: {name}." in body
    assert _settings(OriginFetchSettings.objects.get(domain__name="www.other.example").domain).sni_name == ""


def test_the_dialog_refuses_the_source_itself_and_says_why_a_target_is_refused(client, alice, alpha, source):
    make_domain(account=alpha, name="bad.alpha.example", origins=[(OriginType.IPADDR, "203.0.113.9", 80)])
    OriginFetchSettings.objects.filter(domain=source).update(forward_scheme_enabled=False)
    client.force_login(alice)
    body = client.post(_url(source), {"targets": source.name}).content.decode()
    assert "source.alpha.example is the domain copied from." in body
    body = client.post(_url(source), {"targets": "bad.alpha.example"}).content.decode()
    assert "bad.alpha.example: " in body and 'aria-invalid="true"' in body


def test_the_ownership_trio(client, alice, bob, charlie, alpha, source):
    target = make_domain(account=alpha, name="target.alpha.example")
    client.force_login(charlie)
    assert client.get(_url(source)).status_code == 404
    assert client.post(_url(source), {"targets": target.name}).status_code == 404
    client.force_login(bob)
    assert client.get(_url(source)).status_code == 200
    assert client.post(_url(source), {"targets": target.name}).status_code == 403
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(alice)
    assert csrf.post(_url(source), {"targets": target.name}).status_code == 403
    assert not _settings(target).sni_enabled
