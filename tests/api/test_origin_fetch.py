"""Back-to-origin settings through the REST API: ETags, If-Match (412 on a stale one, nothing changed), and
validation errors that name the field and the rule."""

from __future__ import annotations

import pytest

from accounts.audit import ChangeContext
from accounts.models import OperationLog
from api.views import origin_fetch as views
from domains.models import Domain, ProtocolPolicy
from edge.models import ConfigRevision
from origin_fetch.services import origin_host_update, origin_sni_update
from tests import factories
from tests.api.helpers import codes, messages

URL = "/api/v1/domains/www.alpha.example/origin-fetch/"
SNI = URL + "origin-sni/"

# (section, a valid PUT body)
SECTIONS = [
    ("origin-sni/", {"enabled": True, "name": "origin.alpha.example"}),
    ("protocol/", {"enabled": True, "forward_scheme": "follow", "http_port": 8080, "https_port": 443}),
    ("origin-host/", {"origin_host": "origin.alpha.example"}),
    ("verification/", {"enabled": True, "common_names": []}),
]


def _state(domain: Domain) -> tuple[object, ...]:
    domain.origin_fetch.refresh_from_db()
    settings = domain.origin_fetch
    return (
        settings.version,
        settings.sni_enabled,
        settings.sni_name,
        settings.forward_scheme,
        settings.http_port,
        settings.origin_host,
        settings.verify_origin_cert,
        OperationLog.objects.count(),
        ConfigRevision.objects.count(),
    )


def test_reading_the_settings_gives_their_version_as_etag(owner, cdn_domain) -> None:
    response = owner.get(URL)
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    assert response.json()["version"] == 1
    assert response.json()["protocol"] == {
        "enabled": True,
        "forward_scheme": "https",
        "http_port": 80,
        "https_port": 443,
    }
    assert response.json()["verification"] == {"enabled": False, "common_names": []}
    assert response.json()["origin_sni"] == {"enabled": False, "name": "", "warnings": []}
    assert response.json()["origin_host"] == {
        "origin_host_type": "domain",
        "origin_host": "",
        "effective_origin_host": "www.alpha.example",
    }


@pytest.mark.parametrize(("section", "body"), SECTIONS)
def test_a_write_with_the_current_etag_applies_and_gives_the_next_one(
    owner, cdn_domain, section, body
) -> None:
    etag = owner.get(URL + section)["ETag"]
    response = owner.put(URL + section, body, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    assert owner.get(URL)["ETag"] == '"2"'
    assert {key: response.json()[key] for key in body} == body


@pytest.mark.parametrize(("section", "body"), SECTIONS)
@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_write_with_a_stale_etag_gets_412_and_changes_nothing(
    owner, alice, cdn_domain, section, body, method
):  # type: ignore[no-untyped-def]
    stale = owner.get(URL)["ETag"]
    origin_host_update(domain=cdn_domain, host="someone.alpha.example", context=ChangeContext(user=alice))
    before = _state(cdn_domain)

    response = getattr(owner, method)(URL + section, body, format="json", HTTP_IF_MATCH=stale)

    assert response.status_code == 412
    assert codes(response) == {"non_field_errors": ["stale"]}
    assert _state(cdn_domain) == before


def test_a_change_between_reading_and_saving_is_refused_too(owner, alice, cdn_domain, monkeypatch) -> None:
    """If-Match matched when read, but someone saved before the service locked the settings."""
    real = views.origin_sni_update

    def racing(**kwargs):  # type: ignore[no-untyped-def]
        origin_host_update(domain=cdn_domain, host="racer.alpha.example", context=ChangeContext(user=alice))
        return real(**kwargs)

    monkeypatch.setattr(views, "origin_sni_update", racing)
    response = owner.put(
        SNI, {"enabled": True, "name": "origin.alpha.example"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 412
    cdn_domain.origin_fetch.refresh_from_db()
    assert (cdn_domain.origin_fetch.sni_enabled, cdn_domain.origin_fetch.version) == (False, 2)


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ('"1"', 200),
        ("*", 200),
        ('"7", "1"', 200),
        ('W/"1"', 412),
        ('"2"', 412),
        ("1", 412),
        ("garbage", 412),
    ],
)
def test_if_match_uses_the_strong_comparison_of_rfc_9110(owner, cdn_domain, if_match, status) -> None:
    body = {"enabled": True, "name": "origin.alpha.example"}
    assert owner.put(SNI, body, format="json", HTTP_IF_MATCH=if_match).status_code == status


def test_a_write_without_if_match_applies_to_the_current_version(owner, cdn_domain) -> None:
    response = owner.put(SNI, {"enabled": True, "name": "origin.alpha.example"}, format="json")
    assert response.status_code == 200
    assert response["ETag"] == '"2"'


def test_a_write_that_changes_nothing_keeps_the_etag(owner, cdn_domain) -> None:
    response = owner.put(URL + "origin-host/", {"origin_host": ""}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    assert not ConfigRevision.objects.exists()


def test_a_wildcard_sni_is_refused_with_the_rule_named(owner, cdn_domain) -> None:
    before = _state(cdn_domain)
    response = owner.put(
        SNI, {"enabled": True, "name": "*.alpha.example"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 400
    assert codes(response) == {"name": ["wildcard"]}
    assert messages(response, "name")[0].startswith("Wildcard domain names are not supported")
    assert _state(cdn_domain) == before


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "required"),
        ("192.0.2.1", "ip_literal"),
        ("[2001:db8::1]", "ip_literal"),
        ("https://origin.alpha.example", "scheme"),
        ("origin.alpha.example:443", "port"),
        ("origin.alpha.example/x", "path"),
        ("user@origin.alpha.example", "userinfo"),
        ("origin alpha.example", "whitespace"),
        ("localhost", "single_label"),
        ("-a.alpha.example", "hyphen"),
        ("a.123", "numeric_tld"),
        ("a" * 64 + ".example", "label_too_long"),
    ],
)
def test_each_sni_rule_has_its_code(owner, cdn_domain, name, code) -> None:
    response = owner.put(SNI, {"enabled": True, "name": name}, format="json")
    assert response.status_code == 400
    assert codes(response) == {"name": [code]}


def test_the_sni_is_normalised(owner, cdn_domain) -> None:
    response = owner.put(SNI, {"enabled": True, "name": " Bücher.Example. "}, format="json")
    assert response.json()["name"] == "xn--bcher-kva.example"


def test_origin_sni_needs_https_on_port_443(owner, alpha) -> None:
    factories.make_domain(account=alpha, name="www.alpha.example", policy=ProtocolPolicy.HTTP)
    response = owner.put(SNI, {"enabled": True, "name": "origin.alpha.example"}, format="json")
    assert response.status_code == 400
    assert codes(response) == {"enabled": ["requires_https"]}
    assert messages(response, "enabled") == ["Origin SNI requires back-to-origin over HTTPS (port 443)."]


def test_a_protocol_change_that_would_break_an_enabled_sni_is_refused(owner, alpha) -> None:
    factories.make_domain(
        account=alpha, name="www.alpha.example", sni_enabled=True, sni_name="o.alpha.example"
    )
    response = owner.patch(URL + "protocol/", {"forward_scheme": "http"}, format="json")
    assert response.status_code == 400
    assert codes(response) == {"forward_scheme": ["breaks_origin_sni"]}


def test_turning_the_policy_off_with_sni_on_and_no_origin_on_443_names_the_switch(owner, alpha) -> None:
    factories.make_domain(
        account=alpha,
        name="www.alpha.example",
        origins=[("ipaddr", "203.0.113.10", 8443)],
        sni_enabled=True,
        sni_name="o.alpha.example",
    )
    response = owner.patch(URL + "protocol/", {"enabled": False}, format="json")
    assert response.status_code == 400
    assert codes(response) == {"enabled": ["breaks_origin_sni"]}
    assert "none is on port 443" in messages(response, "enabled")[0]


def test_extra_common_names_are_refused_with_the_reason_and_the_schema_says_so(owner, cdn_domain) -> None:
    response = owner.put(
        URL + "verification/", {"enabled": True, "common_names": ["*.alpha.example"]}, format="json"
    )
    assert response.status_code == 400
    assert "against the SNI" in messages(response, "common_names")[0]
    assert not Domain.objects.get(pk=cdn_domain.pk).origin_fetch.verify_origin_cert
    schema = owner.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    retired = schema["components"]["schemas"]["VerificationInput"]["properties"]["common_names"]
    assert (retired["deprecated"], retired["maxItems"]) == (True, 0)


@pytest.mark.parametrize(
    ("section", "body", "expected"),
    [
        (
            "protocol/",
            {"forward_scheme": "https", "http_port": 0, "https_port": 443},
            {"http_port": ["port_range"]},
        ),
        ("protocol/", {"forward_scheme": "ftp"}, {"forward_scheme": ["invalid_choice"]}),
        ("origin-host/", {"origin_host": "*.alpha.example"}, {"origin_host": ["wildcard"]}),
        (
            "verification/",
            {"enabled": True, "common_names": ["*.alpha.example"]},
            {"common_names": ["common_names_unsupported"]},
        ),
        ("verification/", {"enabled": "perhaps"}, {"enabled": ["invalid"]}),
        ("origin-sni/", {"name": "origin.alpha.example"}, {"enabled": ["required"]}),
    ],
)
def test_section_errors_name_the_field_and_the_rule(owner, cdn_domain, section, body, expected) -> None:
    response = owner.put(URL + section, body, format="json")
    assert response.status_code == 400
    assert codes(response) == expected


def test_patch_keeps_what_it_does_not_name(owner, alpha) -> None:
    factories.make_domain(account=alpha, name="www.alpha.example", sni_name="kept.alpha.example")
    response = owner.patch(SNI, {"enabled": True}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "kept.alpha.example"
    response = owner.patch(URL + "protocol/", {"http_port": 8080}, format="json")
    assert response.json() == {
        "enabled": True,
        "forward_scheme": "https",
        "http_port": 8080,
        "https_port": 443,
    }
    response = owner.patch(URL + "protocol/", {"enabled": False}, format="json")
    assert response.json() == {
        "enabled": False,
        "forward_scheme": "https",
        "http_port": 8080,
        "https_port": 443,
    }


def test_turning_sni_off_keeps_the_name(owner, alice, cdn_domain) -> None:
    origin_sni_update(
        domain=cdn_domain, enabled=True, name="kept.alpha.example", context=ChangeContext(alice)
    )
    response = owner.put(SNI, {"enabled": False}, format="json")
    assert response.json() == {"enabled": False, "name": "kept.alpha.example", "warnings": []}


def test_a_host_that_differs_from_the_sni_is_warned_about_not_refused(owner, cdn_domain) -> None:
    owner.put(URL + "origin-host/", {"origin_host": "host.alpha.example"}, format="json")
    response = owner.put(SNI, {"enabled": True, "name": "sni.alpha.example"}, format="json")
    assert response.status_code == 200
    assert "differs from the SNI" in response.json()["warnings"][0]


def test_a_saved_change_is_published_as_a_revision_from_the_rest_api(owner, alice, cdn_domain) -> None:
    owner.put(SNI, {"enabled": True, "name": "origin.alpha.example"}, format="json")
    revision = ConfigRevision.objects.get(domain=cdn_domain)
    assert (revision.source, revision.actor, revision.number) == ("rest", alice, 1)
    assert revision.document["origin_sni"] == {"enabled": True, "name": "origin.alpha.example"}
