import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drills.models import DrillRun
from drills.selectors import run_result_summary
from drills.services.recording import (
    drill_action_item_add,
    drill_action_item_set_status,
    drill_step_record,
)
from drills.services.runs import (
    drill_precheck_tick,
    drill_run_abort,
    drill_run_complete,
    drill_run_plan,
    drill_run_start,
)
from opsportal.audit.models import AuditEvent
from opsportal.core.errors import Conflict, NotPermitted, ValidationFailed
from tests.controls.factories import EnvironmentFactory
from tests.drills.factories import plan, publish, record_all, spec, start


def test_drill_run_plan_pins_version_and_creates_checklist_and_steps(version, paper, users):
    run = plan(
        version=version,
        environment=paper,
        lead=users["operator1"],
        observer=users["operator2"],
        participants=(users["commander"],),
    )

    assert run.state == "planned"
    assert run.procedure_version == version
    assert [i.text for i in run.prechecks.all()] == ["Test environment selected", "Team notified"]
    assert list(run.step_results.values_list("position", "outcome")) == [
        (1, "pending"),
        (2, "pending"),
        (3, "pending"),
    ]
    assert list(run.participants.all()) == [users["commander"]]
    assert AuditEvent.objects.filter(event_type="drill_run.planned").count() == 1


def test_drill_run_plan_refuses_observer_who_is_the_lead(version, paper, users):
    with pytest.raises(ValidationFailed) as exc:
        plan(
            version=version, environment=paper, lead=users["operator1"], observer=users["operator1"]
        )

    assert exc.value.field == "observer"


def test_revising_the_procedure_does_not_change_a_planned_run(version, paper, users):
    run = plan(version=version, environment=paper, lead=users["operator1"])
    new_steps = [
        dict(s, time_target_seconds=5) if s.get("time_target_seconds") else s
        for s in spec()["steps"]
    ]

    revised = publish(steps=new_steps)

    run.refresh_from_db()
    assert revised.version == 2
    assert run.procedure_version.version == 1
    assert run.step_results.get(position=1).step.time_target_seconds == 10


def test_drill_run_start_requires_the_pre_drill_checklist(version, paper, users):
    run = plan(version=version, environment=paper, lead=users["operator1"])
    drill_precheck_tick(item_id=run.prechecks.first().pk, actor=users["operator1"])

    with pytest.raises(Conflict) as exc:
        drill_run_start(run_id=run.pk, actor=users["operator1"])

    assert exc.value.code == "precheck_incomplete"
    run.refresh_from_db()
    assert run.state == "planned"


def test_drill_precheck_tick_records_who_ticked(version, paper, users):
    run = plan(
        version=version, environment=paper, lead=users["operator1"], observer=users["operator2"]
    )

    item = drill_precheck_tick(
        item_id=run.prechecks.first().pk, actor=users["operator2"], note=" ok "
    )

    assert (item.done_by, item.note) == (users["operator2"], "ok")
    assert item.done_at is not None


def test_drill_precheck_tick_by_someone_not_on_the_drill_is_refused(version, paper, users):
    run = plan(version=version, environment=paper, lead=users["operator1"])

    with pytest.raises(NotPermitted):
        drill_precheck_tick(item_id=run.prechecks.first().pk, actor=users["operator2"])


def test_drill_run_start_records_time_and_mode(version, paper, users):
    run = plan(version=version, environment=paper, lead=users["operator1"])

    run = start(run)

    assert run.state == "in_progress"
    assert run.started_at is not None
    assert run.environment_mode == "DRY_RUN"
    assert run.live_confirmed_by is None


def test_drill_run_start_on_live_needs_explicit_confirmation(version, users):
    live = EnvironmentFactory(slug="valr-live", mode="LIVE")
    run = plan(version=version, environment=live, lead=users["operator1"])

    with pytest.raises(ValidationFailed) as exc:
        start(run)
    assert exc.value.field == "confirm_live"

    run = drill_run_start(run_id=run.pk, actor=users["operator1"], confirm_live=True)
    assert (run.state, run.environment_mode) == ("in_progress", "LIVE")
    assert run.live_confirmed_by == users["operator1"]
    assert run.ran_live


def test_steps_cannot_be_recorded_before_start(version, paper, users):
    run = plan(version=version, environment=paper, lead=users["operator1"])

    with pytest.raises(Conflict):
        drill_step_record(
            result_id=run.step_results.first().pk,
            actor=users["operator1"],
            outcome="pass",
            measured_seconds="1",
        )


def test_drill_step_record_pass_within_target_is_pass(version, paper, users):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    step = run.step_results.get(position=1)

    result = drill_step_record(
        result_id=step.pk,
        actor=users["operator1"],
        outcome="pass",
        measured_seconds="9.5",
        observations="HALT seen",
        evidence_links=["https://grafana.example/d/1"],
    )

    assert (result.outcome, result.measured_ms, result.outcome_reason) == ("pass", 9500, "")
    assert result.evidence_links == ["https://grafana.example/d/1"]
    assert result.performed_by == users["operator1"]


def test_drill_step_record_pass_over_target_is_recorded_as_fail(version, paper, users):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    step = run.step_results.get(position=1)

    result = drill_step_record(
        result_id=step.pk, actor=users["operator1"], outcome="pass", measured_seconds="10.001"
    )

    assert result.outcome == "fail"
    assert "exceeds the 10 s target" in result.outcome_reason
    run.refresh_from_db()
    assert run.result == "failed"


def test_drill_step_record_timed_pass_needs_a_measurement(version, paper, users):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))

    with pytest.raises(ValidationFailed) as exc:
        drill_step_record(
            result_id=run.step_results.get(position=1).pk, actor=users["operator1"], outcome="pass"
        )

    assert exc.value.field == "measured_seconds"


def test_drill_step_record_measures_from_start_and_end(version, paper, users):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    t0 = timezone.now()

    result = drill_step_record(
        result_id=run.step_results.get(position=1).pk,
        actor=users["operator1"],
        outcome="pass",
        started_at=t0,
        ended_at=t0 + dt.timedelta(seconds=4, milliseconds=250),
    )

    assert result.measured_ms == 4250


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"outcome": "skipped"}, "skip_reason"),
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "fail", "measured_seconds": "-1"}, "measured_seconds"),
        ({"outcome": "fail", "measured_seconds": "abc"}, "measured_seconds"),
        ({"outcome": "fail", "evidence_links": ["javascript:alert(1)"]}, "evidence_links"),
    ],
)
def test_drill_step_record_rejects_bad_input(version, paper, users, kwargs, field):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))

    with pytest.raises(ValidationFailed) as exc:
        drill_step_record(
            result_id=run.step_results.get(position=2).pk, actor=users["operator1"], **kwargs
        )

    assert exc.value.field == field


def test_result_is_derived_from_steps(version, paper, users):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    lead = users["operator1"]
    r1, r2, r3 = run.step_results.order_by("position")

    drill_step_record(result_id=r1.pk, actor=lead, outcome="pass", measured_seconds="2")
    run.refresh_from_db()
    assert run.result == "pending"

    drill_step_record(result_id=r2.pk, actor=lead, outcome="skipped", skip_reason="no venue")
    drill_step_record(result_id=r3.pk, actor=lead, outcome="pass", measured_seconds="60")
    run.refresh_from_db()
    assert run.result == "incomplete"

    drill_step_record(result_id=r2.pk, actor=lead, outcome="pass")
    run.refresh_from_db()
    assert run.result == "passed"

    drill_step_record(result_id=r2.pk, actor=lead, outcome="fail", observations="order went out")
    run.refresh_from_db()
    assert run.result == "failed"


def test_a_run_with_most_steps_skipped_and_no_issues_reads_incomplete_not_passed(paper, users):
    steps = [{"title": f"Step {n}", "instruction": f"Do {n}"} for n in range(1, 14)]
    version = publish(spec(slug="thirteen-steps", steps=steps))
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    results = list(run.step_results.order_by("position"))
    for result in results[:7]:
        drill_step_record(
            result_id=result.pk,
            actor=users["operator1"],
            outcome="skipped",
            skip_reason="venue closed",
        )
    for result in results[7:]:
        drill_step_record(result_id=result.pk, actor=users["operator1"], outcome="pass")

    run.refresh_from_db()

    assert (run.result, run_result_summary(run)) == (
        "incomplete",
        "Incomplete: 7 of 13 steps skipped, 6 passed; no issues recorded",
    )


def test_an_issue_makes_a_passing_run_passed_with_issues(version, paper, users):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    record_all(run)

    item = drill_action_item_add(
        run_id=run.pk,
        actor=users["operator1"],
        title="Alert came late",
        owner=users["operator2"],
        due_on=dt.date(2030, 1, 1),
    )

    run.refresh_from_db()
    assert run.result == "passed_with_issues"
    assert (item.owner, item.status) == (users["operator2"], "open")
    item = drill_action_item_set_status(item_id=item.pk, actor=users["operator2"], status="done")
    assert item.closed_at is not None


def test_drill_run_complete_requires_every_step(version, paper, users):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    drill_step_record(
        result_id=run.step_results.get(position=1).pk,
        actor=users["operator1"],
        outcome="pass",
        measured_seconds="1",
    )

    with pytest.raises(Conflict) as exc:
        drill_run_complete(run_id=run.pk, actor=users["operator1"])

    assert exc.value.code == "steps_pending"


def test_drill_run_complete_sets_result_and_time(version, paper, users):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    record_all(run)

    run = drill_run_complete(run_id=run.pk, actor=users["operator1"])

    assert (run.state, run.result) == ("completed", "passed")
    assert run.completed_at is not None


def test_illegal_transitions_are_conflicts(version, paper, users):
    lead = users["operator1"]
    run = plan(version=version, environment=paper, lead=lead)

    with pytest.raises(Conflict):
        drill_run_complete(run_id=run.pk, actor=lead)

    drill_run_abort(run_id=run.pk, actor=lead, reason="venue maintenance")
    with pytest.raises(Conflict):
        drill_run_start(run_id=run.pk, actor=lead)
    with pytest.raises(Conflict):
        drill_step_record(result_id=run.step_results.first().pk, actor=lead, outcome="fail")


def test_completed_run_cannot_be_aborted(version, paper, users):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    record_all(run)
    drill_run_complete(run_id=run.pk, actor=users["operator1"])

    with pytest.raises(Conflict):
        drill_run_abort(run_id=run.pk, actor=users["operator1"], reason="changed mind")


def test_drill_run_abort_needs_a_reason_and_records_it(version, paper, users):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))

    with pytest.raises(ValidationFailed):
        drill_run_abort(run_id=run.pk, actor=users["operator1"], reason=" ")
    run = drill_run_abort(run_id=run.pk, actor=users["operator1"], reason="venue down")

    assert (run.state, run.abort_reason) == ("aborted", "venue down")
    assert run.aborted_at is not None


def test_state_field_is_protected(version, paper, users):
    run = plan(version=version, environment=paper, lead=users["operator1"])

    with pytest.raises(AttributeError):
        run.state = DrillRun.State.COMPLETED


def test_drill_run_plan_refuses_a_schedule_for_another_environment(version, paper, users):
    from drills.services.schedules import drill_schedule_create

    other = EnvironmentFactory(slug="testnet")
    schedule = drill_schedule_create(
        procedure=version.procedure,
        environment=other,
        frequency="monthly",
        first_due_on=dt.date(2030, 1, 1),
        actor=users["admin"],
    )

    with pytest.raises(ValidationFailed) as exc:
        drill_run_plan(
            procedure=version.procedure,
            environment=paper,
            lead=users["operator1"],
            planned_at=timezone.now(),
            actor=users["operator1"],
            schedule=schedule,
        )

    assert exc.value.field == "schedule"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ms=st.integers(min_value=0, max_value=20_000))
def test_a_timed_pass_is_pass_exactly_when_within_target(version, paper, users, ms):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    step = run.step_results.get(position=1)  # 10 s target

    result = drill_step_record(
        result_id=step.pk,
        actor=users["operator1"],
        outcome="pass",
        measured_seconds=Decimal(ms) / 1000,
    )

    assert result.measured_ms == ms
    assert result.outcome == ("pass" if ms <= 10_000 else "fail")
