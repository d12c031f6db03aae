"""Who may do what in an account: every page, API and service asks here.

A user belongs to one account with a role. Another account's things are invisible (the callers answer 404,
as for something that does not exist); a viewer's writes are refused (403).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from accounts.models import Account, Membership, Role


def membership_for(user: AbstractBaseUser) -> Membership | None:
    """The user's membership, with its account, in one query; cached on the user like `user.membership`."""
    if user.pk is None:
        return None
    relation = get_user_model().membership.related  # type: ignore[attr-defined]
    if not relation.is_cached(user):
        membership = Membership.objects.select_related("account").filter(user_id=user.pk).first()
        if membership is None:
            return None
        relation.set_cached_value(user, membership)
    return relation.get_cached_value(user)  # type: ignore[no-any-return]


def account_id_for(user: AbstractBaseUser) -> int | None:
    """The id of the user's account, or None for a user without one (who sees nothing)."""
    membership = membership_for(user)
    return membership.account_id if membership is not None else None


def can_write(user: AbstractBaseUser) -> bool:
    """Whether the user's role changes things (owners and administrators) rather than only looks."""
    membership = membership_for(user)
    return membership is not None and membership.can_write


def require_write(user: AbstractBaseUser) -> Membership:
    """The user's membership, or 403 for a read-only member (or a user without an account)."""
    membership = membership_for(user)
    if membership is None or not membership.can_write:
        raise PermissionDenied(gettext("Your role is read-only."))
    return membership


def account_for_user_rw(user: AbstractBaseUser) -> Account:
    """The account the user may add things to, or 403 for a read-only member (or a user without one)."""
    return require_write(user).account


def require_owner(user: AbstractBaseUser) -> Membership:
    """The user's membership, or 403 unless the user owns the account (the team is the owners' to change)."""
    membership = membership_for(user)
    if membership is None or membership.role != Role.OWNER:
        raise PermissionDenied("Only the account's owners may change its team.")
    return membership
