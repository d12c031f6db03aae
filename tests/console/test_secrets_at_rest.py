"""Secrets at rest: a dump of the whole database holds no REST API token, no edge signing key (current or
next) and no AccessKey secret, though each still works."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.db import connection

from accounts.audit import ChangeContext
from alibaba_api.services import access_key_create
from edge.keys import edge_node_key_rotation_start, node_signing_keys
from tests import factories
from tests.conftest import require
from tests.processes import database_url

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_dump_of_the_database_holds_no_token_and_no_key(alice) -> None:
    require(connection.vendor == "postgresql" and shutil.which("pg_dump") is not None, "needs PostgreSQL")
    token = factories.make_token(alice)
    node = factories.make_node("edge-1", "http://127.0.0.1:9", key="edge-key-in-clear-" + "k" * 20)
    next_key = edge_node_key_rotation_start(node=node, context=ChangeContext.system())
    secret = access_key_create(user=alice).secret
    assert node_signing_keys([node.pk]) == {node.pk: ("edge-key-in-clear-" + "k" * 20, next_key)}

    dump = subprocess.run(
        ["pg_dump", "--data-only", "--no-owner", database_url()], capture_output=True, text=True, check=True
    ).stdout
    assert "edge_edgenode" in dump and "api_apitoken" in dump  # the tables are in it, the secrets are not
    for value in (token, token.removeprefix("cdnt_"), "edge-key-in-clear-", next_key, secret):
        assert value not in dump
