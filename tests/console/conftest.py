from __future__ import annotations

import pytest

from accounts.models import Role
from tests import factories


@pytest.fixture
def dave(alpha):
    """Administrator (read-write, not owner) in account alpha."""
    return factories.make_user("dave", account=alpha, role=Role.ADMIN)


@pytest.fixture
def csrf_client():
    """A client that enforces CSRF, as a browser session does."""
    from django.test import Client

    return Client(enforce_csrf_checks=True)
