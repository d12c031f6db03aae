"""The partial index of deployments still owed to a node, built CONCURRENTLY on PostgreSQL: the fleet's
deployments table is large and written on every change."""

from django.db import migrations, models

from common.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("edge", "0002_revision_snapshot"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="deployment",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "failed"])),
                fields=["revision"],
                name="deployment_lagging",
            ),
        ),
    ]
