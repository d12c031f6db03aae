# The models of accounts, members and the operation log moved here from `console` with their tables: this
# migration only takes over their state (console/migrations/0003 lets it go); the tables keep their names.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("console", "0002_initial"),
        ("domains", "0003_domain_search_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Account",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.SlugField(max_length=64, unique=True, verbose_name="name")),
                        (
                            "display_name",
                            models.CharField(blank=True, max_length=128, verbose_name="display name"),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                    ],
                    options={
                        "db_table": "console_account",
                        "verbose_name": "account",
                        "verbose_name_plural": "accounts",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="Membership",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "role",
                            models.CharField(
                                choices=[
                                    ("owner", "Owner"),
                                    ("admin", "Administrator"),
                                    ("viewer", "Viewer (read-only)"),
                                ],
                                default="viewer",
                                max_length=16,
                                verbose_name="role",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                        (
                            "account",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to="accounts.account",
                            ),
                        ),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="membership",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "console_membership",
                        "verbose_name": "membership",
                        "verbose_name_plural": "memberships",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("role__in", ["owner", "admin", "viewer"])),
                                name="membership_role_valid",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="OperationLog",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "domain_name",
                            models.CharField(blank=True, max_length=253, verbose_name="domain name"),
                        ),
                        ("actor_name", models.CharField(blank=True, max_length=150, verbose_name="user")),
                        (
                            "source",
                            models.CharField(
                                choices=[
                                    ("console", "Console"),
                                    ("rest", "REST API"),
                                    ("openapi", "OpenAPI"),
                                    ("admin", "Admin"),
                                    ("system", "System"),
                                ],
                                max_length=16,
                                verbose_name="source",
                            ),
                        ),
                        ("remote_addr", models.GenericIPAddressField(blank=True, null=True, verbose_name="from")),
                        ("action", models.CharField(max_length=64, verbose_name="action")),
                        ("before", models.JSONField(blank=True, default=dict, verbose_name="before")),
                        ("after", models.JSONField(blank=True, default=dict, verbose_name="after")),
                        (
                            "revision",
                            models.PositiveIntegerField(blank=True, null=True, verbose_name="config revision"),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="time"),
                        ),
                        (
                            "account",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="operations",
                                to="accounts.account",
                            ),
                        ),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "domain",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="operations",
                                to="domains.domain",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "console_operationlog",
                        "verbose_name": "operation log entry",
                        "verbose_name_plural": "operation log",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(fields=["account", "-created_at"], name="console_ope_account_9e3acd_idx"),
                            models.Index(fields=["domain", "-created_at"], name="console_ope_domain__bca9ec_idx"),
                        ],
                    },
                ),
            ],
        ),
    ]
