"""Celery tasks for reports: generate one report (ids in), and the monthly report
on the 1st (CELERY_BEAT_SCHEDULE in settings.py)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from opsportal.core.request_context import request_context
from opsportal.reports.models import Kind, Report
from opsportal.reports.services import report_generate, report_request, request_key

# WeasyPrint lays out a month of figures in about a second; 5 minutes is a runaway.
SOFT_TIME_LIMIT = 300
TIME_LIMIT = 360


@shared_task(
    name="opsportal.reports.tasks.report_generate_task",
    # Acknowledged after it ran: a worker killed mid-report leaves the message to be
    # delivered again, and report_generate is safe to run again.
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
)
def report_generate_task(report_id: int) -> str:
    with request_context(source="task"):
        return str(report_generate(report_id=report_id).state)


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


@shared_task(
    name="opsportal.reports.tasks.reports_monthly_task",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
)
def reports_monthly_task() -> int:
    """Request last month's operations and compliance report (the 1st of each month).
    Idempotent: a second run returns the report the first one requested (unless that
    one failed)."""
    start, end = previous_month(timezone.localdate())
    params = {"from": start.isoformat(), "to": end.isoformat()}
    earlier = (
        Report.objects.filter(request_key=request_key(Kind.MONTHLY, params), requested_by=None)
        .exclude(state=Report.State.FAILED)
        .first()
    )
    if earlier is not None:
        return earlier.pk
    with request_context(source="task"):
        report = report_request(
            kind=Kind.MONTHLY,
            parameters=params,
            actor=None,
        )
    return report.pk
