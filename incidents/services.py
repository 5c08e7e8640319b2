"""Every write to an incident.

Each service takes keyword arguments and an explicit `actor` (a user, or None for
the system: scheduled jobs and the controls app's automatic openings). It checks
the actor's permission (users only), owns its transaction (`transaction.atomic()`,
not durable: the controls app calls these inside its own kill-switch transaction),
locks the incident row it changes, no-ops when the incident is already where it was
asked to go, saves with `update_fields`, appends a timeline entry and writes an
audit event in the same transaction.

Errors (opsportal.errors): NotPermitted (the actor lacks the permission),
Conflict (the change does not fit the incident's state), ValidationFailed (bad
input, with the field), NotFound.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.utils import timezone
from django_fsm import can_proceed

from drills.models import Checklist, ChecklistItem
from drills.services.library import checklist_instantiate, checklist_item_tick
from incidents import status_templates
from incidents.models import (
    FINISHED_STATUSES,
    OPEN_STATUSES,
    Incident,
    ResponseRole,
    RoleAssignment,
    Status,
    StatusUpdate,
    TimelineEntry,
)
from incidents.severity import SEVERITIES
from opsportal.audit.services import audit_record
from opsportal.errors import Conflict, NotFound, NotPermitted, ValidationFailed

logger = logging.getLogger(__name__)

# Clocks of the reporting systems may run slightly ahead of ours.
_DETECTED_AT_FUTURE_TOLERANCE = timedelta(minutes=2)


# --- helpers ---------------------------------------------------------------


def _require(actor: Any, permission: str) -> None:
    """Raise NotPermitted unless `actor` holds `permission`. None is the system."""
    if actor is None:
        return
    if not actor.has_perm(permission):
        raise NotPermitted(
            "You do not have permission to do this on an incident.", code="forbidden"
        )


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _name(user: Any) -> str:
    if user is None:
        return "system"
    return getattr(user, "display_name", None) or user.get_username()


def _lock(incident_id: int | None, incident: Incident | None) -> Incident:
    """Re-read the incident under a row lock (SELECT ... FOR UPDATE)."""
    pk = incident.pk if incident is not None else incident_id
    if pk is None:
        raise TypeError("pass incident_id or incident")
    locked = Incident.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound("No such incident.", field="incident")
    return locked


def _timeline_write(
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
        author=_user_or_none(actor),
        body=body,
        metadata=metadata or {},
    )
    entry.save(force_insert=True)
    return entry


def _next_reference(day: datetime) -> str:
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


def _update_due(base: datetime, severity: str) -> datetime | None:
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


# --- post-incident review rule ------------------------------------------------


@dataclass(frozen=True)
class ReviewRequirement:
    required: bool
    satisfied: bool
    reason: str


def review_requirement(incident: Incident) -> ReviewRequirement:
    """Whether `incident` may close as far as the post-incident review is concerned.

    Rule (incident-response-playbook-sev-levels.md "Post-Mortem Requirements"):
    SEV1 needs a review within 48 h and SEV2 within a week; SEV3's is optional and
    SEV4 needs none. The post-incident review model arrives in a later issue; until
    then no review can be approved, so SEV1/SEV2 incidents cannot close and
    SEV3/SEV4 may. When reviews exist, this is the one place to ask whether the
    incident's review is approved.
    """
    sev = SEVERITIES[incident.severity]
    if not sev.review_required:
        return ReviewRequirement(False, True, f"{sev.code} needs no post-incident review.")
    return ReviewRequirement(
        True,
        False,
        f"{sev.code} ({sev.alias}) can close only after its post-incident review is approved.",
    )


# --- opening ------------------------------------------------------------------


def incident_open(
    *,
    actor: Any,
    title: str,
    severity: str,
    summary: str = "",
    environment: Any = None,
    trading_halted: bool = False,
    playbook_slug: str | None = None,
    detected_at: datetime | None = None,
    pnl_impact: Decimal | None = None,
    pnl_currency: str = "USD",
    orders_affected: int | None = None,
    affected_systems: str = "",
) -> Incident:
    """Open an incident in `detected` with a fresh `INC-YYYYMMDD-NNN` reference.

    Args:
        actor: the user opening it (needs incidents.add_incident), or None for the
            system (e.g. a drift check).
        title: one line; required.
        severity: "SEV1".."SEV4" (see incidents.severity).
        environment: a controls.Environment or None.
        trading_halted: the kill switch is engaged for this incident.
        playbook_slug: attach that published playbook as a checklist (NotFound if
            the procedure library does not have it; nothing is opened then).
        detected_at: when the problem was detected (UTC, default now; not in the
            future). The response SLA runs from here.
        pnl_impact, pnl_currency, orders_affected, affected_systems: impact so far.

    The response SLA deadline (`ack_due_at`) and the first status update due time
    (`next_update_due_at`, from the severity's cadence) are set from `detected_at`.
    Safe to call inside another service's transaction.
    """
    _require(actor, "incidents.add_incident")
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("Give the incident a title.", field="title")
    if severity not in SEVERITIES:
        raise ValidationFailed("Choose a severity from SEV1 to SEV4.", field="severity")
    now = timezone.now()
    detected_at = detected_at or now
    if timezone.is_naive(detected_at):
        raise ValidationFailed("The detection time needs a time zone.", field="detected_at")
    if detected_at > now + _DETECTED_AT_FUTURE_TOLERANCE:
        raise ValidationFailed("The detection time is in the future.", field="detected_at")
    pnl_currency = (pnl_currency or "USD").strip().upper()
    if len(pnl_currency) != 3 or not pnl_currency.isalpha():
        raise ValidationFailed("Currency is a three-letter code, e.g. USD.", field="pnl_currency")
    if orders_affected is not None and orders_affected < 0:
        raise ValidationFailed("Orders affected cannot be negative.", field="orders_affected")
    sev = SEVERITIES[severity]
    with transaction.atomic():
        incident = Incident(
            reference=_next_reference(now),
            title=title,
            summary=(summary or "").strip(),
            severity=severity,
            environment=environment,
            trading_halted=trading_halted,
            pnl_impact=pnl_impact,
            pnl_currency=pnl_currency,
            orders_affected=orders_affected,
            affected_systems=(affected_systems or "").strip(),
            detected_at=detected_at,
            created_at=now,
            created_by=_user_or_none(actor),
            ack_due_at=detected_at + timedelta(seconds=sev.response_seconds),
            next_update_due_at=_update_due(detected_at, severity),
        )
        incident.save(force_insert=True)
        _timeline_write(
            incident=incident,
            actor=actor,
            kind=TimelineEntry.Kind.TRANSITION,
            body=f"Opened as {sev.code} ({sev.alias}): {title}",
            metadata={"to": Status.DETECTED, "severity": severity},
            at=now,
        )
        audit_record(
            actor=actor,
            event_type="incident.opened",
            obj=incident,
            after={
                "reference": incident.reference,
                "severity": severity,
                "title": title,
                "environment": environment.pk if environment is not None else None,
                "trading_halted": trading_halted,
                "detected_at": detected_at,
            },
        )
        if playbook_slug:
            incident_attach_playbook(incident=incident, procedure_slug=playbook_slug, actor=actor)
    logger.info(
        "incident.opened",
        extra={"incident": incident.reference, "severity": severity},
    )
    return incident


# --- lifecycle ----------------------------------------------------------------


@dataclass(frozen=True)
class _Phase:
    method: str
    target: str
    permission: str
    event: str
    at_field: str | None
    by_field: str | None


PHASES: dict[str, _Phase] = {
    "acknowledge": _Phase(
        "acknowledge",
        Status.ACKNOWLEDGED,
        "incidents.acknowledge_incident",
        "incident.acknowledged",
        "acknowledged_at",
        "acknowledged_by",
    ),
    "investigate": _Phase(
        "investigate",
        Status.INVESTIGATING,
        "incidents.investigate_incident",
        "incident.investigating",
        "investigating_at",
        "investigating_by",
    ),
    "mitigate": _Phase(
        "mitigate",
        Status.MITIGATING,
        "incidents.mitigate_incident",
        "incident.mitigating",
        "mitigated_at",
        "mitigated_by",
    ),
    "monitor": _Phase(
        "monitor",
        Status.MONITORING,
        "incidents.monitor_incident",
        "incident.monitoring",
        "monitoring_at",
        "monitoring_by",
    ),
    "resolve": _Phase(
        "resolve",
        Status.RESOLVED,
        "incidents.resolve_incident",
        "incident.resolved",
        "resolved_at",
        "resolved_by",
    ),
    "close": _Phase(
        "close",
        Status.CLOSED,
        "incidents.close_incident",
        "incident.closed",
        "closed_at",
        "closed_by",
    ),
    "decline": _Phase(
        "decline",
        Status.DECLINED,
        "incidents.decline_incident",
        "incident.declined",
        "declined_at",
        "declined_by",
    ),
    "reopen": _Phase(
        "reopen",
        Status.INVESTIGATING,
        "incidents.reopen_incident",
        "incident.reopened",
        "investigating_at",
        "investigating_by",
    ),
}


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
    see `review_requirement`). `note` is kept on the timeline entry (a reason for a
    decline or reopen).
    """
    phase = PHASES.get(verb)
    if phase is None:
        raise ValidationFailed(f"Unknown incident action '{verb}'.", field="verb")
    _require(actor, phase.permission)
    with transaction.atomic():
        locked = _lock(incident_id, incident)
        if locked.status == phase.target:
            return locked
        method = getattr(locked, phase.method)
        if verb == "close" and locked.status == Status.RESOLVED:
            requirement = review_requirement(locked)
            if not requirement.satisfied:
                raise Conflict(requirement.reason, code="review_required")
        if not can_proceed(method):
            raise Conflict(
                f"A {locked.get_status_display().lower()} incident cannot be moved with '{verb}'.",
                code="illegal_transition",
            )
        before_status = locked.status
        before_label = locked.get_status_display()
        method()
        now = timezone.now()
        user = _user_or_none(actor)
        fields = ["status"]
        if phase.at_field:
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
            locked.next_update_due_at = _update_due(now, locked.severity)
            fields += ["resolved_at", "resolved_by", "reopened_count", "next_update_due_at"]
        locked.save(update_fields=fields)
        body = f"{before_label} → {locked.get_status_display()}"
        if verb == "reopen":
            body = f"Reopened: {body}"
        note = (note or "").strip()
        if note:
            body = f"{body}. {note}"
        _timeline_write(
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
    logger.info(phase.event, extra={"incident": locked.reference, "actor": _name(user)})
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
    """resolved → closed, if `review_requirement` allows (Conflict otherwise)."""
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


# --- severity -------------------------------------------------------------------


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
    _require(actor, "incidents.change_severity_incident")
    if severity not in SEVERITIES:
        raise ValidationFailed("Choose a severity from SEV1 to SEV4.", field="severity")
    with transaction.atomic():
        locked = _lock(incident_id, incident)
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
            locked.next_update_due_at = _update_due(last or locked.detected_at, severity)
            fields.append("next_update_due_at")
        locked.save(update_fields=fields)
        reason = (reason or "").strip()
        old_sev, new_sev = SEVERITIES[old], SEVERITIES[severity]
        body = f"Severity {old_sev.code} ({old_sev.alias}) → {new_sev.code} ({new_sev.alias})"
        _timeline_write(
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


# --- response roles -------------------------------------------------------------


def incident_role_assign(
    *,
    actor: Any,
    role: str,
    user: Any,
    incident_id: int | None = None,
    incident: Incident | None = None,
) -> RoleAssignment:
    """Give `user` a response role (incidents.assign_role_incident).

    Every role but "sme" has one holder: assigning it ends the current holder's
    assignment (a hand-off, kept in history). Subject-matter experts may be many.
    No-op if `user` already holds the role. Closed and declined incidents take no
    new assignments (Conflict).
    """
    _require(actor, "incidents.assign_role_incident")
    if role not in ResponseRole.values:
        raise ValidationFailed("Choose a response role.", field="role")
    if user is None or not getattr(user, "is_active", False):
        raise ValidationFailed("Choose an active user.", field="user")
    with transaction.atomic():
        locked = _lock(incident_id, incident)
        if locked.status in (Status.CLOSED, Status.DECLINED):
            raise Conflict(
                f"A {locked.get_status_display().lower()} incident takes no role changes.",
                code="illegal_transition",
            )
        current = list(
            RoleAssignment.objects.select_for_update()
            .filter(incident=locked, role=role, ended_at__isnull=True)
            .select_related("user")
        )
        for assignment in current:
            if assignment.user_id == user.pk:
                return assignment
        now = timezone.now()
        handed_from = []
        if role != ResponseRole.SME:
            for assignment in current:
                assignment.ended_at = now
                assignment.ended_by = _user_or_none(actor)
                assignment.save(update_fields=["ended_at", "ended_by"])
                handed_from.append(assignment.user)
        created = RoleAssignment(
            incident=locked,
            role=role,
            user=user,
            started_at=now,
            started_by=_user_or_none(actor),
        )
        created.save(force_insert=True)
        label = ResponseRole(role).label
        body = f"{_name(user)} is now {label.lower()}"
        if handed_from:
            body += f" (handed over from {', '.join(_name(u) for u in handed_from)})"
        _timeline_write(
            incident=locked,
            actor=actor,
            kind=TimelineEntry.Kind.ROLE_CHANGE,
            body=body,
            metadata={
                "role": role,
                "user": user.get_username(),
                "from": [u.get_username() for u in handed_from],
            },
            at=now,
        )
        audit_record(
            actor=actor,
            event_type="incident.role_assigned",
            obj=locked,
            before={"role": role, "users": [u.get_username() for u in handed_from]},
            after={"role": role, "user": user.get_username()},
        )
    return created


def incident_role_end(*, actor: Any, assignment_id: int) -> RoleAssignment:
    """End a current role assignment without a successor (e.g. an SME leaves).
    No-op if it has already ended."""
    _require(actor, "incidents.assign_role_incident")
    with transaction.atomic():
        assignment = (
            RoleAssignment.objects.select_for_update()
            .select_related("user")
            .filter(pk=assignment_id)
            .first()
        )
        if assignment is None:
            raise NotFound("No such role assignment.", field="assignment")
        locked = _lock(assignment.incident_id, None)
        if assignment.ended_at is not None:
            return assignment
        now = timezone.now()
        assignment.ended_at = now
        assignment.ended_by = _user_or_none(actor)
        assignment.save(update_fields=["ended_at", "ended_by"])
        label = ResponseRole(assignment.role).label
        _timeline_write(
            incident=locked,
            actor=actor,
            kind=TimelineEntry.Kind.ROLE_CHANGE,
            body=f"{_name(assignment.user)} is no longer {label.lower()}",
            metadata={"role": assignment.role, "user": assignment.user.get_username(), "to": None},
            at=now,
        )
        audit_record(
            actor=actor,
            event_type="incident.role_ended",
            obj=locked,
            before={"role": assignment.role, "user": assignment.user.get_username()},
        )
    return assignment


# --- status updates -------------------------------------------------------------


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
    _require(actor, "incidents.post_status_update_incident")
    if kind not in status_templates.TEMPLATE_FIELDS:
        raise ValidationFailed("Choose a status update template.", field="kind")
    clean: dict[str, str] = {}
    for name, label, required in status_templates.TEMPLATE_FIELDS[kind]:
        value = str(fields.get(name, "") or "").strip()
        if required and not value:
            raise ValidationFailed(f"{label} is required for this template.", field=name)
        clean[name] = value
    with transaction.atomic():
        locked = _lock(incident_id, incident)
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
            None if kind == StatusUpdate.Kind.RESOLUTION else _update_due(now, locked.severity)
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
            commander=_name(commander) if commander else "not yet assigned",
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
            posted_by=_user_or_none(actor),
            next_update_due_at=next_due,
        )
        update.save(force_insert=True)
        if locked.next_update_due_at != next_due:
            locked.next_update_due_at = next_due
            locked.save(update_fields=["next_update_due_at"])
        _timeline_write(
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


# --- impact ---------------------------------------------------------------------

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
    _require(actor, "incidents.change_incident")
    pnl_currency = (pnl_currency or "").strip().upper()
    if len(pnl_currency) != 3 or not pnl_currency.isalpha():
        raise ValidationFailed("Currency is a three-letter code, e.g. USD.", field="pnl_currency")
    if orders_affected is not None and orders_affected < 0:
        raise ValidationFailed("Orders affected cannot be negative.", field="orders_affected")
    wanted = {
        "trading_halted": bool(trading_halted),
        "pnl_impact": pnl_impact,
        "pnl_currency": pnl_currency,
        "orders_affected": orders_affected,
        "affected_systems": (affected_systems or "").strip(),
    }
    with transaction.atomic():
        locked = _lock(incident_id, incident)
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
        _timeline_write(
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


# --- timeline -------------------------------------------------------------------

# Kinds anyone may add through timeline_entry_add, with the permission each needs.
# The other kinds are written only by the services above. "control" entries are
# posted by the controls services (kill switch, mode changes), which check their
# own permissions.
_FREE_KINDS: dict[str, str | None] = {
    TimelineEntry.Kind.NOTE: "incidents.add_note_incident",
    TimelineEntry.Kind.COMMAND: "incidents.add_record_incident",
    TimelineEntry.Kind.EVIDENCE: "incidents.add_record_incident",
    TimelineEntry.Kind.CONTROL: None,
}


def timeline_entry_add(
    *,
    incident: Incident,
    actor: Any,
    kind: str,
    body: str,
    metadata: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Append a note, a command run, an evidence link or a control event.

    Args:
        incident: the incident (any state; the timeline stays open for follow-ups).
        actor: the author; None for the system.
        kind: "note" (incidents.add_note_incident), "command" or "evidence"
            (incidents.add_record_incident), or "control" (kill-switch and mode events
            from the controls app; no incident permission needed).
        body: the text; required. For "command", the command line as run.
        metadata: JSON-able extras. For "evidence", `metadata["url"]` is required
            and must be an http(s) URL.

    Entries are append-only: nothing edits or deletes them.
    """
    if kind not in _FREE_KINDS:
        raise ValidationFailed("Choose note, command, evidence or control.", field="kind")
    permission = _FREE_KINDS[kind]
    if permission:
        _require(actor, permission)
    metadata = dict(metadata or {})
    body = (body or "").strip()
    if kind == TimelineEntry.Kind.EVIDENCE:
        url = str(metadata.get("url", "")).strip()
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValidationFailed(
                "Evidence needs a link starting with http:// or https://.", field="url"
            ) from None
        metadata["url"] = url
        body = body or url
    if not body:
        raise ValidationFailed("Write something for the timeline.", field="body")
    with transaction.atomic():
        entry = _timeline_write(
            incident=incident, actor=actor, kind=kind, body=body, metadata=metadata
        )
        audit_record(
            actor=actor,
            event_type="incident.timeline_entry_added",
            obj=incident,
            after={"kind": kind, "body": body[:500], **metadata},
        )
    return entry


# --- playbooks ------------------------------------------------------------------


def incident_checklists(incident: Incident) -> Any:
    """The incident's playbook checklists (a queryset)."""
    return Checklist.objects.filter(
        target_type=ContentType.objects.get_for_model(Incident), target_id=str(incident.pk)
    )


def incident_attach_playbook(*, incident: Incident, procedure_slug: str, actor: Any) -> Checklist:
    """Attach the published version of playbook `procedure_slug` as a checklist
    (incidents.attach_playbook_incident). Idempotent: if that procedure is already
    attached, its checklist is returned. Raises NotFound for an unknown procedure.
    """
    _require(actor, "incidents.attach_playbook_incident")
    with transaction.atomic():
        locked = _lock(None, incident)
        existing = (
            incident_checklists(locked)
            .filter(procedure_version__procedure__slug=procedure_slug)
            .first()
        )
        if existing is not None:
            return existing
        checklist = checklist_instantiate(procedure_slug=procedure_slug, target=locked, actor=actor)
        version = checklist.procedure_version
        _timeline_write(
            incident=locked,
            actor=actor,
            kind=TimelineEntry.Kind.PLAYBOOK,
            body=f"Playbook attached: {version.title} (v{version.version})",
            metadata={"procedure": procedure_slug, "version": version.version},
        )
        audit_record(
            actor=actor,
            event_type="incident.playbook_attached",
            obj=locked,
            after={"procedure": procedure_slug, "version": version.version},
        )
    return checklist


def incident_checklist_item_tick(
    *, incident_id: int, item_id: int, actor: Any, note: str = ""
) -> ChecklistItem:
    """Tick an item of one of this incident's checklists
    (incidents.tick_checklist_incident). NotFound if the item belongs to another
    target; Conflict on a closed or declined incident. Idempotent (see
    drills.services.library.checklist_item_tick)."""
    _require(actor, "incidents.tick_checklist_incident")
    with transaction.atomic():
        locked = _lock(incident_id, None)
        if locked.status in (Status.CLOSED, Status.DECLINED):
            raise Conflict(
                f"A {locked.get_status_display().lower()} incident's checklists are final.",
                code="illegal_transition",
            )
        if not ChecklistItem.objects.filter(
            pk=item_id, checklist__in=incident_checklists(locked)
        ).exists():
            raise NotFound("No such checklist item on this incident.", field="item")
        return checklist_item_tick(item_id=item_id, actor=actor, note=note)
