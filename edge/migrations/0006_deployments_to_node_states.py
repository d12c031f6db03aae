"""Move the per-(revision, node) deployments to the per-(domain, node) delivery state, losing no
acknowledgement: for each node and domain, the highest revision the node applied (and when), and the outcome
of the last attempt at the domain's latest revision (status, attempts, error). Applied deployments within
`EDGE_APPLIED_HISTORY_DAYS` become the per-node history of revisions; the latest revisions some enabled node
still lags on are marked outstanding.

The deployments table is only read, one node at a time; each node's rows are written in a short transaction
of their own (no long lock on the large table, and writes go on meanwhile). Run again after an interruption,
it completes what is missing (rows already moved stay as they are).
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, transaction
from django.db.models import F
from django.utils import timezone

BATCH = 2000
LAGGING = ("pending", "failed")


def _state_of(node_id, domain_id, rows, now):
    """The state of one (node, domain) from its deployments: (number, status, attempts, error, applied_at,
    updated_at, latest number), in any order."""
    applied = [row for row in rows if row[1] == "applied"]
    best = max(applied, key=lambda row: row[0]) if applied else None
    latest = [row for row in rows if row[0] == row[6]]
    state = {
        "node_id": node_id,
        "domain_id": domain_id,
        "applied_number": best[0] if best else 0,
        "applied_at": best[4] if best else None,
        "number": best[0] if best else 0,
        "status": "applied" if best else "pending",
        "attempts": best[2] if best else 0,
        "last_error": "",
        "updated_at": (best[5] if best else None) or now,
    }
    if latest and latest[0][1] != "applied":
        number, status, attempts, error, _, updated_at, _ = latest[0]
        state |= {
            "number": number,
            "status": "failed" if status == "failed" else "pending",
            "attempts": attempts,
            "last_error": error,
            "updated_at": updated_at or now,
        }
    return state


def forwards(apps, schema_editor):
    Deployment = apps.get_model("edge", "Deployment")
    NodeDomainState = apps.get_model("edge", "NodeDomainState")
    AppliedRevision = apps.get_model("edge", "AppliedRevision")
    ConfigRevision = apps.get_model("edge", "ConfigRevision")
    EdgeNode = apps.get_model("edge", "EdgeNode")
    db = schema_editor.connection.alias
    now = timezone.now()
    kept_since = now - timedelta(days=getattr(settings, "EDGE_APPLIED_HISTORY_DAYS", 30))

    for node_id in EdgeNode.objects.using(db).order_by("pk").values_list("pk", flat=True):
        rows = Deployment.objects.using(db).filter(node_id=node_id).values_list(
            "revision__domain_id",
            "revision_id",
            "revision__number",
            "status",
            "attempts",
            "last_error",
            "applied_at",
            "updated_at",
            "revision__domain__config_revision",
        )
        by_domain = {}
        history = []
        for domain_id, revision_id, number, status, attempts, error, applied_at, updated_at, latest in rows:
            by_domain.setdefault(domain_id, []).append(
                (number, status, attempts, error, applied_at, updated_at, latest)
            )
            if status == "applied" and applied_at is not None and applied_at >= kept_since:
                history.append(AppliedRevision(revision_id=revision_id, node_id=node_id, applied_at=applied_at))
        states = [
            NodeDomainState(**_state_of(node_id, domain_id, items, now)) for domain_id, items in by_domain.items()
        ]
        with transaction.atomic(using=db):
            NodeDomainState.objects.using(db).bulk_create(states, batch_size=BATCH, ignore_conflicts=True)
            AppliedRevision.objects.using(db).bulk_create(history, batch_size=BATCH, ignore_conflicts=True)

    outstanding = list(
        Deployment.objects.using(db)
        .filter(status__in=LAGGING, node__enabled=True, revision__number=F("revision__domain__config_revision"))
        .order_by()
        .values_list("revision_id", flat=True)
        .distinct()
    )
    for start in range(0, len(outstanding), BATCH):
        ConfigRevision.objects.using(db).filter(pk__in=outstanding[start : start + BATCH]).update(outstanding=True)


def backwards(apps, schema_editor):
    """Deployments again, for the latest revisions, from the delivery state (the history of superseded
    revisions is not rebuilt)."""
    Deployment = apps.get_model("edge", "Deployment")
    NodeDomainState = apps.get_model("edge", "NodeDomainState")
    ConfigRevision = apps.get_model("edge", "ConfigRevision")
    db = schema_editor.connection.alias
    latest = {
        domain_id: (pk, number)
        for domain_id, pk, number in ConfigRevision.objects.using(db)
        .filter(number=F("domain__config_revision"))
        .values_list("domain_id", "pk", "number")
    }
    rows = []
    for state in NodeDomainState.objects.using(db).iterator(chunk_size=BATCH):
        if state.domain_id not in latest:
            continue
        revision_id, number = latest[state.domain_id]
        applied = state.applied_number >= number
        rows.append(
            Deployment(
                revision_id=revision_id,
                node_id=state.node_id,
                status="applied" if applied else ("failed" if state.number == number else "pending"),
                attempts=state.attempts,
                last_error=state.last_error,
                applied_at=state.applied_at if applied else None,
            )
        )
    Deployment.objects.using(db).bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("edge", "0005_node_domain_state"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
