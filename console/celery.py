"""The Celery application. Configuration comes from Django settings (the CELERY_ prefix)."""

import functools
import os

from celery import Celery
from celery.worker.consumer import Consumer as BaseConsumer

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

# After a broker outage a worker reconnects within this many seconds of the broker's return. Celery's
# default backoff grows to 30 s between attempts, longer than a reconcile period: nodes would wait for it.
BROKER_RECONNECT_MAX_INTERVAL = 1.0


class Consumer(BaseConsumer):
    """Celery's consumer, retrying a lost broker connection at short, capped intervals."""

    def ensure_connected(self, conn):  # type: ignore[no-untyped-def]
        conn.ensure_connection = functools.partial(
            conn.ensure_connection,
            interval_start=0.1,
            interval_step=0.2,
            interval_max=BROKER_RECONNECT_MAX_INTERVAL,
        )
        return super().ensure_connected(conn)


app = Celery("console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
