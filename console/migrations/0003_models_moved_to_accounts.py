# Accounts, members and the operation log now belong to the `accounts` app, which took over their state and
# their tables (accounts/migrations/0001). Their content types follow, so permissions and admin history stay.

from django.db import migrations

from common.migration_operations import content_types_moved


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0002_initial"),
        ("accounts", "0001_initial"),
        ("domains", "0004_account_moved"),
        ("alibaba_api", "0002_account_moved"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="OperationLog"),
                migrations.DeleteModel(name="Membership"),
                migrations.DeleteModel(name="Account"),
            ],
        ),
        migrations.RunPython(*content_types_moved("console", "accounts", ("account", "membership", "operationlog"))),
    ]
