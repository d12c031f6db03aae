"""REST API tokens at rest: only a digest is stored; a token expires, is listed by prefix, and is revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from tests import factories
from tests.api.helpers import codes

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"


def issue(username: str = "alice") -> dict:
    response = APIClient().post(TOKEN, {"username": username, "password": factories.PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_database_holds_no_token(alice) -> None:
    key = issue()["token"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_apitoken")
        rows = cursor.fetchall()
    assert rows and not any(key in str(value) or key[5:] in str(value) for row in rows for value in row)


@override_settings(API_TOKEN_TTL_DAYS=7)
def test_a_token_expires_and_an_expired_token_is_refused(alice, cdn_domain) -> None:
    issued = issue()
    expires = timezone.datetime.fromisoformat(issued["expires_at"])
    assert timedelta(days=6, hours=23) < expires - timezone.now() <= timedelta(days=7)
    client = with_token(issued["token"])
    assert client.get("/api/v1/domains/").status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/v1/domains/")
    assert response.status_code == 401 and codes(response) == {"non_field_errors": ["token_expired"]}
    assert not ApiToken.objects.exists()


def test_tokens_are_listed_by_prefix_and_revoked(alice, charlie) -> None:
    first, second = issue()["token"], issue()["token"]
    others = issue("charlie")["token"]
    client = with_token(first)
    listed = client.get(TOKENS).json()
    assert [(t["prefix"], t["current"]) for t in listed] == [(second[:11], False), (first[:11], True)]
    assert first not in str(listed) and second not in str(listed)

    charlies = ApiToken.objects.get(user=charlie)
    assert client.delete(f"{TOKENS}{charlies.pk}/").status_code == 404  # another user's: not there
    assert with_token(others).get(TOKENS).status_code == 200

    revoked = ApiToken.objects.get(prefix=second[:11])
    assert client.delete(f"{TOKENS}{revoked.pk}/").status_code == 204
    assert with_token(second).get(TOKENS).status_code == 401
    mine = ApiToken.objects.get(prefix=first[:11])
    assert client.delete(f"{TOKENS}{mine.pk}/").status_code == 204  # a token revokes itself
    assert client.get(TOKENS).status_code == 401
