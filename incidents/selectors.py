"""Reads for incidents: access helpers, the dashboard, the detail page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from incidents.models import (
    OPEN_STATUSES,
    Incident,
    RoleAssignment,
    StatusUpdate,
    TimelineEntry,
)
from incidents.severity import SEVERITIES
from opsportal.library.models import Checklist, ChecklistItem

VIEW_PERMISSION = "incidents.view_incident"


def incidents_for(user: Any) -> QuerySet[Incident]:
    """The incidents `user` may read (every one with incidents.view_incident, none
    otherwise). Per-object access rules would go here."""
    if not user.has_perm(VIEW_PERMISSION):
        return Incident.objects.none()
    return Incident.objects.select_related("environment")


def get_incident_for(user: Any, pk: Any) -> Incident:
    """The incident `pk` if `user` may read it. Raises PermissionDenied without the
    view permission and Http404 for an unknown pk."""
    if not user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied(f"requires {VIEW_PERMISSION}")
    incident = (
        Incident.objects.select_related(
            "environment",
            "created_by",
            "acknowledged_by",
            "investigating_by",
            "mitigated_by",
            "monitoring_by",
            "resolved_by",
            "closed_by",
            "declined_by",
        )
        .filter(pk=pk)
        .first()
    )
    if incident is None:
        raise Http404("No such incident.")
    return incident


def open_incidents_for_environment(
    environment: Any, *, severities: tuple[str, ...] = ("SEV1", "SEV2")
) -> QuerySet[Incident]:
    """Open incidents (detected … monitoring) of `environment` with one of
    `severities`. The go-live precondition asks for `("SEV1", "SEV2")`."""
    return Incident.objects.filter(
        environment=environment, status__in=OPEN_STATUSES, severity__in=severities
    )


@dataclass(frozen=True)
class Dashboard:
    open_by_severity: list[tuple[Any, int]]  # [(Severity, count)] in SEV1..SEV4 order
    open_total: int
    sla_breaching: list[Incident]  # open, unacknowledged past the SLA
    updates_overdue: list[Incident]  # open, next status update past due
    open_incidents: list[Incident]  # most severe first, at most `limit`
    open_more: int


def dashboard(*, now: datetime | None = None, limit: int = 20) -> Dashboard:
    """Everything the dashboard shows, in four queries whatever the volume."""
    now = now or timezone.now()
    counts = Incident.objects.open().aggregate(
        **{code: Count("id", filter=Q(severity=code)) for code in SEVERITIES}
    )
    base = Incident.objects.select_related("environment")
    breaching = list(base.sla_breaching_now(now).order_by("ack_due_at")[:limit])
    overdue = list(base.update_overdue(now).order_by("next_update_due_at")[:limit])
    open_total = sum(counts.values())
    open_list = list(base.open().order_by("severity", "-detected_at")[:limit])
    return Dashboard(
        open_by_severity=[(sev, counts[code]) for code, sev in SEVERITIES.items()],
        open_total=open_total,
        sla_breaching=breaching,
        updates_overdue=overdue,
        open_incidents=open_list,
        open_more=max(open_total - len(open_list), 0),
    )


@dataclass(frozen=True)
class IncidentDetail:
    timeline: list[TimelineEntry]
    current_roles: list[RoleAssignment]
    past_roles: list[RoleAssignment]
    status_updates: list[StatusUpdate]
    checklists: list[Checklist]
    commander: Any


def incident_detail(incident: Incident) -> IncidentDetail:
    """The related records of the detail page, in a fixed number of queries."""
    timeline = list(incident.timeline.select_related("author").order_by("occurred_at", "id"))
    roles = list(
        incident.assignments.select_related("user", "started_by", "ended_by").order_by(
            "role", "started_at", "id"
        )
    )
    updates = list(incident.status_updates.select_related("posted_by").order_by("-posted_at"))
    checklists = list(
        Checklist.objects.filter(
            target_type=ContentType.objects.get_for_model(Incident), target_id=str(incident.pk)
        )
        .select_related("procedure_version", "created_by")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=ChecklistItem.objects.select_related("step", "done_by").order_by(
                    "position"
                ),
            )
        )
    )
    current = [a for a in roles if a.ended_at is None]
    commander = next((a.user for a in current if a.role == "incident_commander"), None)
    return IncidentDetail(
        timeline=timeline,
        current_roles=current,
        past_roles=[a for a in roles if a.ended_at is not None],
        status_updates=updates,
        checklists=checklists,
        commander=commander,
    )
