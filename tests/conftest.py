"""Fixtures shared by the whole suite.

The suite refuses skips: a PostgreSQL, Redis or browser test that cannot run is a
failure, not a skip (set OPSPORTAL_ALLOW_SKIPS=1 to look at a partial run locally).

Browser fixtures (`browser`, `new_page`, `login`) live here rather than in
tests/e2e/ so every browser test in any folder shares the one session Chromium:
two Playwright sync sessions in one process collide on the event loop. Playwright
drives Debian's Chromium (/usr/bin/chromium); we never download a browser.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery.result import allow_join_result
from django.db import connection
from django.test import Client

from tests.factories import PASSWORD, UserFactory

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls
# from the same thread (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("OPSPORTAL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

ROLE_USERS = {
    "operator1": ["operator"],
    "operator2": ["operator"],
    "commander": ["incident_commander", "operator"],
    "risk": ["risk_officer"],
    "auditor": ["auditor"],
    "admin": ["admin"],
}

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped and os.environ.get("OPSPORTAL_ALLOW_SKIPS") != "1" and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped and os.environ.get("OPSPORTAL_ALLOW_SKIPS") != "1":
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) skipped; skips are not allowed in this suite",
            red=True,
        )


@pytest.fixture(autouse=True)
def _celery_join_flag_reset() -> Iterator[None]:
    """Celery's "inside a task" flag (`task_join_will_block`) is one global, not one
    per thread: eager tasks run by concurrent threads (the 50-writer audit test seals
    on commit in each) can restore each other's value and leave it set, and then a
    later test's `task.apply().get()` refuses with "Never call result.get() within a
    task". Every test starts with it cleared, as in a fresh process."""
    with allow_join_result():
        yield


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def users(db: None) -> dict:
    """The demo cast: operator1, operator2, commander, risk, auditor, admin."""
    return {name: UserFactory(username=name, roles=roles) for name, roles in ROLE_USERS.items()}


@pytest.fixture
def client_for(users: dict) -> Callable[[str], Client]:
    """`client_for("operator1")` is a test client signed in as that demo user."""

    def make(username: str) -> Client:
        client = Client()
        client.force_login(users[username])
        return client

    return make


@pytest.fixture
def database_unreachable(transactional_db: None) -> Iterator[None]:
    """Point the default connection at a closed port for the duration of the test:
    a real connection failure, not a mock. (Needs a transactional test: the
    connection is closed and reopened.)"""
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["HOST"] = "127.0.0.1"
    connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)
        connection.connect()


@pytest.fixture
def celery_worker_process(transactional_db: None) -> Iterator[subprocess.Popen]:
    """A real Celery worker in its own process, consuming from the test Redis and
    writing to the test database (so the test must be transactional: the worker
    only sees committed rows). Yields once the worker answers a ping."""
    from django.conf import settings

    from opsportal.celery import app

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsportal.settings_test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    hostname = f"test-{uuid.uuid4().hex[:8]}@%h"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "opsportal",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "-n",
            hostname,
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Celery worker did not start")
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/ensure-test-deps.sh")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable[..., object]]:
    """`new_page()` opens a fresh browser context (its own cookies) and page.
    Screenshots of each page at teardown go to test-artifacts/ for a human look."""
    contexts = []

    def make(*, viewport: dict | None = None):
        context = browser.new_context(
            base_url=live_server.url, viewport=viewport or {"width": 1280, "height": 900}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def login(password: str) -> Callable[..., None]:
    """`login(page, "operator1")` signs in through the real login form."""

    def do(page, username: str) -> None:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

    return do
