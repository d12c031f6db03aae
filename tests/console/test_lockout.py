"""Guessing passwords: 30 wrong passwords then the right one are locked out, with a message and an entry the
account's owners read in the Operation Log; the lockout counts per user name and per client address, covers
the REST API's token endpoint, and ends after the cooling period."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from axes.utils import reset
from django.test import Client, override_settings
from rest_framework.test import APIClient

from accounts.models import OperationLog
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
TOKEN = "/api/v1/auth/token/"
LIMITED = override_settings(AXES_FAILURE_LIMIT=5, AXES_COOLOFF_TIME=timedelta(seconds=3))


USERS = ["alice", "charlie", *(f"nobody-{n}" for n in range(6))]
ADDRESSES = ["203.0.113.50", "198.51.100.9", "198.51.100.10", "192.0.2.10", "192.0.2.11"]


@pytest.fixture(autouse=True)
def _fresh_counters():
    """No count left from an earlier run (the cache is shared: it also holds the Celery broker's queues)."""
    for username in USERS:
        reset(username=username)
    for address in ADDRESSES:
        reset(ip=address)


def log_on(client: Client, username: str, password: str, address: str = "203.0.113.50"):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


@LIMITED
def test_thirty_wrong_passwords_lock_the_user_out_until_the_cooling_period_ends(client, alice, bob):
    answers = [log_on(client, "alice", f"guess-{n}").status_code for n in range(30)]
    assert answers[:4] == [200] * 4 and set(answers[5:]) == {429}
    locked = log_on(client, "alice", factories.PASSWORD)
    body = locked.content.decode()
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    assert "Too many failed log-on attempts: log-on is locked for 1 minute." in body
    assert int(locked["Retry-After"]) == 3

    # The account's owners see it in the Operation Log (a viewer of the account too: the log is everyone's).
    entry = OperationLog.objects.get(action="user.locked_out")
    assert (entry.account, entry.after["user"], entry.remote_addr) == (
        alice.membership.account,
        "alice",
        "203.0.113.50",
    )
    reader = Client()
    reader.force_login(bob)
    page = reader.get("/operations/").content.decode()
    assert "Log-on locked after failed attempts" in page and "alice" in page

    time.sleep(3.5)
    assert log_on(client, "alice", factories.PASSWORD).status_code == 302


@LIMITED
def test_guesses_from_one_client_address_lock_it_for_every_user_name(client, alice, charlie):
    for n in range(6):
        log_on(client, f"nobody-{n}", "guess", address="198.51.100.9")
    assert log_on(client, "charlie", factories.PASSWORD, address="198.51.100.9").status_code == 429
    assert log_on(Client(), "charlie", factories.PASSWORD, address="198.51.100.10").status_code == 302
    # Charlie's account is told that a log-on as charlie was refused, from that address.
    entry = OperationLog.objects.get(action="user.locked_out")
    assert (entry.account, entry.remote_addr) == (charlie.membership.account, "198.51.100.9")


@LIMITED
def test_the_token_endpoint_shares_the_lockout(client, alice):
    api = APIClient(REMOTE_ADDR="192.0.2.10")
    for n in range(4):
        assert (
            api.post(TOKEN, {"username": "alice", "password": f"guess-{n}"}, format="json").status_code == 400
        )
    assert api.post(TOKEN, {"username": "alice", "password": "guess-5"}, format="json").status_code == 429
    response = api.post(TOKEN, {"username": "alice", "password": factories.PASSWORD}, format="json")
    assert response.status_code == 429 and int(response["Retry-After"]) == 3
    assert response.json()["errors"]["non_field_errors"][0]["code"] == "throttled"
    assert (
        log_on(client, "alice", factories.PASSWORD, address="192.0.2.11").status_code == 429
    )  # the page too
