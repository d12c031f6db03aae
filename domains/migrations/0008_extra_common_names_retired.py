# Extra acceptable common names of origin certificate verification are retired: edge nodes verify an
# origin's certificate against the SNI they send and nothing else (nginx 1.22 has no way to accept another
# name), so the names never took effect. Each domain that had some gets an entry in its account's operation
# log listing them (source System), then they are cleared. No revision is published: what the edge nodes
# serve does not change.
#
# The column stays in the database, empty and with an empty default, so that a console of the previous
# release keeps working while this one migrates; a later release drops it (on SQLite, where Django rebuilds
# a table to alter it, a later rebuild of this table drops it as well).

from django.db import migrations, models
from django.db.models import F

ACTION = "origin_verification.common_names_retired"


def retire(apps, schema_editor):  # type: ignore[no-untyped-def]
    settings_model = apps.get_model("domains", "OriginFetchSettings")
    log = apps.get_model("accounts", "OperationLog")
    rows = (
        settings_model.objects.exclude(verify_common_names=[])
        .select_related("domain")
        .only("domain__name", "domain__account_id", "verify_common_names")
        .order_by("pk")
    )
    retired: list[int] = []
    entries = []
    for row in rows.iterator(chunk_size=2000):
        names = row.verify_common_names
        if not names:  # a JSON null, or a database comparing JSON loosely
            continue
        retired.append(row.pk)
        entries.append(
            log(
                account_id=row.domain.account_id,
                domain_id=row.pk,
                domain_name=row.domain.name,
                source="system",
                action=ACTION,
                before={"verify_common_names": names},
                after={"verify_common_names": []},
            )
        )
    log.objects.bulk_create(entries, batch_size=2000)
    for start in range(0, len(retired), 2000):
        settings_model.objects.filter(pk__in=retired[start : start + 2000]).update(
            verify_common_names=[], version=F("version") + 1
        )


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0007_protocol_policy_switch"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(retire, migrations.RunPython.noop, elidable=True),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name="originfetchsettings",
                    name="verify_common_names",
                    field=models.JSONField(
                        blank=True,
                        db_default=[],
                        default=list,
                        verbose_name="extra acceptable common names",
                    ),
                ),
            ],
            state_operations=[
                migrations.RemoveField(model_name="originfetchsettings", name="verify_common_names"),
            ],
        ),
    ]
