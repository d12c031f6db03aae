"""Flow control of the Alibaba-compatible API: wrong-secret guesses lock the AccessKey ID and the client
address out with the vendor's Throttling.User (and x-acs-retry-after), a burst over the account's rate too."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from alibaba_api import throttling
from tests.alibaba_api.conftest import SignedClient, make_key

pytestmark = pytest.mark.django_db


ADDRESSES = ["127.0.0.1", "203.0.113.5", "203.0.113.6", "198.51.100.1"]


@pytest.fixture(autouse=True)
def _fresh_counters():
    """No failure left counted for these addresses by an earlier run (keys are new in every test)."""
    cache.delete_many(
        [throttling._failure_key("ip", address) + end for address in ADDRESSES for end in ("", ":since")]
    )


def codes(answers) -> list[str]:  # type: ignore[no-untyped-def]
    return [answer.code or "OK" for answer in answers]


@override_settings(ALIBABA_API_FAILURE_LIMIT=10, ALIBABA_API_FAILURE_WINDOW=60)
def test_forty_wrong_secrets_lock_the_key_out_even_with_the_right_secret(alice, charlie, cdn_domain):
    api = SignedClient(Client(REMOTE_ADDR="203.0.113.5"), make_key(alice))
    answers = [api.call("DescribeUserDomains", secret=f"guess-{n}") for n in range(40)]
    assert codes(answers) == ["SignatureDoesNotMatch"] * 10 + ["Throttling.User"] * 30
    locked = answers[-1]
    assert locked.status == 429 and 0 < int(locked.headers["x-acs-retry-after"]) <= 60_000
    assert "wrong signature" in locked.body["Message"]
    assert api.call("DescribeUserDomains").code == "Throttling.User"  # the right secret: still locked
    # The address that guessed is locked for every key; another address with another key is not.
    other = make_key(charlie)
    assert (
        SignedClient(Client(REMOTE_ADDR="203.0.113.5"), other).call("DescribeUserDomains").code
        == "Throttling.User"
    )
    assert SignedClient(Client(REMOTE_ADDR="203.0.113.6"), other).call("DescribeUserDomains").status == 200


@override_settings(ALIBABA_API_FAILURE_LIMIT=3, ALIBABA_API_FAILURE_WINDOW=60)
def test_unsigned_calls_such_as_health_checks_never_lock_the_address_out(alice, cdn_domain):
    unsigned = Client(REMOTE_ADDR="203.0.113.5")
    answers = [unsigned.post("/?Action=DescribeUserDomains") for _ in range(10)]
    assert [answer.json()["Code"] for answer in answers] == ["IncompleteSignature"] * 10
    signed = SignedClient(Client(REMOTE_ADDR="203.0.113.5"), make_key(alice))
    assert signed.call("DescribeUserDomains").status == 200


@override_settings(ALIBABA_API_FAILURE_LIMIT=3, ALIBABA_API_FAILURE_WINDOW=2)
def test_the_lock_ends_after_its_window(alice, cdn_domain):
    api = SignedClient(Client(), make_key(alice))
    assert codes([api.call("DescribeUserDomains", secret="x") for _ in range(4)])[-1] == "Throttling.User"
    time.sleep(2.2)
    assert api.call("DescribeUserDomains").status == 200


@override_settings(ALIBABA_API_FAILURE_LIMIT=5)
def test_unknown_access_key_ids_count_as_guesses_from_the_address(alice, cdn_domain):
    from tests.alibaba_api.conftest import Key

    client = Client(REMOTE_ADDR="198.51.100.1")
    for n in range(5):
        assert SignedClient(client, Key(f"LTAIguess{n}", "x")).call("DescribeUserDomains").code == (
            "InvalidAccessKeyId.NotFound"
        )
    assert SignedClient(client, make_key(alice)).call("DescribeUserDomains").code == "Throttling.User"


@override_settings(ALIBABA_API_ACCOUNT_RATE_LIMIT=20)
def test_sixty_calls_in_a_second_over_the_accounts_rate_get_throttling_user(alice, cdn_domain, monkeypatch):
    monkeypatch.setattr(throttling.time, "time", lambda: 1_800_000_000.25)  # all in one second
    first, second = make_key(alice), make_key(alice)  # the account's rate: its keys together
    answers = [
        SignedClient(Client(), key).call("DescribeUserDomains") for _ in range(30) for key in (first, second)
    ]
    assert codes(answers) == ["OK"] * 20 + ["Throttling.User"] * 40
    assert answers[-1].status == 429 and int(answers[-1].headers["x-acs-retry-after"]) == 750
