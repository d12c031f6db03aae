"""What a push records when an agent cannot be reached or refuses it (edge.push), with real sockets: the
reason in a few words that the status page translates, and no address of the operator's network in it."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from domains.delivery_status import failure_reason
from edge.push import Target, push_round

pytestmark = pytest.mark.django_db

BODY = b'{"domains":[]}'


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_listener():
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


@pytest.fixture
def refusing_agent():
    """Answers every push 401 with the agent's JSON error."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b'{"error": "bad signature"}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def outcome_of(port: int):
    [outcome] = push_round({7: (Target(7, "edge-7", f"http://127.0.0.1:{port}"), BODY)})
    return outcome


def test_a_refused_connection_is_a_transient_failure_that_names_no_address():
    port = closed_port()
    outcome = outcome_of(port)
    assert (outcome.ok, outcome.transient) == (False, True)
    assert outcome.error == "Agent unreachable: ConnectError: Connection refused"
    assert str(port) not in outcome.error
    assert failure_reason(outcome.error) == "The edge node could not be reached."


def test_an_agent_that_never_answers_times_out(settings, silent_listener):
    settings.EDGE_PUSH_TIMEOUT = 0.5
    outcome = outcome_of(silent_listener)
    assert (outcome.ok, outcome.transient, outcome.error) == (False, True, "Agent unreachable: ReadTimeout")
    assert failure_reason(outcome.error) == "The edge node did not answer in time."


def test_a_refusal_keeps_the_agents_own_reason(refusing_agent):
    outcome = outcome_of(refusing_agent)
    assert (outcome.ok, outcome.transient) == (False, False)
    assert outcome.error == "Agent answered 401: bad signature"
    assert failure_reason(outcome.error) == "The edge node refused the console's signature."
