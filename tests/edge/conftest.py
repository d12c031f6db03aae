"""Fixtures of the delivery tests."""

from __future__ import annotations

import shutil

import pytest
from django.db import connection

from tests.conftest import require
from tests.processes import RedisServer


@pytest.fixture
def broker(tmp_path, settings):
    """A private Redis for the broker: the test process publishes to it, and the test's worker consumes."""
    require(
        connection.vendor == "postgresql",
        "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1/cdn",
    )
    require(shutil.which("redis-server") is not None, "needs redis-server: apt-get install redis-server")
    from kombu import pools

    from console.celery import app

    def publish_to(url: str) -> None:
        # kombu keeps connection and producer pools per broker in process-wide registries: empty them, so
        # the next publish opens a connection to `url` (a pool closed here would refuse every later publish).
        app.conf.broker_url = url
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    server = RedisServer(tmp_path / "redis").start()
    saved = app.conf.broker_url
    settings.CELERY_BROKER_URL = server.url
    publish_to(server.url)
    yield server
    publish_to(saved)
    server.stop()
