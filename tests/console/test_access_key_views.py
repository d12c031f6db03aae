"""The AccessKey page: list, create (the secret once), disable, enable, delete; only one's own keys."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from accounts.audit import ChangeContext
from accounts.models import OperationLog
from alibaba_api import credentials
from alibaba_api.models import AccessKey
from alibaba_api.services import access_key_create

pytestmark = pytest.mark.django_db

LIST = "/access-keys/"
CREATE = "/access-keys/create/"


@pytest.fixture(autouse=True)
def _fresh_credentials():
    credentials.forget()
    yield
    credentials.forget()


def key_of(user) -> AccessKey:  # type: ignore[no-untyped-def]
    return access_key_create(user=user, context=ChangeContext(user)).access_key


def action(key: AccessKey, name: str) -> str:
    return reverse(f"access_key_{name}", kwargs={"access_key_id": key.access_key_id})


def secret_in(content: bytes) -> str | None:
    match = re.search(rb'id="created-access-key-secret"[^>]*value="([A-Za-z0-9]{30})"', content)
    return match.group(1).decode() if match else None


def test_the_list_shows_id_status_created_and_last_used(client, alice):
    key = key_of(alice)
    client.force_login(alice)
    content = client.get(LIST).content.decode()
    row = content[content.index(f'id="access-key-{key.access_key_id}"') :].split("</tr>")[0]
    assert key.access_key_id in row and "Enabled" in row and "Never" in row
    assert key.created_at.strftime("%Y-%m-%d") in row


def test_creating_shows_the_secret_once_and_never_again(client, alice):
    client.force_login(alice)
    response = client.post(CREATE, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert json.loads(response["HX-Trigger"]) == {"access-keys-changed": None}
    secret = secret_in(response.content)
    assert secret is not None
    assert "it will not be shown again" in response.content.decode()
    key = AccessKey.objects.get(user=alice)
    assert credentials.credential_for(key.access_key_id).secret == secret
    for page in (
        client.get(LIST),
        client.get(LIST, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="access-key-table"),
    ):
        assert key.access_key_id in page.content.decode()
        assert secret not in page.content.decode()


def test_creating_without_htmx_shows_the_secret_on_the_page(client, alice):
    client.force_login(alice)
    response = client.post(CREATE)
    assert response.status_code == 200
    assert secret_in(response.content) is not None
    assert secret_in(client.get(LIST).content) is None


def test_creating_is_in_the_operation_log_without_the_secret(client, alice):
    client.force_login(alice)
    secret = secret_in(client.post(CREATE, HTTP_HX_REQUEST="true").content)
    entry = OperationLog.objects.get(action="access_key.create")
    assert (entry.actor_name, entry.source) == ("alice", "console")
    assert entry.after["access_key_id"] == AccessKey.objects.get().access_key_id
    assert secret not in json.dumps([entry.before, entry.after])


def test_a_viewer_creates_keys_for_themselves(client, bob):
    """A viewer's key exists and reads; the API refuses its writes (tests/alibaba_api)."""
    client.force_login(bob)
    assert client.post(CREATE).status_code == 200
    assert AccessKey.objects.get().user == bob


def test_nobody_sees_another_users_keys(client, alice, bob, charlie):
    keys = [key_of(alice), key_of(charlie)]
    client.force_login(bob)
    content = client.get(LIST).content.decode()
    assert not any(key.access_key_id in content for key in keys)
    assert "You have no AccessKey yet." in content


def test_disable_and_enable_take_effect_for_the_api_at_once(client, alice):
    key = key_of(alice)
    assert credentials.credential_for(key.access_key_id).enabled
    client.force_login(alice)
    response = client.post(action(key, "disable"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and "access-keys-changed" in response["HX-Trigger"]
    assert credentials.credential_for(key.access_key_id).enabled is False
    assert "Disabled" in client.get(LIST).content.decode()
    assert client.post(action(key, "enable")).status_code == 302
    assert credentials.credential_for(key.access_key_id).enabled is True
    assert list(
        OperationLog.objects.filter(action__startswith="access_key.").values_list("action", flat=True)
    ) == [
        "access_key.enable",
        "access_key.disable",
        "access_key.create",
    ]


def test_delete_asks_for_confirmation_first(client, alice):
    key = key_of(alice)
    client.force_login(alice)
    dialog = client.get(action(key, "delete"), HTTP_HX_REQUEST="true")
    assert dialog.status_code == 200
    assert "<dialog" in dialog.content.decode() and "This cannot be undone." in dialog.content.decode()
    assert AccessKey.objects.filter(pk=key.pk).exists()


def test_delete_removes_the_key_and_the_api_forgets_it(client, alice):
    key = key_of(alice)
    assert credentials.credential_for(key.access_key_id) is not None
    client.force_login(alice)
    response = client.post(action(key, "delete"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert not AccessKey.objects.exists()
    assert credentials.credential_for(key.access_key_id) is None
    assert OperationLog.objects.filter(action="access_key.delete", actor_name="alice").exists()


@pytest.mark.parametrize("name", ["disable", "enable", "delete"])
def test_another_users_key_is_404_even_in_the_same_account(client, alice, bob, charlie, name):
    keys = [key_of(bob), key_of(charlie)]
    client.force_login(alice)
    for key in keys:
        assert client.post(action(key, name)).status_code == 404
    assert client.get(action(keys[0], "delete")).status_code == 404
    assert AccessKey.objects.filter(enabled=True).count() == 2


@pytest.mark.parametrize("name", ["disable", "enable", "delete"])
def test_the_writes_need_post(client, alice, name):
    key = key_of(alice)
    client.force_login(alice)
    if name != "delete":
        assert client.get(action(key, name)).status_code == 405
    assert client.get(CREATE).status_code == 405
    assert AccessKey.objects.filter(enabled=True).count() == 1


def test_the_writes_need_the_csrf_token(csrf_client, alice):
    key = key_of(alice)
    csrf_client.force_login(alice)
    for url in (CREATE, action(key, "disable"), action(key, "delete")):
        assert csrf_client.post(url).status_code == 403
    assert AccessKey.objects.filter(enabled=True).count() == 1
    page = csrf_client.get(LIST)
    token = page.cookies["csrftoken"].value
    assert csrf_client.post(action(key, "disable"), HTTP_X_CSRFTOKEN=token).status_code == 302
    assert not AccessKey.objects.get().enabled


def test_anonymous_users_are_sent_to_log_on(client, alice):
    key = key_of(alice)
    for url in (LIST, CREATE, action(key, "disable")):
        response = client.post(url) if url != LIST else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert AccessKey.objects.get().enabled
