"""Escalation with the clock moved forward: an unacknowledged SEV1 escalates after
each level's wait, once, even with the job run twice or by two workers at once;
acknowledging stops it."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from incidents import services
from incidents.escalation import incident_escalate, incidents_escalate_due
from incidents.models import TimelineEntry
from incidents.tasks import incidents_escalate_due_task
from opsportal.audit.models import AuditEvent
from opsportal.notifications.models import Notification


def escalations(incident) -> list[str]:
    return list(
        TimelineEntry.objects.filter(incident=incident, kind="escalation")
        .order_by("occurred_at", "pk")
        .values_list("body", flat=True)
    )


def told(number: int) -> set[str]:
    return set(
        Notification.objects.filter(
            kind="incident.escalated", dedupe_key__endswith=f":escalation:{number}"
        ).values_list("recipient__username", flat=True)
    )


def later(incident, minutes: int) -> dt.datetime:
    return incident.detected_at + dt.timedelta(minutes=minutes, seconds=1)


@pytest.mark.django_db
def test_unacknowledged_sev1_escalates_level_by_level_once(users):
    incident = services.incident_open(actor=users["operator1"], title="Router", severity="SEV1")

    assert incidents_escalate_due(now=later(incident, 14)) == 0
    assert incidents_escalate_due(now=later(incident, 15)) == 1
    assert incidents_escalate_due(now=later(incident, 15)) == 0  # run twice: nothing more
    assert told(1) == {"commander"}
    assert incidents_escalate_due(now=later(incident, 30)) == 1
    assert told(2) == {"risk"}

    bodies = escalations(incident)
    assert len(bodies) == 2
    assert bodies[0].startswith("Escalated to level 1 (incident_commander)")
    assert AuditEvent.objects.filter(event_type="incident.escalated").count() == 2


@pytest.mark.django_db
def test_a_late_run_escalates_every_level_due_once(users):
    incident = services.incident_open(actor=users["operator1"], title="Router", severity="SEV1")
    assert incident_escalate(incident.pk, now=later(incident, 45)) == 2
    assert len(escalations(incident)) == 2


@pytest.mark.django_db
def test_acknowledging_stops_escalation(users):
    incident = services.incident_open(actor=users["operator1"], title="Router", severity="SEV1")
    incidents_escalate_due(now=later(incident, 15))
    services.incident_acknowledge(actor=users["operator2"], incident_id=incident.pk)

    assert incidents_escalate_due(now=later(incident, 60)) == 0
    assert len(escalations(incident)) == 1
    assert told(2) == set()


@pytest.mark.django_db
def test_sev4_never_escalates(users):
    incident = services.incident_open(actor=users["operator1"], title="Cosmetic", severity="SEV4")
    assert incidents_escalate_due(now=later(incident, 24 * 60)) == 0


@pytest.mark.django_db
def test_the_beat_task_runs_the_escalation(users):
    services.incident_open(
        actor=users["operator1"],
        title="Router",
        severity="SEV1",
        detected_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16),
    )
    assert incidents_escalate_due_task.delay().get() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_workers_escalate_once(users):
    incident = services.incident_open(actor=users["operator1"], title="Router", severity="SEV1")
    when = later(incident, 15)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(incidents_escalate_due(now=when))
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    assert sum(results) == 1
    assert len(escalations(incident)) == 1
    assert told(1) == {"commander"}


def kind_recipients(kind: str) -> list[str]:
    return sorted(
        Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True)
    )


@pytest.mark.django_db
def test_missed_response_sla_is_told_once(users):
    incident = services.incident_open(actor=users["operator1"], title="Router", severity="SEV1")
    incidents_escalate_due(now=later(incident, 4))
    assert kind_recipients("incident.sla_breached") == []
    incidents_escalate_due(now=later(incident, 6))
    incidents_escalate_due(now=later(incident, 7))
    assert kind_recipients("incident.sla_breached") == ["commander", "operator1", "operator2"]


@pytest.mark.django_db
def test_overdue_status_update_is_told_to_the_commander_once_per_deadline(users):
    incident = services.incident_open(actor=users["operator1"], title="Router", severity="SEV2")
    services.incident_acknowledge(actor=users["operator2"], incident_id=incident.pk)
    incidents_escalate_due(now=later(incident, 31))
    incidents_escalate_due(now=later(incident, 32))
    assert kind_recipients("incident.update_overdue") == ["commander"]
