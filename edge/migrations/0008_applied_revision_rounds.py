"""The per-node history of revisions becomes one row per revision and delivery round, with the nodes that
applied it then (`node_ids`), instead of one row per (revision, node): every (revision, node, time) is kept.

The rows are regrouped a batch of revisions at a time, each batch in a short transaction of its own (no long
lock on the large table; deliveries go on meanwhile, writing the new rows). Run again after an interruption,
it completes what is missing.
"""

from collections import defaultdict

from django.db import migrations, models, transaction

BATCH = 500  # revisions per transaction


def forwards(apps, schema_editor):
    AppliedRevision = apps.get_model("edge", "AppliedRevision")
    db = schema_editor.connection.alias
    rows = AppliedRevision.objects.using(db).filter(node__isnull=False)
    after = 0
    while True:
        revisions = list(
            rows.filter(revision_id__gt=after)
            .order_by("revision_id")
            .values_list("revision_id", flat=True)
            .distinct()[:BATCH]
        )
        if not revisions:
            return
        with transaction.atomic(using=db):
            rounds = defaultdict(list)
            old = rows.filter(revision_id__in=revisions).select_for_update()
            for revision_id, applied_at, node_id in old.values_list("revision_id", "applied_at", "node_id"):
                rounds[(revision_id, applied_at)].append(node_id)
            AppliedRevision.objects.using(db).bulk_create(
                [
                    AppliedRevision(revision_id=revision_id, applied_at=applied_at, node_ids=sorted(nodes))
                    for (revision_id, applied_at), nodes in rounds.items()
                ]
            )
            old.delete()
        after = revisions[-1]


def backwards(apps, schema_editor):
    AppliedRevision = apps.get_model("edge", "AppliedRevision")
    db = schema_editor.connection.alias
    rows = AppliedRevision.objects.using(db).filter(node__isnull=True)
    while True:
        batch = list(rows.order_by("pk")[:BATCH])
        if not batch:
            return
        with transaction.atomic(using=db):
            AppliedRevision.objects.using(db).bulk_create(
                [
                    AppliedRevision(revision_id=row.revision_id, applied_at=row.applied_at, node_id=node_id)
                    for row in batch
                    for node_id in row.node_ids
                ],
                ignore_conflicts=True,
            )
            AppliedRevision.objects.using(db).filter(pk__in=[row.pk for row in batch]).delete()


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("edge", "0007_remove_deployment"),
    ]

    operations = [
        migrations.AddField(
            model_name="appliedrevision",
            name="node_ids",
            field=models.JSONField(default=list, verbose_name="nodes"),
        ),
        migrations.RemoveConstraint(model_name="appliedrevision", name="applied_revision_unique_per_node"),
        migrations.AlterField(
            model_name="appliedrevision",
            name="node",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=models.deletion.CASCADE,
                related_name="+",
                to="edge.edgenode",
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="appliedrevision", name="node"),
    ]
