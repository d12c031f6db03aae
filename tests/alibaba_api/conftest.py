"""AccessKeys of the standard people, and a client that signs calls like the official SDKs do."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from alibaba_api import credentials
from alibaba_api.services import access_key_create
from alibaba_api.signatures import format_timestamp, sign_v1, sign_v3

CDN = "2018-05-10"
DCDN = "2018-01-15"


@dataclass(frozen=True)
class Key:
    access_key_id: str
    secret: str


def make_key(user) -> Key:  # type: ignore[no-untyped-def]
    created = access_key_create(user=user)
    return Key(created.access_key.access_key_id, created.secret)


@pytest.fixture(autouse=True)
def _fresh_credentials():
    credentials.forget()
    yield
    credentials.forget()


@pytest.fixture(autouse=True)
def _close_sdk_connections():
    """Close the new SDK's kept-alive connections, so the live server's threads end with their DB sessions."""
    yield
    from darabonba.core import DaraCore

    for session in DaraCore._sessions.values():
        session.close()
    DaraCore._sessions.clear()


@pytest.fixture
def alice_key(alice) -> Key:
    return make_key(alice)


@pytest.fixture
def bob_key(bob) -> Key:
    return make_key(bob)


@pytest.fixture
def charlie_key(charlie) -> Key:
    return make_key(charlie)


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def code(self) -> str | None:
        return self.body.get("Code")


class SignedClient:
    """Calls `/` of the console through the Django test client, signed with V3 (default) or V1."""

    def __init__(self, client: Client, key: Key, *, style: str = "v3", version: str = CDN) -> None:
        self.client = client
        self.key = key
        self.style = style
        self.version = version

    def prepare(
        self,
        action: str,
        params: dict[str, str] | None = None,
        *,
        secret: str | None = None,
        nonce: str | None = None,
        when: datetime | None = None,
        version: str | None = None,
    ) -> tuple[str, dict[str, str]]:
        """The path with query, and the headers, of a signed call."""
        params = dict(params or {})
        secret = secret or self.key.secret
        nonce = nonce or uuid.uuid4().hex
        when = when or datetime.now(UTC)
        version = version or self.version
        if self.style == "v1":
            query = sign_v1(
                method="POST",
                params={"Action": action, "Version": version, "Format": "JSON", **params},
                access_key_id=self.key.access_key_id,
                secret=secret,
                nonce=nonce,
                timestamp=when,
            )
            return "/?" + urlencode(query), {"host": "testserver"}
        headers = {
            "host": "testserver",
            "x-acs-action": action,
            "x-acs-version": version,
            "x-acs-date": format_timestamp(when),
            "x-acs-signature-nonce": nonce,
            "accept": "application/json",
        }
        headers |= sign_v3(
            method="POST",
            path="/",
            query=params,
            headers=headers,
            body=b"",
            access_key_id=self.key.access_key_id,
            secret=secret,
        )
        return "/?" + urlencode(params), headers

    def send(self, path: str, headers: dict[str, str]) -> Answer:
        response = self.client.generic("POST", path, b"", content_type="", headers=headers)
        assert response["Content-Type"].startswith("application/json")
        return Answer(response.status_code, json.loads(response.content), dict(response.headers))

    def call(self, action: str, params: dict[str, str] | None = None, **options: Any) -> Answer:
        return self.send(*self.prepare(action, params, **options))


def functions(name: str, **args: str) -> str:
    return json.dumps(
        [{"functionName": name, "functionArgs": [{"argName": k, "argValue": v} for k, v in args.items()]}]
    )


@pytest.fixture
def api(client: Client, alice_key: Key) -> SignedClient:
    return SignedClient(client, alice_key)


@pytest.fixture
def viewer_api(bob_key: Key) -> SignedClient:
    return SignedClient(Client(), bob_key)


@pytest.fixture
def stranger_api(charlie_key: Key) -> SignedClient:
    return SignedClient(Client(), charlie_key)
