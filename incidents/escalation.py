"""Escalating unacknowledged incidents, level by level (the severity policy's
escalation levels of the incident's own policy version).

`incidents_escalate_due` (Celery beat, every minute) finds the open, unacknowledged
incidents with a level due and escalates each with `incident_escalate`, which locks
the incident's row (`SELECT ... FOR UPDATE SKIP LOCKED`: a second worker skips it)
and compares the levels due with `escalation_level`, the levels already done. So
the job run twice, or by two workers at once, escalates each level once: one
timeline entry, one audit event, one notification per person (deduplicated by key).
Acknowledging stops it: acknowledged incidents are never escalated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from incidents.models import OPEN_STATUSES, Incident, TimelineEntry
from incidents.notices import ESCALATED, SLA_BREACHED, UPDATE_OVERDUE, incident_url
from incidents.services._base import current_commander, timeline_write
from incidents.severity import EscalationLevel
from opsportal.audit.services import audit_record
from opsportal.notifications.messages import utc_text
from opsportal.notifications.selectors import people_in_roles
from opsportal.notifications.services import notify

BATCH = 500


def levels_due(incident: Incident, now: dt.datetime) -> int:
    """How many of the incident's escalation levels are due at `now`."""
    elapsed = (now - incident.detected_at).total_seconds()
    return sum(1 for level in incident.sev.escalation if level.after_seconds <= elapsed)


def _recipients(level: EscalationLevel) -> list[Any]:
    people = {u.pk: u for u in people_in_roles(level.roles)} if level.roles else {}
    if level.users:
        for user in get_user_model().objects.filter(username__in=level.users, is_active=True):
            people[user.pk] = user
    return list(people.values())


def incident_escalate(incident_id: int, *, now: dt.datetime | None = None) -> int:
    """Escalate incident `incident_id` to every level due at `now` that is not done
    yet; returns how many levels it escalated (0 when acknowledged, closed, nothing
    due, or another worker holds it). Owns its transaction."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        incident = (
            Incident.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=incident_id, acknowledged_at__isnull=True, status__in=OPEN_STATUSES)
            .first()
        )
        if incident is None:
            return 0
        levels = incident.sev.escalation
        due = levels_due(incident, now)
        done = incident.escalation_level
        if due <= done:
            return 0
        minutes = int((now - incident.detected_at).total_seconds() // 60)
        for number in range(done + 1, due + 1):
            level = levels[number - 1]
            who = ", ".join([*level.roles, *level.users])
            timeline_write(
                incident=incident,
                actor=None,
                kind=TimelineEntry.Kind.ESCALATION,
                body=(
                    f"Escalated to level {number} ({who}): not acknowledged {minutes} min "
                    f"after detection (response due {utc_text(incident.ack_due_at)})."
                ),
                metadata={"level": number, "roles": list(level.roles), "users": list(level.users)},
                at=now,
            )
            notify(
                kind=ESCALATED,
                recipients=_recipients(level),
                title=(
                    f"[{incident.severity}] ESCALATION level {number}: {incident.reference} "
                    f"not acknowledged — {incident.title}"
                ),
                body=(
                    f"Severity: {incident.sev.label}\n"
                    f"Detected: {utc_text(incident.detected_at)} ({minutes} min ago)\n"
                    f"Response was due: {utc_text(incident.ack_due_at)}\n"
                    "Acknowledge the incident to stop the escalation."
                ),
                url=incident_url(incident),
                dedupe_key=f"incident:{incident.pk}:escalation:{number}",
            )
        before = {"escalation_level": done}
        incident.escalation_level = due
        incident.escalated_at = now
        incident.save(update_fields=["escalation_level", "escalated_at"])
        audit_record(
            actor=None,
            event_type="incident.escalated",
            obj=incident,
            before=before,
            after={"escalation_level": due},
        )
    return due - done


def escalation_candidates(*, limit: int = BATCH) -> list[int]:
    """Open, unacknowledged incidents that may have a level due (one query; the
    exact check, under the incident's policy, is `incident_escalate`'s)."""
    return list(
        Incident.objects.filter(acknowledged_at__isnull=True, status__in=OPEN_STATUSES)
        .order_by("detected_at")
        .values_list("pk", flat=True)[:limit]
    )


def incidents_escalate_due(*, now: dt.datetime | None = None) -> int:
    """Escalate every incident with a level due, then tell people about missed
    response SLAs and overdue status updates; returns the levels escalated."""
    escalated = sum(incident_escalate(pk, now=now) for pk in escalation_candidates())
    incidents_notify_overdue(now=now)
    return escalated


def _responders(incident: Incident) -> list[Any]:
    """The incident's commander if it has one, else every incident commander."""
    commander = current_commander(incident)
    if commander is not None:
        return [commander]
    return list(people_in_roles(("incident_commander",)))


def incidents_notify_overdue(*, now: dt.datetime | None = None) -> int:
    """Notify, once each: a response SLA missed (operators and commanders), a status
    update overdue (the incident commander). Returns how many incidents it told about.
    Row-locked per incident (SKIP LOCKED) like the escalation."""
    now = now or timezone.now()
    sla_ids = list(
        Incident.objects.filter(
            status__in=OPEN_STATUSES,
            acknowledged_at__isnull=True,
            ack_due_at__lt=now,
            sla_breach_notified_at__isnull=True,
        ).values_list("pk", flat=True)[:BATCH]
    )
    update_ids = list(
        Incident.objects.filter(status__in=OPEN_STATUSES, next_update_due_at__lt=now)
        .exclude(update_overdue_notified_for=F("next_update_due_at"))
        .values_list("pk", flat=True)[:BATCH]
    )
    told = 0
    for pk in sorted(set(sla_ids) | set(update_ids)):
        with transaction.atomic(durable=True):
            incident = (
                Incident.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=pk, status__in=OPEN_STATUSES)
                .first()
            )
            if incident is None:
                continue
            fields = []
            if (
                incident.acknowledged_at is None
                and incident.ack_due_at < now
                and incident.sla_breach_notified_at is None
            ):
                notify(
                    kind=SLA_BREACHED,
                    recipients=people_in_roles(("operator", "incident_commander")),
                    title=(
                        f"[{incident.severity}] {incident.reference} not acknowledged in time: "
                        f"{incident.title}"
                    ),
                    body=(
                        f"The response SLA ({incident.sev.response_seconds // 60} min) ended "
                        f"{utc_text(incident.ack_due_at)}. Acknowledge the incident now."
                    ),
                    url=incident_url(incident),
                    dedupe_key=f"incident:{incident.pk}:sla",
                )
                incident.sla_breach_notified_at = now
                fields.append("sla_breach_notified_at")
            due = incident.next_update_due_at
            if due is not None and due < now and incident.update_overdue_notified_for != due:
                notify(
                    kind=UPDATE_OVERDUE,
                    recipients=_responders(incident),
                    title=f"[{incident.severity}] {incident.reference}: status update overdue",
                    body=(
                        f"The next status update was due {utc_text(due)}. Post one with the "
                        "status update template (status, key developments, next update)."
                    ),
                    url=incident_url(incident),
                    dedupe_key=f"incident:{incident.pk}:update:{due.isoformat()}",
                )
                incident.update_overdue_notified_for = due
                fields.append("update_overdue_notified_for")
            if fields:
                incident.save(update_fields=fields)
                audit_record(
                    actor=None,
                    event_type="incident.overdue_notified",
                    obj=incident,
                    after={f: getattr(incident, f) for f in fields},
                )
                told += 1
    return told
