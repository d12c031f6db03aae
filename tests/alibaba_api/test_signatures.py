"""Signature checks of the Alibaba-compatible API against requests the official SDKs really sent."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alibaba_api.signatures import (
    V1_SIGNATURE_FIELDS,
    SignatureError,
    SignedRequest,
    VerifiedRequest,
    parse_query,
    percent_encode,
    sign_v1,
    sign_v3,
    verify,
)

# A copy of /work/shared/vectors kept in the repository, so the tests run from any clone.
VECTORS_DIR = Path(__file__).resolve().parent / "vectors"
AKID = "testAKID"
SECRET = "testSecret"
NOW = datetime(2026, 11, 22, 15, 0, 0, tzinfo=UTC)


def load_vectors() -> list[Any]:
    vectors = []
    for path in sorted(VECTORS_DIR.glob("*.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if line.strip():
                vectors.append(pytest.param(json.loads(line), id=f"{path.stem}:{number}"))
    return vectors


VECTORS = load_vectors()


def to_request(vector: dict[str, Any]) -> SignedRequest:
    return SignedRequest(
        method=vector["method"],
        path=vector["path"],
        query=parse_query(vector["raw_query"]),
        headers={name.lower(): value for name, value in vector["headers"]},
        body=vector["body"].encode(),
    )


def is_v3(request: SignedRequest) -> bool:
    return "authorization" in request.headers


def signed_header_names(request: SignedRequest) -> list[str]:
    signed = request.headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
    return signed.split(";")


def known_key(access_key_id: str) -> str | None:
    return SECRET if access_key_id == AKID else None


def any_key(access_key_id: str) -> str:
    """Every key id has the test secret: a changed AccessKeyId then fails on the signature itself."""
    return SECRET


def check(request: SignedRequest, **kwargs: Any) -> VerifiedRequest:
    kwargs.setdefault("secret_for", known_key)
    kwargs.setdefault("check_clock", False)
    return verify(request, **kwargs)


def error_of(request: SignedRequest, **kwargs: Any) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        check(request, **kwargs)
    return caught.value


def v3_request(
    *,
    query: list[tuple[str, str]] | None = None,
    date: datetime = NOW,
    nonce: str = "nonce-1",
    body: bytes = b"",
    extra_headers: dict[str, str] | None = None,
    access_key_id: str = AKID,
) -> SignedRequest:
    query = query if query is not None else [("DomainName", "example.com")]
    headers = {
        "host": "127.0.0.1:8000",
        "x-acs-action": "DescribeCdnDomainDetail",
        "x-acs-version": "2018-05-10",
        "x-acs-date": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce,
        "accept": "application/json",
        **(extra_headers or {}),
    }
    headers |= sign_v3(
        method="POST",
        path="/",
        query=query,
        headers=headers,
        body=body,
        access_key_id=access_key_id,
        secret=SECRET,
    )
    return SignedRequest(method="POST", path="/", query=query, headers=headers, body=body)


def v1_request(
    *,
    params: dict[str, str] | None = None,
    timestamp: datetime = NOW,
    nonce: str = "nonce-1",
    method: str = "POST",
) -> SignedRequest:
    params = (
        params if params is not None else {"Action": "DescribeCdnDomainDetail", "DomainName": "example.com"}
    )
    signed = sign_v1(
        method=method, params=params, access_key_id=AKID, secret=SECRET, nonce=nonce, timestamp=timestamp
    )
    query = parse_query(urlencode(signed, quote_via=quote))
    return SignedRequest(method=method, path="/", query=query, headers={"host": "127.0.0.1:8000"}, body=b"")


# --- the captured SDK requests ---


def test_the_vectors_cover_both_signature_styles() -> None:
    styles = {is_v3(to_request(vector.values[0])) for vector in VECTORS}
    assert len(VECTORS) >= 11
    assert styles == {True, False}


@pytest.mark.parametrize("vector", VECTORS)
def test_it_accepts_every_captured_sdk_request(vector: dict[str, Any]) -> None:
    request = to_request(vector)

    verified = check(request)

    assert verified.access_key_id == AKID
    assert verified.style == ("v3" if is_v3(request) else "v1")
    if is_v3(request):
        assert verified.action == request.headers["x-acs-action"]
        assert verified.version == request.headers["x-acs-version"]
        assert verified.params == vector["query"]
        assert verified.nonce == request.headers["x-acs-signature-nonce"]
    else:
        assert verified.action == vector["query"]["Action"]
        assert verified.version == vector["query"]["Version"]
        assert verified.params == {k: v for k, v in vector["query"].items() if k not in V1_SIGNATURE_FIELDS}
        assert verified.nonce == vector["query"]["SignatureNonce"]
    assert verified.timestamp.tzinfo == UTC
    assert verified.timestamp.date().isoformat() == "2026-11-22"


@pytest.mark.parametrize("vector", VECTORS)
def test_it_rejects_a_captured_request_after_any_query_value_changes(vector: dict[str, Any]) -> None:
    request = to_request(vector)
    for index, (key, value) in enumerate(request.query):
        query = list(request.query)
        query[index] = (key, value + "x")
        changed = dataclasses.replace(request, query=query)

        error = error_of(changed, secret_for=any_key)

        # An unknown SignatureMethod is refused before any signature is computed.
        expected = "IncompleteSignature" if key == "SignatureMethod" else "SignatureDoesNotMatch"
        assert error.code == expected, key


@pytest.mark.parametrize("vector", VECTORS)
def test_it_rejects_a_captured_request_with_an_added_query_parameter(vector: dict[str, Any]) -> None:
    request = to_request(vector)
    changed = dataclasses.replace(request, query=[*request.query, ("PageSize", "50")])

    assert error_of(changed).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("vector", VECTORS)
def test_it_rejects_a_captured_request_sent_with_another_method(vector: dict[str, Any]) -> None:
    changed = dataclasses.replace(to_request(vector), method="GET")

    assert error_of(changed).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("vector", VECTORS)
def test_it_rejects_a_captured_request_checked_with_another_secret(vector: dict[str, Any]) -> None:
    error = error_of(to_request(vector), secret_for=lambda key: "otherSecret")

    assert error.code == "SignatureDoesNotMatch"
    assert error.http_status == 400
    assert error.message.startswith("Specified signature is not matched with our calculation.")


@pytest.mark.parametrize("vector", [v for v in VECTORS if is_v3(to_request(v.values[0]))])
def test_it_rejects_a_captured_v3_request_after_any_signed_header_changes(vector: dict[str, Any]) -> None:
    request = to_request(vector)
    for name in signed_header_names(request):
        changed = dataclasses.replace(request, headers={**request.headers, name: request.headers[name] + "x"})

        assert error_of(changed).code == "SignatureDoesNotMatch", name


@pytest.mark.parametrize("vector", [v for v in VECTORS if is_v3(to_request(v.values[0]))])
def test_it_rejects_a_captured_v3_request_whose_body_changed(vector: dict[str, Any]) -> None:
    changed = dataclasses.replace(to_request(vector), body=b"DomainName=evil.example.com")

    error = error_of(changed)

    assert error.code == "SignatureDoesNotMatch"
    assert "x-acs-content-sha256" in error.message


@pytest.mark.parametrize("vector", [v for v in VECTORS if not is_v3(to_request(v.values[0]))])
def test_it_takes_a_v1_action_from_the_signed_query_not_from_unsigned_headers(vector: dict[str, Any]) -> None:
    request = to_request(vector)
    changed = dataclasses.replace(
        request, headers={**request.headers, "x-acs-action": "DeleteSpecificConfig"}
    )

    assert check(changed).action == vector["query"]["Action"]


# --- encoding ---


def test_it_percent_encodes_per_rfc_3986() -> None:
    assert percent_encode("*.ex ample~ü+/&=%") == "%2A.ex%20ample~%C3%BC%2B%2F%26%3D%25"
    assert percent_encode("AZaz09-_.~") == "AZaz09-_.~"


def test_it_reads_a_plus_in_the_raw_query_as_a_space() -> None:
    assert parse_query("a=x+y&b=%2B&c=&a=2") == [("a", "x y"), ("b", "+"), ("c", ""), ("a", "2")]


# --- round trips ---


def test_a_v3_request_signed_here_verifies() -> None:
    verified = check(v3_request(query=[("DomainName", "a b*~.example"), ("PageSize", "20")]))

    assert verified.style == "v3"
    assert verified.params == {"DomainName": "a b*~.example", "PageSize": "20"}
    assert verified.action == "DescribeCdnDomainDetail"
    assert verified.version == "2018-05-10"
    assert verified.timestamp == NOW


def test_a_v3_request_with_a_form_body_verifies_and_yields_its_parameters() -> None:
    request = v3_request(
        body=b"Functions=%5B%5D&DomainNames=a.com",
        extra_headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert check(request).params == {"DomainName": "example.com", "Functions": "[]", "DomainNames": "a.com"}


def test_a_v3_request_verifies_with_an_unsigned_content_type_added_on_the_way() -> None:
    request = v3_request()
    changed = dataclasses.replace(request, headers={**request.headers, "content-type": "text/plain"})

    assert check(changed).style == "v3"


def test_a_v3_request_keeps_duplicate_query_keys_in_the_signature() -> None:
    request = v3_request(query=[("DomainName", "b.com"), ("DomainName", "a.com")])
    dropped = dataclasses.replace(request, query=request.query[:1])

    check(request)
    assert error_of(dropped).code == "SignatureDoesNotMatch"


def test_a_v1_request_signed_here_verifies() -> None:
    verified = check(
        v1_request(params={"Action": "DescribeCdnDomainDetail", "Version": "2018-05-10", "X": "a b*"})
    )

    assert verified.style == "v1"
    assert verified.params == {"Action": "DescribeCdnDomainDetail", "Version": "2018-05-10", "X": "a b*"}
    assert verified.action == "DescribeCdnDomainDetail"
    assert verified.nonce == "nonce-1"
    assert verified.timestamp == NOW


def test_a_v1_get_request_verifies() -> None:
    assert check(v1_request(method="GET")).style == "v1"


def test_a_v1_request_in_a_form_body_verifies_and_its_body_is_signed() -> None:
    signed = sign_v1(
        method="POST",
        params={"Action": "DescribeCdnDomainDetail", "DomainName": "example.com"},
        access_key_id=AKID,
        secret=SECRET,
        nonce="n",
        timestamp=NOW,
    )
    request = SignedRequest(
        method="POST",
        path="/",
        query=[],
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        body=urlencode(signed).encode(),
    )
    changed = dataclasses.replace(request, body=request.body.replace(b"example.com", b"evil.com"))

    assert check(request).params == {"Action": "DescribeCdnDomainDetail", "DomainName": "example.com"}
    assert error_of(changed).code == "SignatureDoesNotMatch"


# --- clock ---


@pytest.mark.parametrize("make", [v3_request, v1_request], ids=["v3", "v1"])
@pytest.mark.parametrize("offset", [-900, 0, 900])
def test_it_accepts_a_timestamp_within_fifteen_minutes(make: Any, offset: int) -> None:
    request = make(**{"date" if make is v3_request else "timestamp": NOW + timedelta(seconds=offset)})

    assert check(request, check_clock=True, now=NOW).timestamp == NOW + timedelta(seconds=offset)


@pytest.mark.parametrize("make", [v3_request, v1_request], ids=["v3", "v1"])
@pytest.mark.parametrize("offset", [-901, 901, -86400, 86400])
def test_it_rejects_a_timestamp_outside_fifteen_minutes_on_either_side(make: Any, offset: int) -> None:
    request = make(**{"date" if make is v3_request else "timestamp": NOW + timedelta(seconds=offset)})

    error = error_of(request, check_clock=True, now=NOW)

    assert error.code == "InvalidTimeStamp.Expired"
    assert error.http_status == 400


def test_it_rejects_a_signed_timestamp_that_is_not_iso_8601() -> None:
    headers = {
        "host": "h",
        "x-acs-action": "A",
        "x-acs-version": "V",
        "x-acs-date": "Sun, 22 Nov 2026 15:00:00 GMT",
        "x-acs-signature-nonce": "n",
    }
    headers |= sign_v3(
        method="POST", path="/", query=[], headers=headers, body=b"", access_key_id=AKID, secret=SECRET
    )

    assert error_of(SignedRequest("POST", "/", [], headers, b"")).code == "InvalidTimeStamp.Format"


# --- nonces ---


class NonceStore:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, access_key_id: str, nonce: str) -> bool:
        if (access_key_id, nonce) in self.seen:
            return True
        self.seen.add((access_key_id, nonce))
        return False


@pytest.mark.parametrize("make", [v3_request, v1_request], ids=["v3", "v1"])
def test_it_refuses_a_replayed_nonce(make: Any) -> None:
    store = NonceStore()
    check(make(nonce="abc"), nonce_seen=store)

    error = error_of(make(nonce="abc"), nonce_seen=store)

    assert error.code == "SignatureNonceUsed"
    assert check(make(nonce="abd"), nonce_seen=store).nonce == "abd"


def test_it_records_no_nonce_for_a_request_with_a_bad_signature() -> None:
    store = NonceStore()
    request = v3_request(nonce="abc")
    forged = dataclasses.replace(request, query=[("DomainName", "evil.example.com")])

    assert error_of(forged, nonce_seen=store).code == "SignatureDoesNotMatch"
    assert store.seen == set()
    check(request, nonce_seen=store)


def test_it_records_no_nonce_for_an_expired_request() -> None:
    store = NonceStore()
    request = v3_request(date=NOW - timedelta(hours=1))

    assert error_of(request, nonce_seen=store, check_clock=True, now=NOW).code == "InvalidTimeStamp.Expired"
    assert store.seen == set()


# --- keys and incomplete signatures ---


@pytest.mark.parametrize("make", [v3_request, v1_request], ids=["v3", "v1"])
def test_it_rejects_an_unknown_access_key_id(make: Any) -> None:
    error = error_of(make(), secret_for=lambda key: None)

    assert error.code == "InvalidAccessKeyId.NotFound"
    assert error.http_status == 404
    assert AKID in error.message


@pytest.mark.parametrize(
    "authorization",
    [
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SHA256 SignedHeaders=host,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=testAKID,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=testAKID,SignedHeaders=host",
        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=testAKID,SignedHeaders=host;;x-acs-date,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=testAKID,Credential=other,SignedHeaders=host,Signature=abc",
        "ACS3-HMAC-SHA256Credential=testAKID,SignedHeaders=host,Signature=abc",
        "acs testAKID:abc",
    ],
)
def test_it_reports_an_incomplete_authorization_header(authorization: str) -> None:
    request = v3_request()
    changed = dataclasses.replace(request, headers={**request.headers, "authorization": authorization})

    error = error_of(changed)

    assert error.code == "IncompleteSignature"
    assert error.http_status == 400


@pytest.mark.parametrize(
    "name", ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"]
)
def test_it_requires_the_protocol_headers_to_be_signed(name: str) -> None:
    request = v3_request()
    headers = {key: value for key, value in request.headers.items() if key not in {name, "authorization"}}
    headers |= sign_v3(
        method="POST",
        path="/",
        query=request.query,
        headers=headers,
        body=b"",
        access_key_id=AKID,
        secret=SECRET,
    )

    error = error_of(dataclasses.replace(request, headers=headers))

    assert error.code == "IncompleteSignature"
    assert name in error.message


def test_it_reports_a_signed_header_missing_from_the_request() -> None:
    request = v3_request()
    headers = {key: value for key, value in request.headers.items() if key != "accept"}

    error = error_of(dataclasses.replace(request, headers=headers))

    assert error.code == "IncompleteSignature"
    assert "accept" in error.message


def test_it_reports_an_unsigned_request() -> None:
    request = SignedRequest("POST", "/", [("Action", "DescribeUserDomains")], {"host": "h"}, b"")

    assert error_of(request).code == "IncompleteSignature"


@pytest.mark.parametrize("field", ["AccessKeyId", "SignatureMethod", "SignatureNonce", "Timestamp"])
def test_it_reports_a_v1_request_missing_a_protocol_parameter(field: str) -> None:
    request = v1_request()
    changed = dataclasses.replace(request, query=[(k, v) for k, v in request.query if k != field])

    error = error_of(changed)

    assert error.code == "IncompleteSignature"
    assert field in error.message


def test_it_refuses_a_v1_signature_method_other_than_hmac_sha1() -> None:
    request = v1_request()
    query = [(k, "HMAC-SHA256" if k == "SignatureMethod" else v) for k, v in request.query]

    assert error_of(dataclasses.replace(request, query=query)).code == "IncompleteSignature"


def test_it_refuses_a_repeated_v1_signature_parameter() -> None:
    request = v1_request()

    assert error_of(dataclasses.replace(request, query=[*request.query, ("Signature", "x")])).code == (
        "IncompleteSignature"
    )


# --- properties ---

param_keys = st.text(min_size=1, max_size=12).filter(lambda key: key not in V1_SIGNATURE_FIELDS)
param_dicts = st.dictionaries(param_keys, st.text(max_size=20), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(params=param_dicts, data=st.data())
def test_any_v1_request_verifies_and_any_single_character_change_breaks_it(
    params: dict[str, str], data: st.DataObject
) -> None:
    request = v1_request(params=params)
    assert check(request).params == params

    key = data.draw(st.sampled_from(sorted(params)))
    value = params[key]
    if value:
        position = data.draw(st.integers(0, len(value) - 1))
        replacement = data.draw(st.characters(codec="utf-8").filter(lambda char: char != value[position]))
        mutated = value[:position] + replacement + value[position + 1 :]
    else:
        mutated = data.draw(st.characters(codec="utf-8"))
    query = [(k, mutated if k == key else v) for k, v in request.query]

    assert error_of(dataclasses.replace(request, query=query)).code == "SignatureDoesNotMatch"


@settings(max_examples=100, deadline=None)
@given(query=st.lists(st.tuples(st.text(min_size=1, max_size=12), st.text(max_size=20)), max_size=6))
def test_any_v3_request_verifies_after_a_trip_through_the_wire(query: list[tuple[str, str]]) -> None:
    request = v3_request(query=query)
    over_the_wire = dataclasses.replace(request, query=parse_query(urlencode(query)))

    assert check(over_the_wire).params == dict(query)
