"""Helpers shared by the incident service modules (use the services, not these)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from incidents.models import (
    Incident,
    ResponseRole,
    RoleAssignment,
    TimelineEntry,
)
from incidents.severity import SEVERITIES
from opsportal.core.errors import NotFound, NotPermitted


def require_permission(actor: Any, permission: str) -> None:
    """Raise NotPermitted unless `actor` holds `permission`. None is the system."""
    if actor is None:
        return
    if not actor.has_perm(permission):
        raise NotPermitted(
            "You do not have permission to do this on an incident.", code="forbidden"
        )


def user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def name_of(user: Any) -> str:
    if user is None:
        return "system"
    return getattr(user, "display_name", None) or user.get_username()


def lock_incident(incident_id: int | None, incident: Incident | None) -> Incident:
    """Re-read the incident under a row lock (SELECT ... FOR UPDATE)."""
    pk = incident.pk if incident is not None else incident_id
    if pk is None:
        raise TypeError("pass incident_id or incident")
    locked = Incident.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound("No such incident.", field="incident")
    return locked


def timeline_write(
    *,
    incident: Incident,
    actor: Any,
    kind: str,
    body: str,
    metadata: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TimelineEntry:
    entry = TimelineEntry(
        incident=incident,
        occurred_at=at or timezone.now(),
        kind=kind,
        author=user_or_none(actor),
        body=body,
        metadata=metadata or {},
    )
    entry.save(force_insert=True)
    return entry


def next_reference(day: datetime) -> str:
    """Hand out the next `INC-YYYYMMDD-NNN` for the UTC day of `day`.

    One atomic upsert on the per-day counter row: concurrent callers are serialised
    by the row lock the upsert takes, so no two get the same number (SQLite and
    PostgreSQL both support ON CONFLICT ... RETURNING). The counter row is written
    in the caller's transaction, so a rollback gives the number back and references
    have no gaps. Holding that row lock until commit serialises same-day openings,
    which is fine at incident rates.
    """
    date = day.astimezone(UTC).date()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO incidents_incidentsequence (day, last_number) VALUES (%s, 1) "
            "ON CONFLICT (day) DO UPDATE "
            "SET last_number = incidents_incidentsequence.last_number + 1 "
            "RETURNING last_number",
            [date],
        )
        (number,) = cursor.fetchone()
    return f"INC-{date:%Y%m%d}-{number:03d}"


def update_due(base: datetime, severity: str) -> datetime | None:
    cadence = SEVERITIES[severity].update_cadence_seconds
    return base + timedelta(seconds=cadence) if cadence else None


def current_commander(incident: Incident) -> Any:
    """The user holding the incident-commander role now, or None."""
    assignment = (
        RoleAssignment.objects.filter(
            incident=incident, role=ResponseRole.INCIDENT_COMMANDER, ended_at__isnull=True
        )
        .select_related("user")
        .first()
    )
    return assignment.user if assignment else None
