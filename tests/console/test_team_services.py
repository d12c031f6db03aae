"""The team's services: add a user, change a role, remove a member; an account always keeps an owner."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.audit import ChangeContext
from accounts.models import Membership, OperationLog, Role
from accounts.services import membership_add, membership_remove, membership_role_change
from alibaba_api import credentials
from alibaba_api.services import access_key_create

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase-2026"


def member(user) -> Membership:  # type: ignore[no-untyped-def]
    return Membership.objects.get(user=user)


def test_an_owner_adds_a_user_who_can_log_on(client, alpha, alice):
    added = membership_add(
        account=alpha, username="erin", password=PASSWORD, role=Role.ADMIN, context=ChangeContext(alice)
    )
    assert (added.account, added.role, added.user.username) == (alpha, Role.ADMIN, "erin")
    assert client.login(username="erin", password=PASSWORD)
    entry = OperationLog.objects.get(action="membership.add")
    assert (entry.actor_name, entry.account, entry.after) == (
        "alice",
        alpha,
        {"user": "erin", "role": "admin"},
    )
    assert PASSWORD not in str(entry.after)


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("bob", PASSWORD, "username"),
        ("BOB", PASSWORD, "username"),
        ("bad name!", PASSWORD, "username"),
        ("erin", "123", "password"),
        ("erin", "erin", "password"),
    ],
)
def test_adding_refuses_taken_or_invalid_names_and_weak_passwords(
    alpha, alice, bob, username, password, field
):
    with pytest.raises(ValidationError) as caught:
        membership_add(
            account=alpha,
            username=username,
            password=password,
            role=Role.VIEWER,
            context=ChangeContext(alice),
        )
    assert field in caught.value.error_dict
    assert Membership.objects.filter(account=alpha).count() == 2


@pytest.mark.parametrize("actor", ["bob", "dave"])
def test_only_owners_change_the_team(request, alpha, alice, bob, dave, actor):
    context = ChangeContext(request.getfixturevalue(actor))
    with pytest.raises(PermissionDenied):
        membership_add(account=alpha, username="erin", password=PASSWORD, role=Role.OWNER, context=context)
    with pytest.raises(PermissionDenied):
        membership_role_change(membership=member(alice), role=Role.VIEWER, context=context)
    with pytest.raises(PermissionDenied):
        membership_remove(membership=member(alice), context=context)
    assert member(alice).role == Role.OWNER


def test_an_owner_of_another_account_cannot_change_this_one(alpha, alice, charlie):
    with pytest.raises(PermissionDenied):
        membership_role_change(membership=member(alice), role=Role.VIEWER, context=ChangeContext(charlie))


def test_a_role_change_is_logged_and_the_api_follows_at_once(alice, bob):
    key = access_key_create(user=bob).access_key
    assert credentials.credential_for(key.access_key_id).can_write is False
    membership_role_change(membership=member(bob), role=Role.ADMIN, context=ChangeContext(alice))
    assert member(bob).role == Role.ADMIN
    assert credentials.credential_for(key.access_key_id).can_write is True
    entry = OperationLog.objects.get(action="membership.role_change")
    assert (entry.before, entry.after) == (
        {"user": "bob", "role": "viewer"},
        {"user": "bob", "role": "admin"},
    )


def test_the_last_owner_cannot_stop_being_owner(alice):
    with pytest.raises(ValidationError, match="at least one owner"):
        membership_role_change(membership=member(alice), role=Role.ADMIN, context=ChangeContext(alice))
    assert member(alice).role == Role.OWNER


def test_an_owner_steps_down_once_another_owner_exists(alice, bob):
    membership_role_change(membership=member(bob), role=Role.OWNER, context=ChangeContext(alice))
    membership_role_change(membership=member(alice), role=Role.VIEWER, context=ChangeContext(alice))
    assert (member(alice).role, member(bob).role) == (Role.VIEWER, Role.OWNER)


def test_nobody_removes_themselves(alice, bob):
    membership_role_change(membership=member(bob), role=Role.OWNER, context=ChangeContext(alice))
    with pytest.raises(ValidationError, match="cannot remove yourself"):
        membership_remove(membership=member(alice), context=ChangeContext(alice))
    assert Membership.objects.filter(user=alice).exists()


def test_the_last_owner_cannot_be_removed(alice):
    """Only reachable by the system (an owner cannot remove themselves), and refused there too."""
    with pytest.raises(ValidationError, match="last owner"):
        membership_remove(membership=member(alice), context=ChangeContext.system())


def test_a_removed_member_can_no_longer_log_on_nor_use_their_keys(client, alice, bob):
    key = access_key_create(user=bob).access_key
    assert credentials.credential_for(key.access_key_id).member
    membership_remove(membership=member(bob), context=ChangeContext(alice))
    assert not Membership.objects.filter(user=bob).exists()
    assert not get_user_model().objects.get(pk=bob.pk).is_active
    assert not client.login(username="bob", password="correct-horse-battery")
    assert credentials.credential_for(key.access_key_id).member is False
    entry = OperationLog.objects.get(action="membership.remove")
    assert (entry.actor_name, entry.before) == ("alice", {"user": "bob", "role": "viewer"})
