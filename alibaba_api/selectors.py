"""Reads of the API: the caller's domains, their config state (with the configured functions and their
ConfigIds), and the delivery Status of configs.

A config's Status is the delivery state of the domain's latest revision on enabled edge nodes: `failed` once
any node's delivery gave up, `configuring` while any node is pending, `success` when every node applied it
(or there is nothing to deliver).
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Model, Prefetch, QuerySet
from django.http import Http404

from accounts.access import membership_for
from alibaba_api.function_base import Configured, DomainState
from alibaba_api.models import AccessKey
from domains.models import ConfiguredFunction, Domain, Origin, OriginFetchSettings
from domains.selectors import settings_of
from edge.models import ConfigRevision, DeploymentStatus, EdgeNode, NodeDomainState

CONFIG_SUCCESS = "success"
CONFIG_CONFIGURING = "configuring"
CONFIG_FAILED = "failed"


def api_domains(*, account_id: int, product: str) -> QuerySet[Domain]:
    """The account's live domains of one product (CDN or DCDN)."""
    return Domain.objects.filter(account_id=account_id, product=product, deleted_at__isnull=True)


def ordered_origins() -> Prefetch:
    return Prefetch("origins", queryset=Origin.objects.order_by("priority", "id"))


def configured_functions(domain: Domain) -> list[Configured]:
    return [
        Configured(config_id=pk, function=function, origin_id=origin_id)
        for pk, function, origin_id in ConfiguredFunction.objects.filter(domain=domain).values_list(
            "id", "function", "origin_id"
        )
    ]


def _status(total: int, applied: int, failed: int) -> str:
    if failed:
        return CONFIG_FAILED
    if applied < total:
        return CONFIG_CONFIGURING
    return CONFIG_SUCCESS


_SETTINGS_FIELDS = OriginFetchSettings.VALUE_FIELDS
_COUNT_MASK = (1 << 20) - 1
_ORIGIN_FIELDS = ("id", "type", "address", "port", "priority", "weight", "enabled", "sni_host")


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: type[Model], alias: str, name: str) -> str:
    return f"{alias}.{connection.ops.quote_name(model._meta.get_field(name).column)}"


@cache
def _domain_configs_sql(vendor: str) -> str:
    """The query of `domain_configs_state`; plain SQL that PostgreSQL and SQLite both run."""

    def dc(name: str) -> str:
        return _column(Domain, "d", name)

    def st(name: str) -> str:
        return _column(NodeDomainState, "s", name)

    # How the latest revision stands on the enabled nodes, the three counts packed into one integer (total +
    # applied << 20 + failed << 40): nothing to count once the revision is no longer outstanding (applied
    # everywhere), else one pass over the domain's (domain, node) states on their unique index.
    latest = dc("config_revision")
    counts = (
        f"(SELECT CASE WHEN NOT {_column(ConfigRevision, 'r', 'outstanding')} THEN 0 ELSE"  # noqa: S608
        f" (SELECT COUNT(*) FROM {_table(EdgeNode)} n0 WHERE {_column(EdgeNode, 'n0', 'enabled')})"
        f" + COALESCE((SELECT SUM(CASE WHEN {st('applied_number')} >= {latest} THEN {1 << 20}"
        f" WHEN {st('number')} = {latest} AND {st('status')} = '{DeploymentStatus.FAILED.value}'"
        f" THEN {1 << 40}"
        f" ELSE 0 END) FROM {_table(NodeDomainState)} s"
        f" JOIN {_table(EdgeNode)} n ON n.id = {st('node')}"
        f" WHERE {st('domain')} = d.id AND {_column(EdgeNode, 'n', 'enabled')}), 0) END"
        f" FROM {_table(ConfigRevision)} r"
        f" WHERE {_column(ConfigRevision, 'r', 'domain')} = d.id"
        f" AND {_column(ConfigRevision, 'r', 'number')} = {latest})"
    )

    # The configured functions, `id:function:origin id` joined by commas: one more subquery on an index.
    def cc(name: str) -> str:
        return _column(ConfiguredFunction, "c", name)

    joined = f"{cc('id')} || ':' || {cc('function')} || ':' || COALESCE({cc('origin')}, 0)"
    aggregate = f"string_agg({joined}, ',')" if vendor == "postgresql" else f"group_concat({joined}, ',')"
    configured = f"(SELECT {aggregate} FROM {_table(ConfiguredFunction)} c WHERE {cc('domain')} = d.id)"  # noqa: S608
    columns = [
        dc("id"),
        dc("name"),
        dc("config_revision"),
        _column(OriginFetchSettings, "s", "domain"),
        *(_column(OriginFetchSettings, "s", name) for name in _SETTINGS_FIELDS),
        *(_column(Origin, "o", name) for name in _ORIGIN_FIELDS),
        configured,
        counts,
    ]
    return (
        f"SELECT {', '.join(columns)} FROM {_table(Domain)} d"  # noqa: S608 - values are query parameters
        f" LEFT JOIN {_table(OriginFetchSettings)} s ON {_column(OriginFetchSettings, 's', 'domain')} = d.id"
        f" LEFT JOIN {_table(Origin)} o ON {_column(Origin, 'o', 'domain')} = d.id"
        f" WHERE {dc('account')} = %s AND {dc('product')} = %s AND {dc('name')} = %s"
        f" AND {dc('deleted_at')} IS NULL"
        f" ORDER BY {_column(Origin, 'o', 'priority')}, {_column(Origin, 'o', 'id')}"
    )


def domain_configs_state(*, account_id: int, product: str, name: str) -> tuple[DomainState, str] | None:
    """The domain with its settings and origins, and its config Status, in one query (the Describe hot path).

    None when the account has no such live domain.
    """
    with connection.cursor() as cursor:
        cursor.execute(_domain_configs_sql(connection.vendor), [account_id, product, name])
        rows = cursor.fetchall()
    if not rows:
        return None
    first = rows[0]
    domain = Domain(
        pk=first[0], name=first[1], config_revision=first[2], account_id=account_id, product=product
    )
    settings_start = 4
    origin_start = settings_start + len(_SETTINGS_FIELDS)
    values = dict(zip(_SETTINGS_FIELDS, first[settings_start:origin_start], strict=True))
    row = None
    if first[3] is not None:
        for flag in ("forward_scheme_enabled", "sni_enabled", "verify_origin_cert"):
            values[flag] = bool(values[flag])
        row = OriginFetchSettings(domain=domain, **values)
    # The settings row as read (or its absence): `settings_of` then answers as for any other domain.
    Domain.origin_fetch.related.set_cached_value(domain, row)  # type: ignore[attr-defined]
    settings = settings_of(domain)
    origins = []
    for row in rows:
        fields = dict(
            zip(_ORIGIN_FIELDS, row[origin_start : origin_start + len(_ORIGIN_FIELDS)], strict=True)
        )
        if fields["id"] is not None:
            fields["enabled"] = bool(fields["enabled"])
            origins.append(Origin(domain=domain, **fields))
    configured = sorted(
        Configured(config_id=int(pk), function=function, origin_id=int(origin_id) or None)
        for pk, function, origin_id in (item.split(":") for item in (first[-2] or "").split(",") if item)
    )
    packed = int(first[-1] or 0)
    total, applied, failed = packed & _COUNT_MASK, (packed >> 20) & _COUNT_MASK, packed >> 40
    status = _status(total, applied, failed) if domain.config_revision else CONFIG_SUCCESS
    state = DomainState(domain=domain, settings=settings, origins=origins, configured=configured)
    return state, status


def access_keys_for_user(user: AbstractBaseUser) -> QuerySet[AccessKey]:
    """The user's own AccessKeys in their account, newest first; nobody sees another user's keys."""
    membership = membership_for(user)
    if membership is None:
        return AccessKey.objects.none()
    return AccessKey.objects.filter(user=user, account_id=membership.account_id).order_by(
        "-created_at", "-id"
    )


def get_access_key_for_user(user: AbstractBaseUser, *, access_key_id: str) -> AccessKey:
    """One of the user's own keys, or 404: another user's key is indistinguishable from none."""
    key = (
        access_keys_for_user(user)
        .filter(access_key_id=access_key_id)
        .select_related("user", "account")
        .first()
    )
    if key is None:
        raise Http404("No such AccessKey.")
    return key
