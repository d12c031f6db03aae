"""The per-(revision, node) deployments are gone: their content lives in the delivery state (0006)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("edge", "0006_deployments_to_node_states"),
    ]

    operations = [
        migrations.DeleteModel(name="Deployment"),
    ]
