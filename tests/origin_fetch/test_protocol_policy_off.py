"""The origin protocol policy turned off: each origin's own port decides, as the vendor documents it, and
Origin SNI then applies to the origins on port 443, of which it needs one (SPEC.md §4.4 rule 6)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.audit import ChangeContext
from accounts.models import OperationLog
from domains.documents import fetch_of, forward_scheme_of
from domains.models import Origin, OriginFetchSettings, OriginType
from domains.origin_services import OriginInput, origin_add, origin_remove, origin_update
from edge.models import ConfigRevision
from edge_agent.contract import ForwardScheme
from origin_fetch.history import RollbackError, domain_rollback
from origin_fetch.services import origin_protocol_update, origin_sni_update
from tests.factories import make_domain

pytestmark = pytest.mark.django_db

SNI = "origin.example.com"


def ctx(user) -> ChangeContext:  # type: ignore[no-untyped-def]
    return ChangeContext(user=user)


def settings_of(domain) -> OriginFetchSettings:  # type: ignore[no-untyped-def]
    return OriginFetchSettings.objects.get(domain=domain)


def turn_off(domain, user):  # type: ignore[no-untyped-def]
    return origin_protocol_update(
        domain=domain, enabled=False, policy="https", http_port=80, https_port=443, context=ctx(user)
    )


def two_origins(alpha, *, sni: bool = True):  # type: ignore[no-untyped-def]
    return make_domain(
        account=alpha,
        origins=[(OriginType.IPADDR, "203.0.113.10", 443), (OriginType.IPADDR, "203.0.113.11", 8080)],
        sni_enabled=sni,
        sni_name=SNI if sni else "",
    )


@pytest.mark.parametrize(
    ("scheme", "port", "expected"),
    [
        (ForwardScheme("https", 80, 443), 8080, ((("https", 443),), "policy_https")),
        (ForwardScheme("http", 8000, 443), 443, ((("http", 8000),), "policy_http")),
        (ForwardScheme("follow", 80, 443), 8080, ((("http", 80), ("https", 443)), "policy_follow")),
        (ForwardScheme("https", 80, 443, enabled=False), 443, ((("https", 443),), "origin_port")),
        (ForwardScheme("https", 80, 443, enabled=False), 8443, ((("http", 8443),), "origin_port")),
        (ForwardScheme("http", 80, 443, enabled=False), 80, ((("http", 80),), "origin_port")),
    ],
)
def test_the_port_rule_is_the_vendors_and_the_edges(scheme, port, expected):
    fetch = fetch_of(scheme, port)
    assert (fetch.fetches, fetch.source) == expected
    if fetch.source != "policy_follow":  # the agent's own function, which follow's HTTP listener answers
        assert fetch.fetches == (scheme.fetch(port),)


def test_off_is_published_with_the_policy_kept_and_logged(alpha, alice):
    domain = two_origins(alpha)
    change = turn_off(domain, alice)
    assert change.revision.document["forward_scheme"] == {
        "policy": "https",
        "http_port": 80,
        "https_port": 443,
        "enabled": False,
    }
    assert change.revision.summary == "Origin protocol policy off (each origin's own port)"
    entry = OperationLog.objects.get(action="origin_protocol.update")
    assert (entry.before["forward_scheme_enabled"], entry.after["forward_scheme_enabled"]) == (True, False)
    assert [
        fetch_of(forward_scheme_of(settings_of(domain)), o.port).fetches for o in domain.origins.all()
    ] == [
        (("https", 443),),
        (("http", 8080),),
    ]

    change = origin_protocol_update(
        domain=domain, policy="https", http_port=80, https_port=443, context=ctx(alice)
    )
    assert "enabled" not in change.revision.document["forward_scheme"], "on is the default, as before"


def test_off_with_origin_sni_on_needs_an_origin_on_443(alpha, alice):
    domain = make_domain(
        account=alpha, origins=[(OriginType.IPADDR, "203.0.113.10", 8443)], sni_enabled=True, sni_name=SNI
    )
    with pytest.raises(ValidationError) as refused:
        turn_off(domain, alice)
    (message,) = refused.value.message_dict["enabled"]
    assert (
        "none is on port 443" in message
        and "Turn off Origin SNI first, or add an origin on port 443" in message
    )
    assert settings_of(domain).forward_scheme_enabled and not ConfigRevision.objects.exists()


def test_a_disabled_origin_on_443_does_not_count(alpha, alice):
    domain = two_origins(alpha)
    Origin.objects.filter(domain=domain, port=443).update(enabled=False)
    with pytest.raises(ValidationError):
        turn_off(domain, alice)


def test_with_the_policy_off_origin_sni_turns_on_only_with_an_origin_on_443(alpha, alice):
    domain = make_domain(account=alpha, origins=[(OriginType.IPADDR, "203.0.113.10", 8080)])
    turn_off(domain, alice)
    with pytest.raises(ValidationError) as refused:
        origin_sni_update(domain=domain, enabled=True, name=SNI, context=ctx(alice))
    (message,) = refused.value.message_dict["enabled"]
    assert message.startswith("Origin SNI requires back-to-origin over HTTPS (port 443). With the origin")

    origin_add(domain=domain, origin=OriginInput(OriginType.IPADDR, "203.0.113.11", 443), context=ctx(alice))
    change = origin_sni_update(domain=domain, enabled=True, name=SNI, context=ctx(alice))
    assert change.revision.document["origin_sni"] == {"enabled": True, "name": SNI}


def test_an_origin_change_that_would_leave_sni_nowhere_is_refused(alpha, alice):
    domain = two_origins(alpha)
    turn_off(domain, alice)
    on_443 = domain.origins.get(port=443)
    published = ConfigRevision.objects.count()

    with pytest.raises(ValidationError) as refused:
        origin_update(
            origin=on_443, changes=OriginInput(OriginType.IPADDR, "203.0.113.10", 8443), context=ctx(alice)
        )
    assert "Keep at least one origin on port 443" in refused.value.message_dict["port"][0]
    with pytest.raises(ValidationError) as refused:
        origin_remove(origin=on_443, context=ctx(alice))
    assert "Keep at least one origin on port 443" in refused.value.messages[0]
    assert domain.origins.get(pk=on_443.pk).port == 443 and ConfigRevision.objects.count() == published

    # With the policy on, the origins' ports do not matter to Origin SNI.
    origin_protocol_update(domain=domain, policy="https", http_port=80, https_port=443, context=ctx(alice))
    origin_remove(origin=on_443, context=ctx(alice))


def test_rollback_keeps_the_rule_and_reads_older_revisions_as_policy_on(alpha, alice):
    domain = two_origins(alpha, sni=False)
    origin_protocol_update(domain=domain, policy="https", http_port=80, https_port=8443, context=ctx(alice))
    first = ConfigRevision.objects.get(domain=domain)
    snapshot = dict(first.snapshot)
    snapshot["settings"] = {k: v for k, v in snapshot["settings"].items() if k != "forward_scheme_enabled"}
    snapshot["settings"]["verify_common_names"] = ["legacy.example.com"]  # stored before they were retired
    ConfigRevision.objects.filter(pk=first.pk).update(snapshot=snapshot)
    turn_off(domain, alice)

    revision = domain_rollback(domain=domain, number=first.number, context=ctx(alice))
    assert revision.document["forward_scheme"] == {"policy": "https", "http_port": 80, "https_port": 8443}
    assert revision.document["verify_origin"] == {"enabled": False, "common_names": []}
    assert settings_of(domain).forward_scheme_enabled

    # A revision with the policy off and Origin SNI on cannot come back once no origin is on 443.
    origin_protocol_update(domain=domain, policy="https", http_port=80, https_port=443, context=ctx(alice))
    origin_sni_update(domain=domain, enabled=True, name=SNI, context=ctx(alice))
    off = turn_off(domain, alice).revision
    origin_protocol_update(domain=domain, policy="https", http_port=80, https_port=443, context=ctx(alice))
    origin_update(
        origin=domain.origins.get(port=443),
        changes=OriginInput(OriginType.IPADDR, "203.0.113.10", 8443),
        context=ctx(alice),
    )
    snapshot = dict(off.snapshot)
    snapshot["origins"] = [o | {"port": 8443} if o["port"] == 443 else o for o in snapshot["origins"]]
    ConfigRevision.objects.filter(pk=off.pk).update(snapshot=snapshot)
    with pytest.raises(RollbackError, match="no origin of this domain is on port 443"):
        domain_rollback(domain=domain, number=off.number, context=ctx(alice))
