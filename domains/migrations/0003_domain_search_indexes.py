"""Indexes of the Domain Names page on PostgreSQL (SQLite, the embedded default, skips them).

Names are stored in lower case, and the name search uses case-sensitive matching (domains.selectors):
- fuzzy (`name LIKE '%q%'`): a pg_trgm GIN index on the name;
- prefix (`name LIKE 'q%'`): Django's own `varchar_pattern_ops` index of the unique name (`..._like`);
- suffix (`reverse(name) LIKE 'reversed-q%'`): a `text_pattern_ops` B-tree on the reversed name;
- exact: the unique index.
The listing itself reads one account's live domains of one product: partial B-trees on live rows count them
(by status too) from the index alone, and give the ids of any page by name or creation time, with or without
a status filter, from the index alone, so a middle page skips index entries, not table rows.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS domains_domain_name_trgm ON domains_domain USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS domains_domain_name_reversed ON domains_domain"
    " (reverse(name) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS domains_domain_live_status ON domains_domain (account_id, product, status)"
    " WHERE deleted_at IS NULL",
    "CREATE INDEX IF NOT EXISTS domains_domain_live_name ON domains_domain (account_id, product, name, id)"
    " INCLUDE (status) WHERE deleted_at IS NULL",
    "CREATE INDEX IF NOT EXISTS domains_domain_live_created ON domains_domain"
    " (account_id, product, created_at, id) INCLUDE (status) WHERE deleted_at IS NULL",
]
BACKWARD = [
    "DROP INDEX IF EXISTS domains_domain_live_status",
    "DROP INDEX IF EXISTS domains_domain_name_reversed",
    "DROP INDEX IF EXISTS domains_domain_live_created",
    "DROP INDEX IF EXISTS domains_domain_live_name",
    "DROP INDEX IF EXISTS domains_domain_name_trgm",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FORWARD:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0002_domain_deleted_at"),
    ]

    operations = [migrations.RunPython(forward, backward)]
