"""Severity and impact changes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from incidents.models import (
    MAX_ORDERS_AFFECTED,
    OPEN_STATUSES,
    Incident,
    Status,
    StatusUpdate,
    TimelineEntry,
)
from incidents.services._base import (
    lock_incident,
    require_permission,
    timeline_write,
    update_due,
)
from incidents.severity import SEVERITIES
from opsportal.audit.services import audit_record, service_entry_point
from opsportal.core.errors import Conflict, ValidationFailed
from opsportal.core.text import REASON_MAX, text_within


@service_entry_point
def incident_severity_change(
    *,
    actor: Any,
    severity: str,
    incident_id: int | None = None,
    incident: Incident | None = None,
    reason: str = "",
) -> Incident:
    """Change the severity (incidents.change_severity_incident; closed and declined
    incidents keep theirs). Records "old → new" on the timeline.

    While unacknowledged, the response deadline moves to detected_at + the new SLA;
    an open incident's next update is re-derived from its last update (or detection)
    plus the new cadence.
    """
    require_permission(actor, "incidents.change_severity_incident")
    if severity not in SEVERITIES:
        raise ValidationFailed("Choose a severity from SEV1 to SEV4.", field="severity")
    with transaction.atomic(durable=True):
        locked = lock_incident(incident_id, incident)
        if locked.severity == severity:
            return locked
        if locked.status in (Status.CLOSED, Status.DECLINED):
            raise Conflict(
                f"A {locked.get_status_display().lower()} incident keeps its severity.",
                code="illegal_transition",
            )
        old = locked.severity
        locked.severity = severity
        fields = ["severity"]
        if locked.acknowledged_at is None:
            locked.ack_due_at = locked.detected_at + timedelta(
                seconds=SEVERITIES[severity].response_seconds
            )
            fields.append("ack_due_at")
        if locked.status in OPEN_STATUSES:
            last = (
                locked.status_updates.exclude(kind=StatusUpdate.Kind.RESOLUTION)
                .order_by("-posted_at")
                .values_list("posted_at", flat=True)
                .first()
            )
            locked.next_update_due_at = update_due(last or locked.detected_at, severity)
            fields.append("next_update_due_at")
        locked.save(update_fields=fields)
        reason = text_within(
            (reason or "").strip(), limit=REASON_MAX, field="reason", label="The reason"
        )
        old_sev, new_sev = SEVERITIES[old], SEVERITIES[severity]
        body = f"Severity {old_sev.code} ({old_sev.alias}) → {new_sev.code} ({new_sev.alias})"
        timeline_write(
            incident=locked,
            actor=actor,
            kind=TimelineEntry.Kind.SEVERITY_CHANGE,
            body=f"{body}. {reason}" if reason else body,
            metadata={"from": old, "to": severity, "reason": reason},
        )
        audit_record(
            actor=actor,
            event_type="incident.severity_changed",
            obj=locked,
            before={"severity": old},
            after={"severity": severity},
            metadata={"reason": reason} if reason else None,
        )
    return locked


_IMPACT_FIELDS = (
    "trading_halted",
    "pnl_impact",
    "pnl_currency",
    "orders_affected",
    "affected_systems",
)
_IMPACT_LABELS = {
    "trading_halted": "trading halted",
    "pnl_impact": "P&L impact",
    "pnl_currency": "currency",
    "orders_affected": "orders affected",
    "affected_systems": "affected systems",
}


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@service_entry_point
def incident_impact_update(
    *,
    actor: Any,
    incident_id: int | None = None,
    incident: Incident | None = None,
    trading_halted: bool,
    pnl_impact: Decimal | None,
    pnl_currency: str,
    orders_affected: int | None,
    affected_systems: str,
) -> Incident:
    """Record what is now known about the impact (incidents.change_incident).

    Every changed field goes on the timeline as "old → new" and in the audit event;
    nothing changed is a no-op. Closed and declined incidents are final (Conflict).
    """
    require_permission(actor, "incidents.change_incident")
    pnl_currency = (pnl_currency or "").strip().upper()
    if len(pnl_currency) != 3 or not pnl_currency.isalpha():
        raise ValidationFailed("Currency is a three-letter code, e.g. USD.", field="pnl_currency")
    if orders_affected is not None and orders_affected < 0:
        raise ValidationFailed("Orders affected cannot be negative.", field="orders_affected")
    if orders_affected is not None and orders_affected > MAX_ORDERS_AFFECTED:
        raise ValidationFailed(
            f"Orders affected is at most {MAX_ORDERS_AFFECTED:,}.", field="orders_affected"
        )
    wanted = {
        "trading_halted": bool(trading_halted),
        "pnl_impact": pnl_impact,
        "pnl_currency": pnl_currency,
        "orders_affected": orders_affected,
        "affected_systems": (affected_systems or "").strip(),
    }
    with transaction.atomic(durable=True):
        locked = lock_incident(incident_id, incident)
        if locked.status in (Status.CLOSED, Status.DECLINED):
            raise Conflict(
                f"A {locked.get_status_display().lower()} incident's impact is final.",
                code="illegal_transition",
            )
        before = {f: getattr(locked, f) for f in _IMPACT_FIELDS}
        changed = [f for f in _IMPACT_FIELDS if before[f] != wanted[f]]
        if not changed:
            return locked
        for field in changed:
            setattr(locked, field, wanted[field])
        locked.save(update_fields=changed)
        parts = [f"{_IMPACT_LABELS[f]} {_shown(before[f])} → {_shown(wanted[f])}" for f in changed]
        timeline_write(
            incident=locked,
            actor=actor,
            kind=TimelineEntry.Kind.IMPACT,
            body="Impact updated: " + "; ".join(parts),
            metadata={"changed": changed},
        )
        audit_record(
            actor=actor,
            event_type="incident.impact_updated",
            obj=locked,
            before={f: before[f] for f in changed},
            after={f: wanted[f] for f in changed},
        )
    return locked
