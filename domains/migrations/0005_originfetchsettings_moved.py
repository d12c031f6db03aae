# The back-to-origin settings moved here from `origin_fetch` with their table: this takes over their state
# (origin_fetch/migrations/0002 lets it go); the table keeps its name.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0004_account_moved"),
        ("origin_fetch", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OriginFetchSettings",
                    fields=[
                        (
                            "domain",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="origin_fetch",
                                serialize=False,
                                to="domains.domain",
                            ),
                        ),
                        (
                            "forward_scheme",
                            models.CharField(
                                choices=[("follow", "Match client"), ("http", "HTTP"), ("https", "HTTPS")],
                                default="http",
                                max_length=8,
                                verbose_name="origin protocol policy",
                            ),
                        ),
                        ("http_port", models.PositiveIntegerField(default=80, verbose_name="HTTP port")),
                        ("https_port", models.PositiveIntegerField(default=443, verbose_name="HTTPS port")),
                        ("origin_host", models.CharField(blank=True, max_length=253, verbose_name="origin host")),
                        ("sni_enabled", models.BooleanField(default=False, verbose_name="Origin SNI")),
                        ("sni_name", models.CharField(blank=True, max_length=253, verbose_name="SNI")),
                        (
                            "verify_origin_cert",
                            models.BooleanField(default=False, verbose_name="origin certificate verification"),
                        ),
                        (
                            "verify_common_names",
                            models.JSONField(blank=True, default=list, verbose_name="extra acceptable common names"),
                        ),
                        ("version", models.PositiveIntegerField(default=1)),
                        ("modified_at", models.DateTimeField(auto_now=True, verbose_name="modified at")),
                    ],
                    options={
                        "db_table": "origin_fetch_originfetchsettings",
                        "verbose_name": "back-to-origin settings",
                        "verbose_name_plural": "back-to-origin settings",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("sni_enabled", False), models.Q(("sni_name", ""), _negated=True), _connector="OR"
                                ),
                                name="origin_sni_enabled_needs_name",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("http_port__gte", 1),
                                    ("http_port__lte", 65535),
                                    ("https_port__gte", 1),
                                    ("https_port__lte", 65535),
                                ),
                                name="origin_fetch_ports_range",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("forward_scheme__in", ["follow", "http", "https"])),
                                name="origin_fetch_policy_valid",
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
