"""Reads of the audit trail: the auditor's page (keyset pages, no COUNT), an object's
history, the chain's last verification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from opsportal.audit.models import AuditEvent, AuditVerification


def audit_events_for(obj: models.Model) -> models.QuerySet[AuditEvent]:
    """Events recorded about `obj`, newest first."""
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("actor")


def object_history(object_type: str, object_id: str, *, limit: int = 1000) -> list[AuditEvent]:
    """Every event about one object, in the order they happened (at most `limit`)."""
    return list(
        AuditEvent.objects.filter(object_type=object_type, object_id=object_id)
        .order_by("id")
        .only("id", "seq", "occurred_at", "actor_username", "event_type", "object_repr", "source")[
            :limit
        ]
    )


def filtered_events(filters: dict[str, Any]) -> models.QuerySet[AuditEvent]:
    """The trail filtered by the audit page's cleaned filters. Exact matches on ids
    (actor, object, request: each served by an index), a range on time, and a
    case-insensitive substring of object names (a trigram index on PostgreSQL)."""
    qs = AuditEvent.objects.all()
    if filters.get("start"):
        qs = qs.filter(occurred_at__gte=filters["start"])
    if filters.get("end"):
        qs = qs.filter(occurred_at__lt=filters["end"])
    for name in ("event_type", "object_type", "object_id", "request_id", "source"):
        if filters.get(name):
            qs = qs.filter(**{name: filters[name].strip()})
    if filters.get("actor"):
        qs = qs.filter(actor_username=filters["actor"].strip())
    if filters.get("q"):
        qs = qs.filter(object_repr__icontains=filters["q"].strip())
    return qs


@dataclass
class EventPage:
    events: list[AuditEvent]
    older: int | None  # cursor for ?after=
    newer: int | None  # cursor for ?before=
    first: bool


def event_page(
    qs: models.QuerySet[AuditEvent], *, after: str | None, before: str | None, size: int
) -> EventPage:
    """One page, newest first, by id keyset: `after` = ids below it, `before` = ids
    above it. size+1 rows tell whether there is more; no COUNT, no OFFSET."""
    cols = ["id", "seq", "occurred_at", "actor_username", "event_type", "object_type"]
    cols += ["object_id", "object_repr", "source", "request_id", "hash"]
    qs = qs.only(*cols)
    after_id = _cursor(after)
    before_id = _cursor(before)
    if before_id is not None:
        rows = list(qs.filter(id__gt=before_id).order_by("id")[: size + 1])
        more_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        return EventPage(
            events=rows,
            older=rows[-1].pk if rows else None,
            newer=rows[0].pk if rows and more_newer else None,
            first=not more_newer,
        )
    if after_id is not None:
        qs = qs.filter(id__lt=after_id)
    rows = list(qs.order_by("-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return EventPage(
        events=rows,
        older=rows[-1].pk if rows and more else None,
        newer=rows[0].pk if rows and after_id is not None else None,
        first=after_id is None,
    )


def _cursor(value: str | None) -> int | None:
    if value and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def field_changes(event: AuditEvent) -> list[dict[str, Any]]:
    """The before → after difference, field by field (sorted by field name)."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    rows = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        rows.append(
            {
                "field": key,
                "before": old,
                "after": new,
                "changed": key not in before or key not in after or old != new,
            }
        )
    return rows


def last_verification(*, ok_only: bool = False) -> AuditVerification | None:
    """The most recent recorded verification of the chain (`audit_verify` or the
    daily job), or None when it was never verified. `ok_only`: the most recent one
    that found the chain intact (what `/metrics` reports)."""
    qs = AuditVerification.objects.filter(ok=True) if ok_only else AuditVerification.objects
    return qs.order_by("-id").first()
