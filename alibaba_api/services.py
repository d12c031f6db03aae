"""Writes of AccessKey pairs: create (the secret is returned once), enable or disable, delete.

The console's AccessKey page, `manage.py create_access_key` and the admin all come here; each write is in
the operation log (the secret never is) and takes effect for API calls at once, in every process.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.access import membership_for
from accounts.audit import ChangeContext, operation_log_write
from alibaba_api import credentials
from alibaba_api.crypto import encrypt_secret
from alibaba_api.models import ACCESS_KEY_ID_PREFIX, AccessKey

_ALPHANUMERIC = string.ascii_letters + string.digits
ACCESS_KEY_ID_LENGTH = 20
SECRET_LENGTH = 30


def new_access_key_id() -> str:
    """`LTAI` followed by 20 letters and digits, as the vendor's AccessKey IDs look."""
    return ACCESS_KEY_ID_PREFIX + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(ACCESS_KEY_ID_LENGTH))


def new_secret() -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(SECRET_LENGTH))


@dataclass(frozen=True)
class NewAccessKey:
    access_key: AccessKey
    secret: str


def _facts(access_key: AccessKey) -> dict[str, object]:
    """What the operation log keeps of a key: never its secret."""
    return {
        "access_key_id": access_key.access_key_id,
        "user": access_key.user.get_username(),
        "enabled": access_key.enabled,
    }


def access_key_create(*, user: AbstractBaseUser, context: ChangeContext | None = None) -> NewAccessKey:
    """Create an AccessKey for `user` in their account; the result holds the plaintext secret, once.

    Any member may hold keys: a key can do no more than its user's role (a viewer's key only reads).
    """
    context = context or ChangeContext.system()
    membership = membership_for(user)
    if membership is None:
        raise ValidationError(_("This user belongs to no account, so an AccessKey would grant nothing."))
    secret = new_secret()
    with transaction.atomic():
        while True:
            key_id = new_access_key_id()
            if not AccessKey.objects.filter(access_key_id=key_id).exists():
                break
        access_key = AccessKey.objects.create(
            user=user,
            account_id=membership.account_id,
            access_key_id=key_id,
            secret_encrypted=encrypt_secret(secret),
        )
        operation_log_write(
            context=context, account=membership.account, action="access_key.create", after=_facts(access_key)
        )
        credentials.forget(key_id)
    return NewAccessKey(access_key=access_key, secret=secret)


def access_key_set_enabled(
    *, access_key: AccessKey, enabled: bool, context: ChangeContext | None = None
) -> AccessKey:
    """Enable or disable a key; a disabled key's calls are refused with InvalidAccessKeyId.Inactive."""
    context = context or ChangeContext.system()
    with transaction.atomic():
        current = (
            AccessKey.objects.select_for_update().select_related("user", "account").get(pk=access_key.pk)
        )
        if current.enabled != enabled:
            before = _facts(current)
            AccessKey.objects.filter(pk=current.pk).update(enabled=enabled)
            current.enabled = enabled
            operation_log_write(
                context=context,
                account=current.account,
                action="access_key.enable" if enabled else "access_key.disable",
                before=before,
                after=_facts(current),
            )
        credentials.forget(current.access_key_id)
    access_key.enabled = enabled
    return access_key


def access_key_delete(*, access_key: AccessKey, context: ChangeContext | None = None) -> None:
    """Delete a key; its calls are refused with InvalidAccessKeyId.NotFound from then on."""
    context = context or ChangeContext.system()
    with transaction.atomic():
        current = (
            AccessKey.objects.select_for_update()
            .select_related("user", "account")
            .filter(pk=access_key.pk)
            .first()
        )
        if current is None:
            return
        before = _facts(current)
        current.delete()
        operation_log_write(
            context=context, account=current.account, action="access_key.delete", before=before
        )
        credentials.forget(before["access_key_id"])  # type: ignore[arg-type]
