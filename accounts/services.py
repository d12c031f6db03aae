"""Writes of an account's team: add a user, change a member's role, remove a member.

Only owners change the team (views check it; the services check it again for every other entry point), or
an operator (a staff user) through the Django admin; an owner never removes themselves, and an account
always keeps at least one owner, whoever acts. Each write is in the operation log, and `membership_changed`
tells whoever keeps something of the member (their AccessKeys' cached credentials) to follow at once.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import ChangeContext, operation_log_write
from accounts.models import Account, Membership, Role, Source
from accounts.signals import membership_changed


def _check_owner(context: ChangeContext, account: Account) -> None:
    """The actor must be an owner of the account.

    The system (e.g. a management command) may act too, and so may an operator: a staff user acting
    through the admin, which has checked their permissions on memberships already.
    """
    if context.user is None:
        return
    if context.source == Source.ADMIN and getattr(context.user, "is_staff", False):
        return
    if not Membership.objects.filter(user=context.user, account=account, role=Role.OWNER).exists():
        raise PermissionDenied(_("Only the account's owners may change its team."))


def membership_add(
    *, account: Account, username: str, password: str, role: str, context: ChangeContext
) -> Membership:
    """Create a user with this password and make them a member of the account with this role."""
    username = username.strip()
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    User = get_user_model()
    user = User(username=username)
    try:
        User.username_validator(username)  # type: ignore[attr-defined]
    except ValidationError as exc:
        raise ValidationError({"username": exc.messages}) from None
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=account.pk)
        _check_owner(context, account)
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": _("A user with that username already exists.")})
        user.set_password(password)
        user.save()
        membership = Membership.objects.create(user=user, account=account, role=role)
        operation_log_write(
            context=context,
            account=account,
            action="membership.add",
            after={"user": username, "role": role},
        )
    return membership


def membership_role_change(*, membership: Membership, role: str, context: ChangeContext) -> Membership:
    """Give a member another role; the last owner cannot stop being one."""
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    with transaction.atomic():
        # Lock the account first: two owners demoting each other at once cannot both succeed.
        Account.objects.select_for_update().get(pk=membership.account_id)
        current = Membership.objects.select_related("user", "account").get(pk=membership.pk)
        _check_owner(context, current.account)
        if current.role == role:
            return current
        if current.role == Role.OWNER and not _other_owners(current).exists():
            raise ValidationError(
                {"role": _("An account needs at least one owner: make another member an owner first.")}
            )
        before = current.role
        Membership.objects.filter(pk=current.pk).update(role=role)
        current.role = role
        operation_log_write(
            context=context,
            account=current.account,
            action="membership.role_change",
            before={"user": current.user.get_username(), "role": before},
            after={"user": current.user.get_username(), "role": role},
        )
        membership_changed.send(sender=Membership, user=current.user)
    return current


def membership_remove(*, membership: Membership, context: ChangeContext) -> None:
    """Remove a member from the account: they can no longer log on, and their AccessKeys stop working.

    The user is deactivated rather than deleted, so the history keeps pointing at who did what (an
    operator, a staff user, keeps their log-on to the admin).
    """
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=membership.account_id)
        current = Membership.objects.select_related("user", "account").filter(pk=membership.pk).first()
        if current is None:
            return
        _check_owner(context, current.account)
        if context.user is not None and current.user_id == context.user.pk:
            raise ValidationError(_("You cannot remove yourself from the account."))
        if current.role == Role.OWNER and not _other_owners(current).exists():
            raise ValidationError(_("An account needs at least one owner: the last owner cannot be removed."))
        user = current.user
        username = user.get_username()
        current.delete()
        if not user.is_staff:
            user.is_active = False
            user.save(update_fields=["is_active"])
        operation_log_write(
            context=context,
            account=current.account,
            action="membership.remove",
            before={"user": username, "role": current.role},
        )
        membership_changed.send(sender=Membership, user=user)


def _other_owners(membership: Membership):  # type: ignore[no-untyped-def]
    return Membership.objects.filter(account_id=membership.account_id, role=Role.OWNER).exclude(
        pk=membership.pk
    )
