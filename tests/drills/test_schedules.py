import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command

from drills.models import DrillRun, DrillSchedule
from drills.selectors import drill_calendar, due_schedules, next_due_on, schedule_statuses
from drills.services.schedules import drill_schedule_create, drill_schedule_mark_due
from opsportal.core.errors import ValidationFailed
from tests.controls.factories import EnvironmentFactory
from tests.drills.factories import completed_run

TODAY = dt.date(2030, 6, 15)


def make(version, env, users, frequency="monthly", first=dt.date(2030, 6, 1)):
    return drill_schedule_create(
        procedure=version.procedure,
        environment=env,
        frequency=frequency,
        first_due_on=first,
        actor=users["admin"],
    )


def test_first_due_date_before_any_run_and_overdue(version, paper, users):
    make(version, paper, users)

    [status] = schedule_statuses(today=TODAY)

    assert status.next_due_on == dt.date(2030, 6, 1)
    assert status.is_overdue
    assert status.last_done_at is None


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [
        ("monthly", dt.date(2030, 7, 10)),
        ("quarterly", dt.date(2030, 9, 10)),
        ("semi_annual", dt.date(2030, 12, 10)),
        ("manual", None),
    ],
)
def test_next_due_from_the_last_completed_run(version, paper, users, frequency, expected):
    schedule = make(version, paper, users, frequency=frequency)
    done = dt.datetime(2030, 6, 10, 12, 0, tzinfo=dt.UTC)

    assert next_due_on(schedule, done) == expected


def test_completed_run_moves_the_due_date(version, paper, users):
    make(version, paper, users, first=dt.date.today() - dt.timedelta(days=3))
    assert schedule_statuses()[0].is_overdue

    run = completed_run(version=version, environment=paper, lead=users["operator1"])

    [status] = schedule_statuses()
    assert status.last_done_at == run.completed_at
    assert not status.is_overdue
    assert status.next_due_on == run.completed_at.date() + relativedelta(months=1)


def test_aborted_or_open_runs_do_not_count(version, paper, users):
    from tests.drills.factories import plan

    make(version, paper, users, first=dt.date.today() - dt.timedelta(days=3))
    run = plan(version=version, environment=paper, lead=users["operator1"])

    [status] = schedule_statuses()
    assert status.is_overdue
    assert status.open_run_id == run.pk


def test_runs_on_another_environment_do_not_count(version, paper, users):
    make(version, paper, users, first=dt.date.today() - dt.timedelta(days=3))
    completed_run(
        version=version, environment=EnvironmentFactory(slug="testnet"), lead=users["operator1"]
    )

    assert schedule_statuses()[0].is_overdue


def test_manual_schedule_is_due_only_when_marked(version, paper, users):
    schedule = make(version, paper, users, frequency="manual")
    assert schedule_statuses(today=TODAY)[0].next_due_on is None

    drill_schedule_mark_due(
        schedule_id=schedule.pk,
        due_on=dt.date(2030, 6, 20),
        reason="New order router deployed",
        actor=users["admin"],
    )

    [status] = schedule_statuses(today=TODAY)
    assert status.next_due_on == dt.date(2030, 6, 20)
    assert [s.schedule for s in due_schedules(today=TODAY)] == [schedule]


def test_mark_due_needs_a_reason(version, paper, users):
    schedule = make(version, paper, users, frequency="manual")

    with pytest.raises(ValidationFailed):
        drill_schedule_mark_due(
            schedule_id=schedule.pk, due_on=TODAY, reason=" ", actor=users["admin"]
        )


def test_drill_schedule_create_is_idempotent(version, paper, users):
    first = make(version, paper, users)
    again = make(version, paper, users, frequency="quarterly")

    assert first.pk == again.pk
    assert DrillSchedule.objects.get().frequency == "monthly"


def test_calendar_groups_due_dates_by_month(version, paper, users):
    make(version, paper, users, frequency="quarterly", first=dt.date(2030, 7, 1))

    overdue, months = drill_calendar(months=12, today=TODAY)

    assert overdue == []
    assert list(months) == ["2030-07", "2030-10", "2031-01", "2031-04"]


def test_calendar_lists_overdue_apart(version, paper, users):
    make(version, paper, users, frequency="monthly", first=dt.date(2030, 5, 1))

    overdue, months = drill_calendar(months=3, today=TODAY)

    assert [s.next_due_on for s in overdue] == [dt.date(2030, 5, 1)]
    assert list(months) == ["2030-07", "2030-08", "2030-09"]


def test_demo_seed_is_idempotent(db, users, settings):
    settings.OPSPORTAL_DEMO_PASSWORD = "correct horse battery staple"
    from io import StringIO

    from drills import demo

    call_command("load_procedures", stdout=StringIO())
    EnvironmentFactory(slug="paper")
    demo.seed(users=users, stdout=StringIO())
    demo.seed(users=users, stdout=StringIO())

    assert DrillSchedule.objects.count() == 4
    runs = {
        r.procedure_version.procedure.slug: (r.state, r.result)
        for r in DrillRun.objects.select_related("procedure_version__procedure")
    }
    assert runs == {
        "failover-drill": ("signed_off", "passed"),
        "kill-switch-verification": ("completed", "passed"),
    }


def test_demo_seed_without_paper_does_nothing(db, users):
    from io import StringIO

    from drills import demo

    out = StringIO()
    demo.seed(users=users, stdout=out)

    assert "skipped" in out.getvalue()
    assert not DrillSchedule.objects.exists()


def test_overdue_scan_task_reports_overdue_schedules(version, paper, users):
    from drills.tasks import drills_overdue_scan_task

    make(version, paper, users, first=dt.date.today() - dt.timedelta(days=1))

    result = drills_overdue_scan_task.delay().get()

    assert [(r["procedure"], r["environment"]) for r in result] == [("kill-switch-drill", "paper")]
