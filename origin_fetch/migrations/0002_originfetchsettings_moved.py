# The back-to-origin settings now belong to `domains`, which took over their state and their table
# (domains/migrations/0005). Their content type follows, so permissions and admin history stay.

from django.db import migrations

from common.migration_operations import content_types_moved


class Migration(migrations.Migration):
    dependencies = [
        ("origin_fetch", "0001_initial"),
        ("domains", "0005_originfetchsettings_moved"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="OriginFetchSettings")],
        ),
        migrations.RunPython(*content_types_moved("origin_fetch", "domains", ("originfetchsettings",))),
    ]
