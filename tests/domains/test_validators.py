"""Accelerated domain names (wildcards allowed as the first label) and origins."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from domains.validators import validate_domain_name, validate_origin


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("WWW.Example.com.", "www.example.com"),
        ("*.example.com", "*.example.com"),
        ("*.Bücher.example", "*.xn--bcher-kva.example"),
    ],
)
def test_domain_names(raw: str, normalized: str) -> None:
    assert validate_domain_name(raw) == normalized


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("a.*.example.com", "wildcard"),
        ("*example.com", "wildcard"),
        ("**.example.com", "wildcard"),
        ("*.com.", "single_label"),
        ("203.0.113.5", "ip_literal"),
        ("http://a.com", "scheme"),
    ],
)
def test_domain_name_refusals(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_domain_name(raw)
    assert info.value.code == code


def origin(**overrides: object) -> dict[str, object]:
    return {
        "type": "domain",
        "address": "Origin.Example.net",
        "port": 443,
        "priority": 20,
        "weight": 10,
    } | overrides


def test_a_valid_origin_is_normalised() -> None:
    assert validate_origin(**origin())["address"] == "origin.example.net"
    assert validate_origin(**origin(type="ipaddr", address=" 2001:DB8::1 "))["address"] == "2001:db8::1"
    assert validate_origin(**origin(type="oss", address="bucket.oss-cn-hangzhou.aliyuncs.com"))


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"type": "ipaddr", "address": "origin.example.net"}, "address", "is not an IP address"),
        ({"address": "bad_name.example"}, "address", "letters, digits and hyphens"),
        ({"address": "*.example.net"}, "address", "Wildcard"),
        ({"port": 0}, "port", "between 1 and 65535"),
        ({"port": 65536}, "port", "between 1 and 65535"),
        ({"priority": 25}, "priority", "primary (20) or backup (30)"),
        ({"weight": 0}, "weight", "between 1 and 100"),
        ({"weight": 101}, "weight", "between 1 and 100"),
        ({"type": "ftp"}, "type", "Choose the origin type"),
    ],
)
def test_origin_refusals_name_the_field_and_the_rule(overrides: dict, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_origin(**origin(**overrides))
    assert words in " ".join(info.value.message_dict[field])
