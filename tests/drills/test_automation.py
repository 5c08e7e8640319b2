"""Automated kill-switch timing against a real environment (controls services, the
gate selector, the approvals engine) and the live-transition precondition."""

import datetime as dt

import pytest
from django.utils import timezone

from drills.models import DrillStepResult
from drills.selectors import PRECONDITION_CODE, kill_switch_drill_precondition
from drills.services.automation import (
    drill_step_record_recovery,
    drill_step_start_recovery,
    drill_step_trigger_automated,
)
from drills.services.recording import drill_step_record
from drills.services.runs import drill_run_complete
from opsportal.approvals.services import approval_grant
from opsportal.controls.models import Environment, KillSwitchEvent
from opsportal.controls.preconditions import live_preconditions
from opsportal.controls.selectors import gate_decision
from opsportal.core.errors import Conflict, ValidationFailed
from tests.controls.factories import EnvironmentFactory
from tests.drills.factories import plan, start
from tests.factories import PASSWORD


@pytest.fixture
def running(version, paper, users):
    return start(plan(version=version, environment=paper, lead=users["operator1"]))


def trigger_step(run):
    return run.step_results.get(position=1)


def recovery_step(run):
    return run.step_results.get(position=3)


def test_drill_step_trigger_automated_times_trigger_to_halt(running, paper, users):
    result = drill_step_trigger_automated(
        result_id=trigger_step(running).pk, actor=users["operator1"]
    )

    assert result.outcome == "pass"
    assert result.automated
    assert 0 <= result.measured_ms <= 10_000
    assert result.measurement["decision"] == "HALT"
    assert result.measurement["polls"] >= 1
    assert gate_decision("paper").decision == "HALT"
    event = KillSwitchEvent.objects.get(kind="triggered")
    assert (event.reason_code, event.is_drill, event.incident_id) == ("drill", True, None)


def test_drill_trigger_opens_no_incident(running, users):
    from incidents.models import Incident

    drill_step_trigger_automated(result_id=trigger_step(running).pk, actor=users["operator1"])

    assert not Incident.objects.exists()


def test_automated_trigger_refused_when_kill_switch_not_active(running, paper, users):
    from opsportal.controls.services import kill_switch_trigger

    kill_switch_trigger(environment=paper, actor=users["operator2"], reason_code="manual")

    with pytest.raises(Conflict) as exc:
        drill_step_trigger_automated(result_id=trigger_step(running).pk, actor=users["operator1"])

    assert exc.value.code == "kill_switch_not_active"
    assert trigger_step(running).outcome == "pending"


def test_automated_trigger_only_on_the_trigger_step(running, users):
    with pytest.raises(Conflict) as exc:
        drill_step_trigger_automated(
            result_id=running.step_results.get(position=2).pk, actor=users["operator1"]
        )

    assert exc.value.code == "not_automatable"


def test_automated_trigger_on_live_needs_confirmation_and_records_it(version, users):
    live = EnvironmentFactory(slug="valr-live", mode="LIVE")
    run = start(plan(version=version, environment=live, lead=users["operator1"]), confirm_live=True)

    with pytest.raises(ValidationFailed) as exc:
        drill_step_trigger_automated(result_id=trigger_step(run).pk, actor=users["operator1"])
    assert exc.value.field == "confirm_live"
    live.refresh_from_db()
    assert live.kill_switch == "ACTIVE"

    result = drill_step_trigger_automated(
        result_id=trigger_step(run).pk, actor=users["operator1"], confirm_live=True
    )
    assert result.outcome == "pass"
    run.refresh_from_db()
    assert run.live_confirmed_by == users["operator1"]


def test_recovery_timing_after_risk_approves(running, paper, users, settings):
    settings.OPSPORTAL_KILL_SWITCH_COOLDOWN_SECONDS = 0
    drill_step_trigger_automated(result_id=trigger_step(running).pk, actor=users["operator1"])
    request = drill_step_start_recovery(
        result_id=recovery_step(running).pk, actor=users["operator1"]
    )

    with pytest.raises(Conflict) as exc:
        drill_step_record_recovery(result_id=recovery_step(running).pk, actor=users["operator1"])
    assert exc.value.code == "recovery_pending"

    approval_grant(
        request_id=request.pk,
        actor=users["risk"],
        password=PASSWORD,
        payload_sha256=request.payload_sha256,
    )
    result = drill_step_record_recovery(
        result_id=recovery_step(running).pk, actor=users["operator1"]
    )

    paper.refresh_from_db()
    assert paper.kill_switch == Environment.KillSwitch.ACTIVE
    assert (result.outcome, result.automated) == ("pass", True)
    assert result.measured_ms is not None and result.measured_ms < 900_000
    assert result.measurement["decision"] == "ALLOW"


def test_recovery_record_without_a_recovery_is_refused(running, users):
    with pytest.raises(Conflict) as exc:
        drill_step_record_recovery(result_id=recovery_step(running).pk, actor=users["operator1"])

    assert exc.value.code == "recovery_not_started"


# ---------------------------------------------------------------- precondition


def finish(run, lead):
    for result in run.step_results.filter(outcome=DrillStepResult.Outcome.PENDING):
        drill_step_record(result_id=result.pk, actor=lead, outcome="pass", measured_seconds="1")
    return drill_run_complete(run_id=run.pk, actor=lead)


def test_kill_switch_drill_precondition_is_registered():
    assert PRECONDITION_CODE in {p.code for p in live_preconditions()}


def test_precondition_fails_without_a_drill(paper):
    result = kill_switch_drill_precondition(paper)

    assert (result.code, result.passed) == (PRECONDITION_CODE, False)


def test_precondition_passes_after_a_completed_drill_with_passed_trigger(running, paper, users):
    drill_step_trigger_automated(result_id=trigger_step(running).pk, actor=users["operator1"])
    finish(running, users["operator1"])

    assert kill_switch_drill_precondition(paper).passed


def test_precondition_fails_when_the_trigger_step_failed(running, paper, users):
    drill_step_record(
        result_id=trigger_step(running).pk,
        actor=users["operator1"],
        outcome="pass",
        measured_seconds="11",
    )
    finish(running, users["operator1"])

    assert not kill_switch_drill_precondition(paper).passed


def test_precondition_fails_when_the_drill_is_too_old(running, paper, users, settings):
    finish(running, users["operator1"])
    settings.OPSPORTAL_KILL_SWITCH_DRILL_MAX_AGE_SECONDS = 60
    running.__class__.objects.filter(pk=running.pk).update(
        completed_at=timezone.now() - dt.timedelta(seconds=120)
    )

    assert not kill_switch_drill_precondition(paper).passed


def test_precondition_ignores_other_environments(running, users):
    finish(running, users["operator1"])

    assert not kill_switch_drill_precondition(EnvironmentFactory(slug="testnet")).passed


def test_precondition_costs_one_query(running, paper, users, django_assert_num_queries):
    finish(running, users["operator1"])

    with django_assert_num_queries(1):
        result = kill_switch_drill_precondition(paper)

    assert result.passed  # recorded by hand within target: a passed trigger step
    assert "kill-switch-drill" in result.detail
