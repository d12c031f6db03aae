"""`manage.py create_access_key` and the AccessKey page share one service: both are in the operation log."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import OperationLog
from alibaba_api.models import AccessKey

pytestmark = pytest.mark.django_db


def test_the_command_creates_the_key_through_the_logged_service(alpha, alice, client):
    out = StringIO()
    call_command("create_access_key", "alice", stdout=out, stderr=StringIO())
    key = AccessKey.objects.get()
    entry = OperationLog.objects.get(action="access_key.create")
    assert (entry.account, entry.actor_name, entry.source) == (alpha, "system", "system")
    assert entry.after == {"access_key_id": key.access_key_id, "user": "alice", "enabled": True}
    secret = out.getvalue().splitlines()[1].removeprefix("AccessKey secret: ")
    assert secret not in str(entry.after)
    client.force_login(alice)
    page = client.get("/access-keys/").content.decode()
    assert key.access_key_id in page and secret not in page
