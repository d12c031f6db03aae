"""One wire contract: every document the console can publish is one the agents accept and serve.

Settings are generated as raw input, passed through the console's own validators (the rules every entry
point applies), compiled by the console into the config document, then read by the agent's contract and
compiled into the record its nginx serves. Whatever passes the console must pass the agent.
"""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from domains.documents import compile_domain_config, domain_document_check
from domains.models import (
    FOLLOW_HOST,
    FOLLOW_ORIGIN,
    Domain,
    DomainStatus,
    Origin,
    OriginFetchSettings,
    OriginType,
    Product,
)
from domains.origin_services import OriginInput, clean_origins
from domains.validators import validate_domain_name
from edge_agent import contract
from edge_agent.runtime import compile_record
from origin_fetch.validators import (
    validate_no_common_names,
    validate_origin_host,
    validate_origin_sni,
    validate_origin_sni_host,
    validate_protocol,
)


def mostly(valid: st.SearchStrategy, invalid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly `valid`: bad input is tried too, without most examples being refused."""
    return st.sampled_from([True] * 15 + [False]).flatmap(lambda ok: valid if ok else invalid)


ALNUM = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6)
LABEL = st.builds(lambda a, b, hyphen: a + ("-" if hyphen else "") + b, ALNUM, ALNUM, st.booleans())
ODD_LABEL = st.sampled_from(["bücher", "xn--bcher-kva", "EXAMPLE", "a", "9", "münchen", "-x", "a_b"])
NAME = st.builds(
    lambda labels, tld, dot: ".".join([*labels, tld]) + ("." if dot else ""),
    st.lists(mostly(LABEL, ODD_LABEL), min_size=1, max_size=3),
    mostly(st.sampled_from(["com", "net", "example", "cn", "xn--fiqs8s"]), st.just("123")),
    st.booleans(),
)
# As typed: with spaces around, in capitals.
TYPED = st.builds(
    lambda name, space, upper: (" " if space else "") + (name.upper() if upper else name),
    NAME,
    st.booleans(),
    st.booleans(),
)
IP = mostly(
    st.ip_addresses().map(str) | st.sampled_from(["2001:DB8::1", "2001:0db8:0000::0001"]),
    st.sampled_from(["fe80::1%eth0", "999.1.1.1", "[2001:db8::1]"]),
)
ADDRESS = {OriginType.IPADDR: IP, OriginType.DOMAIN: mostly(TYPED, IP), OriginType.OSS: TYPED}
SNI_HOST = mostly(
    st.sampled_from(["", FOLLOW_ORIGIN, FOLLOW_HOST, "ALI_FOLLOW_HOST"]) | TYPED, st.just("*.wild.example")
)
PORT = mostly(
    st.integers(min_value=1, max_value=65535) | st.sampled_from([80, 443, 8080]), st.sampled_from([0, 70000])
)
HTTPS_PORT = mostly(st.just(443), PORT)


@st.composite
def origins(draw: st.DrawFn) -> list[tuple[OriginInput, str, bool]]:
    result = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(OriginType.values))
        origin = OriginInput(
            type=kind,
            address=draw(ADDRESS[kind]),
            port=draw(PORT),
            priority=draw(mostly(st.sampled_from([20, 30]), st.just(25))),
            weight=draw(mostly(st.integers(min_value=1, max_value=100), st.sampled_from([0, 101]))),
        )
        result.append((origin, draw(SNI_HOST), draw(st.booleans())))
    return result


def _cleaned(
    name,
    product,
    enabled,
    raw_origins,
    policy_on,
    policy,
    http_port,
    https_port,
    sni_on,
    sni,
    host,
    verify,
    names,
) -> tuple[Domain, OriginFetchSettings, list[Origin]]:
    """The console's rules applied as the services apply them; ValidationError when any refuses."""
    domain = Domain(
        pk=1,
        name=validate_domain_name(name),
        product=product,
        status=DomainStatus.ONLINE if enabled else DomainStatus.OFFLINE,
        cname="c.example.net",
    )
    cleaned = clean_origins([origin for origin, _, _ in raw_origins])
    protocol = validate_protocol(enabled=policy_on, policy=policy, http_port=http_port, https_port=https_port)
    sni_name = validate_origin_sni(
        enabled=sni_on,
        name=sni,
        policy=protocol["forward_scheme"],
        https_port=protocol["https_port"],
        policy_enabled=policy_on,
        origin_ports=[values["port"] for values, (*_, on) in zip(cleaned, raw_origins, strict=True) if on],
    )
    validate_no_common_names(names)
    followed = any(value.strip().lower() == FOLLOW_HOST for _, value, _ in raw_origins)
    origin_host = validate_origin_host(host, domain_name=domain.name, followed=followed)
    settings_row = OriginFetchSettings(
        domain=domain,
        **protocol,
        sni_enabled=sni_on,
        sni_name=sni_name,
        origin_host=origin_host,
        verify_origin_cert=verify,
    )
    rows = []
    for n, (values, (_, sni_host, origin_enabled)) in enumerate(zip(cleaned, raw_origins, strict=True)):
        value = validate_origin_sni_host(
            sni_host, origin_type=values["type"], origin_host=settings_row.effective_origin_host
        )
        rows.append(Origin(pk=n + 1, domain=domain, **values, enabled=origin_enabled, sni_host=value))
    return domain, settings_row, rows


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(
    name=st.builds(lambda wild, n: ("*." if wild else "") + n, st.booleans(), NAME),
    product=st.sampled_from(Product.values),
    enabled=st.booleans(),
    raw_origins=origins(),
    policy_on=st.booleans(),
    policy=mostly(st.sampled_from(["follow", "http", "https"]), st.just("ftp")),
    http_port=PORT,
    https_port=HTTPS_PORT,
    sni_on=st.booleans(),
    sni=mostly(TYPED, st.sampled_from(["", "*.example.com", "203.0.113.1"])),
    host=st.just("") | TYPED,
    verify=st.booleans(),
    names=mostly(st.just([]), st.lists(st.sampled_from(["*.example.com", "a.example.com"]), max_size=2)),
)
def test_every_document_the_console_can_publish_is_accepted_and_served_by_the_agent(**inputs):
    try:
        domain, settings_row, rows = _cleaned(**inputs)
    except ValidationError:
        assume(False)
    domain.origin_fetch = settings_row
    domain._prefetched_objects_cache = {"origins": Domain.objects.none()}
    domain._prefetched_objects_cache["origins"]._result_cache = rows

    document = compile_domain_config(domain, revision=7).as_dict()
    domain_document_check(document)  # the console's own guard before publishing
    parsed = contract.parse(json.loads(json.dumps(document)))  # as the agent receives it
    assert parsed.as_dict() == document
    record = json.loads(compile_record(parsed))
    assert (record["k"], record["r"], record["on"]) == (domain.name, 7, inputs["enabled"])
    assert sum(len(level) for level in record["o"]) == sum(1 for row in rows if row.enabled)


def test_a_document_the_agent_would_refuse_is_refused_at_the_console_with_the_rule():
    document = {
        "schema": 1,
        "domain": "www.example.com",
        "revision": 2,
        "product": "cdn",
        "enabled": True,
        "origins": [
            {
                "type": "ipaddr",
                "address": "fe80::1%x;}",
                "port": 443,
                "priority": 20,
                "weight": 10,
                "sni": None,
            }
        ],
        "forward_scheme": {"policy": "https", "http_port": 80, "https_port": 443},
        "origin_host": "",
        "origin_sni": {"enabled": False, "name": ""},
        "verify_origin": {"enabled": False, "common_names": []},
    }
    with pytest.raises(ValidationError) as refused:
        domain_document_check(document)
    message = " ".join(refused.value.messages)
    assert "www.example.com" in message and "origins[0].address" in message
    assert "fe80" not in message  # the rule, never the value


def test_the_console_refuses_an_ipv6_zone_id_in_an_origin_with_its_own_message():
    with pytest.raises(ValidationError) as refused:
        clean_origins([OriginInput(OriginType.IPADDR, "fe80::1%x;}", 443)])
    assert "Remove the zone" in " ".join(refused.value.messages)
