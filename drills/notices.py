"""Drill notifications: a drill due within a week, and an overdue drill (runbook
"ops drills": drills run on schedule; an overdue one blocks going live). Sent by the
hourly scan (`drills.tasks.drills_overdue_scan_task`), once per schedule and due
date (dedupe key). Registered at import (drills' `ready()` imports this module)."""

from __future__ import annotations

from django.urls import reverse

from drills.selectors import ScheduleStatus
from opsportal.notifications.registry import register_notification_kind
from opsportal.notifications.selectors import people_in_roles
from opsportal.notifications.services import notify

DUE = "drill.due"
OVERDUE = "drill.overdue"
DUE_WITHIN_DAYS = 7

register_notification_kind(DUE, label="Drill due within a week")
register_notification_kind(OVERDUE, label="Drill overdue", email_default=True)


def notify_schedule(status: ScheduleStatus) -> int:
    """Tell operators (and risk officers, when overdue) about one schedule's due
    date; 0 when it is not due soon or they were told already."""
    due_on = status.next_due_on
    days = status.days_until_due
    if due_on is None or days is None:
        return 0
    schedule = status.schedule
    what = f"{schedule.procedure.slug} on {schedule.environment.slug}"
    if status.is_overdue:
        return notify(
            kind=OVERDUE,
            recipients=people_in_roles(("operator", "risk_officer")),
            title=f"Drill overdue: {what} (due {due_on.isoformat()})",
            body=f"The drill was due {due_on.isoformat()}, {-days} day(s) ago. Plan and run it.",
            url=reverse("drills:list"),
            dedupe_key=f"drill-schedule:{schedule.pk}:overdue:{due_on.isoformat()}",
        )
    if days <= DUE_WITHIN_DAYS:
        return notify(
            kind=DUE,
            recipients=people_in_roles(("operator",)),
            title=f"Drill due {due_on.isoformat()}: {what}",
            body=f"Due in {days} day(s). Plan the run with a drill lead and an observer.",
            url=reverse("drills:list"),
            dedupe_key=f"drill-schedule:{schedule.pk}:due:{due_on.isoformat()}",
        )
    return 0
