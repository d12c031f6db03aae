"""The AccessKey cache of each process: version stamps in the shared cache, and what happens without it."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings

from accounts.audit import ChangeContext
from alibaba_api import credentials
from alibaba_api.models import AccessKey
from alibaba_api.services import access_key_create, access_key_set_enabled

pytestmark = pytest.mark.django_db


def stamp(key_id: str) -> object:
    return cache.get(credentials._KEY_STAMP + key_id)


def test_a_write_stamps_the_key_now_and_again_after_commit(alice, django_capture_on_commit_callbacks):
    key = access_key_create(user=alice).access_key
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        access_key_set_enabled(access_key=key, enabled=False, context=ChangeContext(alice))
    during = stamp(key.access_key_id)
    assert during is not None
    # Another process may have reloaded the key before the commit; the stamp moves again once it commits.
    for callback in callbacks:
        callback()
    assert stamp(key.access_key_id) not in (None, during)


def test_a_cached_key_is_reloaded_when_another_process_moves_its_stamp(alice):
    key = access_key_create(user=alice).access_key
    assert credentials.credential_for(key.access_key_id).enabled
    # What another process does: change the row, and move the stamp (this process's memory is untouched).
    AccessKey.objects.filter(pk=key.pk).update(enabled=False)
    assert credentials.credential_for(key.access_key_id).enabled  # still the cached copy
    cache.set(credentials._KEY_STAMP + key.access_key_id, "moved-elsewhere")
    assert credentials.credential_for(key.access_key_id).enabled is False


def test_forgetting_every_key_moves_the_shared_stamp(alice):
    key = access_key_create(user=alice).access_key
    assert credentials.credential_for(key.access_key_id).enabled
    AccessKey.objects.filter(pk=key.pk).update(enabled=False)
    cache.set(credentials._ALL_STAMP, "moved-elsewhere")
    assert credentials.credential_for(key.access_key_id).enabled is False


UNREACHABLE = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


def test_without_the_shared_cache_keys_still_work_and_writes_still_succeed(alice, caplog):
    key = access_key_create(user=alice).access_key
    credentials.forget()
    with override_settings(CACHES=UNREACHABLE):
        assert credentials.credential_for(key.access_key_id).enabled
        access_key_set_enabled(access_key=key, enabled=False, context=ChangeContext(alice))
        assert credentials.credential_for(key.access_key_id).enabled is False
    assert "shared cache is unreachable" in caplog.text
