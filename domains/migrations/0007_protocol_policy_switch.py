# The origin protocol policy can be turned off (each origin's own port then decides). It stays on for every
# existing domain, as before; the database default keeps it on for rows a previous release still writes.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0006_tags_and_configured_functions"),
    ]

    operations = [
        migrations.AddField(
            model_name="originfetchsettings",
            name="forward_scheme_enabled",
            field=models.BooleanField(db_default=True, default=True, verbose_name="origin protocol policy on"),
        ),
    ]
