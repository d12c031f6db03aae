"""Configured functions kept by the services, the migration that made them from earlier settings, and the
replacement of a domain's origins (the vendor's ModifyCdnDomain)."""

from __future__ import annotations

import importlib
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from accounts.audit import ChangeContext
from accounts.models import OperationLog
from domains.models import ConfiguredFunction, OriginFetchSettings, OriginType
from domains.origin_services import OriginInput, domain_origins_replace
from origin_fetch.services import origin_protocol_update, origin_sni_update_many
from tests.factories import make_domain

pytestmark = pytest.mark.django_db

migration = importlib.import_module("domains.migrations.0006_tags_and_configured_functions")


def configured(domain) -> dict[tuple[str, int | None], int]:  # type: ignore[no-untyped-def]
    rows = ConfiguredFunction.objects.filter(domain=domain).values_list("function", "origin_id", "id")
    return {(function, origin): pk for function, origin, pk in rows}


def test_a_batch_configures_every_domain_once_and_returns_the_config_ids(alpha, alice):
    domains = [make_domain(account=alpha) for _ in range(3)]
    changes = origin_sni_update_many(
        domains=domains, enabled=True, name="a.example.org", context=ChangeContext(alice)
    )
    again = origin_sni_update_many(domains=domains, enabled=False, name="", context=ChangeContext(alice))
    assert [c.config_id for c in changes] == [c.config_id for c in again]
    assert [configured(d) for d in domains] == [{("https_origin_sni", None): c.config_id} for c in changes]


def test_a_refused_change_configures_nothing(alpha, alice):
    domain = make_domain(account=alpha)
    with pytest.raises(ValidationError):
        origin_protocol_update(
            domain=domain, policy="ftp", http_port=80, https_port=443, context=ChangeContext(alice)
        )
    assert configured(domain) == {}


def test_settings_of_before_become_configured_functions_with_the_config_ids_they_had(alpha):
    domain = make_domain(
        account=alpha,
        sni_enabled=True,
        sni_name="a.example.org",
        origins=[(OriginType.DOMAIN, "o.example.net", 443)],
    )
    plain = make_domain(account=alpha, policy="http")
    OriginFetchSettings.objects.filter(domain=domain).update(origin_host="h.example.org")
    origin = domain.origins.get()
    origin.sni_host = "ali_follow_origin"
    origin.save()

    # The migration's own view of the models (a later one retired a field it reads).
    state = MigrationExecutor(connection).loader.project_state(
        ("domains", "0006_tags_and_configured_functions")
    )
    migration.configured_from_settings(state.apps, None)

    tag = zlib.crc32(b"o.example.net:443") & 0xFFFFFF
    assert configured(domain) == {
        ("https_origin_sni", None): (domain.pk << 28) | 1,
        ("forward_scheme", None): (domain.pk << 28) | 2,  # https, not the default http
        ("set_req_host_header", None): (domain.pk << 28) | 3,
        ("origin_sni", origin.pk): (domain.pk << 28) | (tag << 4) | 5,
    }
    assert configured(plain) == {}


def test_replacing_the_origins_keeps_those_that_stay_in_one_revision(alpha, alice):
    domain = make_domain(
        account=alpha,
        origins=[(OriginType.DOMAIN, "a.example.net", 443), (OriginType.IPADDR, "198.51.100.1", 443)],
    )
    kept = domain.origins.get(address="a.example.net")
    kept.sni_host = "tls.example.org"
    kept.save()
    origins = [OriginInput("domain", "a.example.net", 443, 30, 5), OriginInput("ipaddr", "198.51.100.2", 443)]
    domain_origins_replace(domain=domain, origins=origins, context=ChangeContext(alice))

    assert sorted(domain.origins.values_list("pk", "address", "priority", "weight", "sni_host")) == sorted(
        [
            (kept.pk, "a.example.net", 30, 5, "tls.example.org"),
            (domain.origins.get(address="198.51.100.2").pk, "198.51.100.2", 20, 10, ""),
        ]
    )
    assert domain.revisions.count() == 1
    entry = OperationLog.objects.get(action="origins.replace")
    assert [o["address"] for o in entry.after["origins"]] == ["198.51.100.2", "a.example.net"]

    domain_origins_replace(domain=domain, origins=origins, context=ChangeContext(alice))  # the same: nothing
    assert domain.revisions.count() == 1


def test_replacing_the_origins_is_validated_as_an_edit(alpha, alice):
    domain = make_domain(account=alpha)
    with pytest.raises(ValidationError) as caught:
        domain_origins_replace(
            domain=domain,
            origins=[OriginInput("ipaddr", "1.2.3.4", 80), OriginInput("ipaddr", "not-ip", 80)],
            context=ChangeContext(alice),
        )
    assert list(caught.value.error_dict) == ["origins.1.address"]
    with pytest.raises(ValidationError) as caught:
        domain_origins_replace(domain=domain, origins=[], context=ChangeContext(alice))
    assert caught.value.error_dict["origins"][0].code == "required"
    assert domain.origins.get().address == "203.0.113.10"


def test_the_operation_log_reads_a_replacement_of_the_origins(client, alpha, alice):
    domain = make_domain(account=alpha)
    origins = [OriginInput("ipaddr", "198.51.100.2", 443)]
    domain_origins_replace(domain=domain, origins=origins, context=ChangeContext(alice))
    client.force_login(alice)
    page = reverse("domains:operations", kwargs={"product": domain.product, "name": domain.name})
    body = client.get(page).content.decode()
    assert "Modify origins" in body and "198.51.100.2" in body and "203.0.113.10" in body
