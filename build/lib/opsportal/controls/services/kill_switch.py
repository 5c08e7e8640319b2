"""The kill switch: ACTIVE → KILLED (anyone, at once) → RECOVERING (after the
cooldown, opening a resume approval request) → ACTIVE (when a risk officer approves).
Live-trading runbook 4–5; DESIGN "Trading environment and controls"."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from opsportal.approvals.services import (
    approval_cancel_in_transaction,
    approval_request_create_in_transaction,
)
from opsportal.audit.services import (
    audit_record,
    durable_entry_point,
    service_entry_point,
    write_refusals,
)
from opsportal.controls import hooks
from opsportal.controls.models import Environment, KillSwitchEvent, ReasonCode
from opsportal.controls.push import gate_change_publish_in_transaction
from opsportal.controls.selectors import cooldown_remaining_seconds
from opsportal.controls.services._common import (
    link_incident,
    locked,
    require_text,
    state,
    user_or_none,
)
from opsportal.core.errors import Conflict, DomainError, ValidationFailed

logger = logging.getLogger(__name__)

ACTION_KILL_SWITCH_RESUME = "kill_switch_resume"


@service_entry_point
def kill_switch_trigger(
    *,
    environment: Environment,
    actor: Any,
    reason_code: str,
    note: str = "",
    incident_id: int | None = None,
) -> KillSwitchEvent:
    """Kill trading on `environment` now. No approval, ever (DESIGN; runbook 5.2 L1).

    Args:
        reason_code: a `ReasonCode` value (manual, emergency_l1..l4, threshold_pnl,
            threshold_drawdown, clock_drift, security, drill).
        note: free text for the history and the incident.
        incident_id: an open incident of `environment` to link instead of letting the
            listeners open one (checked again here with `hooks.resolve_incident_link`,
            whatever the caller did: a kill of X linked to Y's incident opens no SEV1
            for X).

    ACTIVE or RECOVERING → KILLED (from RECOVERING the pending resume request is
    cancelled). The control listeners then run: the incidents app opens a SEV1 for a
    trigger that is not a drill and links no incident. Triggering an already KILLED
    switch changes nothing but is recorded (kind `trigger_repeated`, audited) so the
    attempt is in the history.

    Raises ValidationFailed for an unknown reason code, or an `incident_id` that is
    not an open incident of `environment` (field "incident"); nothing is written
    then. Failures
    of listeners or of cancelling the request are logged and never undo the kill.
    """
    if reason_code not in ReasonCode.values:
        raise ValidationFailed(
            f"Unknown reason code '{reason_code}'. Use one of: {', '.join(ReasonCode.values)}.",
            field="reason_code",
        )
    incident_id = hooks.resolve_incident_link(
        user_or_none(actor), incident_id, environment=environment
    )
    note = (note or "").strip()
    is_drill = reason_code == ReasonCode.DRILL
    with transaction.atomic(durable=True):
        env = locked(environment)
        now = timezone.now()  # after the lock: the kill's time, not the wait's start
        before = state(env)
        repeated = env.kill_switch == Environment.KillSwitch.KILLED
        pending_resume = None if repeated else env.resume_request_id
        if not repeated:
            env.kill()
            env.killed_at = now
            env.kill_reason_code = reason_code
            env.resume_request_id = None
            env.version += 1
            env.save(
                update_fields=[
                    "kill_switch",
                    "killed_at",
                    "kill_reason_code",
                    "resume_request_id",
                    "version",
                ]
            )
            gate_change_publish_in_transaction(environment=env)
            if pending_resume is not None:
                _cancel_resume_request(pending_resume, env=env)
        event = KillSwitchEvent.objects.create(
            environment=env,
            occurred_at=now,
            actor=user_or_none(actor),
            kind=(
                KillSwitchEvent.Kind.TRIGGER_REPEATED
                if repeated
                else KillSwitchEvent.Kind.TRIGGERED
            ),
            from_state=before["kill_switch"],
            to_state=env.kill_switch,
            reason_code=reason_code,
            note=note,
            incident_id=incident_id,
            approval_request_id=pending_resume,
            is_drill=is_drill,
            version=env.version,
        )
        label = ReasonCode(reason_code).label
        summary = (
            f"Kill switch triggered again on {env.slug} ({reason_code}); already KILLED."
            if repeated
            else f"Kill switch triggered on {env.slug}: {label}." + (f" {note}" if note else "")
        )
        link_incident(
            event,
            hooks.ControlChange(
                kind=hooks.TRIGGER_REPEATED if repeated else hooks.TRIGGERED,
                environment=env,
                actor=actor,
                summary=summary,
                metadata={"environment": env.slug, "event": event.pk, "version": env.version},
                reason_code=reason_code,
                note=note,
                is_drill=is_drill,
                incident_id=incident_id,
            ),
        )
        if repeated:
            audit_record(
                actor=actor,
                event_type="kill_switch.trigger_repeated",
                obj=env,
                metadata={"reason_code": reason_code, "note": note, "event": event.pk},
            )
            return event
        audit_record(
            actor=actor,
            event_type="kill_switch.triggered",
            obj=env,
            before=before,
            after=state(env),
            metadata={
                "reason_code": reason_code,
                "note": note,
                "is_drill": is_drill,
                "incident": event.incident_id,
                "cancelled_request": pending_resume,
                "event": event.pk,
            },
        )
        payload = {"environment": env.slug, "reason_code": reason_code, "version": env.version}
        transaction.on_commit(lambda: logger.warning("kill_switch.triggered", extra=payload))
    return event


def _cancel_resume_request(request_id: int, *, env: Environment) -> None:
    """Cancel the pending resume request of a switch killed again while recovering.
    Best effort in a savepoint: the kill stands either way. A refusal (the request
    expired or was decided meanwhile) is logged, and its audit event is written once
    the kill has committed."""
    try:
        with transaction.atomic():
            # actor=None: the system cancels (the triggerer need not be the requester).
            approval_cancel_in_transaction(
                request_id=request_id,
                actor=None,
                reason=f"Kill switch re-triggered on {env.slug} during recovery.",
            )
    except DomainError as exc:
        logger.info(
            "kill_switch.resume_cancel_skipped", extra={"request": request_id, "why": exc.code}
        )
        refused = exc  # `exc` is unbound once the except block ends
        transaction.on_commit(lambda: write_refusals(refused))


def kill_switch_recover_in_transaction(*, environment: Environment, actor: Any, reason: str) -> Any:
    """Start recovery: KILLED → RECOVERING and open a `kill_switch_resume` approval
    request; trading resumes when a risk officer other than `actor` approves it.

    Raises ValidationFailed (no reason), Conflict code "not_killed" (switch not
    KILLED) or code "cooldown" (fewer than the environment's cooldown seconds since
    the trigger; the message says how many are left), and the approval engine's
    refusals (audited as `approval.refused` after the rollback). Returns the
    ApprovalRequest. Runs in the caller's transaction; `kill_switch_recover` is the
    entry point that owns one.
    """
    reason = require_text(reason, "reason", "A reason")
    with transaction.atomic():
        env = locked(environment)
        if env.kill_switch != Environment.KillSwitch.KILLED:
            raise Conflict(
                f"Recovery starts from KILLED; the kill switch on {env.slug} is {env.kill_switch}.",
                code="not_killed",
            )
        left = cooldown_remaining_seconds(env)
        if left > 0:
            raise Conflict(
                f"Cooldown: recovery on {env.slug} may start in {left} s.", code="cooldown"
            )
        before = state(env)
        env.start_recovery()
        env.version += 1
        env.save(update_fields=["kill_switch", "version"])
        gate_change_publish_in_transaction(environment=env)
        assert env.killed_at is not None  # KILLED always has its time (set with the kill)
        request = approval_request_create_in_transaction(
            action=ACTION_KILL_SWITCH_RESUME,
            target=env,
            reason=reason,
            payload={"environment": env.slug, "killed_at": env.killed_at.isoformat()},
            actor=actor,
        )
        env.resume_request_id = request.pk
        env.save(update_fields=["resume_request_id"])
        incident_id = _incident_of_last_trigger(env)
        event = KillSwitchEvent.objects.create(
            environment=env,
            actor=user_or_none(actor),
            kind=KillSwitchEvent.Kind.RECOVERY_STARTED,
            from_state=before["kill_switch"],
            to_state=env.kill_switch,
            note=reason,
            incident_id=incident_id,
            approval_request_id=request.pk,
            version=env.version,
        )
        audit_record(
            actor=actor,
            event_type="kill_switch.recovery_started",
            obj=env,
            before=before,
            after=state(env),
            metadata={"reason": reason, "approval_request": request.pk, "event": event.pk},
        )
        link_incident(
            event,
            hooks.ControlChange(
                kind=hooks.RECOVERY_STARTED,
                environment=env,
                actor=actor,
                summary=f"Kill-switch recovery started on {env.slug}; resume request "
                f"#{request.pk} awaits a risk officer.",
                metadata={"environment": env.slug, "approval_request": request.pk},
                note=reason,
                incident_id=incident_id,
            ),
        )
    return request


kill_switch_recover = durable_entry_point(kill_switch_recover_in_transaction)


def kill_switch_recovery_complete_in_transaction(
    *, environment: Environment, actor: Any, approval_request_id: int | None
) -> KillSwitchEvent:
    """RECOVERING → ACTIVE. The `kill_switch_resume` action's execute: runs inside the
    approvals engine's transaction, once the request is approved.

    Raises Conflict "not_recovering" if the switch is no longer RECOVERING (for
    example re-triggered), "stale_request" if the request is not the environment's
    current one.
    """
    with transaction.atomic():
        env = locked(environment)
        if env.kill_switch != Environment.KillSwitch.RECOVERING:
            raise Conflict(
                f"The kill switch on {env.slug} is {env.kill_switch}, not RECOVERING.",
                code="not_recovering",
            )
        if approval_request_id is not None and env.resume_request_id != approval_request_id:
            raise Conflict(
                f"Request #{approval_request_id} is not the current resume request of {env.slug}.",
                code="stale_request",
            )
        before = state(env)
        now = timezone.now()
        last_trigger = env.kill_switch_events.filter(kind=KillSwitchEvent.Kind.TRIGGERED).first()
        env.complete_recovery()
        env.resume_request_id = None
        env.version += 1
        fields = ["kill_switch", "resume_request_id", "version"]
        is_drill = bool(last_trigger and last_trigger.is_drill)
        if is_drill:
            # A drill that went KILLED and back is the runbook 4.3 verification.
            env.last_verified_at = now
            fields.append("last_verified_at")
        env.save(update_fields=fields)
        gate_change_publish_in_transaction(environment=env)
        incident_id = last_trigger.incident_id if last_trigger else None
        event = KillSwitchEvent.objects.create(
            environment=env,
            occurred_at=now,
            actor=user_or_none(actor),
            kind=KillSwitchEvent.Kind.RECOVERY_COMPLETED,
            from_state=before["kill_switch"],
            to_state=env.kill_switch,
            incident_id=incident_id,
            approval_request_id=approval_request_id,
            is_drill=is_drill,
            version=env.version,
        )
        audit_record(
            actor=actor,
            event_type="kill_switch.recovery_completed",
            obj=env,
            before=before,
            after=state(env),
            metadata={"approval_request": approval_request_id, "event": event.pk},
        )
        link_incident(
            event,
            hooks.ControlChange(
                kind=hooks.RECOVERY_COMPLETED,
                environment=env,
                actor=actor,
                summary=f"Kill switch on {env.slug} back to ACTIVE (request "
                f"#{approval_request_id} approved).",
                metadata={"environment": env.slug, "approval_request": approval_request_id},
                is_drill=is_drill,
                incident_id=incident_id,
            ),
        )
    return event


def _incident_of_last_trigger(env: Environment) -> int | None:
    event = (
        env.kill_switch_events.filter(kind=KillSwitchEvent.Kind.TRIGGERED)
        .only("incident_id")
        .first()
    )
    return event.incident_id if event else None
