"""Reads of the account: its operation log (for the pages and the REST API alike) and its members."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404

from accounts.access import membership_for, require_owner
from accounts.models import Membership, OperationLog, Role


def operations_for_user(
    user: AbstractBaseUser,
    *,
    domain: str = "",
    actor: str = "",
    action: str = "",
    source: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[OperationLog]:
    """The operation log of the user's account, newest first, with the given filters.

    The console's Operation Log page, a domain's Operation Log tab and the REST API all read through here.
    """
    membership = membership_for(user)
    if membership is None:
        return OperationLog.objects.none()
    entries = OperationLog.objects.filter(account_id=membership.account_id)
    if domain:
        entries = entries.filter(domain_name=domain.strip().lower().rstrip("."))
    if actor:
        entries = entries.filter(actor_name=actor.strip())
    if action:
        entries = entries.filter(action=action)
    if source:
        entries = entries.filter(source=source)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return entries.order_by("-created_at", "-id")


def members_of_account(user: AbstractBaseUser) -> QuerySet[Membership]:
    """The members of the user's account, owners first."""
    membership = membership_for(user)
    if membership is None:
        return Membership.objects.none()
    order = {Role.OWNER: 0, Role.ADMIN: 1, Role.VIEWER: 2}
    rank = Case(*(When(role=r, then=Value(n)) for r, n in order.items()), output_field=IntegerField())
    return (
        Membership.objects.filter(account_id=membership.account_id)
        .select_related("user")
        .order_by(rank, "user__username")
    )


def get_member_for_owner(user: AbstractBaseUser, *, member_id: int) -> Membership:
    """A member of the user's account, for a change: 404 for another account's, 403 for a non-owner."""
    member = members_of_account(user).filter(pk=member_id).first()
    if member is None:
        raise Http404("No such member.")
    require_owner(user)
    return member
