"""A key disabled or deleted in one process is refused at once by every other web process (gunicorn)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx
import pytest
from django.conf import settings

from accounts.audit import ChangeContext
from alibaba_api.models import AccessKey
from alibaba_api.services import access_key_delete, access_key_set_enabled
from alibaba_api.signatures import format_timestamp, sign_v3
from tests.alibaba_api.conftest import CDN, Key
from tests.processes import ROOT, database_url, free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 2
# Enough calls that, with near certainty, every worker of the server has answered (and cached the key).
CALLS = 12


@pytest.fixture
def server(transactional_db):  # type: ignore[no-untyped-def]
    """The console under gunicorn with several worker processes, on the test database and Redis."""
    port = free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "CONSOLE_VAR_DIR": str(settings.VAR_DIR),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "console.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{url}/login/", timeout=2).status_code == 200, what="gunicorn up")
    yield url
    process.terminate()
    process.wait(timeout=20)


def call(url: str, key: Key) -> str:
    """A signed DescribeUserDomains over HTTP, as the official SDKs send it; the error code, or "OK"."""
    host = url.removeprefix("http://")
    headers = {
        "host": host,
        "x-acs-action": "DescribeUserDomains",
        "x-acs-version": CDN,
        "x-acs-date": format_timestamp(datetime.now(UTC)),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "accept": "application/json",
    }
    headers |= sign_v3(
        method="POST",
        path="/",
        query={},
        headers=headers,
        body=b"",
        access_key_id=key.access_key_id,
        secret=key.secret,
    )
    response = httpx.post(f"{url}/?{urlencode({})}", headers=headers, content=b"", timeout=5)
    body = json.loads(response.content)
    return "OK" if response.status_code == 200 else body["Code"]


def codes(url: str, key: Key) -> set[str]:
    return {call(url, key) for _ in range(CALLS)}


def test_a_disabled_key_is_refused_by_every_worker_on_its_next_call(server, alice, alice_key):
    assert codes(server, alice_key) == {"OK"}
    access_key = AccessKey.objects.get(access_key_id=alice_key.access_key_id)
    access_key_set_enabled(access_key=access_key, enabled=False, context=ChangeContext(alice))
    # At once, though every worker had the key cached as enabled.
    assert codes(server, alice_key) == {"InvalidAccessKeyId.Inactive"}

    access_key_set_enabled(access_key=access_key, enabled=True, context=ChangeContext(alice))
    assert codes(server, alice_key) == {"OK"}


def test_a_deleted_key_is_unknown_to_every_worker_on_its_next_call(server, alice, alice_key):
    assert codes(server, alice_key) == {"OK"}
    access_key_delete(
        access_key=AccessKey.objects.get(access_key_id=alice_key.access_key_id), context=ChangeContext(alice)
    )
    assert codes(server, alice_key) == {"InvalidAccessKeyId.NotFound"}
