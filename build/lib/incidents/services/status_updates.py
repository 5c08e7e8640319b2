"""Status updates from the runbooks' templates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from incidents import status_templates
from incidents.models import (
    OPEN_STATUSES,
    Incident,
    Status,
    StatusUpdate,
    TimelineEntry,
)
from incidents.services._base import (
    current_commander,
    lock_incident,
    name_of,
    require_permission,
    timeline_write,
    update_due,
    user_or_none,
)
from opsportal.audit.services import audit_record, service_entry_point
from opsportal.core.errors import Conflict, ValidationFailed
from opsportal.core.text import STATUS_FIELD_MAX, text_within


@service_entry_point
def incident_status_update_post(
    *,
    actor: Any,
    kind: str,
    fields: dict[str, str],
    incident_id: int | None = None,
    incident: Incident | None = None,
) -> StatusUpdate:
    """Post a status message rendered from one of the runbooks' three templates
    (see incidents.status_templates) with the author's `fields`.

    kind "initial" and "update" are for open incidents and set the next update due
    to now + the severity's cadence (none for SEV4); "resolution" is for resolved
    or closed incidents and stops the clock. Requires
    incidents.post_status_update_incident. Missing required fields raise
    ValidationFailed naming the field.
    """
    require_permission(actor, "incidents.post_status_update_incident")
    if kind not in status_templates.TEMPLATE_FIELDS:
        raise ValidationFailed("Choose a status update template.", field="kind")
    clean: dict[str, str] = {}
    for name, label, required in status_templates.TEMPLATE_FIELDS[kind]:
        value = str(fields.get(name, "") or "").strip()
        if required and not value:
            raise ValidationFailed(f"{label} is required for this template.", field=name)
        text_within(value, limit=STATUS_FIELD_MAX, field=name, label=label)
        clean[name] = value
    with transaction.atomic(durable=True):
        locked = lock_incident(incident_id, incident)
        if kind == StatusUpdate.Kind.RESOLUTION:
            if locked.status not in (Status.RESOLVED, Status.CLOSED):
                raise Conflict(
                    "Post the resolution notice once the incident is resolved.",
                    code="illegal_transition",
                )
        elif locked.status not in OPEN_STATUSES:
            raise Conflict(
                f"A {locked.get_status_display().lower()} incident takes a resolution "
                "notice, not an update.",
                code="illegal_transition",
            )
        now = timezone.now()
        next_due = (
            None if kind == StatusUpdate.Kind.RESOLUTION else update_due(now, locked.severity)
        )
        commander = current_commander(locked)
        sev = locked.sev
        if sev.review_required and sev.review_due_seconds:
            due = (locked.resolved_at or now) + timedelta(seconds=sev.review_due_seconds)
            review_due = f"required, due by {due:%Y-%m-%d %H:%M} UTC"
        else:
            review_due = "not required"
        body = status_templates.render(
            kind,
            incident=locked,
            fields=clean,
            commander=name_of(commander) if commander else "not yet assigned",
            next_update_due_at=next_due,
            review_due=review_due,
            now=now,
        )
        update = StatusUpdate(
            incident=locked,
            kind=kind,
            body=body,
            fields=clean,
            posted_at=now,
            posted_by=user_or_none(actor),
            next_update_due_at=next_due,
        )
        update.save(force_insert=True)
        if locked.next_update_due_at != next_due:
            locked.next_update_due_at = next_due
            locked.save(update_fields=["next_update_due_at"])
        timeline_write(
            incident=locked,
            actor=actor,
            kind=TimelineEntry.Kind.STATUS_UPDATE,
            body=body,
            metadata={"status_update": update.pk, "kind": kind},
            at=now,
        )
        audit_record(
            actor=actor,
            event_type="incident.status_update_posted",
            obj=locked,
            after={"kind": kind, "next_update_due_at": next_due, "fields": clean},
        )
    return update
