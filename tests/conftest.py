from __future__ import annotations

import os

import pytest

from accounts.models import Role
from tests import factories


def require(condition: bool, reason: str) -> None:
    """Skip locally when a component is missing; in CI (CI=true) nothing may be skipped, so fail instead."""
    if condition:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI needs this component: {reason}")
    pytest.skip(reason)


def require_postgresql_and_redis() -> None:
    """The delivery path under test runs on PostgreSQL with a Redis broker, as in production."""
    from django.conf import settings
    from django.db import connection

    require(
        connection.vendor == "postgresql",
        "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1/cdn",
    )
    require(
        settings.CELERY_BROKER_URL.startswith("redis://"),
        "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/15",
    )


@pytest.fixture(autouse=True)
def _default_language():
    """A request in another language (the test client's) leaves it active in the thread: each test starts
    from the default language whatever ran before it."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def alpha(db):
    return factories.make_account("alpha")


@pytest.fixture
def alice(alpha):
    """Owner of account alpha, which holds the root domain alpha.example (verified)."""
    factories.hold_root(alpha, "alpha.example")
    return factories.make_user("alice", account=alpha, role=Role.OWNER)


@pytest.fixture
def bob(alpha):
    """Viewer (read-only) in account alpha."""
    return factories.make_user("bob", account=alpha, role=Role.VIEWER)


@pytest.fixture
def charlie(db):
    """Owner of another account, which holds the root domain other.example (verified)."""
    other = factories.make_account("other")
    factories.hold_root(other, "other.example")
    return factories.make_user("charlie", account=other, role=Role.OWNER)


@pytest.fixture
def cdn_domain(alpha):
    return factories.make_domain(account=alpha, name="www.alpha.example")


@pytest.fixture
def dcdn_domain(alpha):
    return factories.make_domain(account=alpha, name="dynamic.alpha.example", product="dcdn")


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker process (with beat running the reconciler every second) on the test database."""
    from tests.processes import CeleryWorker

    with django_db_blocker.unblock():
        worker = CeleryWorker().start()
    yield worker
    worker.stop()


@pytest.fixture
def edge_agents(tmp_path, transactional_db):
    """Three real edge agents, each registered as an enabled edge node with its own key."""
    from tests.processes import AgentProcess

    agents = []
    for index in range(1, 4):
        agent = AgentProcess(f"edge-{index}", tmp_path / f"edge-{index}", key=f"key-{index}-{tmp_path.name}")
        agents.append(agent.start())
        factories.make_node(agent.name, agent.url, key=agent.key)
    yield agents
    for agent in agents:
        agent.stop()
