"""Edge nodes through the REST API: read-only, for staff only, and never their signing keys."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests import factories

URL = "/api/v1/edge-nodes/"


@pytest.fixture
def operator(db):  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user("operator", password=factories.PASSWORD, is_staff=True)


@pytest.fixture
def nodes(db) -> None:
    factories.make_node("edge-b", "http://192.0.2.2:8081/", key="secret-key-b")
    factories.make_node("edge-a", "http://192.0.2.1:8081/", key="secret-key-a")


def test_staff_see_the_nodes_without_their_keys(client_for, operator, nodes) -> None:
    response = client_for(operator).get(URL)
    assert response.status_code == 200
    assert [node["name"] for node in response.json()["results"]] == ["edge-a", "edge-b"]
    assert set(response.json()["results"][0]) == {
        "name",
        "region",
        "agent_url",
        "enabled",
        "last_contact_at",
        "last_error",
    }
    assert "secret-key" not in response.content.decode()
    detail = client_for(operator).get(URL + "edge-a/")
    assert detail.json()["agent_url"] == "http://192.0.2.1:8081/"
    assert "secret-key" not in detail.content.decode()
    assert client_for(operator).get(URL + "edge-z/").status_code == 404


@pytest.mark.parametrize("path", ["", "edge-a/"])
def test_members_of_an_account_get_403(owner, viewer, path, nodes) -> None:
    assert owner.get(URL + path).status_code == 403
    assert viewer.get(URL + path).status_code == 403


@pytest.mark.parametrize("path", ["", "edge-a/"])
def test_anonymous_requests_get_401(client_for, path, nodes) -> None:
    assert client_for(None).get(URL + path).status_code == 401


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_nodes_cannot_be_changed_through_the_api(client_for, operator, nodes, method) -> None:
    path = URL if method == "post" else URL + "edge-a/"
    response = getattr(client_for(operator), method)(path, {"name": "edge-c"}, format="json")
    assert response.status_code == 405
    assert response.json()["errors"]["non_field_errors"][0]["code"] == "method_not_allowed"
