"""Clock drift against real time servers on 127.0.0.1 (issue 11 "How it is checked")."""

from __future__ import annotations

import json
import socket

import psycopg
import pytest
from django.db import connection

from incidents.models import Incident, TimelineEntry
from incidents.services import incident_checklists
from opsportal.controls import services as controls_services
from opsportal.controls.models import Environment
from opsportal.controls.push import GATE_CHANNEL
from opsportal.controls.selectors import gate_decision
from opsportal.drift.clock import NEUTRAL_CLOCK_DRIFT, NEUTRAL_CLOCK_UNVERIFIED
from opsportal.drift.models import ClockCheck, TimeSource
from opsportal.drift.selectors import clock_drift_precondition
from opsportal.drift.services import lock_acquire, time_source_check_now
from tests.drift.factories import http_source, ntp_source

pytestmark = pytest.mark.django_db


def check(source: TimeSource) -> ClockCheck:
    result = time_source_check_now(source=source, actor=None)
    assert result is not None
    return result


def gate_via_api(client, env: Environment, users) -> dict:
    _, raw = controls_services.gate_token_issue(
        name=f"engine-{env.slug}", environment=env, actor=users["admin"]
    )
    return client.get(
        f"/api/v1/environments/{env.slug}/gate", HTTP_AUTHORIZATION=f"Bearer {raw}"
    ).json()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_min_rtt_sample_is_kept_so_a_slow_first_answer_does_not_skew(env, time_server):
    # The first answer reads the clock, then waits 400 ms: its midpoint is 200 ms off.
    time_server.first_delay_after_read_ms = 400
    source = http_source(time_server.url, env)

    result = check(source)

    assert result.samples_taken == 8
    assert abs(result.offset_ms) < 50, result.offset_ms
    assert result.rtt_ms < 100
    assert result.error_ms == pytest.approx(result.rtt_ms / 2, abs=0.01)
    assert result.status == "healthy"


def test_latency_widens_the_error_not_the_offset(env, time_server):
    time_server.latency_ms = 60
    source = http_source(time_server.url, env, samples=3)

    result = check(source)

    assert result.error_ms >= 30
    assert abs(result.offset_ms) < 30 + result.error_ms


def test_breach_turns_the_gate_neutral_within_one_check_and_opens_one_incident(
    client, env, users, time_server, library
):
    source = http_source(time_server.url, env)
    assert gate_via_api(client, env, users)["decision"] == "ALLOW"
    version = env.version
    time_server.skew_ms = 1200

    result = check(source)

    assert result.status == "breach"
    assert result.offset_ms == pytest.approx(1200, abs=50)
    answer = gate_via_api(client, env, users)
    assert (answer["decision"], answer["reason_code"]) == ("NEUTRAL", NEUTRAL_CLOCK_DRIFT)
    assert answer["version"] == version + 1
    check(source)  # still breached: noted on the same incident, no second one
    incident = Incident.objects.get()
    assert incident.severity == "SEV2"
    playbook = incident_checklists(incident).get().procedure_version.procedure
    assert playbook.slug == "clock-drift-playbook"
    assert TimelineEntry.objects.filter(incident=incident, kind="control").count() == 1


def test_kill_switch_halt_comes_before_clock_drift_neutral(env, users, time_server, library):
    source = http_source(time_server.url, env)
    time_server.skew_ms = 1500
    check(source)
    controls_services.kill_switch_trigger(
        environment=env, actor=users["operator1"], reason_code="clock_drift"
    )

    assert gate_decision("paper").decision == "HALT"


def test_minus_650_ms_is_a_warning_and_leaves_the_gate_alone(env, time_server):
    source = http_source(time_server.url, env)
    time_server.skew_ms = -650

    result = check(source)

    assert result.status == "warning"
    assert result.offset_ms == pytest.approx(-650, abs=50)
    assert gate_decision("paper").decision == "ALLOW"
    assert not Incident.objects.exists()


def test_ahead_and_behind_limits_are_separate(env, time_server):
    source = http_source(time_server.url, env, ahead_breach_ms=300, ahead_critical_ms=200)
    time_server.skew_ms = -400  # the local clock runs 400 ms ahead of the source

    assert check(source).status == "breach"
    time_server.skew_ms = 400  # behind by 400: the default limits, healthy
    assert check(source).status == "healthy"


def test_unreachable_source_is_unreachable_never_healthy(live_env, library):
    source = http_source(f"http://127.0.0.1:{closed_port()}/time", live_env, timeout_ms=300)

    result = check(source)

    assert result.status == "unreachable"
    assert result.offset_ms is None
    source.refresh_from_db()
    assert source.status == "unreachable"
    decision = gate_decision("valr-live")
    assert (decision.decision, decision.reason_code) == ("NEUTRAL", NEUTRAL_CLOCK_UNVERIFIED)
    assert Incident.objects.count() == 1
    assert not clock_drift_precondition(live_env).passed


def test_unreachable_source_of_a_dry_run_environment_leaves_its_gate_alone(env):
    source = http_source(f"http://127.0.0.1:{closed_port()}/time", env, timeout_ms=300)

    assert check(source).status == "unreachable"
    assert gate_decision("paper").decision == "ALLOW"
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "garbage",
    ['{"epochTime": "soon"}', '{"serverTime": 1}', "<html>", '{"epochTime": 1700000000}'],
)
def test_garbage_answers_are_unreachable(env, time_server, garbage):
    time_server.garbage = garbage
    source = http_source(time_server.url, env, samples=2)

    result = check(source)

    assert result.status == "unreachable"
    assert result.detail


def test_two_healthy_checks_lift_neutral_and_say_so_on_the_incident(env, time_server, library):
    source = http_source(time_server.url, env)
    time_server.skew_ms = 1200
    check(source)
    time_server.skew_ms = 0

    assert check(source).status == "healthy"
    assert gate_decision("paper").decision == "NEUTRAL"  # one healthy check is not enough
    assert check(source).status == "healthy"
    assert gate_decision("paper").decision == "ALLOW"
    incident = Incident.objects.get()
    assert incident.timeline.filter(body__contains="NEUTRAL lifted").exists()
    time_server.skew_ms = 1200  # breached again while the incident is still open
    check(source)
    assert Incident.objects.count() == 1
    assert incident.timeline.filter(kind="control").count() == 3


def test_a_warning_between_healthy_checks_restarts_the_count(env, time_server, library):
    source = http_source(time_server.url, env)
    time_server.skew_ms = 1200
    check(source)
    time_server.skew_ms = 0
    check(source)
    time_server.skew_ms = 600
    check(source)
    time_server.skew_ms = 0
    check(source)

    assert gate_decision("paper").decision == "NEUTRAL"


def test_ntp_source_measures_a_shifted_ntp_server(env, ntp_server, library):
    source = ntp_source(ntp_server.port, env)
    ntp_server.skew_ms = 1200

    result = check(source)

    assert result.status == "breach"
    assert result.offset_ms == pytest.approx(1200, abs=50)
    ntp_server.skew_ms = 0
    assert abs(check(source).offset_ms) < 50


def test_unsynchronised_ntp_server_is_unreachable(env, ntp_server):
    ntp_server.stratum = 0
    source = ntp_source(ntp_server.port, env)

    assert check(source).status == "unreachable"


def test_stale_clock_of_a_live_environment_is_neutral_even_without_jobs(live_env, time_server):
    source = http_source(time_server.url, live_env)
    check(source)
    assert gate_decision("valr-live").decision == "ALLOW"
    # Three intervals without a good check: the dead man's switch lapses.
    Environment.objects.filter(pk=live_env.pk).update(clock_fresh_until_ms=1)

    decision = gate_decision("valr-live")

    assert (decision.decision, decision.reason_code) == ("NEUTRAL", NEUTRAL_CLOCK_UNVERIFIED)


def test_precondition_passes_only_with_every_source_healthy_and_fresh(env, time_server):
    assert clock_drift_precondition(env).passed  # nothing guards it: nothing to fail
    source = http_source(time_server.url, env)
    assert not clock_drift_precondition(env).passed  # never checked
    check(source)
    assert clock_drift_precondition(env).passed
    time_server.skew_ms = 900
    check(source)
    assert not clock_drift_precondition(env).passed


def test_a_second_worker_does_not_check_a_source_being_checked(env, time_server):
    source = http_source(time_server.url, env)
    assert lock_acquire(source.pk)

    assert time_source_check_now(source=source, actor=None) is None
    assert not ClockCheck.objects.exists()


def test_gate_read_stays_one_query_with_drift(
    client, env, users, time_server, django_assert_max_num_queries
):
    source = http_source(time_server.url, env)
    time_server.skew_ms = 1200
    check(source)
    _, raw = controls_services.gate_token_issue(name="e", environment=env, actor=users["admin"])
    client.get("/api/v1/environments/paper/gate", HTTP_AUTHORIZATION=f"Bearer {raw}")

    with django_assert_max_num_queries(1):
        response = client.get("/api/v1/environments/paper/gate", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.json()["decision"] == "NEUTRAL"


@pytest.mark.django_db(transaction=True)
def test_a_breach_is_pushed_to_the_gate_streams_on_commit(env, time_server, library):
    source = http_source(time_server.url, env)
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
        autocommit=True,
    ) as listener:
        listener.execute(f"LISTEN {GATE_CHANNEL}")
        time_server.skew_ms = 1200
        check(source)
        notes = [json.loads(n.payload) for n in listener.notifies(timeout=1.0, stop_after=1)]

    assert notes[0]["neutral_reason"] == NEUTRAL_CLOCK_DRIFT
    assert notes[0]["version"] == env.version + 1


def test_a_breach_after_an_unreachable_spell_off_live_opens_the_incident(env, time_server):
    source = http_source(time_server.url, env, timeout_ms=300)
    time_server.garbage = "<html>"
    assert check(source).status == "unreachable"  # DRY_RUN only: no incident
    time_server.garbage = None
    time_server.skew_ms = 1200

    assert check(source).status == "breach"
    assert Incident.objects.count() == 1
    assert gate_decision("paper").reason_code == NEUTRAL_CLOCK_DRIFT
