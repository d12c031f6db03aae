"""The counters of lockout and throttling are shared by every web process: a console under gunicorn with two
worker processes locks out, throttles (429, Retry-After) and answers Throttling.User exactly at the limits, as
one process would (each process counting alone would let twice as many through)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx
import pytest
from axes.utils import reset
from django.conf import settings
from django.core.cache import cache

from alibaba_api import throttling
from tests import factories
from tests.alibaba_api.conftest import make_key
from tests.alibaba_api.test_credentials_processes import call
from tests.conftest import require_postgresql_and_redis
from tests.processes import ROOT, database_url, free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(transactional_db, tmp_path):  # type: ignore[no-untyped-def]
    require_postgresql_and_redis()
    # No count left by an earlier run (the cache is shared: it also holds the Celery broker's queues).
    reset(username="alice")
    reset(ip="127.0.0.1")
    cache.delete_many([throttling._failure_key("ip", "127.0.0.1") + end for end in ("", ":since")])
    port = free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "CONSOLE_VAR_DIR": str(settings.VAR_DIR),
        "LOGIN_FAILURE_LIMIT": "5",
        "LOGIN_COOLOFF_MINUTES": "0.2",
        "API_THROTTLE_USER": "6/min",
        "ALIBABA_API_FAILURE_LIMIT": "10",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "console.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
    ]
    command += ["--log-level", "warning", "--control-socket", str(tmp_path / "gunicorn.ctl")]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{url}/login/", timeout=2).status_code == 200, what="gunicorn up")
    workers = wait_for(lambda: len(children(process.pid)) == 2 and children(process.pid), what="two workers")
    yield url
    process.terminate()
    process.wait(timeout=20)
    reset(username="alice")
    reset(ip="127.0.0.1")
    assert workers


def children(pid: int) -> list[str]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return found.stdout.split()


def fresh() -> httpx.Client:
    """A client whose every request opens a new connection (so the workers share the requests)."""
    return httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0))


def test_the_rest_api_throttles_at_the_limit_across_workers(server, alice):
    token = factories.make_token(alice)
    with fresh() as client:
        answers = [
            client.get(f"{server}/api/v1/domains/", headers={"Authorization": f"Token {token}"})
            for _ in range(12)
        ]
    assert [a.status_code for a in answers] == [200] * 6 + [429] * 6
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
    assert answers[-1].json()["errors"]["non_field_errors"][0]["code"] == "throttled"


def test_wrong_secrets_are_locked_out_at_the_limit_across_workers(server, alice):
    key = make_key(alice)
    wrong = type(key)(key.access_key_id, "not-the-secret")
    assert [call(server, wrong) for _ in range(25)] == ["SignatureDoesNotMatch"] * 10 + [
        "Throttling.User"
    ] * 15


def test_log_on_is_locked_out_at_the_limit_across_workers(server, alice):
    with fresh() as client:
        page = client.get(f"{server}/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]

        def log_on(password: str) -> httpx.Response:
            data = {"username": "alice", "password": password, "csrfmiddlewaretoken": token}
            return client.post(f"{server}/login/", data=data, headers={"Referer": f"{server}/login/"})

        answers = [log_on(f"guess-{n}").status_code for n in range(30)]
        assert answers == [200] * 4 + [429] * 26
        locked = log_on(factories.PASSWORD)
    assert locked.status_code == 429 and "Too many failed log-on attempts" in locked.text
