"""Operators change teams and AccessKeys in the admin through the services: logged, and the rules hold."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.audit import ChangeContext
from accounts.models import Membership, OperationLog, Role, Source
from accounts.services import membership_role_change
from alibaba_api import credentials
from alibaba_api.models import AccessKey
from alibaba_api.services import access_key_create
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase-2026"
LAST_OWNER = "An account needs at least one owner"


@pytest.fixture
def operator(client):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_superuser("operator", password=factories.PASSWORD)
    client.force_login(user)
    return client


def member(user) -> Membership:  # type: ignore[no-untyped-def]
    return Membership.objects.get(user=user)


def change_url(membership: Membership) -> str:
    return reverse("admin:accounts_membership_change", args=[membership.pk])


def delete_url(membership: Membership) -> str:
    return reverse("admin:accounts_membership_delete", args=[membership.pk])


def the_entry(action: str) -> OperationLog:
    return OperationLog.objects.get(action=action)


def assert_by_the_operator(entry: OperationLog) -> None:
    assert entry.source == Source.ADMIN
    assert entry.actor is not None and entry.actor.get_username() == "operator"
    assert entry.actor_name == "operator"


def test_an_operator_adds_a_user_to_an_account_and_the_log_names_the_operator(operator, client, alpha, alice):
    form = operator.get(reverse("admin:accounts_membership_add")).content.decode()
    for field in ("account", "username", "password", "role"):
        assert f'for="id_{field}"' in form
    response = operator.post(
        reverse("admin:accounts_membership_add"),
        {"account": alpha.pk, "username": "erin", "password": PASSWORD, "role": Role.ADMIN},
    )
    assert response.status_code == 302
    added = Membership.objects.select_related("user").get(user__username="erin")
    assert (added.account, added.role) == (alpha, Role.ADMIN)
    entry = the_entry("membership.add")
    assert_by_the_operator(entry)
    assert (entry.account, entry.after) == (alpha, {"user": "erin", "role": "admin"})
    client.logout()
    assert client.login(username="erin", password=PASSWORD)


def test_adding_a_taken_username_shows_the_services_message_on_the_form(operator, alpha, alice):
    response = operator.post(
        reverse("admin:accounts_membership_add"),
        {"account": alpha.pk, "username": "ALICE", "password": PASSWORD, "role": Role.VIEWER},
    )
    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    assert Membership.objects.count() == 1
    assert not OperationLog.objects.exists()


def test_an_operator_changes_a_role_and_the_log_names_the_operator(operator, alpha, alice, bob):
    response = operator.post(change_url(member(bob)), {"role": Role.ADMIN})
    assert response.status_code == 302
    assert member(bob).role == Role.ADMIN
    entry = the_entry("membership.role_change")
    assert_by_the_operator(entry)
    assert (entry.before, entry.after) == (
        {"user": "bob", "role": "viewer"},
        {"user": "bob", "role": "admin"},
    )


def test_the_change_page_cannot_move_a_member_to_another_account(operator, alice, bob, charlie):
    other = member(charlie).account
    operator.post(change_url(member(bob)), {"role": Role.VIEWER, "account": other.pk, "user": charlie.pk})
    assert (member(bob).account.name, member(charlie).account) == ("alpha", other)


def test_the_last_owner_cannot_be_demoted_in_the_admin(operator, alice, bob):
    response = operator.post(change_url(member(alice)), {"role": Role.ADMIN})
    assert response.status_code == 200
    assert LAST_OWNER in response.content.decode()
    assert member(alice).role == Role.OWNER
    assert not OperationLog.objects.exists()
    assert not LogEntry.objects.exists()


def test_an_owner_can_be_demoted_once_another_member_is_owner(operator, alice, bob):
    assert operator.post(change_url(member(bob)), {"role": Role.OWNER}).status_code == 302
    assert operator.post(change_url(member(alice)), {"role": Role.VIEWER}).status_code == 302
    assert (member(alice).role, member(bob).role) == (Role.VIEWER, Role.OWNER)
    assert OperationLog.objects.filter(action="membership.role_change", source=Source.ADMIN).count() == 2


def test_an_operator_removes_a_member_who_can_no_longer_log_on(operator, alpha, alice, bob):
    key = access_key_create(user=bob).access_key
    response = operator.post(delete_url(member(bob)), {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(user=bob).exists()
    bob.refresh_from_db()
    assert bob.is_active is False
    entry = the_entry("membership.remove")
    assert_by_the_operator(entry)
    assert (entry.account, entry.before) == (alpha, {"user": "bob", "role": "viewer"})
    assert credentials.credential_for(key.access_key_id).member is False  # its calls are refused at once


def test_the_last_owner_cannot_be_removed_in_the_admin(operator, alice, bob):
    response = operator.post(delete_url(member(alice)), {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == change_url(member(alice))
    assert LAST_OWNER in response.content.decode()
    alice.refresh_from_db()
    assert member(alice).role == Role.OWNER and alice.is_active
    assert not OperationLog.objects.exists()
    assert not LogEntry.objects.exists()


def test_memberships_are_not_deleted_in_bulk(operator, alice, bob):
    changelist = reverse("admin:accounts_membership_changelist")
    assert 'value="delete_selected"' not in operator.get(changelist).content.decode()
    operator.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [member(alice).pk, member(bob).pk], "post": "yes"},
    )
    assert Membership.objects.count() == 2


def test_the_account_page_lists_its_members_read_only(operator, alpha, alice, bob):
    url = reverse("admin:accounts_account_change", args=[alpha.pk])
    page = operator.get(url).content.decode()
    assert "alice" in page and "bob" in page
    assert 'name="memberships-0-role"' not in page
    alice_row, bob_row = member(alice), member(bob)
    response = operator.post(
        url,
        {
            "name": alpha.name,
            "display_name": alpha.display_name,
            "memberships-TOTAL_FORMS": "3",
            "memberships-INITIAL_FORMS": "2",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-id": alice_row.pk,
            "memberships-0-account": alpha.pk,
            "memberships-0-role": Role.VIEWER,
            "memberships-0-DELETE": "on",
            "memberships-1-id": bob_row.pk,
            "memberships-1-account": alpha.pk,
            "memberships-1-role": Role.OWNER,
            "memberships-2-account": alpha.pk,
            "memberships-2-user": bob.pk,
            "memberships-2-role": Role.OWNER,
        },
    )
    assert response.status_code == 302
    assert (member(alice).role, member(bob).role) == (Role.OWNER, Role.VIEWER)
    assert Membership.objects.count() == 2


def test_accesskey_writes_in_the_admin_are_logged_with_the_operator(operator, alice):
    key = access_key_create(user=alice).access_key
    changelist = reverse("admin:alibaba_api_accesskey_changelist")
    operator.post(reverse("admin:alibaba_api_accesskey_change", args=[key.pk]), {})  # "enabled" unticked
    operator.post(changelist, {"action": "enable_keys", "_selected_action": [key.pk]})
    operator.post(changelist, {"action": "disable_keys", "_selected_action": [key.pk]})
    operator.post(reverse("admin:alibaba_api_accesskey_delete", args=[key.pk]), {"post": "yes"})
    assert not AccessKey.objects.exists()
    entries = OperationLog.objects.filter(source=Source.ADMIN).order_by("id")
    assert [entry.action for entry in entries] == [
        "access_key.disable",
        "access_key.enable",
        "access_key.disable",
        "access_key.delete",
    ]
    for entry in entries:
        assert_by_the_operator(entry)


def test_only_operators_with_the_permission_reach_the_team_admin(client, alice, bob):
    url = change_url(member(bob))
    client.force_login(alice)  # an owner of the account, but not staff
    response = client.post(url, {"role": Role.ADMIN})
    assert response.status_code == 302 and response["Location"] == reverse("home")  # back to the console

    staff = get_user_model().objects.create_user("staff", password=factories.PASSWORD, is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_membership"))
    client.force_login(staff)
    assert client.get(url).status_code == 200
    assert client.post(url, {"role": Role.ADMIN}).status_code == 403
    assert client.post(delete_url(member(bob)), {"post": "yes"}).status_code == 403
    assert member(bob).role == Role.VIEWER
    assert not OperationLog.objects.exists()


def test_admin_writes_need_the_csrf_token(csrf_client, alice, bob):
    operator = get_user_model().objects.create_superuser("operator", password=factories.PASSWORD)
    csrf_client.force_login(operator)
    assert csrf_client.post(change_url(member(bob)), {"role": Role.ADMIN}).status_code == 403
    assert member(bob).role == Role.VIEWER


def test_a_staff_user_is_an_operator_only_through_the_admin(alice, bob):
    staff = get_user_model().objects.create_user("staff", password=factories.PASSWORD, is_staff=True)
    with pytest.raises(PermissionDenied):
        membership_role_change(membership=member(bob), role=Role.ADMIN, context=ChangeContext(staff))
    membership_role_change(
        membership=member(bob), role=Role.ADMIN, context=ChangeContext(staff, source=Source.ADMIN)
    )
    assert member(bob).role == Role.ADMIN
    with pytest.raises(PermissionDenied):  # not staff: no operator, whatever source is claimed
        membership_role_change(
            membership=member(bob), role=Role.VIEWER, context=ChangeContext(bob, source=Source.ADMIN)
        )
