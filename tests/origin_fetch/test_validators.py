"""Every Origin SNI rule of SPEC.md §4.4, one test per rule, plus property tests over the grammar."""

from __future__ import annotations

import re
import string

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from domains.models import OriginType
from origin_fetch.validators import (
    FOLLOW_HOST,
    FOLLOW_ORIGIN,
    origin_sni_notes,
    origin_sni_warnings,
    sni_allowed,
    validate_origin_sni,
    validate_origin_sni_host,
    validate_protocol_change,
    validate_sni_name,
)


def refusal(value: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_sni_name(value)
    return info.value


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("origin.example.com", "origin.example.com"),
        ("  origin.example.com  ", "origin.example.com"),  # spaces around are trimmed
        ("Origin.EXAMPLE.com", "origin.example.com"),  # upper case is lowered
        ("origin.example.com.", "origin.example.com"),  # one trailing dot dropped
        ("bücher.example", "xn--bcher-kva.example"),  # internationalised names become punycode
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a-b.c0.example", "a-b.c0.example"),
        ("1origin.example.com", "1origin.example.com"),  # labels may start with a digit
        ("a." + "b" * 63 + ".com", "a." + "b" * 63 + ".com"),  # a 63-character label
    ],
)
def test_valid_names_are_normalized(raw: str, normalized: str) -> None:
    assert validate_sni_name(raw) == normalized


def test_exactly_253_characters_is_accepted_and_254_is_not() -> None:
    name_253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
    assert len(name_253) == 253
    assert validate_sni_name(name_253) == name_253
    assert validate_sni_name(name_253 + ".") == name_253  # the trailing dot does not count
    error = refusal(name_253 + "e")
    assert error.code == "too_long"
    assert "254" in error.messages[0] and "253" in error.messages[0]


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        ("", "required", "The SNI is required"),
        ("   ", "required", "The SNI is required"),
        ("*.example.com", "wildcard", "Wildcard domain names are not supported"),
        ("origin.*.com", "wildcard", "Wildcard domain names are not supported"),
        ("*", "wildcard", "Wildcard domain names are not supported"),
        ("192.0.2.10", "ip_literal", "IP address"),
        ("2001:db8::1", "ip_literal", "IP address"),
        ("[2001:db8::1]", "ip_literal", "IP address"),
        ("192.0.2.10:443", "ip_literal", "IP address"),
        ("https://origin.example.com", "scheme", "scheme"),
        ("HTTP://origin.example.com", "scheme", "scheme"),
        ("origin.example.com:443", "port", "port"),
        ("origin.example.com/path", "path", "path"),
        ("origin.example.com?x=1", "path", "path"),
        ("user@origin.example.com", "userinfo", "user info"),
        ("origin example.com", "whitespace", "spaces"),
        ("origin.exa\tmple.com", "whitespace", "spaces"),
        ("a" * 64 + ".example.com", "label_too_long", "at most 63"),
        ("localhost", "single_label", "at least two labels"),
        ("origin..example.com", "empty_label", "empty label"),
        (".example.com", "empty_label", "empty label"),
        ("origin.example.com..", "empty_label", "empty label"),
        ("-origin.example.com", "hyphen", "hyphen"),
        ("origin-.example.com", "hyphen", "hyphen"),
        ("origin_1.example.com", "invalid_characters", "“_”"),
        ("origin!.example.com", "invalid_characters", "“!”"),
        ("origin.example.123", "numeric_tld", "all digits"),
        ("bad\u0000.example", "invalid_characters", "letters, digits and hyphens"),
    ],
)
def test_each_rule_refuses_with_its_own_message(raw: str, code: str, words: str) -> None:
    error = refusal(raw)
    assert error.code == code
    assert words in error.messages[0]


def test_each_rule_has_a_distinct_message() -> None:
    samples = [
        "",
        "*.example.com",
        "192.0.2.1",
        "https://a.com",
        "a.com:443",
        "a.com/x",
        "u@a.com",
        "a b.com",
        "a" * 64 + ".com",
        "com",
        "a..com",
        "-a.com",
        "a_b.com",
        "a.123",
        ".".join(["a" * 63] * 4),
    ]
    codes = [refusal(s).code for s in samples]
    assert len(set(codes)) == len(samples), codes


class TestValidateOriginSni:
    def test_turning_on_needs_a_name(self) -> None:
        with pytest.raises(ValidationError) as info:
            validate_origin_sni(enabled=True, name=" ", policy="https", https_port=443)
        assert list(info.value.error_dict) == ["name"]
        assert info.value.error_dict["name"][0].code == "required"

    @pytest.mark.parametrize(("policy", "port"), [("https", 443), ("follow", 443)])
    def test_on_with_https_on_443(self, policy: str, port: int) -> None:
        assert validate_origin_sni(enabled=True, name="A.example.com", policy=policy, https_port=port) == (
            "a.example.com"
        )

    @pytest.mark.parametrize(("policy", "port"), [("http", 443), ("https", 8443), ("follow", 8443)])
    def test_on_without_https_on_443_is_refused(self, policy: str, port: int) -> None:
        with pytest.raises(ValidationError) as info:
            validate_origin_sni(enabled=True, name="a.example.com", policy=policy, https_port=port)
        error = info.value.error_dict["enabled"][0]
        assert error.code == "requires_https"
        assert "Origin SNI requires back-to-origin over HTTPS (port 443)" in error.messages[0]

    def test_both_problems_are_reported_together(self) -> None:
        with pytest.raises(ValidationError) as info:
            validate_origin_sni(enabled=True, name="*.a.com", policy="http", https_port=443)
        assert set(info.value.error_dict) == {"name", "enabled"}

    def test_turning_off_needs_no_name_and_no_https(self) -> None:
        assert validate_origin_sni(enabled=False, name="", policy="http", https_port=443) == ""

    def test_a_name_kept_while_off_is_still_checked(self) -> None:
        assert validate_origin_sni(enabled=False, name="Kept.example.com", policy="http", https_port=80) == (
            "kept.example.com"
        )
        with pytest.raises(ValidationError):
            validate_origin_sni(enabled=False, name="*.example.com", policy="http", https_port=80)


def test_sni_allowed_only_over_https_on_443() -> None:
    assert sni_allowed(policy="https", https_port=443)
    assert sni_allowed(policy="follow", https_port=443)
    assert not sni_allowed(policy="http", https_port=443)
    assert not sni_allowed(policy="https", https_port=444)


def test_a_protocol_change_that_breaks_an_enabled_sni_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        validate_protocol_change(sni_enabled=True, policy="http", https_port=443)
    assert "Turn off Origin SNI first" in info.value.error_dict["forward_scheme"][0].messages[0]
    validate_protocol_change(sni_enabled=False, policy="http", https_port=443)
    validate_protocol_change(sni_enabled=True, policy="follow", https_port=443)


class TestPerOriginSni:
    def test_empty_means_the_domain_default(self) -> None:
        assert validate_origin_sni_host("  ", origin_type=OriginType.DOMAIN) == ""

    def test_the_two_keywords(self) -> None:
        assert validate_origin_sni_host("ali_follow_host", origin_type=OriginType.IPADDR) == FOLLOW_HOST
        assert validate_origin_sni_host("ALI_FOLLOW_ORIGIN", origin_type=OriginType.DOMAIN) == FOLLOW_ORIGIN

    def test_follow_origin_on_an_ip_origin_is_refused(self) -> None:
        with pytest.raises(ValidationError) as info:
            validate_origin_sni_host(FOLLOW_ORIGIN, origin_type=OriginType.IPADDR)
        assert info.value.code == "follow_origin_ip"

    def test_a_name_follows_the_sni_rules(self) -> None:
        assert validate_origin_sni_host("B.example.com", origin_type=OriginType.IPADDR) == "b.example.com"
        with pytest.raises(ValidationError, match="Wildcard"):
            validate_origin_sni_host("*.example.com", origin_type=OriginType.IPADDR)


def test_oss_note_only_when_every_origin_is_oss() -> None:
    assert "OSS origins need no SNI" in origin_sni_notes(origins_all_oss=True)[0]
    assert origin_sni_notes(origins_all_oss=False) == []


def test_warning_when_origin_host_and_sni_differ() -> None:
    [warning] = origin_sni_warnings(enabled=True, name="a.example.com", origin_host="www.example.com")
    assert "www.example.com" in warning and "a.example.com" in warning
    assert origin_sni_warnings(enabled=True, name="www.example.com", origin_host="WWW.example.com") == []
    assert origin_sni_warnings(enabled=False, name="a.example.com", origin_host="www.example.com") == []


# --- Property tests: the validator accepts every name of the grammar and nothing outside it. ---

LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
ldh_label = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
top_label = ldh_label.filter(lambda label: not label.isdigit())
grammar_names = (
    st.tuples(st.lists(ldh_label, min_size=1, max_size=5), top_label)
    .map(lambda parts: ".".join([*parts[0], parts[1]]))
    .filter(lambda name: len(name) <= 253)
)


def in_grammar(raw: str) -> bool:
    """An independent statement of the grammar, for ASCII input."""
    name = raw.strip(" ").lower()
    if name.endswith("."):
        name = name[:-1]
    labels = name.split(".")
    return (
        len(name) <= 253
        and len(labels) >= 2
        and all(LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


@given(name=grammar_names, upper=st.booleans(), dot=st.booleans(), pad=st.sampled_from(["", " ", "  "]))
def test_every_name_of_the_grammar_is_accepted(name: str, upper: bool, dot: bool, pad: str) -> None:
    raw = pad + (name.upper() if upper else name) + ("." if dot else "") + pad
    assert validate_sni_name(raw) == name


@given(raw=st.text(alphabet=string.ascii_letters + string.digits + "-.*:/@_ [] %", max_size=80))
@example(raw="1.2.3.4")
@example(raw="a.b")
@example(raw="a-.b")
@example(raw="a.b.")
@example(raw="a.b..")
def test_nothing_outside_the_grammar_is_accepted(raw: str) -> None:
    try:
        result = validate_sni_name(raw)
    except ValidationError:
        assert not in_grammar(raw)
    else:
        assert in_grammar(raw), f"accepted {raw!r} as {result!r}"
        assert in_grammar(result) and result == result.lower() and not result.endswith(".")


@given(raw=st.text(max_size=40))
def test_any_text_is_either_refused_with_a_message_or_normalised_into_the_grammar(raw: str) -> None:
    try:
        result = validate_sni_name(raw)
    except ValidationError as exc:
        assert exc.messages and all(message.strip() for message in exc.messages)
    else:
        assert result.isascii() and in_grammar(result)
