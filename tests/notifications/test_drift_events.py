"""Clock-drift and gate NEUTRAL events reach operators and risk officers (and the
gate notices the whole desk), once per source and episode, through a real time
server on 127.0.0.1 and a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opsportal.controls.models import Environment
from opsportal.drift.models import ClockCheck, TimeSource
from opsportal.drift.services import time_source_check_now
from opsportal.notifications.models import Notification
from tests.controls.factories import EnvironmentFactory
from tests.drift.factories import http_source
from tests.drift.servers import TimeHTTPServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def time_server() -> Iterator[TimeHTTPServer]:
    with TimeHTTPServer() as server:
        yield server


def recipients(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def count(kind: str) -> int:
    return Notification.objects.filter(kind=kind).count()


def check(source: TimeSource) -> ClockCheck:
    result = time_source_check_now(source=source, actor=None)
    assert result is not None
    return result


def test_breach_tells_operators_and_risk_once_per_episode(users, time_server):
    env = EnvironmentFactory(slug="paper")
    source = http_source(time_server.url, env, name="valr-time")
    time_server.skew_ms = 1200
    check(source)
    check(source)  # still in breach: the same episode, nobody told again

    # commander is also an operator (tests/conftest.py ROLE_USERS)
    assert recipients("clock_drift.neutral") == {"operator1", "operator2", "commander", "risk"}
    assert count("clock_drift.neutral") == 4
    note = Notification.objects.filter(kind="clock_drift.neutral").first()
    assert note.title == "Clock drift breach on valr-time (NEUTRAL_CLOCK_DRIFT)"
    assert "offset +1" in note.body and "Gate NEUTRAL (no new risk) for paper" in note.body
    assert note.url == f"/drift/sources/{source.pk}/"

    time_server.skew_ms = 0
    check(source)
    assert count("clock_drift.recovered") == 0  # one healthy check is not a recovery
    check(source)
    assert recipients("clock_drift.recovered") == {"operator1", "operator2", "commander", "risk"}

    time_server.skew_ms = 1200  # a new episode is a new notice
    check(source)
    assert count("clock_drift.neutral") == 8


def test_gate_neutral_set_and_lifted_per_environment(users, time_server):
    paper = EnvironmentFactory(slug="paper")
    other = EnvironmentFactory(slug="other")
    source = http_source(time_server.url, paper, other)
    time_server.skew_ms = -1500  # our clock 1.5 s ahead
    check(source)

    notes = Notification.objects.filter(kind="gate.neutral_set", recipient=users["commander"])
    assert sorted(n.title for n in notes) == [
        "Gate NEUTRAL on other: NEUTRAL_CLOCK_DRIFT",
        "Gate NEUTRAL on paper: NEUTRAL_CLOCK_DRIFT",
    ]
    assert recipients("gate.neutral_set") == {"operator1", "operator2", "commander", "risk"}

    time_server.skew_ms = 0
    check(source)
    check(source)
    lifted = Notification.objects.filter(kind="gate.neutral_lifted", recipient=users["risk"])
    assert sorted(n.title for n in lifted) == [
        "Gate NEUTRAL lifted on other",
        "Gate NEUTRAL lifted on paper",
    ]


def test_unreachable_source_of_a_live_environment_is_clock_unverified(users):
    live = EnvironmentFactory(slug="valr-live")
    Environment.objects.filter(pk=live.pk).update(mode=Environment.Mode.LIVE)
    paper = EnvironmentFactory(slug="paper")
    source = http_source("http://127.0.0.1:9/time", live, paper, samples=1)
    check(source)

    note = Notification.objects.filter(kind="clock_drift.neutral").first()
    assert note.title.startswith("Clock unverified on exchange-time")
    assert "for valr-live" in note.body
    gate = Notification.objects.filter(kind="gate.neutral_set")
    assert {n.title for n in gate} == {"Gate NEUTRAL on valr-live: NEUTRAL_CLOCK_UNVERIFIED"}


def test_unreachable_source_off_live_changes_no_gate(users):
    paper = EnvironmentFactory(slug="paper")
    source = http_source("http://127.0.0.1:9/time", paper, samples=1)
    check(source)
    assert "No gate changes" in Notification.objects.filter(kind="clock_drift.neutral")[0].body
    assert count("gate.neutral_set") == 0


def test_breach_is_emailed(users, time_server, smtp_server, django_capture_on_commit_callbacks):
    source = http_source(time_server.url, EnvironmentFactory(slug="paper"))
    time_server.skew_ms = 1200
    with django_capture_on_commit_callbacks(execute=True):
        check(source)
    smtp_server.wait_for(3)
    subjects = {
        (e.rcpt_tos[0], line)
        for e in smtp_server.messages
        for line in e.content.decode().splitlines()
        if line.startswith("Subject:")
    }
    assert (
        "risk@example.test",
        "Subject: [opsportal] Gate NEUTRAL on paper: NEUTRAL_CLOCK_DRIFT",
    ) in (subjects)
    assert any("Clock drift breach on exchange-time" in s for _, s in subjects)
