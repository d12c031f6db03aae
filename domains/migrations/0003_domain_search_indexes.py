"""Indexes of the Domain Names page on PostgreSQL (SQLite, the embedded default, skips them).

Names are stored in lower case, and the name search uses case-sensitive matching (domains.selectors):
- fuzzy (`name LIKE '%q%'`): a pg_trgm GIN index on the name;
- prefix (`name LIKE 'q%'`): Django's own `varchar_pattern_ops` index of the unique name (`..._like`);
- suffix (`reverse(name) LIKE 'reversed-q%'`): a `text_pattern_ops` B-tree on the reversed name;
- exact: the unique index.
The listing itself reads one account's live domains of one product: partial B-trees on live rows count them
(by status too) from the index alone, and give the ids of any page by name or creation time, with or without
a status filter, from the index alone, so a middle page skips index entries, not table rows.

The indexes are built CONCURRENTLY (the migration is not atomic): an account keeps adding and changing domains
while they build. An index that an interrupted build left invalid is dropped and built again.
"""

from django.db import migrations

from common.migration_operations import drop_invalid_index

# Index name → what it indexes.
INDEXES = {
    "domains_domain_name_trgm": "USING gin (name gin_trgm_ops)",
    "domains_domain_name_reversed": "(reverse(name) text_pattern_ops)",
    "domains_domain_live_status": "(account_id, product, status) WHERE deleted_at IS NULL",
    "domains_domain_live_name": "(account_id, product, name, id) INCLUDE (status) WHERE deleted_at IS NULL",
    "domains_domain_live_created": "(account_id, product, created_at, id) INCLUDE (status)"
    " WHERE deleted_at IS NULL",
}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        drop_invalid_index(schema_editor, name)
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON domains_domain {definition}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in reversed(INDEXES):
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("domains", "0002_domain_deleted_at"),
    ]

    operations = [migrations.RunPython(forward, backward)]
