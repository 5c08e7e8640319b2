"""The newcomer's path, end to end: what README "Quick start" promises from `make run`.

`scripts/run-portal.sh` (what `make run` calls) runs in a fresh temporary directory on
the embedded SQLite default, with nothing else configured (no PostgreSQL, no
REDIS_URL): it migrates, loads the procedure library, seeds the demo and serves over
HTTP on a free port of 127.0.0.1. Then every demo user (README "Demo logins") signs
in through the real login form and loads every page of the navigation, and an engine
reads the gate of `paper` (and its event stream) before and after the kill switch is
triggered with `manage.py killswitch`.

Standard library only (urllib, http.cookiejar, subprocess): this must see exactly
what a browser and an engine see. Every wait is bounded and the server is always
stopped (its whole process group: the script, runserver and its autoreloader child).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "opsportal-demo"  # README "Demo logins": the default $OPSPORTAL_DEMO_PASSWORD
DEMO_USERS = ["operator1", "operator2", "commander", "risk", "auditor", "admin"]

# Seconds. Start-up covers migrate + load_procedures + seed_demo + runserver's checks
# (about 10 s here); the rest are single requests and commands.
STARTUP_TIMEOUT = 180
HTTP_TIMEOUT = 15
COMMAND_TIMEOUT = 120
STOP_TIMEOUT = 15

# Variables that configure opsportal: a fresh clone has none of them set. The test
# process itself has several (settings_test sets DATABASE_URL, REDIS_URL, ...).
CONFIG_PREFIXES = ("DJANGO_", "OPSPORTAL_", "DATABASE_", "REDIS_", "CELERY_")

# A server error in the log: a traceback, an ERROR/CRITICAL record (JSON lines from
# opsportal.logging), or a 5xx in runserver's access log.
SERVER_ERROR = re.compile(r'Traceback|"level": "(?:ERROR|CRITICAL)"|HTTP/1\.[01]" 5\d\d ')


@dataclass(frozen=True)
class Answer:
    status: int
    url: str
    headers: Any
    body: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


def _open(opener: urllib.request.OpenerDirector, request: urllib.request.Request) -> Answer:
    """The answer to `request`, 4xx/5xx included (urllib raises those)."""
    try:
        with opener.open(request, timeout=HTTP_TIMEOUT) as response:
            return Answer(response.status, response.url, response.headers, response.read().decode())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(
                error.code, error.url, error.headers, error.read().decode(errors="replace")
            )


def _opener(*handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    # ProxyHandler({}): never send 127.0.0.1 through an http_proxy from the environment.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), *handlers)


class Session:
    """One browser's cookies (session and CSRF) against the portal."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = _opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> Answer:
        return _open(self.opener, urllib.request.Request(self.base_url + path))

    def post_form(self, path: str, fields: dict[str, str]) -> Answer:
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method="POST")
        request.add_header("Referer", self.base_url + path)
        return _open(self.opener, request)


class _NavLinks(HTMLParser):
    """The hrefs of the links in base.html's main navigation (`nav.mainnav`)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "nav" and "mainnav" in (values.get("class") or "").split():
            self.inside = True
        elif tag == "a" and self.inside and values.get("href"):
            self.links.append(values["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self.inside = False


def nav_links(html: str) -> list[str]:
    parser = _NavLinks()
    parser.feed(html)
    return list(dict.fromkeys(parser.links))


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the login page has no CSRF token"
    return match.group(1)


@dataclass(frozen=True)
class Portal:
    url: str
    env: dict[str, str]
    log: Path

    def manage(self, *args: str) -> str:
        """`python manage.py *args` on the portal's database; its stdout."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stderr}"
        return result.stdout

    def sign_in(self, username: str) -> tuple[Session, Answer]:
        """A session signed in through the login form (GET for the CSRF token, POST),
        and the page it lands on (the dashboard)."""
        session = Session(self.url)
        form = session.get("/accounts/login/")
        landed = session.post_form(
            "/accounts/login/",
            {
                "csrfmiddlewaretoken": csrf_token(form.body),
                "username": username,
                "password": PASSWORD,
                "next": "",
            },
        )
        assert (landed.status, urllib.parse.urlsplit(landed.url).path) == (200, "/"), (
            f"{username} could not sign in: {landed.status} {landed.url}"
        )
        return session, landed

    def gate(self, slug: str, token: str, *, stream: bool = False) -> Answer:
        """The gate as an engine reads it: `Authorization: Bearer <gate token>`. With
        `stream`, only up to the first `event: gate` of the event stream."""
        path = f"/api/v1/environments/{slug}/gate" + ("/stream" if stream else "")
        request = urllib.request.Request(self.url + path)
        request.add_header("Authorization", f"Bearer {token}")
        if not stream:
            return _open(_opener(), request)
        return _first_event(_opener(), request)

    def log_size(self) -> int:
        return self.log.stat().st_size

    def server_errors_since(self, offset: int) -> list[str]:
        """Log lines written after byte `offset` that show a server error."""
        text = self.log.read_bytes()[offset:].decode("utf-8", "replace")
        return [line for line in text.splitlines() if SERVER_ERROR.search(line)]


def _first_event(opener: urllib.request.OpenerDirector, request: urllib.request.Request) -> Answer:
    """The stream's status and headers with the data of its first `event: gate` as the
    body (or the whole body when the server refused to stream)."""
    try:
        response = opener.open(request, timeout=HTTP_TIMEOUT)
    except urllib.error.HTTPError as error:
        with error:
            return Answer(
                error.code, error.url, error.headers, error.read().decode(errors="replace")
            )
    with response:
        event = ""
        for raw in response:  # each read is bounded by HTTP_TIMEOUT
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "gate":
                return Answer(response.status, response.url, response.headers, line[6:])
    raise AssertionError("the gate stream ended before its first event")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def newcomer_env(tmp: Path) -> dict[str, str]:
    """The environment of a fresh clone under `make run`: no opsportal configuration
    but DJANGO_DEBUG=1 (set by the Makefile), with the SQLite file and media root in
    `tmp` instead of the working tree."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    env.update(
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        OPSPORTAL_MEDIA_ROOT=str(tmp / "media"),
        # make run's .env (opsportal/local_env.py) goes to `tmp`, not the working tree.
        OPSPORTAL_ENV_FILE=str(tmp / ".env"),
        PYTHONUNBUFFERED="1",  # the log is read while the server runs
    )
    return env


def _stop(server: subprocess.Popen) -> None:
    """Stop the script and everything it started (its own process group)."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=STOP_TIMEOUT)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]


def _wait_until_serving(server: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"run-portal.sh exited with {server.returncode}:\n{_tail(log)}")
        try:
            if _open(_opener(), urllib.request.Request(url + "/health")).status == 200:
                return
        except OSError:  # not listening yet
            pass
        time.sleep(0.25)
    pytest.fail(f"the portal did not serve within {STARTUP_TIMEOUT} s:\n{_tail(log)}")


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """scripts/run-portal.sh serving a fresh SQLite demo at a free port."""
    tmp = tmp_path_factory.mktemp("quickstart")
    env = newcomer_env(tmp)
    port = _free_port()
    log = tmp / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["scripts/run-portal.sh", "127.0.0.1", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_serving(server, url, log)
        yield Portal(url=url, env=env, log=log)
    finally:
        _stop(server)


@pytest.mark.parametrize("username", DEMO_USERS)
def test_quickstart_demo_user_loads_every_page_in_the_navigation(portal, username):
    offset = portal.log_size()
    session, dashboard = portal.sign_in(username)
    links = nav_links(dashboard.body)

    answers = {href: session.get(href).status for href in links}

    assert len(links) >= 4 and answers == dict.fromkeys(links, 200)
    assert portal.server_errors_since(offset) == []


def test_quickstart_gate_allows_then_halts_when_the_kill_switch_is_triggered(portal):
    offset = portal.log_size()
    token = portal.manage("issue_gate_token", "--env", "paper", "--name", "quickstart").strip()
    before = portal.gate("paper", token)

    portal.manage("killswitch", "trigger", "--env", "paper", "--as", "operator1", "--note", "smoke")
    after = portal.gate("paper", token)

    assert (before.status, before.json()["decision"]) == (200, "ALLOW")
    assert (after.status, after.json()["decision"], after.json()["reason_code"]) == (
        200,
        "HALT",
        "HALT_KILL_SWITCH",
    )
    assert portal.server_errors_since(offset) == []


def test_quickstart_gate_stream_sends_the_gate_decision(portal):
    token = portal.manage("issue_gate_token", "--env", "paper", "--name", "quickstart-stream")
    read = portal.gate("paper", token.strip()).json()

    event = portal.gate("paper", token.strip(), stream=True)

    assert (event.status, event.headers["Content-Type"]) == (200, "text/event-stream")
    assert (event.json()["decision"], event.json()["version"]) == (
        read["decision"],
        read["version"],
    )


@pytest.fixture(scope="module")
def stream_server(portal: Portal, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The ASGI stream server of the production topology (uvicorn, as scripts/serve.sh
    runs it) on the quick start's SQLite file: no NOTIFY there, so it polls."""
    port = _free_port()
    log = tmp_path_factory.mktemp("stream") / "uvicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/uvicorn"),
                "opsportal.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=portal.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_serving(server, url, log)
        yield url
    finally:
        _stop(server)


NEW_ENVIRONMENT = (
    "from opsportal.controls.models import Environment; "
    "from opsportal.controls.services import environment_save; "
    "environment_save(environment=Environment(slug='asgi-test', name='ASGI test'), "
    "actor=None, created=True)"
)


def test_quickstart_asgi_stream_on_sqlite_sends_a_trigger_within_the_poll(portal, stream_server):
    # The demo's environments are both KILLED by now (valr-live by the demo's INC-001,
    # paper by the test above): the stream watches an ACTIVE one of its own.
    portal.manage("shell", "-c", NEW_ENVIRONMENT)
    token = portal.manage("issue_gate_token", "--env", "asgi-test", "--name", "asgi").strip()
    request = urllib.request.Request(stream_server + "/api/v1/environments/asgi-test/gate/stream")
    request.add_header("Authorization", f"Bearer {token}")
    with _opener().open(request, timeout=HTTP_TIMEOUT) as response:
        events = _gate_events(response)
        first = next(events)
        portal.manage("killswitch", "trigger", "--env", "asgi-test", "--as", "operator1")
        triggered_at = time.monotonic()
        # Refresh events (every half lease) sent before the commit may come first.
        halted = next(e for e in events if e["decision"] != "ALLOW")
        waited = time.monotonic() - triggered_at

    assert (first["decision"], halted["decision"]) == ("ALLOW", "HALT")
    assert waited < 2.5  # a poll (1 s) after the commit, before the half-lease refresh


def _gate_events(response: Any) -> Iterator[dict[str, Any]]:
    """Each `event: gate` payload of an open stream (reads bounded by HTTP_TIMEOUT)."""
    event = ""
    for raw in response:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "gate":
            yield json.loads(line[6:])
