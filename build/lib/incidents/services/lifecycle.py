"""Lifecycle transitions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from incidents.models import (
    FINISHED_STATUSES,
    Incident,
    Status,
    TimelineEntry,
)
from incidents.services._base import (
    lock_incident,
    name_of,
    require_permission,
    timeline_write,
    update_due,
    user_or_none,
)
from opsportal.audit.services import audit_record, service_entry_point
from opsportal.core.errors import Conflict, ValidationFailed
from opsportal.core.text import REASON_MAX, text_within

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Phase:
    method: str
    target: str
    permission: str
    event: str
    at_field: str | None
    by_field: str | None
    done: str  # how the change reads after the reference: "acknowledged"


def _phase(verb: str, event: str, at_field: str | None, by_field: str | None) -> _Phase:
    """A lifecycle verb: its target state and permission are read from the model's
    transition `Incident.<verb>` (declared once, there); `event`, `at_field` and
    `by_field` say what the service records beside the state change."""
    # django-fsm keeps a transition's declaration on the method (`_django_fsm`).
    declared = {
        (t.target, t.permission, t.custom["done"])
        for t in getattr(Incident, verb)._django_fsm.transitions.values()
    }
    ((target, permission, done),) = declared  # every source of a verb goes to one state
    return _Phase(verb, str(target), str(permission), event, at_field, by_field, done)


PHASES: dict[str, _Phase] = {
    phase.method: phase
    for phase in (
        _phase("acknowledge", "incident.acknowledged", "acknowledged_at", "acknowledged_by"),
        _phase("investigate", "incident.investigating", "investigating_at", "investigating_by"),
        _phase("mitigate", "incident.mitigating", "mitigated_at", "mitigated_by"),
        _phase("monitor", "incident.monitoring", "monitoring_at", "monitoring_by"),
        _phase("resolve", "incident.resolved", "resolved_at", "resolved_by"),
        _phase("close", "incident.closed", "closed_at", "closed_by"),
        _phase("decline", "incident.declined", "declined_at", "declined_by"),
        _phase("reopen", "incident.reopened", "investigating_at", "investigating_by"),
    )
}


def _illegal_transition_message(incident: Incident, phase: _Phase) -> str:
    """Why `phase` cannot apply to `incident` now, and what can: "INC-… is
    acknowledged and cannot go straight to closed. Next step: Start investigating,
    Start mitigating or Resolve." """
    current = incident.get_status_display().lower()
    target = Status(phase.target).label.lower()
    # django-fsm adds get_available_<field>_transitions to the model at class creation.
    available = incident.get_available_status_transitions()  # type: ignore[attr-defined]
    order = list(PHASES)
    labels = [
        t.custom["label"] for t in sorted(available, key=lambda t: order.index(t.custom["verb"]))
    ]
    if not labels:
        return f"{incident.reference} is {current}; that is final."
    steps = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]
    return (
        f"{incident.reference} is {current} and cannot go straight to {target}. Next step: {steps}."
    )


@service_entry_point
def incident_transition(
    *,
    verb: str,
    actor: Any,
    incident_id: int | None = None,
    incident: Incident | None = None,
    note: str = "",
) -> Incident:
    """Move an incident through its lifecycle: `verb` is one of PHASES
    (acknowledge, investigate, mitigate, monitor, resolve, close, decline, reopen).

    No-op (returns the incident unchanged) when it is already in the target state.
    Raises NotPermitted without the verb's permission, Conflict when the current
    state does not allow the move (or, for close, the review rule refuses it:
    see `Incident.review_requirement`). `note` is kept on the timeline entry (a reason for a
    decline or reopen).
    """
    phase = PHASES.get(verb)
    if phase is None:
        raise ValidationFailed(f"Unknown incident action '{verb}'.", field="verb")
    require_permission(actor, phase.permission)
    with transaction.atomic(durable=True):
        locked = lock_incident(incident_id, incident)
        if locked.status == phase.target:
            return locked
        method = getattr(locked, phase.method)
        if verb == "close" and locked.status == Status.RESOLVED:
            requirement = locked.review_requirement()
            if not requirement.satisfied:
                raise Conflict(requirement.reason, code="review_required")
        if not can_proceed(method):
            raise Conflict(_illegal_transition_message(locked, phase), code="illegal_transition")
        before_status = locked.status
        before_label = locked.get_status_display()
        method()
        now = timezone.now()
        user = user_or_none(actor)
        fields = ["status"]
        if phase.at_field:
            assert phase.by_field is not None  # PHASES names both fields or neither
            setattr(locked, phase.at_field, now)
            setattr(locked, phase.by_field, user)
            fields += [phase.at_field, phase.by_field]
        if locked.status in FINISHED_STATUSES:
            locked.next_update_due_at = None
            fields.append("next_update_due_at")
        if verb == "reopen":
            locked.resolved_at = None
            locked.resolved_by = None
            locked.reopened_count += 1
            locked.next_update_due_at = update_due(now, locked.severity)
            fields += ["resolved_at", "resolved_by", "reopened_count", "next_update_due_at"]
        locked.save(update_fields=fields)
        body = f"{before_label} → {locked.get_status_display()}"
        if verb == "reopen":
            body = f"Reopened: {body}"
        note = text_within((note or "").strip(), limit=REASON_MAX, field="note", label="The note")
        if note:
            body = f"{body}. {note}"
        timeline_write(
            incident=locked,
            actor=actor,
            kind=TimelineEntry.Kind.TRANSITION,
            body=body,
            metadata={"from": before_status, "to": locked.status, "verb": verb, "note": note},
            at=now,
        )
        audit_record(
            actor=actor,
            event_type=phase.event,
            obj=locked,
            before={"status": before_status},
            after={"status": locked.status, phase.at_field or "at": now},
            metadata={"note": note} if note else None,
        )
    logger.info(phase.event, extra={"incident": locked.reference, "actor": name_of(user)})
    return locked


def incident_acknowledge(
    *, actor: Any, incident_id: int | None = None, incident: Incident | None = None
) -> Incident:
    """detected → acknowledged; sets acknowledged_at/by (time to acknowledge)."""
    return incident_transition(
        verb="acknowledge", actor=actor, incident_id=incident_id, incident=incident
    )


def incident_investigate(
    *, actor: Any, incident_id: int | None = None, incident: Incident | None = None
) -> Incident:
    """acknowledged → investigating."""
    return incident_transition(
        verb="investigate", actor=actor, incident_id=incident_id, incident=incident
    )


def incident_mitigate(
    *, actor: Any, incident_id: int | None = None, incident: Incident | None = None
) -> Incident:
    """acknowledged | investigating → mitigating; sets mitigated_at/by."""
    return incident_transition(
        verb="mitigate", actor=actor, incident_id=incident_id, incident=incident
    )


def incident_monitor(
    *, actor: Any, incident_id: int | None = None, incident: Incident | None = None
) -> Incident:
    """mitigating → monitoring (the fix is in; watch it, runbook: 30 minutes)."""
    return incident_transition(
        verb="monitor", actor=actor, incident_id=incident_id, incident=incident
    )


def incident_resolve(
    *, actor: Any, incident_id: int | None = None, incident: Incident | None = None
) -> Incident:
    """investigating | mitigating | monitoring → resolved; sets resolved_at/by and
    stops the status-update clock (a resolution notice follows)."""
    return incident_transition(
        verb="resolve", actor=actor, incident_id=incident_id, incident=incident
    )


def incident_close(
    *, actor: Any, incident_id: int | None = None, incident: Incident | None = None
) -> Incident:
    """resolved → closed, if `Incident.review_requirement` allows (Conflict otherwise)."""
    return incident_transition(
        verb="close", actor=actor, incident_id=incident_id, incident=incident
    )


def incident_decline(
    *,
    actor: Any,
    incident_id: int | None = None,
    incident: Incident | None = None,
    reason: str = "",
) -> Incident:
    """detected | acknowledged | investigating → declined (a false positive)."""
    return incident_transition(
        verb="decline", actor=actor, incident_id=incident_id, incident=incident, note=reason
    )


def incident_reopen(
    *,
    actor: Any,
    incident_id: int | None = None,
    incident: Incident | None = None,
    reason: str = "",
) -> Incident:
    """resolved → investigating. Clears resolved_at/by (the earlier resolution stays
    on the timeline), counts the reopen and restarts the status-update clock."""
    return incident_transition(
        verb="reopen", actor=actor, incident_id=incident_id, incident=incident, note=reason
    )
