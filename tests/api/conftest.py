from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.test import APIClient

from accounts.audit import ChangeContext
from domains.models import Domain
from origin_fetch.services import origin_host_update
from tests import factories


@pytest.fixture
def client_for() -> Callable[[AbstractBaseUser | None], APIClient]:
    """An API client authenticated with the user's token (anonymous for None)."""

    def build(user: AbstractBaseUser | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {factories.make_token(user)}")
        return client

    return build


@pytest.fixture
def owner(client_for, alice) -> APIClient:
    return client_for(alice)


@pytest.fixture
def viewer(client_for, bob) -> APIClient:
    return client_for(bob)


@pytest.fixture
def stranger(client_for, charlie) -> APIClient:
    return client_for(charlie)


@pytest.fixture
def with_history(cdn_domain: Domain, alice) -> Domain:
    """cdn_domain with two revisions: the origin host set, then changed."""
    context = ChangeContext(user=alice)
    origin_host_update(domain=cdn_domain, host="origin.alpha.example", context=context)
    origin_host_update(domain=cdn_domain, host="other.alpha.example", context=context)
    cdn_domain.refresh_from_db()
    return cdn_domain
