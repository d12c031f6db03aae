"""The indexes of large live tables are built CONCURRENTLY on PostgreSQL, and a build that was interrupted
(leaving an invalid index behind) is redone by running the migration again."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from tests.conftest import require

pytestmark = pytest.mark.django_db(transaction=True)

search_indexes = importlib.import_module("domains.migrations.0003_domain_search_indexes")
INDEX_MIGRATIONS = [
    ("domains", "0003_domain_search_indexes"),
    ("edge", "0003_deployment_lagging_index"),
    ("edge", "0005_node_domain_state"),
]


def validity(name: str) -> bool | None:
    """Whether the index `name` is valid (usable by queries); None when there is no such index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = %s",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def mark_invalid(name: str) -> None:
    """What PostgreSQL leaves behind when a CREATE INDEX CONCURRENTLY is interrupted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE pg_index SET indisvalid = false"
            " WHERE indexrelid = (SELECT oid FROM pg_class WHERE relname = %s)",
            [name],
        )


@pytest.fixture(autouse=True)
def postgresql() -> None:
    require(
        connection.vendor == "postgresql",
        "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1/cdn",
    )


def test_the_index_migrations_run_outside_a_transaction_so_writes_go_on():
    graph = MigrationLoader(connection, ignore_no_migrations=True).graph
    for key in INDEX_MIGRATIONS:
        assert graph.nodes[key].atomic is False, key


def test_every_index_is_built_and_valid():
    for name in [*search_indexes.INDEXES, "revision_outstanding"]:
        assert validity(name) is True, name


def test_an_interrupted_build_is_redone_by_running_the_migration_again():
    mark_invalid("domains_domain_live_name")
    assert validity("domains_domain_live_name") is False
    with connection.schema_editor(atomic=False) as editor:
        search_indexes.forward(apps, editor)
    assert validity("domains_domain_live_name") is True


def test_an_interrupted_build_of_a_model_index_is_redone_too():
    loader = MigrationLoader(connection)
    migration = loader.get_migration("edge", "0005_node_domain_state")
    before = loader.project_state(("edge", "0004_signing_keys_sealed"))
    after = loader.project_state(("edge", "0005_node_domain_state"))
    mark_invalid("revision_outstanding")
    with connection.schema_editor(atomic=False) as editor:
        migration.operations[-1].database_forwards("edge", editor, before, after)
    assert validity("revision_outstanding") is True
