"""The other back-to-origin settings: protocol policy, origin host, verification, per-origin SNI."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.audit import ChangeContext
from accounts.models import OperationLog
from domains.models import OriginFetchSettings, OriginType
from edge.models import ConfigRevision
from origin_fetch.origin_sni_host import origin_sni_host_update
from origin_fetch.services import (
    StaleVersionError,
    origin_host_update,
    origin_protocol_update,
    origin_verification_update,
)
from tests.factories import make_domain, make_node

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nodes(db):
    return [make_node(f"edge-{i}", f"http://127.0.0.1:{9900 + i}") for i in range(2)]


def ctx(user):
    return ChangeContext(user=user)


def settings_of(domain) -> OriginFetchSettings:
    return OriginFetchSettings.objects.get(domain=domain)


class TestProtocol:
    def test_a_change_is_saved_logged_and_published(self, cdn_domain, alice):
        change = origin_protocol_update(
            domain=cdn_domain, policy="follow", http_port="8080", https_port=443, context=ctx(alice)
        )
        assert change.changed and change.revision.number == 1
        assert change.revision.document["forward_scheme"] == {
            "policy": "follow",
            "http_port": 8080,
            "https_port": 443,
        }
        entry = OperationLog.objects.get(action="origin_protocol.update")
        assert entry.before["forward_scheme"] == "https" and entry.after["http_port"] == 8080

    @pytest.mark.parametrize(("policy", "https_port"), [("http", 443), ("https", 8443), ("follow", 8443)])
    def test_a_change_that_would_break_an_enabled_sni_is_refused(self, alpha, alice, policy, https_port):
        domain = make_domain(account=alpha, sni_enabled=True, sni_name="origin.example.com")
        with pytest.raises(ValidationError) as info:
            origin_protocol_update(
                domain=domain, policy=policy, http_port=80, https_port=https_port, context=ctx(alice)
            )
        assert "Turn off Origin SNI first" in info.value.message_dict["forward_scheme"][0]
        assert settings_of(domain).forward_scheme == "https" and not ConfigRevision.objects.exists()

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"policy": "ftp"}, "forward_scheme"),
            ({"http_port": 0}, "http_port"),
            ({"https_port": "x"}, "https_port"),
        ],
    )
    def test_bad_values_name_the_field(self, cdn_domain, alice, kwargs, field):
        values = {"policy": "https", "http_port": 80, "https_port": 443} | kwargs
        with pytest.raises(ValidationError) as info:
            origin_protocol_update(domain=cdn_domain, context=ctx(alice), **values)
        assert field in info.value.message_dict

    def test_the_same_values_change_nothing(self, cdn_domain, alice):
        change = origin_protocol_update(
            domain=cdn_domain, policy="https", http_port=80, https_port=443, context=ctx(alice)
        )
        assert not change.changed and not ConfigRevision.objects.exists()

    def test_a_stale_version_is_refused(self, cdn_domain, alice):
        with pytest.raises(StaleVersionError):
            origin_protocol_update(
                domain=cdn_domain,
                policy="http",
                http_port=80,
                https_port=443,
                context=ctx(alice),
                expected_version=99,
            )


class TestOriginHost:
    def test_set_and_reset(self, cdn_domain, alice):
        change = origin_host_update(domain=cdn_domain, host=" Origin.Example.NET ", context=ctx(alice))
        assert change.revision.document["origin_host"] == "origin.example.net"
        change = origin_host_update(domain=cdn_domain, host="", context=ctx(alice))
        assert change.revision.document["origin_host"] == cdn_domain.name

    def test_a_bad_host_is_refused(self, cdn_domain, alice):
        with pytest.raises(ValidationError) as info:
            origin_host_update(domain=cdn_domain, host="https://origin.example.net", context=ctx(alice))
        assert "scheme" in info.value.message_dict["origin_host"][0]


class TestVerification:
    def test_on_verifies_against_the_sni_and_publishes_no_extra_names(self, cdn_domain, alice):
        change = origin_verification_update(domain=cdn_domain, enabled=True, context=ctx(alice))
        assert change.revision.document["verify_origin"] == {"enabled": True, "common_names": []}

    @pytest.mark.parametrize("names", ["a.example.com, *.b.example.com", ["a.example.com"], ["a b"]])
    def test_extra_common_names_are_refused_with_the_reason(self, cdn_domain, alice, names):
        with pytest.raises(ValidationError) as info:
            origin_verification_update(
                domain=cdn_domain, enabled=True, common_names=names, context=ctx(alice)
            )
        (message,) = info.value.message_dict["common_names"]
        assert message.startswith("Extra acceptable common names are not supported")
        assert "against the SNI" in message
        assert not settings_of(cdn_domain).verify_origin_cert and not ConfigRevision.objects.exists()

    @pytest.mark.parametrize("names", ["", " , ", [], ["", " "]])
    def test_an_empty_list_is_accepted(self, cdn_domain, alice, names):
        change = origin_verification_update(
            domain=cdn_domain, enabled=True, common_names=names, context=ctx(alice)
        )
        assert change.changed and settings_of(cdn_domain).verify_origin_cert


class TestPerOriginSni:
    def test_a_per_origin_value_beats_the_domain_default(self, alpha, alice):
        domain = make_domain(
            account=alpha,
            sni_enabled=True,
            sni_name="default.example.com",
            origins=[(OriginType.DOMAIN, "a.origin.net", 443), (OriginType.DOMAIN, "b.origin.net", 443)],
        )
        first, second = domain.origins.order_by("id")
        origin_sni_host_update(origin=first, sni_host="Special.example.com", context=ctx(alice))
        change = origin_sni_host_update(origin=second, sni_host="ali_follow_origin", context=ctx(alice))
        origins = change.revision.document["origins"]
        assert [(o["sni"], o["sni_source"]) for o in origins] == [
            ("special.example.com", "origin"),
            ("b.origin.net", "origin_address"),
        ]
        change = origin_sni_host_update(origin=first, sni_host="", context=ctx(alice))
        assert change.revision.document["origins"][0]["sni"] == "default.example.com"

    def test_follow_host_uses_the_origin_host(self, cdn_domain, alice):
        origin = cdn_domain.origins.get()
        change = origin_sni_host_update(origin=origin, sni_host="ali_follow_host", context=ctx(alice))
        assert change.revision.document["origins"][0]["sni"] == cdn_domain.name

    def test_a_wildcard_is_refused_as_on_the_page(self, cdn_domain, alice):
        with pytest.raises(ValidationError, match="Wildcard domain names are not supported"):
            origin_sni_host_update(origin=cdn_domain.origins.get(), sni_host="*.a.com", context=ctx(alice))
        assert not ConfigRevision.objects.exists()
