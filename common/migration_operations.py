"""Migration operations that keep a large live table writable while an index is built.

On PostgreSQL an index is built with `CREATE INDEX CONCURRENTLY` (reads and writes go on; the migration that
uses these must be `atomic = False`); on SQLite, the embedded default, with a plain `CREATE INDEX`.
"""

from __future__ import annotations

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations import AddIndex
from django.db.migrations.state import ProjectState


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """`AddIndex`, built concurrently on PostgreSQL."""

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            drop_invalid_index(schema_editor, self.index.name)
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


def drop_invalid_index(schema_editor: BaseDatabaseSchemaEditor, name: str) -> None:
    """Drop the index `name` if an interrupted concurrent build left it invalid, so that it is built again.

    (PostgreSQL keeps such an index, unused but maintained on every write, and `IF NOT EXISTS` would skip it.)
    """
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND pg_catalog.pg_table_is_visible(c.oid)",
            [name],
        )
        row = cursor.fetchone()
    if row is not None and row[0]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")


def content_types_moved(old_app: str, new_app: str, models: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """A RunPython pair that moves the content types (and so the permissions and admin history that point at
    them) of models whose state moved from `old_app` to `new_app` with their tables."""

    def move(apps, schema_editor, source: str, target: str):  # type: ignore[no-untyped-def]
        content_types = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if not content_types.objects.filter(app_label=target, model=model).exists():
                content_types.objects.filter(app_label=source, model=model).update(app_label=target)

    def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
        move(apps, schema_editor, old_app, new_app)

    def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
        move(apps, schema_editor, new_app, old_app)

    return forwards, backwards
