"""Operators read the operation log in the admin, and nobody can add, change or delete an entry there."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.audit import ChangeContext
from accounts.models import AppendOnlyError, OperationLog
from origin_fetch.services import origin_host_update
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(alice, cdn_domain) -> OperationLog:
    origin_host_update(domain=cdn_domain, host="a.alpha.example", context=ChangeContext(alice))
    return OperationLog.objects.get(domain=cdn_domain)


@pytest.fixture
def operator(client):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_superuser("operator", password=factories.PASSWORD)
    client.force_login(user)
    return client


def test_the_admin_lists_and_shows_entries_read_only(operator, entry):
    changelist = operator.get(reverse("admin:accounts_operationlog_changelist")).content.decode()
    assert "www.alpha.example" in changelist and "alice" in changelist
    assert 'value="delete_selected"' not in changelist
    change = operator.get(reverse("admin:accounts_operationlog_change", args=[entry.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()


def test_the_admin_refuses_to_add_change_or_delete(operator, entry):
    assert operator.get(reverse("admin:accounts_operationlog_add")).status_code == 403
    assert (
        operator.post(reverse("admin:accounts_operationlog_change", args=[entry.pk]), {}).status_code == 403
    )
    assert (
        operator.post(
            reverse("admin:accounts_operationlog_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    response = operator.post(
        reverse("admin:accounts_operationlog_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert OperationLog.objects.filter(pk=entry.pk, after={"origin_host": "a.alpha.example"}).exists()


def test_the_model_itself_refuses_changes_and_deletion(entry):
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        OperationLog.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        OperationLog.objects.update(action="x")
