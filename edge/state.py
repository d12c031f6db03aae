"""The delivery state in SQL: which (domain, node) pairs lag, and recording what nodes answered.

What a node must hold is the latest revision of each domain; what it holds is `NodeDomainState`. A pair
lags while the node's applied revision is below the domain's latest, so the lagging pairs are one query: the
latest revisions (the outstanding ones, on their partial index, for the reconciler; given domains, or all
for a node catching up) joined to the enabled nodes, less the pairs already applied (by the state's
(domain, node) unique index). Outcomes are written with multi-row upserts: as many statements as the number
of pairs / `CHUNK`, whatever the number of revisions behind them. Plain SQL that PostgreSQL and SQLite run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from edge.models import AppliedRevision, ConfigRevision, DeploymentStatus, EdgeNode, NodeDomainState

CHUNK = 2000


class Lagging(NamedTuple):
    """One domain's latest revision owed to one node."""

    node_id: int
    revision_id: int
    number: int
    domain_id: int


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _domain_table() -> str:
    """The domains' table, known through the revisions' foreign key (delivery imports nothing above it)."""
    return _table(ConfigRevision._meta.get_field("domain").related_model)  # type: ignore[arg-type]


def _in(column: str, values: list[int], params: list[Any]) -> str:
    params.extend(values)
    return f" AND {column} IN ({', '.join(['%s'] * len(values))})"


def lagging_pairs(
    *,
    domain_ids: list[int] | None,
    node_ids: list[int] | None,
    cutoff: datetime | None,
    shard: tuple[int, int] | None,
) -> tuple[list[Lagging], dict[int, tuple[str, str]], dict[int, str]]:
    """The lagging pairs on enabled nodes (one query), their nodes' names and agent URLs, and the documents
    of their revisions as text (a second query, each document once however many nodes lag on it).

    With neither domains nor nodes given (the reconciler) only outstanding revisions are looked at.
    `cutoff` leaves out pairs touched (or revisions made) after it; `shard` (index, count) keeps the nodes
    whose id modulo count is index.
    """
    state, node, revision, domain = (
        _table(NodeDomainState),
        _table(EdgeNode),
        _table(ConfigRevision),
        _domain_table(),
    )
    params: list[Any] = []
    sql = (
        f"SELECT n.id, r.id, r.number, r.domain_id, n.name, n.agent_url"  # noqa: S608
        f" FROM {revision} r"
        f" JOIN {domain} d ON d.id = r.domain_id AND d.config_revision = r.number"
        f" JOIN {node} n ON n.enabled"
        f" LEFT JOIN {state} s ON s.domain_id = r.domain_id AND s.node_id = n.id"
        " WHERE (s.id IS NULL OR s.applied_number < r.number)"
    )
    if domain_ids is None and node_ids is None:
        sql += " AND r.outstanding"
    if domain_ids is not None:
        sql += _in("r.domain_id", domain_ids, params)
    if node_ids is not None:
        sql += _in("n.id", node_ids, params)
    if shard is not None and shard[1] > 1:
        sql += " AND n.id %% %s = %s"
        params += [shard[1], shard[0]]
    if cutoff is not None:
        sql += " AND (CASE WHEN s.updated_at > r.created_at THEN s.updated_at ELSE r.created_at END) <= %s"
        params.append(cutoff)
    if (domain_ids is not None and not domain_ids) or (node_ids is not None and not node_ids):
        return [], {}, {}
    pairs: list[Lagging] = []
    nodes: dict[int, tuple[str, str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for node_id, revision_id, number, domain_id, name, url in cursor.fetchall():
            pairs.append(Lagging(node_id, revision_id, number, domain_id))
            if node_id not in nodes:
                nodes[node_id] = (name, url)
        documents: dict[int, str] = {}
        revisions = sorted({pair.revision_id for pair in pairs})
        if revisions:
            cursor.execute(
                f"SELECT id, CAST(document AS TEXT) FROM {revision}"  # noqa: S608
                f" WHERE id IN ({', '.join(['%s'] * len(revisions))})",
                revisions,
            )
            documents = dict(cursor.fetchall())
    return pairs, nodes, documents


class Each(NamedTuple):
    """A column whose value differs per row: its SQL type (for PostgreSQL's arrays) and the values."""

    sql_type: str
    values: list[Any]


def _upsert(model: type[Model], columns: dict[str, Any], conflict: str, returning: str = "") -> list[tuple]:
    """INSERT rows into `model`'s table, with the ON CONFLICT clause given; returns the `returning` columns
    of the rows written (inserted or updated).

    `columns` maps each column to its values (`Each`) or to one value for every row. On PostgreSQL, one
    statement whatever the number of rows: the values go as one array per column (`unnest`), so neither the
    statement's text nor its parameters grow with the rows; elsewhere, multi-row VALUES in chunks.
    """
    each = [value for value in columns.values() if isinstance(value, Each)]
    count = len(each[0].values)
    if not count:
        return []
    names = ", ".join(columns)
    if returning:
        conflict += f" RETURNING {returning}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            params: list[Any] = []
            select = []
            for index, value in enumerate(columns.values()):
                if isinstance(value, Each):
                    select.append(f"x.c{index}")
                else:
                    select.append("%s")
                    params.append(value)
            arrays = [
                (f"%s::{value.sql_type}[]", f"c{index}")
                for index, value in enumerate(columns.values())
                if isinstance(value, Each)
            ]
            params += [value.values for value in each]
            cursor.execute(
                f"INSERT INTO {_table(model)} ({names}) SELECT {', '.join(select)}"  # noqa: S608
                f" FROM unnest({', '.join(a for a, _ in arrays)}) AS x({', '.join(c for _, c in arrays)})"
                f" {conflict}",
                params,
            )
            return cursor.fetchall() if returning else []
        written = []
        template = "(" + ", ".join(["%s"] * len(columns)) + ")"
        rows = [
            [value.values[row] if isinstance(value, Each) else value for value in columns.values()]
            for row in range(count)
        ]
        for start in range(0, count, CHUNK):
            chunk = rows[start : start + CHUNK]
            cursor.execute(
                f"INSERT INTO {_table(model)} ({names})"  # noqa: S608
                f" VALUES {', '.join([template] * len(chunk))} {conflict}",
                [value for row in chunk for value in row],
            )
            if returning:
                written += cursor.fetchall()
        return written


def record_applied(pairs: list[Lagging], *, now: datetime) -> int:
    """The nodes hold these revisions now; returns how many pairs moved to applied. The revisions go to the
    history (`AppliedRevision`) with the nodes that moved to them: a row per revision."""
    if not pairs:
        return 0
    t = _table(NodeDomainState)
    numbers = Each("integer", [p.number for p in pairs])
    moved = _upsert(
        NodeDomainState,
        {
            "node_id": Each("bigint", [p.node_id for p in pairs]),
            "domain_id": Each("bigint", [p.domain_id for p in pairs]),
            "applied_number": numbers,
            "applied_at": now,
            "number": numbers,
            "status": DeploymentStatus.APPLIED.value,
            "attempts": 1,
            "last_error": "",
            "updated_at": now,
        },
        "ON CONFLICT (domain_id, node_id) DO UPDATE SET"
        " applied_number = excluded.applied_number, applied_at = excluded.applied_at,"
        " number = excluded.number, status = excluded.status,"
        f" attempts = CASE WHEN {t}.number = excluded.number THEN {t}.attempts + 1 ELSE 1 END,"
        " last_error = '', updated_at = excluded.updated_at"
        f" WHERE {t}.applied_number < excluded.applied_number",
        returning="node_id, domain_id",
    )
    revision_of = {(p.node_id, p.domain_id): p.revision_id for p in pairs}
    nodes: dict[int, list[int]] = {}
    for node_id, domain_id in moved:
        nodes.setdefault(revision_of[(node_id, domain_id)], []).append(node_id)
    AppliedRevision.objects.bulk_create(
        [
            AppliedRevision(revision_id=revision_id, applied_at=now, node_ids=sorted(node_ids))
            for revision_id, node_ids in nodes.items()
        ]
    )
    return len(moved)


def record_failure(pairs: list[Lagging], error: str, *, final: bool, now: datetime) -> None:
    """An attempt at these pairs failed with `error`: `final` marks them failed (no retry is left), else they
    stay pending (a failed pair stays failed). Pairs applied or moved to a newer revision meanwhile are left
    as they are."""
    if not pairs:
        return
    t = _table(NodeDomainState)
    failed = DeploymentStatus.FAILED.value
    _upsert(
        NodeDomainState,
        {
            "node_id": Each("bigint", [p.node_id for p in pairs]),
            "domain_id": Each("bigint", [p.domain_id for p in pairs]),
            "applied_number": 0,
            "applied_at": None,
            "number": Each("integer", [p.number for p in pairs]),
            "status": (DeploymentStatus.FAILED if final else DeploymentStatus.PENDING).value,
            "attempts": 1,
            "last_error": error[:2000],
            "updated_at": now,
        },
        "ON CONFLICT (domain_id, node_id) DO UPDATE SET number = excluded.number,"
        f" status = CASE WHEN {t}.number = excluded.number AND {t}.status = '{failed}' THEN {t}.status"
        " ELSE excluded.status END,"
        f" attempts = CASE WHEN {t}.number = excluded.number THEN {t}.attempts + 1 ELSE 1 END,"
        " last_error = excluded.last_error, updated_at = excluded.updated_at"
        f" WHERE {t}.applied_number < excluded.number AND {t}.number <= excluded.number",
    )


def lagging_report(*, domain_id: int | None) -> list[tuple[str, str, int, int, str, str, datetime]]:
    """Which enabled nodes lag on the outstanding revisions, on what, since when and why (one query): (node,
    domain id, revision held, revision owed, status, last error, since the first revision it lacks was
    made), the longest lagging first."""
    state, node, revision, domain = (
        _table(NodeDomainState),
        _table(EdgeNode),
        _table(ConfigRevision),
        _domain_table(),
    )
    about = "s.number = r.number"
    params: list[Any] = []
    sql = (
        f"SELECT n.name, r.domain_id, COALESCE(s.applied_number, 0), r.number,"  # noqa: S608
        f" CASE WHEN {about} THEN s.status ELSE '{DeploymentStatus.PENDING.value}' END,"
        f" CASE WHEN {about} THEN s.last_error ELSE '' END,"
        " COALESCE(x.created_at, r.created_at) AS since"
        f" FROM {revision} r"
        f" JOIN {domain} d ON d.id = r.domain_id AND d.config_revision = r.number"
        f" JOIN {node} n ON n.enabled"
        f" LEFT JOIN {state} s ON s.domain_id = r.domain_id AND s.node_id = n.id"
        f" LEFT JOIN {revision} x"
        " ON x.domain_id = r.domain_id AND x.number = COALESCE(s.applied_number, 0) + 1"
        " WHERE r.outstanding AND (s.id IS NULL OR s.applied_number < r.number)"
    )
    if domain_id is not None:
        sql += " AND r.domain_id = %s"
        params.append(domain_id)
    sql += " ORDER BY since, n.name"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(*row[:6], _moment(row[6])) for row in cursor.fetchall()]


def _moment(value: datetime | str) -> datetime:
    """A time read by raw SQL: SQLite gives the text it stores (UTC)."""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        assert parsed is not None
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
    return value
