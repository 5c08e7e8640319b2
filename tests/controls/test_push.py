"""Gate push (opsportal.controls.push): a change of an environment's gate state is
announced with NOTIFY from its own transaction, so a notification exists if and
only if the change committed. Listened to on a real PostgreSQL connection."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection, transaction

from opsportal.controls import services
from opsportal.controls.push import GATE_CHANNEL, gate_change_publish_in_transaction
from tests.controls.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 2.0  # bound on every wait for a notification


@pytest.fixture
def listener() -> Iterator[psycopg.Connection]:
    """A second session on the test database, LISTENing on the gate channel."""
    db = connection.settings_dict
    conn = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
        autocommit=True,
    )
    conn.execute(f"LISTEN {GATE_CHANNEL}")
    try:
        yield conn
    finally:
        conn.close()


def received(listener: psycopg.Connection) -> list[dict]:
    """Every notification that arrives within WAIT_SECONDS of quiet, decoded."""
    return [json.loads(n.payload) for n in listener.notifies(timeout=WAIT_SECONDS)]


def test_kill_switch_trigger_publishes_the_new_gate_state(listener, users):
    env = EnvironmentFactory(slug="paper")

    services.kill_switch_trigger(environment=env, actor=users["operator1"], reason_code="drill")

    assert received(listener) == [
        {
            "slug": "paper",
            "id": env.pk,
            "mode": "DRY_RUN",
            "kill_switch": "KILLED",
            "version": 2,
            "neutral_reason": "",
            "clock_fresh_until_ms": None,
        }
    ]


def test_repeated_trigger_publishes_nothing_new(listener, users):
    env = EnvironmentFactory(slug="paper")
    services.kill_switch_trigger(environment=env, actor=users["operator1"], reason_code="drill")
    received(listener)

    services.kill_switch_trigger(environment=env, actor=users["operator2"], reason_code="drill")

    assert received(listener) == []


def test_recovery_and_rollback_each_publish_their_version(listener, users, make_live, fast):
    env = make_live(EnvironmentFactory(slug="paper"))
    services.kill_switch_trigger(environment=env, actor=users["operator1"], reason_code="drill")
    services.kill_switch_recover(environment=env, actor=users["operator1"], reason="fixed")
    services.mode_rollback(environment=env, actor=users["operator1"], reason="rollback")

    states = [(n["mode"], n["kill_switch"], n["version"]) for n in received(listener)]

    assert states == [
        ("LIVE", "ACTIVE", 2),
        ("LIVE", "KILLED", 3),
        ("LIVE", "RECOVERING", 4),
        ("DRY_RUN", "RECOVERING", 5),
    ]


def test_a_rolled_back_change_publishes_nothing(listener):
    env = EnvironmentFactory(slug="paper")

    with pytest.raises(ZeroDivisionError), transaction.atomic():
        gate_change_publish_in_transaction(environment=env)
        1 / 0  # noqa: B018 - the change's transaction fails after publishing

    assert received(listener) == []


def test_publishing_outside_a_transaction_is_refused():
    env = EnvironmentFactory(slug="paper")

    with pytest.raises(RuntimeError):
        gate_change_publish_in_transaction(environment=env)
