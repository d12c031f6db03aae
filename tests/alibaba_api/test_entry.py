"""Authentication and dispatch at `/`: signatures, keys, roles, versions and errors, via the test client."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.test import override_settings

from accounts.models import Membership, Role
from alibaba_api.models import AccessKey
from alibaba_api.services import access_key_set_enabled
from alibaba_api.signatures import format_timestamp, sign_v1, sign_v3
from tests.alibaba_api.conftest import CDN, DCDN, Key, SignedClient, functions

ERROR_FIELDS = {"RequestId", "HostId", "Code", "Message", "Recommend"}


def describe(api: SignedClient, domain, **options):  # type: ignore[no-untyped-def]
    return api.call("DescribeCdnDomainConfigs", {"DomainName": domain.name}, **options)


@pytest.mark.parametrize("style", ["v3", "v1"])
def test_a_signed_call_is_answered_in_json_with_a_request_id(api, cdn_domain, style):
    api.style = style
    answer = describe(api, cdn_domain)
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json;charset=utf-8"
    assert answer.headers["x-acs-request-id"] == answer.body["RequestId"]
    assert list(answer.body) == ["RequestId", "DomainConfigs"]


@pytest.mark.parametrize("style", ["v3", "v1"])
def test_a_wrong_secret_does_not_match(api, cdn_domain, style):
    api.style = style
    answer = describe(api, cdn_domain, secret="not-the-secret")
    assert (answer.status, answer.code) == (400, "SignatureDoesNotMatch")
    assert set(answer.body) == ERROR_FIELDS
    assert answer.body["HostId"] == "testserver"
    assert answer.body["Message"].startswith("Specified signature is not matched with our calculation.")


def test_an_unknown_key_is_not_found(client, cdn_domain):
    answer = describe(SignedClient(client, Key("LTAIunknownunknownunkn", "secret")), cdn_domain)
    assert (answer.status, answer.code) == (404, "InvalidAccessKeyId.NotFound")


@pytest.mark.parametrize("style", ["v3", "v1"])
def test_a_replayed_nonce_is_refused(api, cdn_domain, style):
    api.style = style
    path, headers = api.prepare("DescribeCdnDomainConfigs", {"DomainName": cdn_domain.name})
    assert api.send(path, headers).status == 200
    replay = api.send(path, headers)
    assert (replay.status, replay.code) == (400, "SignatureNonceUsed")


def test_a_nonce_is_not_spent_by_a_request_that_fails_its_signature(api, cdn_domain):
    assert describe(api, cdn_domain, nonce="n-1", secret="wrong").code == "SignatureDoesNotMatch"
    assert describe(api, cdn_domain, nonce="n-1").status == 200


@pytest.mark.parametrize("style", ["v3", "v1"])
def test_an_old_timestamp_is_refused(api, cdn_domain, style):
    api.style = style
    answer = describe(api, cdn_domain, when=datetime.now(UTC) - timedelta(minutes=16))
    assert (answer.status, answer.code) == (400, "InvalidTimeStamp.Expired")


def test_a_disabled_key_is_inactive(api, alice_key, cdn_domain):
    access_key_set_enabled(
        access_key=AccessKey.objects.get(access_key_id=alice_key.access_key_id), enabled=False
    )
    answer = describe(api, cdn_domain)
    assert (answer.status, answer.code) == (400, "InvalidAccessKeyId.Inactive")
    assert answer.body["Message"] == "Specified access key is disabled."


def test_a_key_whose_user_left_the_account_is_inactive(api, alice, cdn_domain):
    Membership.objects.filter(user=alice).delete()
    answer = describe(api, cdn_domain)
    assert answer.code == "InvalidAccessKeyId.Inactive"
    assert "no longer a member" in answer.body["Message"]


def test_a_key_of_an_inactive_user_is_inactive(api, alice, cdn_domain):
    alice.is_active = False
    alice.save()
    assert describe(api, cdn_domain).code == "InvalidAccessKeyId.Inactive"


def test_a_viewer_reads_but_is_refused_writes(viewer_api, cdn_domain):
    assert describe(viewer_api, cdn_domain).status == 200
    answer = viewer_api.call(
        "BatchSetCdnDomainConfig",
        {"DomainNames": cdn_domain.name, "Functions": functions("https_origin_sni", enabled="off")},
    )
    assert (answer.status, answer.code) == (403, "Forbidden.RAM")
    for action, params in [
        ("DeleteSpecificConfig", {"DomainName": cdn_domain.name, "ConfigId": "1"}),
        ("BatchDeleteCdnDomainConfig", {"DomainNames": cdn_domain.name, "FunctionNames": "forward_scheme"}),
    ]:
        assert viewer_api.call(action, params).code == "Forbidden.RAM"


def test_a_role_change_takes_effect_at_once(api, alice, cdn_domain):
    assert describe(api, cdn_domain).status == 200
    membership = Membership.objects.get(user=alice)
    membership.role = Role.VIEWER
    membership.save()
    answer = api.call(
        "BatchSetCdnDomainConfig",
        {"DomainNames": cdn_domain.name, "Functions": functions("https_origin_sni", enabled="off")},
    )
    assert answer.code == "Forbidden.RAM"


def test_an_unknown_action_is_not_found(api):
    answer = api.call("RefreshObjectCaches", {"ObjectPath": "x.example.com/a.png"})
    assert (answer.status, answer.code) == (404, "InvalidAction.NotFound")


def test_a_dcdn_action_needs_the_dcdn_version(api):
    assert api.call("DescribeDcdnUserDomains", version=CDN).code == "InvalidAction.NotFound"
    assert api.call("DescribeDcdnUserDomains", version=DCDN).status == 200
    answer = api.call("DescribeUserDomains", version="2014-11-11")
    assert (answer.status, answer.code) == (400, "InvalidVersion")


def test_an_unsigned_call_is_incomplete(client):
    response = client.post("/?Action=DescribeUserDomains&Version=2018-05-10")
    assert response.status_code == 400
    assert response.json()["Code"] == "IncompleteSignature"


def test_a_missing_parameter_is_named(api):
    answer = api.call("DescribeCdnDomainConfigs", {})
    assert (answer.status, answer.code) == (400, "MissingParameter")
    assert "DomainName" in answer.body["Message"]


def test_a_body_over_one_mebibyte_is_refused(api):
    path, headers = api.prepare("DescribeUserDomains")
    response = api.client.generic(
        "POST", path, b"x" * (1024 * 1024 + 1), content_type="text/plain", headers=headers
    )
    assert response.status_code == 413
    assert response.json()["Code"] == "RequestEntityTooLarge"


@override_settings(ALIBABA_API_RATE_LIMIT=2)
def test_calls_over_the_rate_limit_are_throttled_with_a_retry_after(api, cdn_domain):
    answers = [describe(api, cdn_domain) for _ in range(4)]
    throttled = [answer for answer in answers if answer.code == "Throttling"]
    assert throttled, [answer.status for answer in answers]
    assert throttled[0].status == 429
    assert 0 < int(throttled[0].headers["x-acs-retry-after"]) <= 1000


def test_the_key_records_its_last_use(api, alice_key, cdn_domain):
    assert AccessKey.objects.get(access_key_id=alice_key.access_key_id).last_used_at is None
    describe(api, cdn_domain)
    assert AccessKey.objects.get(access_key_id=alice_key.access_key_id).last_used_at is not None


def test_a_get_request_is_accepted_as_well(api, cdn_domain):
    query = sign_v1(
        method="GET",
        params={"Action": "DescribeCdnDomainConfigs", "Version": CDN, "DomainName": cdn_domain.name},
        access_key_id=api.key.access_key_id,
        secret=api.key.secret,
        nonce="get-nonce",
        timestamp=datetime.now(UTC),
    )
    response = api.client.get("/?" + urlencode(query))
    assert response.status_code == 200
    assert "DomainConfigs" in response.json()


def test_a_page_visit_to_the_root_is_not_an_api_call(client, alice):
    client.force_login(alice)
    response = client.get("/")
    assert response.status_code == 302


# Bodies: the test client's server (like Django's own) does not decode chunked framing; gunicorn does
# (tests/alibaba_api/test_framing.py).


def test_a_chunked_body_that_the_server_cannot_decode_is_refused_not_misread(client, cdn_domain):
    response = client.generic(
        "POST",
        "/",
        b"5\r\nDomai\r\n0\r\n\r\n",
        content_type="application/x-www-form-urlencoded",
        headers={"x-acs-action": "DescribeUserDomains", "Transfer-Encoding": "chunked"},
        CONTENT_LENGTH="",  # as a chunked request comes: no length
    )
    assert (response.status_code, response.json()["Code"]) == (411, "MissingContentLength")
    assert "Content-Length" in response.json()["Message"]


def test_a_v1_call_may_carry_everything_in_a_form_body(client, alice_key, cdn_domain):
    signed = sign_v1(
        method="POST",
        params={"Action": "DescribeCdnDomainDetail", "Version": CDN, "DomainName": cdn_domain.name},
        access_key_id=alice_key.access_key_id,
        secret=alice_key.secret,
        nonce="form-body-nonce",
        timestamp=datetime.now(UTC),
    )
    response = client.post("/", urlencode(signed), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.json()["GetDomainDetailModel"]["DomainName"] == cdn_domain.name


def v3_headers(key: Key, action: str, *, method: str, query: dict[str, str], body: bytes, **extra: str):  # type: ignore[no-untyped-def]
    headers = {
        "host": "testserver",
        "x-acs-action": action,
        "x-acs-version": CDN,
        "x-acs-date": format_timestamp(datetime.now(UTC)),
        "x-acs-signature-nonce": uuid.uuid4().hex,
    } | extra
    signed = sign_v3(
        method=method,
        path="/",
        query=query,
        headers=headers,
        body=body,
        access_key_id=key.access_key_id,
        secret=key.secret,
    )
    return headers | signed


def test_a_json_body_that_is_not_an_object_of_parameters_is_refused(client, alice_key):
    for body, rule in ((b"[1, 2]", "must be an object of parameters"), (b"{nope", "not valid JSON")):
        headers = v3_headers(
            alice_key,
            "DescribeUserDomains",
            method="POST",
            query={},
            body=body,
            **{"content-type": "application/json"},
        )
        response = client.generic("POST", "/", body, content_type="application/json", headers=headers)
        assert (response.status_code, response.json()["Code"]) == (400, "InvalidParameter")
        assert rule in response.json()["Message"]


def test_a_get_signed_with_v3_is_answered(client, alice_key, cdn_domain):
    query = {"DomainName": cdn_domain.name}
    headers = v3_headers(alice_key, "DescribeCdnDomainDetail", method="GET", query=query, body=b"")
    response = client.get("/?" + urlencode(query), headers=headers)
    assert response.status_code == 200
    assert response.json()["GetDomainDetailModel"]["DomainName"] == cdn_domain.name
