"""AccessKeys: creation, encryption at rest, key rotation, the management command and the admin."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from accounts.models import Membership
from alibaba_api import credentials
from alibaba_api.crypto import SecretUnreadable, decrypt_secret, encrypt_secret
from alibaba_api.models import AccessKey
from alibaba_api.services import access_key_create
from tests import factories

KEY_ID_RE = re.compile(r"LTAI[A-Za-z0-9]{20}")


def test_a_new_key_looks_like_the_vendors_and_its_secret_is_returned_once(alice, alpha):
    created = access_key_create(user=alice)
    key = AccessKey.objects.get()
    assert KEY_ID_RE.fullmatch(key.access_key_id)
    assert (key.user, key.account, key.enabled, key.last_used_at) == (alice, alpha, True, None)
    assert re.fullmatch(r"[A-Za-z0-9]{30}", created.secret)


def test_the_secret_is_encrypted_at_rest(alice):
    created = access_key_create(user=alice)
    stored = AccessKey.objects.values_list("secret_encrypted", flat=True).get()
    assert created.secret not in stored
    assert decrypt_secret(stored) == created.secret
    assert credentials.credential_for(created.access_key.access_key_id).secret == created.secret


def test_two_encryptions_of_one_secret_differ(settings):
    assert encrypt_secret("s") != encrypt_secret("s")


def test_a_rotated_secret_key_still_reads_secrets_through_the_fallbacks(settings):
    token = encrypt_secret("the-secret")
    old = settings.SECRET_KEY
    with override_settings(SECRET_KEY="a-brand-new-key", SECRET_KEY_FALLBACKS=[old]):
        assert decrypt_secret(token) == "the-secret"
    with (
        override_settings(SECRET_KEY="a-brand-new-key", SECRET_KEY_FALLBACKS=[]),
        pytest.raises(SecretUnreadable),
    ):
        decrypt_secret(token)


def test_a_key_needs_a_member_of_an_account(db):
    from django.contrib.auth import get_user_model

    loner = get_user_model().objects.create_user("loner")
    with pytest.raises(ValidationError):
        access_key_create(user=loner)


def test_the_command_prints_the_id_and_the_secret(alice):
    out, err = StringIO(), StringIO()
    call_command("create_access_key", "alice", stdout=out, stderr=err)
    key = AccessKey.objects.get()
    lines = out.getvalue().splitlines()
    assert lines[0] == f"AccessKey ID: {key.access_key_id}"
    secret = lines[1].removeprefix("AccessKey secret: ")
    assert decrypt_secret(key.secret_encrypted) == secret
    assert "shown only once" in err.getvalue()


def test_the_command_refuses_unknown_users_and_users_without_an_account(alice):
    with pytest.raises(CommandError, match="No user"):
        call_command("create_access_key", "nobody")
    Membership.objects.all().delete()
    with pytest.raises(CommandError, match="belongs to no account"):
        call_command("create_access_key", "alice")


@pytest.fixture
def operator(client, db):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.create_superuser("operator", password=factories.PASSWORD)
    client.force_login(admin_user)
    return client


def test_the_admin_lists_keys_without_their_secret(operator, alice):
    created = access_key_create(user=alice)
    key = created.access_key
    changelist = operator.get(reverse("admin:alibaba_api_accesskey_changelist")).content.decode()
    change = operator.get(reverse("admin:alibaba_api_accesskey_change", args=[key.pk])).content.decode()
    for page in (changelist, change):
        assert key.access_key_id in page
        assert created.secret not in page
        assert key.secret_encrypted not in page
    assert operator.get(reverse("admin:alibaba_api_accesskey_add")).status_code == 403


def test_the_admin_disables_keys_and_the_api_refuses_them_at_once(operator, alice):
    key = access_key_create(user=alice).access_key
    assert credentials.credential_for(key.access_key_id).enabled
    response = operator.post(
        reverse("admin:alibaba_api_accesskey_changelist"),
        {"action": "disable_keys", "_selected_action": [key.pk]},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.enabled is False
    assert credentials.credential_for(key.access_key_id).enabled is False


def test_deleting_a_key_forgets_it(operator, alice):
    key = access_key_create(user=alice).access_key
    assert credentials.credential_for(key.access_key_id) is not None
    operator.post(reverse("admin:alibaba_api_accesskey_delete", args=[key.pk]), {"post": "yes"})
    assert not AccessKey.objects.exists()
    assert credentials.credential_for(key.access_key_id) is None
