"""Extra acceptable common names stored before they were retired: listed in the account's operation log,
then cleared; the column keeps an empty default for a console of the previous release."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from accounts.models import OperationLog, Source
from domains.models import OriginFetchSettings
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("domains", "0007_protocol_policy_switch")]
AFTER = [("domains", "0008_extra_common_names_retired")]


def json_value(stored: object) -> object:
    """A JSON column as read by a raw query: decoded by PostgreSQL's driver, text on SQLite."""
    return json.loads(stored) if isinstance(stored, str) else stored


def migrate(targets: list[tuple[str, str]]) -> ProjectState:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets)


@pytest.fixture(autouse=True)
def latest_schema_after():
    """The database goes back to the latest migrations, which the tests after these ones need."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_stored_names_are_logged_for_their_account_then_cleared_and_nothing_else_changes():
    named = factories.make_domain(account=factories.make_account("alpha"), name="www.alpha.example")
    plain = factories.make_domain(account=factories.make_account("bravo"), name="www.bravo.example")
    try:
        old = migrate(BEFORE).apps.get_model("domains", "OriginFetchSettings")
        old.objects.filter(pk=named.pk).update(verify_common_names=["*.alpha.example", "b.alpha.example"])
        versions = dict(old.objects.values_list("pk", "version"))
    finally:
        migrate(AFTER)
        migrate(MigrationLoader(connection).graph.leaf_nodes())  # every app back to its latest migration

    entries = list(OperationLog.objects.filter(action="origin_verification.common_names_retired"))
    assert [(e.account_id, e.domain_id, e.domain_name, e.source) for e in entries] == [
        (named.account_id, named.pk, "www.alpha.example", Source.SYSTEM)
    ]
    assert entries[0].before == {"verify_common_names": ["*.alpha.example", "b.alpha.example"]}
    assert entries[0].after == {"verify_common_names": []}
    with connection.cursor() as cursor:
        cursor.execute("SELECT domain_id, verify_common_names, version FROM origin_fetch_originfetchsettings")
        rows = {pk: (names, version) for pk, names, version in cursor.fetchall()}
    assert {pk: json_value(names) for pk, (names, _) in rows.items()} == {named.pk: [], plain.pk: []}
    assert {pk: version for pk, (_, version) in rows.items()} == {
        named.pk: versions[named.pk] + 1,
        plain.pk: versions[plain.pk],
    }
    settings = OriginFetchSettings.objects.get(pk=plain.pk)
    assert settings.forward_scheme_enabled is True, "every existing domain keeps its protocol policy on"


def test_a_row_written_without_the_retired_column_gets_it_empty():
    domain = factories.make_domain(account=factories.make_account("alpha"), name="www.alpha.example")
    OriginFetchSettings.objects.filter(pk=domain.pk).delete()
    OriginFetchSettings.objects.create(domain=domain)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT verify_common_names FROM origin_fetch_originfetchsettings WHERE domain_id = %s",
            [domain.pk],
        )
        (names,) = cursor.fetchone()
    assert json_value(names) == []
