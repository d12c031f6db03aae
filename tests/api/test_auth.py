"""Authentication to the REST API: tokens (and the endpoint that issues them), sessions with CSRF."""

from __future__ import annotations

from rest_framework.test import APIClient

from api.models import ApiToken
from api.tokens import token_digest
from tests import factories
from tests.api.helpers import codes

TOKEN = "/api/v1/auth/token/"


def test_a_token_is_issued_for_a_user_name_and_password(alice) -> None:
    response = APIClient().post(TOKEN, {"username": "alice", "password": factories.PASSWORD}, format="json")
    assert response.status_code == 200
    # Only the token's digest is stored: the token itself is in the answer, once.
    assert ApiToken.objects.get(user=alice).digest == token_digest(response.json()["token"])


def test_wrong_credentials_get_no_token(alice) -> None:
    response = APIClient().post(TOKEN, {"username": "alice", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert codes(response) == {"non_field_errors": ["authorization"]}
    assert not ApiToken.objects.exists()


def test_a_token_authenticates_requests(alice, cdn_domain) -> None:
    key = APIClient().post(TOKEN, {"username": "alice", "password": factories.PASSWORD}, format="json").json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key['token']}")
    assert client.get("/api/v1/domains/www.alpha.example/").status_code == 200
    response = client.post("/api/v1/domains/www.alpha.example/disable/")
    assert (response.status_code, response.json()["status"]) == (200, "offline")


def test_an_unknown_token_gets_401(cdn_domain) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get("/api/v1/domains/")
    assert response.status_code == 401
    assert codes(response) == {"non_field_errors": ["authentication_failed"]}


def test_a_console_session_works_and_writes_need_the_csrf_token(alice, cdn_domain) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/api/v1/domains/www.alpha.example/").status_code == 200
    response = client.post("/api/v1/domains/www.alpha.example/disable/")
    assert response.status_code == 403
    assert "CSRF" in response.json()["errors"]["non_field_errors"][0]["message"]

    secret = "s" * 32
    client.cookies["csrftoken"] = secret
    response = client.post("/api/v1/domains/www.alpha.example/disable/", HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 200


def test_an_unknown_api_url_is_404_in_the_api_error_shape(owner) -> None:
    for path in ("/api/v1/nothing/", "/api/v1/domains/a/b/c/", "/api/v1/domains//origins/"):
        response = owner.post(path)
        assert response.status_code == 404
        assert codes(response) == {"non_field_errors": ["not_found"]}
