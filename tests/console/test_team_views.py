"""The Team page: every member sees it; owners add, change and remove members; others get 403 on writes."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accounts.models import Membership, OperationLog, Role

pytestmark = pytest.mark.django_db

TEAM = "/team/"
ADD = "/team/add/"
PASSWORD = "a-long-enough-passphrase-2026"


def url(name: str, user) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"member_{name}", kwargs={"member_id": Membership.objects.get(user=user).pk})


def role_of(user) -> str:  # type: ignore[no-untyped-def]
    return Membership.objects.get(user=user).role


@pytest.mark.parametrize("who", ["alice", "dave", "bob"])
def test_every_member_sees_the_team_with_roles(request, client, alice, bob, dave, charlie, who):
    client.force_login(request.getfixturevalue(who))
    content = client.get(TEAM).content.decode()
    for name, role in (("alice", "Owner"), ("bob", "Viewer (read-only)"), ("dave", "Administrator")):
        row = content[content.index(f'id="member-{name}"') :].split("</tr>")[0]
        assert role in row
    assert "charlie" not in content
    assert ("Add user" in content) is (who == "alice")
    assert ("Change role" in content) is (who == "alice")


def test_an_owner_adds_a_user(client, alice):
    client.force_login(alice)
    dialog = client.get(ADD, HTTP_HX_REQUEST="true").content.decode()
    for label in ("Username", "Password", "Role"):
        assert f">{label}</label>" in dialog
    response = client.post(
        ADD, {"username": "erin", "password": PASSWORD, "role": "admin"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"]) == {
        "team-changed": None,
        "console-notice": {"message": "Saved."},
    }
    assert role_of(Membership.objects.get(user__username="erin").user) == Role.ADMIN
    assert "erin" in client.get(TEAM).content.decode()


def test_an_invalid_add_keeps_the_dialog_open_with_the_error(client, alice, bob):
    client.force_login(alice)
    response = client.post(
        ADD, {"username": "bob", "password": PASSWORD, "role": "viewer"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    response = client.post(
        ADD, {"username": "erin", "password": "short", "role": "viewer"}, HTTP_HX_REQUEST="true"
    )
    assert "too short" in response.content.decode()
    assert not Membership.objects.filter(user__username="erin").exists()


def test_an_owner_changes_a_role(client, alice, bob):
    client.force_login(alice)
    assert client.get(url("role", bob), HTTP_HX_REQUEST="true").status_code == 200
    response = client.post(url("role", bob), {"role": "admin"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert role_of(bob) == Role.ADMIN


def test_the_last_owner_cannot_demote_themselves(client, alice):
    client.force_login(alice)
    response = client.post(url("role", alice), {"role": "viewer"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "An account needs at least one owner" in response.content.decode()
    assert role_of(alice) == Role.OWNER


def test_an_owner_removes_a_member_after_confirming(client, alice, bob):
    client.force_login(alice)
    dialog = client.get(url("remove", bob), HTTP_HX_REQUEST="true").content.decode()
    assert "Remove bob from the account?" in dialog
    assert Membership.objects.filter(user=bob).exists()
    response = client.post(url("remove", bob), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert not Membership.objects.filter(user=bob).exists()
    assert 'id="member-bob"' not in client.get(TEAM).content.decode()
    assert OperationLog.objects.filter(action="membership.remove", actor_name="alice").exists()


def test_an_owner_cannot_remove_themselves(client, alice):
    client.force_login(alice)
    assert "Remove alice" not in client.get(TEAM).content.decode()
    response = client.post(url("remove", alice), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "You cannot remove yourself from the account." in response.content.decode()
    assert Membership.objects.filter(user=alice).exists()


@pytest.mark.parametrize("who", ["bob", "dave"])
def test_viewers_and_admins_get_403_on_every_write(request, client, alice, bob, dave, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, {"username": "erin", "password": PASSWORD, "role": "owner"}).status_code == 403
    assert client.get(url("role", alice)).status_code == 403
    assert client.post(url("role", alice), {"role": "viewer"}).status_code == 403
    assert client.post(url("role", request.getfixturevalue(who)), {"role": "owner"}).status_code == 403
    assert client.get(url("remove", alice)).status_code == 403
    assert client.post(url("remove", alice)).status_code == 403
    assert (role_of(alice), role_of(bob), role_of(dave)) == (Role.OWNER, Role.VIEWER, Role.ADMIN)
    assert not Membership.objects.filter(user__username="erin").exists()


def test_another_accounts_member_is_404(client, alice, charlie):
    client.force_login(alice)
    for name in ("role", "remove"):
        assert client.get(url(name, charlie)).status_code == 404
    assert client.post(url("role", charlie), {"role": "viewer"}).status_code == 404
    assert client.post(url("remove", charlie)).status_code == 404
    assert role_of(charlie) == Role.OWNER


def test_the_writes_need_the_csrf_token(csrf_client, alice, bob):
    csrf_client.force_login(alice)
    assert csrf_client.post(url("role", bob), {"role": "admin"}).status_code == 403
    assert csrf_client.post(url("remove", bob)).status_code == 403
    assert (
        csrf_client.post(ADD, {"username": "erin", "password": PASSWORD, "role": "viewer"}).status_code == 403
    )
    assert role_of(bob) == Role.VIEWER
    token = csrf_client.get(TEAM).cookies["csrftoken"].value
    assert csrf_client.post(url("role", bob), {"role": "admin"}, HTTP_X_CSRFTOKEN=token).status_code == 302
    assert role_of(bob) == Role.ADMIN


def test_anonymous_users_are_sent_to_log_on(client, alice):
    for response in (client.get(TEAM), client.post(ADD), client.post(url("remove", alice))):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
