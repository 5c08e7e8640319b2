"""The gate read on SQLite, the database `make run` uses when nothing is configured.

The suite runs on PostgreSQL, so these tests open a real SQLite database of their own
(a file in the test's tmp_path, holding the gate's two tables) as the connection
alias `gate_sqlite`, and read the gate through it. The HTTP gate and its event stream
on SQLite are covered end to end by tests/test_quickstart.py. The last tests check
the same portable query on PostgreSQL with prepared statements off (PgBouncer).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import factory
import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.db.utils import ConnectionHandler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opsportal.controls import selectors, services
from opsportal.controls.models import Environment, GateToken
from tests.controls.factories import EnvironmentFactory

SQLITE = "gate_sqlite"


class SqliteEnvironmentFactory(EnvironmentFactory):
    class Meta:
        database = SQLITE


class SqliteGateTokenFactory(factory.django.DjangoModelFactory):
    """A gate token row in the SQLite database (the service writes to the default
    database, so it cannot make one there)."""

    class Meta:
        model = GateToken
        database = SQLITE

    name = factory.Sequence(lambda n: f"engine-{n}")
    token_sha256 = factory.Sequence(lambda n: hashlib.sha256(f"opsg_{n}".encode()).hexdigest())
    prefix = factory.LazyAttribute(lambda t: t.token_sha256[:8])


@pytest.fixture
def sqlite(tmp_path: Path, django_db_blocker: Any) -> Iterator[Any]:
    """A real SQLite connection (file `tmp_path/gate.sqlite3`) with the gate's tables
    (and the users table they reference), registered as the alias `gate_sqlite` for
    the test and removed after."""
    handler = ConnectionHandler(
        {
            "default": {},
            SQLITE: {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(tmp_path / "gate.sqlite3"),
            },
        }
    )
    conn = handler[SQLITE]
    with django_db_blocker.unblock():
        connections[SQLITE] = conn
        try:
            with conn.schema_editor() as editor:
                editor.create_model(get_user_model())  # gate tokens reference users
                editor.create_model(Environment)
                editor.create_model(GateToken)
            yield conn
        finally:
            conn.close()
            del connections[SQLITE]


@pytest.fixture
def paper(sqlite: Any) -> Environment:
    return SqliteEnvironmentFactory(slug="paper")


def test_gate_read_on_sqlite_returns_the_environment_state_and_the_token(sqlite, paper):
    token = SqliteGateTokenFactory(environment=paper)

    read = selectors.gate_read("paper", token.token_sha256, conn=sqlite)

    assert read == selectors.GateRead(
        state={
            "id": paper.pk,
            "mode": "DRY_RUN",
            "kill_switch": "ACTIVE",
            "version": 1,
            "neutral_reason": "",
            "clock_fresh_until_ms": None,
        },
        token_id=token.pk,
        token_touch_due=True,
    )


def test_gate_read_on_sqlite_decides_allow(sqlite, paper):
    token = SqliteGateTokenFactory(environment=None)

    read = selectors.gate_read("paper", token.token_sha256, conn=sqlite)

    assert selectors.decide(read.state).decision == "ALLOW"


@pytest.mark.parametrize(
    ("used_ago", "touch_due"),
    [(dt.timedelta(seconds=10), False), (dt.timedelta(seconds=120), True)],
)
def test_gate_read_on_sqlite_asks_for_a_touch_once_a_minute(sqlite, paper, used_ago, touch_due):
    token = SqliteGateTokenFactory(environment=paper, last_used_at=timezone.now() - used_ago)

    read = selectors.gate_read("paper", token.token_sha256, conn=sqlite)

    assert read.token_touch_due is touch_due


def test_gate_read_on_sqlite_refuses_a_revoked_token(sqlite, paper):
    token = SqliteGateTokenFactory(environment=paper, revoked_at=timezone.now())

    read = selectors.gate_read("paper", token.token_sha256, conn=sqlite)

    assert (read.state is not None, read.token_id) == (True, None)


def test_gate_read_on_sqlite_refuses_a_token_for_another_environment(sqlite, paper):
    token = SqliteGateTokenFactory(environment=SqliteEnvironmentFactory(slug="valr-live"))

    read = selectors.gate_read("paper", token.token_sha256, conn=sqlite)

    assert (read.state is not None, read.token_id) == (True, None)


def test_gate_read_on_sqlite_unknown_environment_has_no_state(sqlite, paper):
    token = SqliteGateTokenFactory(environment=None)

    read = selectors.gate_read("nope", token.token_sha256, conn=sqlite)

    assert read == selectors.GateRead(state=None, token_id=None)


def test_gate_read_on_sqlite_is_one_query(sqlite, paper):
    token = SqliteGateTokenFactory(environment=paper)

    with CaptureQueriesContext(sqlite) as queries:
        selectors.gate_read("paper", token.token_sha256, conn=sqlite)

    assert len(queries) == 1


# --- the same portable query on PostgreSQL (OPSPORTAL_GATE_PREPARED=0) ---


@pytest.fixture
def unprepared(settings: Any) -> None:
    settings.OPSPORTAL_GATE_PREPARED = False


@pytest.mark.django_db
def test_gate_read_without_prepared_statements_runs_the_portable_query(env, users, unprepared):
    _, raw = services.gate_token_issue(name="e", environment=env, actor=users["admin"])

    with CaptureQueriesContext(connection) as queries:
        selectors.gate_read("paper", services.hash_token(raw))

    assert [q["sql"].startswith("EXECUTE") for q in queries] == [False]


@pytest.mark.django_db
def test_gate_read_without_prepared_statements_skips_the_touch_within_a_minute(
    env, users, unprepared
):
    token, raw = services.gate_token_issue(name="e", environment=env, actor=users["admin"])
    services.token_touch(model=GateToken, token_id=token.pk, at=timezone.now())

    read = selectors.gate_read("paper", services.hash_token(raw))

    assert (read.token_id, read.token_touch_due) == (token.pk, False)
