"""The production topology (scripts/serve.sh, what `make serve` and README "Running in
production" run) against the test database: gunicorn gthread on one free port for
people, the polled gate and /health; uvicorn on another for the pushed gate streams.

With the configured maximum of streams open, the kill switch still works, the polled
gate and /health answer within a second, and every stream gets the HALT; if the
listener's database connection dies, every stream sends HALT and closes (issue 9).
Real processes, real PostgreSQL; every wait is bounded and the servers always stop.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from bench.sse import GateStream, open_stream
from opsportal.controls import services
from opsportal.controls.stream import LISTENER_APPLICATION_NAME
from tests.controls.factories import EnvironmentFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

ROOT = Path(__file__).resolve().parents[2]
MAX_STREAMS = 200
STARTUP_TIMEOUT = 120  # migrate + collectstatic + two servers
STOP_TIMEOUT = 15
OPEN_TIMEOUT = 60  # all streams open and their first event received
EVENT_TIMEOUT = 10  # every stream's next event after a change


def run_in_own_loop(scenario: Any) -> Any:
    """Run the coroutine function `scenario` to completion on an event loop of its own,
    in a thread of its own: the session's browser tests (Playwright's sync API) leave a
    loop running on the main thread, where `asyncio.run` refuses to start."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(scenario())
        except BaseException as exc:  # noqa: BLE001 - re-raised on the test's thread
            result["error"] = exc

    thread = threading.Thread(target=target, name="topology-scenario")
    thread.start()
    thread.join(timeout=300)
    assert not thread.is_alive(), "the topology scenario did not finish within 300 s"
    if "error" in result:
        raise result["error"]
    return result["value"]


@dataclass(frozen=True)
class Topology:
    host: str
    port: int
    stream_port: int
    log: Path
    group: int  # the process group of serve.sh and its servers

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _open(request: urllib.request.Request, timeout: float = 10) -> tuple[int, dict, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read().decode(errors="replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _wait_for(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"serve.sh exited with {server.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if _open(urllib.request.Request(url), timeout=2)[0] == 200:
                return
        except OSError:  # not listening yet
            pass
        time.sleep(0.25)
    pytest.fail(f"{url} did not answer within {STARTUP_TIMEOUT} s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def topology(transactional_db, tmp_path) -> Iterator[Topology]:
    db = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OPSPORTAL_"))},
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "topology-test-secret-key-not-for-production-0123456789",
        "OPSPORTAL_AUDIT_SIGNING_KEY": "topology-test-audit-signing-key-0123456789",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        # No Redis: /health then has no Celery worker to wait a second for.
        "REDIS_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "OPSPORTAL_GATE_STREAM_MAX": str(MAX_STREAMS),
        "OPSPORTAL_GATE_STREAM_MAX_PER_TOKEN": str(MAX_STREAMS),
        "OPSPORTAL_GATE_LEASE_SECONDS": "5",
    }
    port, stream_port = _free_port(), _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["scripts/serve.sh", "127.0.0.1", str(port), str(stream_port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}/health", server, log)
        _wait_for(f"http://127.0.0.1:{stream_port}/health", server, log)
        yield Topology("127.0.0.1", port, stream_port, log, server.pid)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=STOP_TIMEOUT)


async def _open_streams(topology: Topology, token: str, count: int) -> list[GateStream]:
    async def one() -> GateStream:
        stream = await open_stream(topology.host, topology.stream_port, "paper", token)
        await stream.next_event()
        return stream

    return list(
        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(count))), OPEN_TIMEOUT)
    )


async def _next_events(streams: list[GateStream]) -> list[dict | None]:
    return list(
        await asyncio.wait_for(asyncio.gather(*(s.next_event() for s in streams)), EVENT_TIMEOUT)
    )


def _stream_server_threads(group: int) -> int:
    """Threads of the uvicorn process in process group `group` (from /proc)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[2]) == group and b"uvicorn" in cmdline:
            return len(os.listdir(f"/proc/{pid}/task"))
    raise AssertionError("no uvicorn process in the topology")


def _timed(request: urllib.request.Request) -> tuple[float, int, dict, str]:
    started = time.monotonic()
    status, headers, body = _open(request)
    return time.monotonic() - started, status, headers, body


def test_with_the_maximum_of_streams_open_the_kill_switch_halts_gate_and_every_stream(
    topology, users
):
    env = EnvironmentFactory(slug="paper")
    _, gate_token = services.gate_token_issue(name="engine", environment=env, actor=users["admin"])
    _, people_token = services.api_token_issue(
        user=users["operator1"], name="cli", actor=users["operator1"]
    )
    gate_read = urllib.request.Request(f"{topology.url}/api/v1/environments/paper/gate")
    gate_read.add_header("Authorization", f"Bearer {gate_token}")
    trigger = urllib.request.Request(
        f"{topology.url}/api/v1/environments/paper/kill-switch/trigger",
        data=json.dumps({"reason_code": "drill", "note": "topology test"}).encode(),
        headers={"Authorization": f"Bearer {people_token}", "Content-Type": "application/json"},
        method="POST",
    )

    async def scenario() -> dict:
        loop = asyncio.get_running_loop()
        streams = await _open_streams(topology, gate_token, MAX_STREAMS)
        one_too_many = await open_stream(topology.host, topology.stream_port, "paper", gate_token)
        refused = (one_too_many.status, one_too_many.headers.get("retry-after"))
        one_too_many.close()
        first = {s.events[0]["decision"] for s in streams}
        threads = _stream_server_threads(topology.group)
        triggered = await loop.run_in_executor(None, _timed, trigger)
        read = await loop.run_in_executor(None, _timed, gate_read)
        health = await loop.run_in_executor(
            None, _timed, urllib.request.Request(f"{topology.url}/health")
        )
        halts = await _next_events(streams)
        for stream in streams:
            stream.close()
        return {
            "refused": refused,
            "first": first,
            "threads": threads,
            "triggered": triggered,
            "read": read,
            "health": health,
            "halts": halts,
        }

    seen = run_in_own_loop(scenario)

    assert seen["refused"] == (429, "5")
    assert seen["first"] == {"ALLOW"}
    # A stream is a coroutine: the stream server's threads are the event loop's small
    # pool (gate reads), not one per stream.
    assert seen["threads"] < 20
    assert seen["triggered"][1] == 201
    read_seconds, read_status, _, read_body = seen["read"]
    assert (read_status, json.loads(read_body)["decision"]) == (200, "HALT")
    assert read_seconds < 1.0
    health_seconds, health_status, _, _ = seen["health"]
    assert (health_status, health_seconds < 1.0) == (200, True)
    assert [(e or {}).get("reason_code") for e in seen["halts"]] == (
        ["HALT_KILL_SWITCH"] * MAX_STREAMS
    )


def test_the_polled_server_sends_streams_to_the_stream_server(topology, users):
    env = EnvironmentFactory(slug="paper")
    _, gate_token = services.gate_token_issue(name="engine", environment=env, actor=users["admin"])
    request = urllib.request.Request(f"{topology.url}/api/v1/environments/paper/gate/stream")
    request.add_header("Authorization", f"Bearer {gate_token}")

    status, headers, _ = _open(request)

    assert (status, headers["Location"]) == (
        307,
        f"http://127.0.0.1:{topology.stream_port}/api/v1/environments/paper/gate/stream",
    )


def test_when_the_listener_connection_dies_every_stream_sends_halt_and_closes(topology, users):
    env = EnvironmentFactory(slug="paper")
    _, gate_token = services.gate_token_issue(name="engine", environment=env, actor=users["admin"])

    async def scenario() -> tuple[list, list]:
        loop = asyncio.get_running_loop()
        streams = await _open_streams(topology, gate_token, 20)
        await loop.run_in_executor(None, _terminate_listener)
        last = await _next_events(streams)
        ends = await _next_events(streams)
        return last, ends

    last, ends = run_in_own_loop(scenario)

    assert [(e or {}).get("reason_code") for e in last] == ["HALT_STATE_UNAVAILABLE"] * 20
    assert ends == [None] * 20


def _terminate_listener() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()",
            [LISTENER_APPLICATION_NAME],
        )
        assert [row[0] for row in cursor.fetchall()] == [True]
    connection.close()  # this thread's connection: the test's own stays untouched


def test_streams_of_a_revoked_token_end_within_a_lease(topology, users):
    env = EnvironmentFactory(slug="paper")
    token, raw = services.gate_token_issue(name="engine", environment=env, actor=users["admin"])

    async def scenario() -> tuple[list, list, float]:
        loop = asyncio.get_running_loop()
        streams = await _open_streams(topology, raw, 5)
        await loop.run_in_executor(
            None, lambda: services.gate_token_revoke(token_id=token.pk, actor=users["admin"])
        )
        revoked_at = time.monotonic()
        last = await _until_halt(streams)
        waited = time.monotonic() - revoked_at
        ends = await _next_events(streams)
        return last, ends, waited

    last, ends, waited = run_in_own_loop(scenario)

    assert [e["reason_code"] for e in last] == ["HALT_UNAUTHENTICATED"] * 5
    assert (ends, waited < 5.0) == ([None] * 5, True)  # OPSPORTAL_GATE_LEASE_SECONDS


async def _until_halt(streams: list[GateStream]) -> list[dict]:
    """Each stream's first HALT event (lease refreshes before it are skipped)."""

    async def one(stream: GateStream) -> dict:
        while (event := await stream.next_event()) is not None:
            if event["decision"] == "HALT":
                return event
        raise AssertionError("the stream ended without a HALT")

    return list(await asyncio.wait_for(asyncio.gather(*(one(s) for s in streams)), EVENT_TIMEOUT))
