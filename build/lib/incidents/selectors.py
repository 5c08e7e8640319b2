"""Reads for incidents: access helpers, the list's keyset pages, the dashboard, the
detail page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


# --- the list: keyset pages ----------------------------------------------------------
#
# The list is ordered newest first by (detected_at, id), and a page is found from the
# last row the reader saw, not by counting rows from the top: page 3,900 costs what
# page 1 costs (index `incident_list_order`). A cursor is `<detected_at as whole
# microseconds since 1970 UTC>_<id>`; anything else is ignored (the first page).

LIST_COUNT_LIMIT = 1000  # the list counts matches up to this many, then says "more than"
_CURSOR_RE = re.compile(r"(\d{1,17})_(\d{1,18})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def incident_cursor(incident: Incident) -> str:
    """The keyset cursor of `incident`'s place in the list."""
    micros = (incident.detected_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{incident.pk}"


def _cursor_position(cursor: str | None) -> tuple[datetime, int] | None:
    match = _CURSOR_RE.fullmatch(cursor or "")
    if match is None:
        return None
    return _EPOCH + timedelta(microseconds=int(match[1])), int(match[2])


@dataclass(frozen=True)
class IncidentPage:
    incidents: list[Incident]  # newest first, at most `size`
    newer: str | None  # cursor for `before=`: the page of newer incidents, if any
    older: str | None  # cursor for `after=`: the page of older incidents, if any
    total: int  # matching incidents, counted up to LIST_COUNT_LIMIT
    total_capped: bool  # True when there are more than LIST_COUNT_LIMIT
    first: bool  # True on the newest page


def incident_page(
    queryset: QuerySet[Incident],
    *,
    after: str | None = None,
    before: str | None = None,
    size: int = 25,
) -> IncidentPage:
    """One page of `queryset` (already filtered) newest first, in two queries: the
    rows (size + 1, to know whether there is a next page) and a count bounded at
    LIST_COUNT_LIMIT. `after`: the cursor of the last row of the previous (newer)
    page; `before`: the cursor of the first row of the next (older) page. A malformed
    cursor is ignored (first page); no rows after a cursor is an empty page."""
    total = queryset[: LIST_COUNT_LIMIT + 1].count()
    after_at, before_at = _cursor_position(after), _cursor_position(before)
    if after_at is not None:
        at, pk = after_at
        # `detected_at <= at` is redundant with the OR but lets the index seek to it.
        rows = list(
            queryset.filter(detected_at__lte=at)
            .filter(Q(detected_at__lt=at) | Q(detected_at=at, id__lt=pk))
            .order_by("-detected_at", "-id")[: size + 1]
        )
        has_older, has_newer, page = len(rows) > size, True, rows[:size]
    elif before_at is not None:
        at, pk = before_at
        rows = list(
            queryset.filter(detected_at__gte=at)
            .filter(Q(detected_at__gt=at) | Q(detected_at=at, id__gt=pk))
            .order_by("detected_at", "id")[: size + 1]
        )
        has_newer, has_older, page = len(rows) > size, True, rows[:size][::-1]
    else:
        rows = list(queryset.order_by("-detected_at", "-id")[: size + 1])
        has_newer, has_older, page = False, len(rows) > size, rows[:size]
    return IncidentPage(
        incidents=page,
        newer=incident_cursor(page[0]) if page and has_newer else None,
        older=incident_cursor(page[-1]) if page and has_older else None,
        total=min(total, LIST_COUNT_LIMIT),
        total_capped=total > LIST_COUNT_LIMIT,
        first=not has_newer,
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
