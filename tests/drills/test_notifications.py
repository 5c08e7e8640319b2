"""The hourly drill scan tells people about drills due within a week and overdue
drills, once per schedule and due date."""

from __future__ import annotations

import datetime as dt

import pytest

from drills.services.schedules import drill_schedule_create
from drills.tasks import drills_overdue_scan_task
from opsportal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def schedule(version, env, users, first):
    return drill_schedule_create(
        procedure=version.procedure,
        environment=env,
        frequency="monthly",
        first_due_on=first,
        actor=users["admin"],
    )


def told(kind: str) -> list[str]:
    return sorted(
        Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True)
    )


def test_overdue_drill_is_told_to_operators_and_risk_once(version, paper, users):
    schedule(version, paper, users, dt.date.today() - dt.timedelta(days=1))
    drills_overdue_scan_task.delay().get()
    drills_overdue_scan_task.delay().get()
    assert told("drill.overdue") == ["commander", "operator1", "operator2", "risk"]


def test_drill_due_within_a_week_is_told_to_operators(version, paper, users):
    schedule(version, paper, users, dt.date.today() + dt.timedelta(days=3))
    drills_overdue_scan_task.delay().get()
    assert told("drill.due") == [
        "commander",
        "operator1",
        "operator2",
    ]  # commander is an operator too
    assert told("drill.overdue") == []


def test_a_drill_due_later_is_not_told(version, paper, users):
    schedule(version, paper, users, dt.date.today() + dt.timedelta(days=30))
    drills_overdue_scan_task.delay().get()
    assert not Notification.objects.exists()
