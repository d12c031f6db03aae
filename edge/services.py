"""Publishing config revisions and delivering them to edge nodes (SPEC.md §5).

The database is the source of truth: a revision and one pending deployment per enabled node are written in
the caller's transaction; the push is enqueued after commit. Delivery always sends a node the latest
revision of each domain it lags on, one request per node, all nodes concurrently; so rapid edits coalesce,
and a lost message or a node that was down is caught up by the periodic reconciler.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import ssl
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, TextField, prefetch_related_objects
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from console.audit import ChangeContext
from domains.models import Domain, DomainStatus, Origin
from edge.documents import compile_domain_config, same_config
from edge.models import ConfigRevision, Deployment, DeploymentStatus, EdgeNode
from edge_agent.signing import signed_headers

logger = logging.getLogger(__name__)

LAGGING = (DeploymentStatus.PENDING, DeploymentStatus.FAILED)


def domain_config_publish(
    *, domain: Domain, context: ChangeContext, summary: str = ""
) -> ConfigRevision | None:
    """Write a new revision of `domain`'s config if it differs from the latest one, and schedule delivery.

    Call inside the transaction that changed the domain, with the domain row locked (select_for_update), so
    revision numbers never collide. Returns None when nothing effective changed: no revision, no push.
    """
    return domain_config_publish_many(domains=[domain], context=context, summaries={domain.pk: summary})[
        domain.pk
    ]


def latest_document() -> Subquery:
    """The document of a domain's latest revision, for `Domain.objects.annotate(latest_document=...)`.

    The latest revision is the one numbered `config_revision` (publishing writes both together), found by
    the (domain, number) unique index.
    """
    return Subquery(
        ConfigRevision.objects.filter(domain_id=OuterRef("pk"), number=OuterRef("config_revision")).values(
            "document"
        )[:1]
    )


def enabled_node_ids() -> list[int]:
    return list(EdgeNode.objects.filter(enabled=True).values_list("pk", flat=True))


def domain_config_publish_many(
    *,
    domains: list[Domain],
    context: ChangeContext,
    summaries: dict[int, str],
    node_ids: list[int] | None = None,
) -> dict[int, ConfigRevision | None]:
    """`domain_config_publish` for several domains at once, in a fixed number of statements.

    Same contract: call inside the transaction that changed the domains, with their rows locked. What the
    caller already loaded is used as it is: `domain.origin_fetch`, prefetched `origins`, a `latest_document`
    annotation (see `latest_document`) and `node_ids` (the enabled edge nodes, which no domain lock
    guards, so they may be read before taking the locks); the rest is loaded in one query each. Returns,
    per domain id, the new revision or None when the domain's effective config did not change. One
    delivery task is enqueued after commit for all of the domains that got a revision.
    """
    if not domains:
        return {}
    prefetch_related_objects(domains, "origin_fetch", "origins")
    latest = {domain.pk: domain.latest_document for domain in domains if hasattr(domain, "latest_document")}
    unknown = [domain.pk for domain in domains if domain.pk not in latest]
    if unknown:
        latest |= dict(
            ConfigRevision.objects.filter(
                domain_id__in=unknown, number=F("domain__config_revision")
            ).values_list("domain_id", "document")
        )
    result: dict[int, ConfigRevision | None] = {}
    changed: list[tuple[Domain, ConfigRevision]] = []
    for domain in domains:
        number = domain.config_revision + 1
        document = compile_domain_config(domain, revision=number).as_dict()
        previous = latest.get(domain.pk)
        if previous is not None and same_config(previous, document):
            result[domain.pk] = None
            continue
        revision = ConfigRevision(
            domain=domain,
            number=number,
            document=document,
            snapshot=domain_snapshot(domain),
            actor=context.user,
            actor_name=context.actor_name,
            source=context.source,
            remote_addr=context.remote_addr,
            summary=summaries.get(domain.pk, "")[:300],
        )
        changed.append((domain, revision))
        result[domain.pk] = revision
    if not changed:
        return result

    now = timezone.now()
    ConfigRevision.objects.bulk_create([revision for _, revision in changed])
    changed_ids = [domain.pk for domain, _ in changed]
    # Earlier revisions still on their way are superseded: a node gets the latest, not each one.
    Deployment.objects.filter(revision__domain_id__in=changed_ids, status__in=LAGGING).update(
        status=DeploymentStatus.SUPERSEDED, updated_at=now
    )
    nodes = enabled_node_ids() if node_ids is None else node_ids
    Deployment.objects.bulk_create(
        [Deployment(revision=revision, node_id=node) for _, revision in changed for node in nodes]
    )
    # Every locked row moves to its next revision number: one UPDATE per resulting status.
    by_status: dict[str, list[int]] = defaultdict(list)
    for domain, revision in changed:
        if domain.status != DomainStatus.OFFLINE:
            domain.status = DomainStatus.CONFIGURING if nodes else DomainStatus.ONLINE
        domain.config_revision, domain.modified_at = revision.number, now
        by_status[domain.status].append(domain.pk)
    for status, pks in by_status.items():
        Domain.objects.filter(pk__in=pks).update(
            config_revision=F("config_revision") + 1, status=status, modified_at=now
        )

    if nodes:
        transaction.on_commit(lambda: enqueue_delivery_many(domain_ids=changed_ids))
    return result


SNAPSHOT_SETTINGS = (
    "forward_scheme",
    "http_port",
    "https_port",
    "origin_host",
    "sni_enabled",
    "sni_name",
    "verify_origin_cert",
    "verify_common_names",
)
SNAPSHOT_ORIGIN = ("type", "address", "port", "priority", "weight", "enabled", "sni_host")


def domain_snapshot(domain: Domain) -> dict[str, Any]:
    """The stored state a revision was compiled from (settings, origins, enabled), for rollback.

    Reads `domain.origin_fetch` and `domain.origins.all()`, so prefetched values are used as they are.
    """
    settings_row = domain.origin_fetch
    return {
        "enabled": domain.status != DomainStatus.OFFLINE,
        "settings": {field: getattr(settings_row, field) for field in SNAPSHOT_SETTINGS},
        "origins": [
            {field: getattr(origin, field) for field in SNAPSHOT_ORIGIN}
            for origin in sorted(domain.origins.all(), key=lambda origin: origin.pk)
        ],
    }


class RollbackError(Exception):
    """The revision cannot be rolled back to; the message says why."""


def domain_rollback(*, domain: Domain, number: int, context: ChangeContext) -> ConfigRevision | None:
    """Restore the settings and origins of revision `number` and publish them as a new revision.

    Returns None when the current config already equals that revision.
    """
    from console.audit import operation_log_write

    with transaction.atomic():
        locked = Domain.objects.select_for_update().select_related("account").get(pk=domain.pk)
        target = locked.revisions.filter(number=number).first()
        if target is None or not target.snapshot:
            raise RollbackError(_("Revision %(number)s cannot be restored.") % {"number": number})
        if target.document.get("deleted"):
            raise RollbackError(_("A deleted domain cannot be restored."))
        before = domain_snapshot(locked)
        settings_row = locked.origin_fetch
        for field, value in target.snapshot["settings"].items():
            setattr(settings_row, field, value)
        settings_row.version += 1
        settings_row.save()
        locked.origins.all().delete()
        Origin.objects.bulk_create([Origin(domain=locked, **values) for values in target.snapshot["origins"]])
        if target.snapshot["enabled"] != (locked.status != DomainStatus.OFFLINE):
            locked.status = DomainStatus.CONFIGURING if target.snapshot["enabled"] else DomainStatus.OFFLINE
            Domain.objects.filter(pk=locked.pk).update(status=locked.status)
        revision = domain_config_publish(
            domain=locked, context=context, summary=f"Rolled back to revision {number}"
        )
        operation_log_write(
            context=context,
            account=locked.account,
            domain=locked,
            action="domain.rollback",
            before=before,
            after=domain_snapshot(locked) | {"rolled_back_to": number},
            revision=revision.number if revision else None,
        )
    domain.status, domain.config_revision = locked.status, locked.config_revision
    return revision


def document_diff(old: dict[str, Any] | None, new: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Readable differences between two config documents: (path, before, after), revision numbers aside."""

    def flatten(value: Any, prefix: str = "") -> dict[str, str]:
        if isinstance(value, dict):
            items: dict[str, str] = {}
            for key, item in value.items():
                if key in ("revision", "schema") and not prefix:
                    continue
                items |= flatten(item, f"{prefix}.{key}" if prefix else key)
            return items
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            items = {}
            for index, item in enumerate(value):
                label = item.get("address", index) if isinstance(item, dict) else index
                items |= flatten(item, f"{prefix}[{label}]")
            return items
        if isinstance(value, list):
            return {prefix: ", ".join(map(str, value)) or "—"}
        return {
            prefix: "—"
            if value is None or value == ""
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        }

    before, after = flatten(old or {}), flatten(new)
    return [
        (path, before.get(path, "—"), after.get(path, "—"))
        for path in sorted(set(before) | set(after))
        if before.get(path) != after.get(path)
    ]


def enqueue_delivery(*, domain_id: int) -> None:
    """Send the delivery task of one domain (see `enqueue_delivery_many`)."""
    enqueue_delivery_many(domain_ids=[domain_id])


def enqueue_node_delivery(*, node_id: int) -> None:
    """Send a node everything it is owed, now; if the broker is down, the reconciler delivers it later."""
    from edge.tasks import deliver_nodes

    try:
        deliver_nodes.delay(node_ids=[node_id])
    except Exception:  # the broker is down: the deployments are saved and pending; reconcile picks them up
        logger.warning("Could not enqueue delivery to node %s; the reconciler will deliver it", node_id)


def enqueue_delivery_many(*, domain_ids: list[int]) -> None:
    """Send one delivery task for these domains; if the broker is down, the reconciler delivers them later."""
    from edge.tasks import deliver_domains

    try:
        deliver_domains.delay(domain_ids=list(domain_ids))
    except Exception:  # the broker is down: the change is saved and pending; reconcile picks it up
        logger.warning(
            "Could not enqueue delivery of domains %s; the reconciler will deliver them", domain_ids
        )


@dataclass
class NodeOutcome:
    node_id: int
    ok: bool
    transient: bool = False
    error: str = ""
    held: dict[str, int] = field(default_factory=dict)
    # A domain the agent could not serve, with its own reason (names only that domain's settings).
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class DeliveryOutcome:
    nodes: int = 0
    applied: int = 0
    failed_nodes: list[int] = field(default_factory=list)
    transient_failures: bool = False


@dataclass(frozen=True)
class _Target:
    """What a push needs of a node: no model instance, so a round loads only these columns."""

    pk: int
    name: str
    agent_url: str
    signing_key: str


@dataclass(frozen=True)
class _Lagging:
    """A lagging deployment: one revision owed to one node."""

    pk: int
    node_id: int
    revision_id: int
    number: int
    domain_id: int


def _lagging_deployments(
    *, domain_ids: list[int] | None, node_ids: list[int] | None, older_than: timedelta | None
) -> tuple[list[_Lagging], dict[int, _Target], dict[int, dict[str, Any]]]:
    """The deployments to push, their nodes, and each revision's document, in one query.

    The document comes as text, which the database driver does not parse: only the first copy of each
    revision is (with 1000 nodes lagging on one revision, 1 document is parsed instead of 1000).
    """
    qs = Deployment.objects.filter(
        status__in=LAGGING,
        node__enabled=True,
        revision__number=F("revision__domain__config_revision"),
    )
    if domain_ids is not None:
        qs = qs.filter(revision__domain_id__in=domain_ids)
    if node_ids is not None:
        qs = qs.filter(node_id__in=node_ids)
    if older_than is not None:
        qs = qs.filter(updated_at__lte=timezone.now() - older_than)
    rows = qs.annotate(document_text=Cast("revision__document", TextField())).values_list(
        "pk",
        "node_id",
        "revision_id",
        "revision__number",
        "revision__domain_id",
        "node__name",
        "node__agent_url",
        "node__signing_key",
        "document_text",
    )
    deployments: list[_Lagging] = []
    targets: dict[int, _Target] = {}
    documents: dict[int, dict[str, Any]] = {}
    for pk, node_id, revision_id, number, domain_id, name, agent_url, signing_key, text in rows:
        deployments.append(_Lagging(pk, node_id, revision_id, number, domain_id))
        if node_id not in targets:
            targets[node_id] = _Target(node_id, name, agent_url, signing_key)
        if revision_id not in documents:
            documents[revision_id] = json.loads(text)
    return deployments, targets, documents


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per process: loading the CA store for each fan-out cost tens of milliseconds."""
    return httpx.create_ssl_context()


class _Pusher:
    """An event loop in a thread of its own, and an HTTP client per agent on it, for the life of a process.

    Connections to the agents are kept alive from one push round to the next (a round no longer opens a TCP
    connection per node, nor builds an event loop and a client), and a client is only ever used on the loop
    it was made on. One client per agent, not one for all: httpx's connection pool scans all of its
    connections for every request it places, which grows with the square of the nodes. A client unused for
    `KEEPALIVE_EXPIRY` seconds is closed (an agent keeps an idle connection for 75 s, so the console closes
    first), and a connection the agent closed meanwhile is noticed and replaced before it is used.
    """

    KEEPALIVE_EXPIRY = 60.0

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.clients: dict[str, tuple[httpx.AsyncClient, float]] = {}
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="edge-push", daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    def client(self, base_url: str, now: float) -> httpx.AsyncClient:
        """The client of one agent (call on the loop)."""
        entry = self.clients.get(base_url)
        client = entry[0] if entry else None
        if client is None:
            limits = httpx.Limits(max_keepalive_connections=1, keepalive_expiry=self.KEEPALIVE_EXPIRY)
            client = httpx.AsyncClient(
                timeout=settings.EDGE_PUSH_TIMEOUT, limits=limits, verify=_tls_context()
            )
        self.clients[base_url] = (client, now)
        return client

    async def close_idle(self, now: float) -> None:
        """Close the clients of agents not pushed to for a while (nodes deleted, or moved to another URL)."""
        idle = [url for url, (_, used) in self.clients.items() if now - used > self.KEEPALIVE_EXPIRY]
        for url in idle:
            client, _ = self.clients.pop(url)
            await client.aclose()

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result()
        except BaseException:  # the task's time limit, or a signal: stop the round too
            future.cancel()
            raise


_pusher: _Pusher | None = None
_pusher_lock = threading.Lock()


def _the_pusher() -> _Pusher:
    """This process's `_Pusher` (a forked child makes its own: a loop and sockets do not survive a fork)."""
    global _pusher
    with _pusher_lock:
        if _pusher is None or _pusher.pid != os.getpid():
            _pusher = _Pusher()
        return _pusher


async def _push_all(batches: dict[int, tuple[_Target, bytes]], pusher: _Pusher) -> list[NodeOutcome]:
    semaphore = asyncio.Semaphore(settings.EDGE_PUSH_CONCURRENCY)
    timeout = settings.EDGE_PUSH_TIMEOUT
    now = time.monotonic()
    await pusher.close_idle(now)

    async def push(node: _Target, body: bytes) -> NodeOutcome:
        base_url = node.agent_url.rstrip("/")
        client = pusher.client(base_url, now)
        url = base_url + "/v1/config"
        async with semaphore:
            try:
                response = await client.post(
                    url, content=body, headers=signed_headers(node.signing_key, body), timeout=timeout
                )
            except httpx.HTTPError as exc:
                reason = str(exc) or type(exc).__name__
                return NodeOutcome(node.pk, ok=False, transient=True, error=f"Agent unreachable: {reason}")
        if response.status_code != 200:
            try:
                detail = response.json().get("error", "")
            except ValueError:
                detail = response.text[:300]
            return NodeOutcome(
                node.pk,
                ok=False,
                transient=response.status_code >= 500,
                error=f"Agent answered {response.status_code}: {detail}".strip(),
            )
        try:
            results = response.json()["results"]
            held = {item["domain"]: int(item["held_revision"]) for item in results}
            errors = {item["domain"]: str(item["error"]) for item in results if item["status"] == "failed"}
        except (ValueError, KeyError, TypeError):
            return NodeOutcome(node.pk, ok=False, transient=True, error="Agent sent an unreadable answer")
        return NodeOutcome(node.pk, ok=True, held=held, errors=errors)

    return await asyncio.gather(*(push(node, body) for node, body in batches.values()))


def _push_round(batches: dict[int, tuple[_Target, bytes]]) -> list[NodeOutcome]:
    """Push every batch concurrently on this process's loop and client; wait for the outcome."""
    pusher = _the_pusher()
    return pusher.run(_push_all(batches, pusher))


def deliver(
    *,
    domain_ids: list[int] | None = None,
    node_ids: list[int] | None = None,
    final: bool = False,
    older_than: timedelta | None = None,
) -> DeliveryOutcome:
    """Push the latest revision of every lagging (domain, node) pair, one request per node, concurrently.

    `domain_ids` and `node_ids` narrow it to those domains or nodes. `final` marks what still fails as
    `failed` (retries are exhausted); otherwise it stays pending.
    """
    deployments, targets, documents = _lagging_deployments(
        domain_ids=domain_ids, node_ids=node_ids, older_than=older_than
    )
    by_node: dict[int, list[_Lagging]] = defaultdict(list)
    for deployment in deployments:
        by_node[deployment.node_id].append(deployment)
    outcome = DeliveryOutcome(nodes=len(by_node))
    if not by_node:
        return outcome

    # Each revision's document is read and serialised once, whatever the number of nodes that lag on it;
    # a node's body joins the shared bytes (the same bytes as serialising the whole body at once).
    names = {pk: document["domain"] for pk, document in documents.items()}
    serialised = {
        pk: json.dumps(document, separators=(",", ":")).encode() for pk, document in documents.items()
    }
    batches = {
        node_id: (
            targets[node_id],
            b'{"domains":[' + b",".join(serialised[d.revision_id] for d in items) + b"]}",
        )
        for node_id, items in by_node.items()
    }
    results = _push_round(batches)

    now = timezone.now()
    applied_pks: list[int] = []
    not_applied: list[int] = []
    contacted: list[int] = []
    failures: dict[tuple[str, bool], list[int]] = defaultdict(list)
    node_errors: dict[str, list[int]] = defaultdict(list)
    for result in results:
        items = by_node[result.node_id]
        if result.ok:
            contacted.append(result.node_id)
            for d in items:
                error = result.errors.get(names[d.revision_id])
                if error:
                    failures[(error, True)].append(d.pk)  # the domain's own: retrying now changes nothing
                    continue
                held = result.held.get(names[d.revision_id], 0)
                (applied_pks if held >= d.number else not_applied).append(d.pk)
        else:
            outcome.failed_nodes.append(result.node_id)
            outcome.transient_failures |= result.transient
            failures[(result.error, final or not result.transient)].extend(d.pk for d in items)
            node_errors[result.error].append(result.node_id)
            logger.warning("Push to edge node %s failed: %s", targets[result.node_id].name, result.error)
    if not_applied:
        failures[("The agent did not apply this revision", final)].extend(not_applied)

    # The outcome, the deployments first: each statement commits on its own (one round trip each, as few
    # as the outcome needs), so no lock is held across statements and none can deadlock with a change
    # publishing a revision (which locks its domain, then supersedes deployments).
    if applied_pks:
        outcome.applied = Deployment.objects.filter(pk__in=applied_pks, status__in=LAGGING).update(
            status=DeploymentStatus.APPLIED,
            applied_at=now,
            last_error="",
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    for (error, is_final), pks in failures.items():
        _record_failure(pks, error, final=is_final, now=now)
    # A domain's status moves only when a deployment became applied or failed (a reconcile pass refreshes
    # every domain it delivered, so it also repairs a status left behind).
    if outcome.applied or any(is_final for _, is_final in failures) or domain_ids is None:
        domain_status_refresh(domain_ids=sorted({d.domain_id for d in deployments}))

    # The nodes' last contact last: what a user waits for (deployments, domain statuses) is written first.
    if contacted:
        EdgeNode.objects.filter(pk__in=contacted).update(last_contact_at=now, last_error="")
    for error, node_ids in node_errors.items():
        EdgeNode.objects.filter(pk__in=node_ids).update(last_error=error[:2000])
    return outcome


def _record_failure(pks: list[int], error: str, *, final: bool, now) -> None:  # type: ignore[no-untyped-def]
    updates = {"last_error": error[:2000], "attempts": F("attempts") + 1, "updated_at": now}
    if final:
        updates["status"] = DeploymentStatus.FAILED
    Deployment.objects.filter(pk__in=pks, status__in=LAGGING).update(**updates)


def domain_status_refresh(*, domain_ids: list[int]) -> None:
    """Set each domain's status from the deployments of its latest revision on enabled nodes.

    Writes only what changes: a domain already in the resulting status (or disabled) is left alone.
    """
    rows = (
        Deployment.objects.filter(
            revision__domain_id__in=domain_ids,
            revision__number=F("revision__domain__config_revision"),
            node__enabled=True,
        )
        .values(
            "revision__domain_id",
            "revision__number",
            "revision__domain__status",
            "revision__domain__deleted_at",
        )
        .annotate(
            total=Count("pk"),
            applied=Count("pk", filter=Q(status=DeploymentStatus.APPLIED)),
            failed=Count("pk", filter=Q(status=DeploymentStatus.FAILED)),
        )
        .order_by()
    )
    for row in rows:
        if row["applied"] == row["total"]:
            status = DomainStatus.ONLINE
        elif row["failed"]:
            status = DomainStatus.CONFIGURE_FAILED
        else:
            status = DomainStatus.CONFIGURING
        deleted = row["revision__domain__deleted_at"] is not None
        current = row["revision__domain__status"]
        if not deleted and current not in (DomainStatus.OFFLINE, status):
            # Only for the revision counted, and never over a disabled domain.
            Domain.objects.filter(
                pk=row["revision__domain_id"],
                config_revision=row["revision__number"],
                deleted_at__isnull=True,
            ).exclude(status__in=[DomainStatus.OFFLINE, status]).update(status=status)
        if deleted and row["applied"] == row["total"]:
            # A deleted domain goes for good once every node has dropped it.
            gone = Domain.objects.filter(pk=row["revision__domain_id"], deleted_at__isnull=False)
            gone.filter(config_revision=row["revision__number"]).delete()


@dataclass(frozen=True)
class NodeProgress:
    node: EdgeNode
    status: str
    attempts: int
    last_error: str
    applied_at: object


def domain_delivery_progress(domain: Domain) -> tuple[int, int, list[NodeProgress]]:
    """(applied, total, per-node rows) for the domain's latest revision on enabled nodes."""
    deployments = (
        Deployment.objects.filter(
            revision__domain=domain, revision__number=domain.config_revision, node__enabled=True
        )
        .select_related("node")
        .order_by("node__name")
    )
    rows = [NodeProgress(d.node, d.status, d.attempts, d.last_error, d.applied_at) for d in deployments]
    applied = sum(1 for row in rows if row.status == DeploymentStatus.APPLIED)
    return applied, len(rows), rows


# Edge nodes are added, changed, enabled, disabled and deleted by operators (the Django admin). The
# operation log belongs to accounts, and a node to none: these writes are in the admin's history and here.

NODE_CATCH_UP_BATCH = 2000


def edge_node_create(
    *, name: str, region: str, agent_url: str, signing_key: str, enabled: bool = True, context: ChangeContext
) -> EdgeNode:
    """Add an edge node; when enabled, it is owed every domain's latest revision (`_node_catch_up`)."""
    node = EdgeNode(name=name, region=region, agent_url=agent_url, signing_key=signing_key, enabled=enabled)
    node.full_clean()
    with transaction.atomic():
        node.save()
        if enabled:
            _domains_lock()
            _node_catch_up(node)
    logger.info("Edge node %s added by %s (%s)", node.name, context.actor_name, context.source)
    return node


def edge_node_update(
    *,
    node: EdgeNode,
    name: str,
    region: str,
    agent_url: str,
    signing_key: str,
    enabled: bool,
    context: ChangeContext,
) -> EdgeNode:
    """Change a node's details; enabling or disabling it updates what it is owed and the domains' statuses."""
    with transaction.atomic():
        current = EdgeNode.objects.select_for_update(no_key=True).get(pk=node.pk)
        was_enabled = current.enabled
        current.name, current.region, current.agent_url = name, region, agent_url
        current.signing_key = signing_key
        current.full_clean()
        _node_enabled_set(current, enabled=enabled, was_enabled=was_enabled)
        # Only these fields: a delivery may be recording the node's last contact meanwhile.
        current.save(update_fields=["name", "region", "agent_url", "signing_key"])
    logger.info("Edge node %s changed by %s (%s)", current.name, context.actor_name, context.source)
    return current


def edge_node_set_enabled(*, node: EdgeNode, enabled: bool, context: ChangeContext) -> EdgeNode:
    """Enable a node (it is owed every domain's latest revision) or disable it (no domain waits on it)."""
    with transaction.atomic():
        current = EdgeNode.objects.select_for_update(no_key=True).get(pk=node.pk)
        changed = current.enabled != enabled
        _node_enabled_set(current, enabled=enabled, was_enabled=current.enabled)
    if changed:
        logger.info(
            "Edge node %s %s by %s (%s)",
            current.name,
            "enabled" if enabled else "disabled",
            context.actor_name,
            context.source,
        )
    node.enabled = enabled
    return current


def edge_node_delete(*, node: EdgeNode, context: ChangeContext) -> None:
    """Delete a node and its deployments; the domains that were waiting only on it are settled."""
    with transaction.atomic():
        current = EdgeNode.objects.select_for_update(no_key=True).filter(pk=node.pk).first()
        if current is None:
            return
        _domains_lock()
        waiting = _domains_waiting_on(current)
        current.delete()
        _domains_settle(waiting)
    logger.info("Edge node %s deleted by %s (%s)", node.name, context.actor_name, context.source)


def _node_enabled_set(node: EdgeNode, *, enabled: bool, was_enabled: bool) -> None:
    if enabled == was_enabled:
        return
    _domains_lock()
    EdgeNode.objects.filter(pk=node.pk).update(enabled=enabled)
    node.enabled = enabled
    if enabled:
        _node_catch_up(node)
    else:
        _domains_settle(_domains_waiting_on(node))


def _domains_lock() -> None:
    """Wait for the domain changes in progress, and hold off new ones until this transaction ends.

    Call before a node is enabled, disabled or deleted. A change publishing meanwhile would owe its revision
    to the nodes it saw enabled before, and this transaction would not see that revision: a node added
    would miss it, or a domain would wait on a node disabled. Take it before writing the node's row (which
    is locked FOR NO KEY UPDATE: a publish inserting deployments needs a key-share lock on it).
    """
    list(Domain.objects.select_for_update().order_by("pk").values_list("pk", flat=True))


def _node_catch_up(node: EdgeNode) -> None:
    """Owe `node` the latest revision of every domain: one pending deployment each, unless it has one.

    The domains it has yet to apply are Configuring from now on; after commit the lot is delivered to the
    node (one request, retried, and re-sent by the reconciler if need be), and the domains are Enabled
    again once the node has applied them.
    Domains deleted but not yet dropped by every node are included, so a node enabled again drops them too.
    Call with the domains locked (`_domains_lock`).
    """
    latest = list(
        ConfigRevision.objects.filter(number=F("domain__config_revision"))
        .order_by()
        .values_list("pk", flat=True)
    )
    for start in range(0, len(latest), NODE_CATCH_UP_BATCH):
        batch = latest[start : start + NODE_CATCH_UP_BATCH]
        Deployment.objects.bulk_create(
            [Deployment(revision_id=pk, node=node) for pk in batch], ignore_conflicts=True
        )
    waiting = Deployment.objects.filter(
        node=node, status__in=LAGGING, revision__number=F("revision__domain__config_revision")
    ).values("revision__domain_id")
    Domain.objects.filter(pk__in=waiting, status=DomainStatus.ONLINE, deleted_at__isnull=True).update(
        status=DomainStatus.CONFIGURING
    )
    node_id = node.pk
    transaction.on_commit(lambda: enqueue_node_delivery(node_id=node_id))


def _domains_waiting_on(node: EdgeNode) -> list[int]:
    """The domains whose latest revision `node` has not applied."""
    return list(
        Deployment.objects.filter(
            node=node, status__in=LAGGING, revision__number=F("revision__domain__config_revision")
        ).values_list("revision__domain_id", flat=True)
    )


def _domains_settle(domain_ids: list[int]) -> None:
    """Set the status of domains a node no longer counts for, from the enabled nodes that remain.

    A domain that no enabled node owes anything any more is as good as applied everywhere: Enabled (unless
    disabled by its owner), or removed for good if it was deleted, as `domain_status_refresh` does.
    """
    if not domain_ids:
        return
    domain_status_refresh(domain_ids=domain_ids)
    served = Deployment.objects.filter(
        revision__domain_id__in=domain_ids,
        revision__number=F("revision__domain__config_revision"),
        node__enabled=True,
    ).values("revision__domain_id")
    unserved = Domain.objects.filter(pk__in=domain_ids).exclude(pk__in=served)
    unserved.filter(deleted_at__isnull=False).delete()
    unserved.filter(deleted_at__isnull=True).exclude(status=DomainStatus.OFFLINE).update(
        status=DomainStatus.ONLINE
    )
