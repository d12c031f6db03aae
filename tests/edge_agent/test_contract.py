"""The wire contract: what the console may publish and the agent applies, and how a break is named."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent.contract import ContractError, DomainDocument, Tombstone, is_host_name, parse


def document(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": 1,
        "domain": "www.example.com",
        "revision": 3,
        "product": "cdn",
        "enabled": True,
        "origins": [
            {
                "type": "ipaddr",
                "address": "192.0.2.10",
                "port": 443,
                "priority": 20,
                "weight": 10,
                "sni": "origin.example.com",
                "sni_source": "domain",
            },
            {
                "type": "domain",
                "address": "backup.example.net",
                "port": 8443,
                "priority": 30,
                "weight": 100,
                "sni": None,
                "sni_source": "none",
            },
        ],
        "forward_scheme": {"policy": "https", "http_port": 80, "https_port": 443},
        "origin_host": "www.example.com",
        "origin_sni": {"enabled": True, "name": "origin.example.com"},
        "verify_origin": {"enabled": True, "common_names": ["*.example.net", "origin.example.org"]},
    }
    for path, value in changes.items():
        target = doc
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[int(keys[-1]) if isinstance(target, list) else keys[-1]] = value
    return doc


def test_a_console_document_round_trips() -> None:
    doc = document()
    parsed = parse(doc)
    assert isinstance(parsed, DomainDocument)
    assert (
        parsed.origins[1].address == "backup.example.net"
        and parsed.verify_origin.common_names[0] == "*.example.net"
    )
    assert parsed.as_dict() == doc
    assert parse(parsed.as_dict()) == parsed


def test_a_tombstone_round_trips() -> None:
    parsed = parse({"domain": "*.example.com", "revision": 4, "deleted": True, "schema": 1})
    assert parsed == Tombstone("*.example.com", 4)
    assert parse(parsed.as_dict()) == parsed


def test_ipv6_origins_and_a_wildcard_domain_pass() -> None:
    doc = document(
        domain="*.shop.example.com", origins__0__address="2001:db8::1", origin_host="*.shop.example.com"
    )
    assert parse(doc).origins[0].address == "2001:db8::1"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"origins__0__address": "fe80::1%x;}"}, "origins[0].address", "without a zone id"),
        ({"origins__0__address": "[2001:db8::1]"}, "origins[0].address", "IPv4 or IPv6"),
        ({"origins__0__address": "origin.example.com"}, "origins[0].address", "IPv4 or IPv6"),
        ({"origins__1__address": "a b.example.com"}, "origins[1].address", "host name"),
        ({"origins__1__address": "*.example.com"}, "origins[1].address", "host name"),
        ({"origins__1__address": "origin.example.com:80"}, "origins[1].address", "host name"),
        ({"origins__0__sni": "*.example.com"}, "origins[0].sni", "never a wildcard"),
        ({"origins__0__sni": "192.0.2.1"}, "origins[0].sni", "nor an IP address"),
        ({"origins__0__sni": "a.test; proxy_ssl_verify off"}, "origins[0].sni", "host name"),
        ({"origins__0__port": 0}, "origins[0].port", "1 to 65535"),
        ({"origins__0__port": 65536}, "origins[0].port", "1 to 65535"),
        ({"origins__0__port": "443"}, "origins[0].port", "1 to 65535"),
        ({"origins__0__weight": 0}, "origins[0].weight", "1 to 100"),
        ({"origins__0__weight": True}, "origins[0].weight", "1 to 100"),
        ({"origins__0__priority": -1}, "origins[0].priority", "0 to 1000"),
        ({"origins__0__type": "ftp"}, "origins[0].type", "ipaddr, domain or oss"),
        ({"forward_scheme__https_port": 70000}, "forward_scheme.https_port", "1 to 65535"),
        ({"forward_scheme__policy": "gopher"}, "forward_scheme.policy", "follow, http or https"),
        ({"origin_host": 'a.test"; } server { listen 80'}, "origin_host", "host name"),
        ({"origin_host": "a.test$request_uri"}, "origin_host", "host name"),
        ({"origin_sni__name": "*.example.com"}, "origin_sni.name", "never a wildcard"),
        ({"origin_sni__name": ""}, "origin_sni.name", "required"),
        (
            {"verify_origin__common_names": ["ok.example.com", "bad name"]},
            "verify_origin.common_names[1]",
            "wildcard",
        ),
        (
            {"verify_origin__common_names": [f"n{i}.example.com" for i in range(21)]},
            "verify_origin.common_names",
            "20",
        ),
        ({"domain": "Www.Example.com"}, "domain", "lower-case"),
        ({"domain": "../../etc/passwd"}, "domain", "host name"),
        ({"domain": "a.*.example.com"}, "domain", "host name"),
        ({"domain": "1.2.3.4"}, "domain", "host name"),
        ({"revision": 0}, "revision", "at least 1"),
        ({"enabled": "yes"}, "enabled", "true or false"),
        ({"schema": 2}, "schema", "must be 1"),
    ],
)
def test_each_break_names_its_field_and_rule(changes: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ContractError) as caught:
        parse(document(**changes))
    assert caught.value.field == field
    assert words in caught.value.rule
    assert str(caught.value).startswith(f"{field}: ")


def test_an_error_shows_no_value_of_the_document() -> None:
    secret = "203.0.113.99%eth0"
    with pytest.raises(ContractError) as caught:
        parse(document(origins__0__address=secret))
    assert secret not in str(caught.value)


def test_ports_follow_the_vendor_rule() -> None:
    policy = parse(document()).forward_scheme
    assert policy.fetch(8443) == ("https", 443), "with a protocol policy its port wins"
    off = parse(
        document(forward_scheme={"policy": "http", "http_port": 80, "https_port": 443, "enabled": False})
    )
    assert off.forward_scheme.fetch(8443) == ("http", 8443) and off.forward_scheme.fetch(443) == (
        "https",
        443,
    )
    assert parse(off.as_dict()) == off


labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)


@given(st.lists(labels, min_size=2, max_size=4).filter(lambda ls: not ls[-1].isdigit()))
def test_every_name_the_console_grammar_allows_is_a_host_name(parts: list[str]) -> None:
    name = ".".join(parts)
    assert is_host_name(name)
    doc = document(domain=name, origins__1__address=name, origin_sni__name=name)
    assert parse(copy.deepcopy(parse(doc).as_dict())).domain == name
