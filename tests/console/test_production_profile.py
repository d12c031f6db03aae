"""The production profile: `check --deploy` with the README's production variables reports nothing, the
README's `create_access_key` line works as written after `make run`'s set-up, and two consoles on one host
each have their own gunicorn control socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.processes import ROOT, free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of someone who runs the commands by hand: no test settings, no key in it."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return keep | extra


def test_check_deploy_with_the_production_variables_reports_nothing(tmp_path: Path) -> None:
    env = clean_env(
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite3"),
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        SECRET_KEY="a-production-key-" + "x" * 50,
        ALLOWED_HOSTS="console.example.com",
        CONSOLE_VAR_DIR=str(tmp_path),
    )
    run = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "System check identified no issues (0 silenced)."
    assert run.stderr.strip() == ""


def test_the_readme_create_access_key_line_works_after_make_runs_set_up(tmp_path: Path) -> None:
    env = clean_env(CONSOLE_VAR_DIR=str(tmp_path))
    # make run's steps before it starts the processes: the key file, migrate, the demo data.
    subprocess.run(["make", "-s", f"{tmp_path}/secret_key"], cwd=ROOT, env=env, check=True)
    for command in (["migrate", "--noinput", "--verbosity", "0"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True
        )
    run = subprocess.run(
        [sys.executable, "manage.py", "create_access_key", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("AccessKey ID: LTAI") and "AccessKey secret: " in run.stdout


def start_console(var_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"CONSOLE_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "tests.settings"}
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "console.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
    ]
    process = subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT, env=env)
    wait_for(
        lambda: httpx.get(f"http://127.0.0.1:{port}/login/", timeout=2).status_code == 200, what="gunicorn"
    )
    return process


def answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as unix:
        return unix.connect_ex(str(path)) == 0


def test_each_console_has_its_own_gunicorn_control_socket(tmp_path: Path) -> None:
    ports = free_port(), free_port()
    consoles = [start_console(tmp_path, port) for port in ports]
    sockets = [tmp_path / "run" / f"gunicorn-127.0.0.1-{port}.ctl" for port in ports]
    try:
        wait_for(lambda: all(answers(path) for path in sockets), what="both control sockets")
        consoles[0].terminate()
        consoles[0].wait(timeout=20)
        assert not sockets[0].exists()
        assert answers(sockets[1]), "stopping one console left the other's control socket alone"
    finally:
        for process in consoles:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
