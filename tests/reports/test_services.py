"""Requesting and generating reports in-process: one report per pending request,
idempotent generation, refusals, the beat task."""

from __future__ import annotations

import datetime as dt

import pytest

from incidents.services import opening
from opsportal.audit.models import AuditEvent
from opsportal.core.errors import NotFound, NotPermitted, ValidationFailed
from opsportal.reports import storage
from opsportal.reports.models import Report
from opsportal.reports.services import report_request
from opsportal.reports.tasks import previous_month, report_generate_task, reports_monthly_task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def incident(users):
    return opening.incident_open(actor=users["operator1"], title="Feed gap", severity="SEV3")


def _files(report: Report) -> list[str]:
    return sorted(p.name for p in storage.report_dir(report.pk).iterdir())


def test_running_the_task_again_on_a_done_report_changes_nothing(users, incident):
    report = report_request(
        kind="incident", parameters={"incident": incident.pk}, actor=users["operator1"]
    )
    before = {f.format: f.sha256 for f in report.files.all()}

    report_generate_task.apply(args=[report.pk])

    report.refresh_from_db()
    assert report.state == "done"
    assert {f.format: f.sha256 for f in report.files.all()} == before
    assert _files(report) == [f"report-{report.pk}.html", f"report-{report.pk}.pdf"]


def test_a_redelivered_task_for_a_running_report_replaces_the_files_and_leftovers(users, incident):
    report = report_request(
        kind="incident", parameters={"incident": incident.pk}, actor=users["operator1"]
    )
    # As a worker killed after writing its temporaries would leave it:
    Report.objects.filter(pk=report.pk).update(state="running")
    (storage.report_dir(report.pk) / f"report-{report.pk}.pdf.tmp-dead").write_bytes(b"half")

    report_generate_task.apply(args=[report.pk])

    report.refresh_from_db()
    assert (report.state, report.attempts) == ("done", 2)
    assert _files(report) == [f"report-{report.pk}.html", f"report-{report.pk}.pdf"]
    assert report.files.count() == 2
    for f in report.files.all():
        assert f.sha256 == storage.file_sha256(f.path)


def test_asking_again_while_queued_returns_the_same_report(users, incident, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # nothing consumes: it stays queued
    from opsportal.celery import app

    app.conf.task_always_eager = False
    try:
        app.control.purge()
        first = report_request(
            kind="incident", parameters={"incident": incident.pk}, actor=users["operator1"]
        )
        again = report_request(
            kind="incident", parameters={"incident": incident.reference}, actor=users["risk"]
        )
        app.control.purge()
    finally:
        app.conf.task_always_eager = True

    assert (again.pk, again.state) == (first.pk, "queued")
    assert Report.objects.count() == 1


def test_a_done_report_is_not_reused_for_a_new_request(users, incident):
    first = report_request(
        kind="incident", parameters={"incident": incident.pk}, actor=users["operator1"]
    )

    second = report_request(
        kind="incident", parameters={"incident": incident.pk}, actor=users["operator1"]
    )

    assert second.pk != first.pk


@pytest.mark.parametrize(
    ("kind", "params", "error"),
    [
        ("incident", {"incident": "INC-19990101-001"}, NotFound),
        ("drill", {"drill_run": "abc"}, ValidationFailed),
        ("rollback", {"mode_change": "999999"}, NotFound),
        ("review", {"review": "999999"}, NotFound),
        ("review", {"review": "x"}, ValidationFailed),
        ("review", {}, ValidationFailed),
        ("monthly", {"from": "2026-02-01", "to": "2026-01-01"}, ValidationFailed),
        ("monthly", {"from": "2020-01-01", "to": "2026-01-01"}, ValidationFailed),
        ("weekly", {}, ValidationFailed),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(users, kind, params, error):
    with pytest.raises(error):
        report_request(kind=kind, parameters=params, actor=users["operator1"])


def test_a_user_without_a_role_may_not_request_reports(incident):
    with pytest.raises(NotPermitted):
        report_request(kind="incident", parameters={"incident": incident.pk}, actor=UserFactory())


def test_the_request_and_the_generation_are_audited(users, incident):
    report = report_request(
        kind="incident", parameters={"incident": incident.pk}, actor=users["auditor"]
    )

    events = list(
        AuditEvent.objects.filter(object_type="reports.report", object_id=str(report.pk))
        .order_by("id")
        .values_list("event_type", "actor_username")
    )
    assert events == [
        ("report.requested", "auditor"),
        ("report.started", ""),
        ("report.generated", ""),
    ]


def test_the_monthly_task_requests_the_month_before():
    report_id = reports_monthly_task.apply().get()

    report = Report.objects.get(pk=report_id)
    start, end = previous_month(dt.date.today())
    assert (report.kind, report.parameters, report.state) == (
        "monthly",
        {"from": start.isoformat(), "to": end.isoformat()},
        "done",
    )
    assert report.requested_by is None
    assert reports_monthly_task.apply().get() == report_id  # a second run: the same report


def test_previous_month_of_the_first_of_march_is_february():
    assert previous_month(dt.date(2028, 3, 1)) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
