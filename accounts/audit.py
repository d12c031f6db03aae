"""Who made a change and from where, and the operation log entry that records it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model
from django.http import HttpRequest

from accounts.models import Account, OperationLog, Source


@dataclass(frozen=True)
class ChangeContext:
    """The actor of a change: passed by every entry point to the services."""

    user: AbstractBaseUser | None
    source: str = Source.CONSOLE
    remote_addr: str | None = None

    @property
    def actor_name(self) -> str:
        if self.user is None:
            return "system"
        return self.user.get_username()

    @classmethod
    def from_request(cls, request: HttpRequest, *, source: str = Source.CONSOLE) -> ChangeContext:
        user = request.user if not isinstance(request.user, AnonymousUser) else None
        return cls(user=user, source=source, remote_addr=request.META.get("REMOTE_ADDR") or None)

    @classmethod
    def system(cls) -> ChangeContext:
        return cls(user=None, source=Source.SYSTEM)


@dataclass(frozen=True)
class OperationEntry:
    """One operation log entry to write: what changed on which domain (the actor comes from the context).

    `domain` is the domain row (a `domains.Domain`), or None with `domain_name` for one already gone."""

    account_id: int
    action: str
    domain: Model | None = None
    domain_name: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    revision: int | None = None


def operation_log_write_many(*, context: ChangeContext, entries: list[OperationEntry]) -> list[OperationLog]:
    """Write several entries of one change context in one statement (a batch change of many domains)."""
    if not entries:
        return []
    return OperationLog.objects.bulk_create(
        [
            OperationLog(
                account_id=entry.account_id,
                domain=entry.domain,
                domain_name=entry.domain.name if entry.domain is not None else entry.domain_name,
                actor=context.user,
                actor_name=context.actor_name,
                source=context.source,
                remote_addr=context.remote_addr,
                action=entry.action,
                before=entry.before or {},
                after=entry.after or {},
                revision=entry.revision,
            )
            for entry in entries
        ]
    )


def operation_log_write(
    *,
    context: ChangeContext,
    account: Account,
    action: str,
    domain: Model | None = None,
    domain_name: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    revision: int | None = None,
) -> OperationLog:
    entry = OperationEntry(
        account_id=account.pk,
        action=action,
        domain=domain,
        domain_name=domain_name,
        before=before,
        after=after,
        revision=revision,
    )
    return operation_log_write_many(context=context, entries=[entry])[0]
