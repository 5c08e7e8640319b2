"""Writes for trading controls: kill switch, mode, gate tokens.

Rules (DESIGN "Trading environment and controls", live-trading runbook 3–5):

- Any operator kills at once: `kill_switch_trigger` never waits for a second person
  and never fails because something around it (incident, playbook, approvals) does.
- Recovery starts after the cooldown (`kill_switch_recover`) and completes only
  through a `kill_switch_resume` approval request granted by a risk officer other
  than the requester (`kill_switch_recovery_complete` is that action's execute).
- DRY_RUN → LIVE is a `live_transition` approval request (`live_transition_request`;
  `mode_go_live` is its execute). LIVE → DRY_RUN is immediate (`mode_rollback`).

Every state change locks the environment row, bumps its `version`, writes a history
row (KillSwitchEvent / ModeChange), an audit event and a "control" timeline entry on
the linked incident, all in one transaction.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from opsportal.audit.services import audit_record
from opsportal.controls.models import (
    ApiToken,
    Environment,
    GateToken,
    KillSwitchEvent,
    ModeChange,
    ReasonCode,
)
from opsportal.controls.preconditions import PRE_LIVE_PROCEDURE, pre_live_checklist_items
from opsportal.core.errors import Conflict, DomainError, NotFound, ValidationFailed

if TYPE_CHECKING:
    from incidents.models import Incident

logger = logging.getLogger(__name__)

ACTION_LIVE_TRANSITION = "live_transition"
ACTION_KILL_SWITCH_RESUME = "kill_switch_resume"
ROLLBACK_PROCEDURE = "rollback-to-dry-run"
LIVE_TRANSITION_PROCEDURE = "live-transition"

# Incident playbook attached when a trigger opens an incident (procedure library slugs).
PLAYBOOK_FOR_REASON = {
    ReasonCode.THRESHOLD_PNL: "p0-1-kill-switch-pnl-breach",
    ReasonCode.THRESHOLD_DRAWDOWN: "p0-2-kill-switch-max-drawdown",
    ReasonCode.SECURITY: "p0-3-unauthorized-trading",
}
DEFAULT_PLAYBOOK = "p0-0-kill-switch-triggered"


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _locked(environment: Environment) -> Environment:
    return Environment.objects.select_for_update().get(pk=environment.pk)


def _require_text(value: str, field: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(f"{what} is required.", field=field)
    return text


def _state(env: Environment) -> dict[str, Any]:
    return {"mode": env.mode, "kill_switch": env.kill_switch, "version": env.version}


def _timeline(incident: Incident | None, *, actor: Any, body: str, metadata: dict) -> None:
    """A "control" entry on the linked incident. Best effort, in a savepoint: a kill
    or a rollback must never be undone because the incident's timeline refused an
    entry (the change itself is in the audit trail either way)."""
    if incident is None:
        return
    from incidents.services import timeline_entry_add

    try:
        with transaction.atomic():
            timeline_entry_add(
                incident=incident, actor=actor, kind="control", body=body, metadata=metadata
            )
    except (DomainError, DatabaseError) as exc:
        logger.error(
            "controls.timeline_entry_failed",
            extra={"incident": incident.pk, "error": repr(exc)},
        )


def _incident_of_last_trigger(env: Environment) -> Incident | None:
    event = (
        env.kill_switch_events.filter(kind=KillSwitchEvent.Kind.TRIGGERED)
        .select_related("incident")
        .first()
    )
    return event.incident if event else None


def _open_incident_for(env: Environment) -> Incident | None:
    from incidents.selectors import open_incidents_for_environment

    return (
        open_incidents_for_environment(env, severities=("SEV1", "SEV2", "SEV3", "SEV4"))
        .order_by("-detected_at", "-pk")
        .first()
    )


# --- kill switch ---


def kill_switch_trigger(
    *,
    environment: Environment,
    actor: Any,
    reason_code: str,
    note: str = "",
    incident: Incident | None = None,
) -> KillSwitchEvent:
    """Kill trading on `environment` now. No approval, ever (DESIGN; runbook 5.2 L1).

    Args:
        reason_code: a `ReasonCode` value (manual, emergency_l1..l4, threshold_pnl,
            threshold_drawdown, clock_drift, security, drill).
        note: free text for the history and the incident.
        incident: an open incident to link instead of opening a new one.

    ACTIVE or RECOVERING → KILLED (from RECOVERING the pending resume request is
    cancelled). A trigger that is not a drill opens a SEV1 incident for the
    environment with the matching playbook, unless `incident` is given; a drill opens
    none. Triggering an already KILLED switch changes nothing but is recorded
    (kind `trigger_repeated`, audited) so the attempt is in the history.

    Raises ValidationFailed for an unknown reason code (the only refusal). Failures
    to open the incident or cancel the request are logged and never undo the kill.
    """
    if reason_code not in ReasonCode.values:
        raise ValidationFailed(
            f"Unknown reason code '{reason_code}'. Use one of: {', '.join(ReasonCode.values)}.",
            field="reason_code",
        )
    note = (note or "").strip()
    is_drill = reason_code == ReasonCode.DRILL
    with transaction.atomic():
        env = _locked(environment)
        now = timezone.now()  # after the lock: the kill's time, not the wait's start
        before = _state(env)
        if env.kill_switch == Environment.KillSwitch.KILLED:
            event = KillSwitchEvent.objects.create(
                environment=env,
                occurred_at=now,
                actor=_user(actor),
                kind=KillSwitchEvent.Kind.TRIGGER_REPEATED,
                from_state=env.kill_switch,
                to_state=env.kill_switch,
                reason_code=reason_code,
                note=note,
                incident=incident,
                is_drill=is_drill,
                version=env.version,
            )
            audit_record(
                actor=actor,
                event_type="kill_switch.trigger_repeated",
                obj=env,
                metadata={"reason_code": reason_code, "note": note, "event": event.pk},
            )
            _timeline(
                incident,
                actor=actor,
                body=f"Kill switch triggered again on {env.slug} ({reason_code}); already KILLED.",
                metadata={"environment": env.slug, "event": event.pk},
            )
            return event

        pending_resume = env.resume_request_id
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
        if pending_resume is not None:
            _cancel_resume_request(pending_resume, actor=actor, env=env)
        if incident is None and not is_drill:
            incident = _open_kill_incident(env, actor=actor, reason_code=reason_code, note=note)
        event = KillSwitchEvent.objects.create(
            environment=env,
            occurred_at=now,
            actor=_user(actor),
            kind=KillSwitchEvent.Kind.TRIGGERED,
            from_state=before["kill_switch"],
            to_state=env.kill_switch,
            reason_code=reason_code,
            note=note,
            incident=incident,
            approval_request_id=pending_resume,
            is_drill=is_drill,
            version=env.version,
        )
        audit_record(
            actor=actor,
            event_type="kill_switch.triggered",
            obj=env,
            before=before,
            after=_state(env),
            metadata={
                "reason_code": reason_code,
                "note": note,
                "is_drill": is_drill,
                "incident": incident.pk if incident else None,
                "cancelled_request": pending_resume,
                "event": event.pk,
            },
        )
        _timeline(
            incident,
            actor=actor,
            body=f"Kill switch triggered on {env.slug}: {ReasonCode(reason_code).label}."
            + (f" {note}" if note else ""),
            metadata={"environment": env.slug, "event": event.pk, "version": env.version},
        )
        payload = {"environment": env.slug, "reason_code": reason_code, "version": env.version}
        transaction.on_commit(lambda: logger.warning("kill_switch.triggered", extra=payload))
    return event


def _cancel_resume_request(request_id: int, *, actor: Any, env: Environment) -> None:
    from opsportal.approvals.services import approval_cancel

    try:
        with transaction.atomic():
            # actor=None: the system cancels (the triggerer need not be the requester).
            approval_cancel(
                request_id=request_id,
                actor=None,
                reason=f"Kill switch re-triggered on {env.slug} during recovery.",
            )
    except DomainError as exc:
        # Already expired/decided: nothing to cancel. The kill stands either way.
        logger.info(
            "kill_switch.resume_cancel_skipped", extra={"request": request_id, "why": exc.code}
        )


def _open_kill_incident(
    env: Environment, *, actor: Any, reason_code: str, note: str
) -> Incident | None:
    """Open the SEV1 for a trigger. Safety first: the kill must commit even if the
    incident cannot be opened (missing playbook, a fault in the incidents app), so
    each attempt runs in a savepoint and a failure is logged, not raised."""
    from incidents.services import incident_open

    playbook = PLAYBOOK_FOR_REASON.get(reason_code, DEFAULT_PLAYBOOK)
    title = f"Kill switch triggered on {env.slug}: {ReasonCode(reason_code).label}"
    for playbook_slug in (playbook, None):
        try:
            with transaction.atomic():
                return incident_open(
                    # A risk officer may kill without the right to open incidents;
                    # then the system opens it (the trigger is in the audit trail).
                    actor=actor
                    if _user(actor) and actor.has_perm("incidents.add_incident")
                    else None,
                    title=title[:200],
                    severity="SEV1",
                    summary=note,
                    environment=env,
                    trading_halted=True,
                    playbook_slug=playbook_slug,
                )
        except (DomainError, DatabaseError) as exc:  # noqa: PERF203 - see docstring
            logger.error(
                "kill_switch.incident_open_failed",
                extra={"environment": env.slug, "playbook": playbook_slug, "error": repr(exc)},
            )
    return None


def kill_switch_recover(*, environment: Environment, actor: Any, reason: str) -> Any:
    """Start recovery: KILLED → RECOVERING and open a `kill_switch_resume` approval
    request; trading resumes when a risk officer other than `actor` approves it.

    Raises ValidationFailed (no reason), Conflict code "not_killed" (switch not
    KILLED) or code "cooldown" (fewer than the environment's cooldown seconds since
    the trigger; the message says how many are left). Returns the ApprovalRequest.
    """
    from opsportal.approvals.services import approval_request_create

    reason = _require_text(reason, "reason", "A reason")
    with transaction.atomic():
        env = _locked(environment)
        if env.kill_switch != Environment.KillSwitch.KILLED:
            raise Conflict(
                f"Recovery starts from KILLED; the kill switch on {env.slug} is {env.kill_switch}.",
                code="not_killed",
            )
        left = env.cooldown_seconds - (timezone.now() - env.killed_at).total_seconds()
        if left > 0:
            raise Conflict(
                f"Cooldown: recovery on {env.slug} may start in {int(left) + 1} s.",
                code="cooldown",
            )
        before = _state(env)
        env.start_recovery()
        env.version += 1
        env.save(update_fields=["kill_switch", "version"])
        request = approval_request_create(
            action=ACTION_KILL_SWITCH_RESUME,
            target=env,
            reason=reason,
            payload={"environment": env.slug, "killed_at": env.killed_at.isoformat()},
            actor=actor,
        )
        env.resume_request_id = request.pk
        env.save(update_fields=["resume_request_id"])
        incident = _incident_of_last_trigger(env)
        event = KillSwitchEvent.objects.create(
            environment=env,
            actor=_user(actor),
            kind=KillSwitchEvent.Kind.RECOVERY_STARTED,
            from_state=before["kill_switch"],
            to_state=env.kill_switch,
            note=reason,
            incident=incident,
            approval_request_id=request.pk,
            version=env.version,
        )
        audit_record(
            actor=actor,
            event_type="kill_switch.recovery_started",
            obj=env,
            before=before,
            after=_state(env),
            metadata={"reason": reason, "approval_request": request.pk, "event": event.pk},
        )
        _timeline(
            incident,
            actor=actor,
            body=f"Kill-switch recovery started on {env.slug}; resume request #{request.pk} "
            "awaits a risk officer.",
            metadata={"environment": env.slug, "approval_request": request.pk},
        )
    return request


def kill_switch_recovery_complete(
    *, environment: Environment, actor: Any, approval_request_id: int | None
) -> KillSwitchEvent:
    """RECOVERING → ACTIVE. Called only by the `kill_switch_resume` action's execute,
    inside the approvals engine's transaction, once the request is approved.

    Raises Conflict "not_recovering" if the switch is no longer RECOVERING (for
    example re-triggered) or the request is not the environment's current one.
    """
    with transaction.atomic():
        env = _locked(environment)
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
        before = _state(env)
        now = timezone.now()
        last_trigger = env.kill_switch_events.filter(kind=KillSwitchEvent.Kind.TRIGGERED).first()
        env.complete_recovery()
        env.resume_request_id = None
        env.version += 1
        fields = ["kill_switch", "resume_request_id", "version"]
        if last_trigger is not None and last_trigger.is_drill:
            # A drill that went KILLED and back is the runbook 4.3 verification.
            env.last_verified_at = now
            fields.append("last_verified_at")
        env.save(update_fields=fields)
        incident = last_trigger.incident if last_trigger else None
        event = KillSwitchEvent.objects.create(
            environment=env,
            occurred_at=now,
            actor=_user(actor),
            kind=KillSwitchEvent.Kind.RECOVERY_COMPLETED,
            from_state=before["kill_switch"],
            to_state=env.kill_switch,
            incident=incident,
            approval_request_id=approval_request_id,
            is_drill=bool(last_trigger and last_trigger.is_drill),
            version=env.version,
        )
        audit_record(
            actor=actor,
            event_type="kill_switch.recovery_completed",
            obj=env,
            before=before,
            after=_state(env),
            metadata={"approval_request": approval_request_id, "event": event.pk},
        )
        _timeline(
            incident,
            actor=actor,
            body=f"Kill switch on {env.slug} back to ACTIVE (request #{approval_request_id} "
            "approved).",
            metadata={"environment": env.slug, "approval_request": approval_request_id},
        )
    return event


def kill_switch_mark_verified(
    *, environment: Environment, actor: Any, verified_at: Any = None
) -> Environment:
    """Record that the kill switch was seen to work (a signed-off drill). Sets
    `last_verified_at`; does not change the gate, so the version is not bumped."""
    with transaction.atomic():
        env = _locked(environment)
        env.last_verified_at = verified_at or timezone.now()
        env.save(update_fields=["last_verified_at"])
        audit_record(
            actor=actor,
            event_type="kill_switch.verified",
            obj=env,
            after={"last_verified_at": env.last_verified_at},
        )
    return env


# --- mode ---


def live_transition_request(
    *, environment: Environment, actor: Any, reason: str, attestations: dict[str, bool]
) -> Any:
    """Ask to take `environment` from DRY_RUN to LIVE (live-trading runbook 3).

    Opens a `live_transition` approval request whose payload holds the requester's
    attestations of the pre-live checklist (`{"<step position>": true, ...}`). The
    approvals engine evaluates the preconditions (controls.preconditions) now and
    again at execution, and refuses with Conflict when one fails.

    Raises ValidationFailed (no reason, attestations not a mapping).
    """
    from opsportal.approvals.services import approval_request_create

    reason = _require_text(reason, "reason", "A reason")
    if not isinstance(attestations, dict):
        raise ValidationFailed("Attestations must be an object.", field="attestations")
    version, _ = pre_live_checklist_items()
    payload = {
        "environment": environment.slug,
        "checklist": {"procedure": PRE_LIVE_PROCEDURE, "version": version},
        "attestations": {str(k): v is True for k, v in sorted(attestations.items())},
    }
    # Not wrapped in a transaction of ours: the engine audits a refusal after its own
    # transaction rolls back, and records "approval.requested" with the request.
    request = approval_request_create(
        action=ACTION_LIVE_TRANSITION,
        target=environment,
        reason=reason,
        payload=payload,
        actor=actor,
    )
    return request


def mode_go_live(
    *, environment: Environment, actor: Any, approval_request_id: int | None, reason: str = ""
) -> ModeChange:
    """DRY_RUN → LIVE. Called only by the `live_transition` action's execute, after
    the approvals engine re-checked the preconditions under its row lock.
    Instantiates the 10-step `live-transition` checklist on the ModeChange when the
    library has it. Raises Conflict "not_dry_run"."""
    with transaction.atomic():
        env = _locked(environment)
        if env.mode != Environment.Mode.DRY_RUN:
            raise Conflict(f"{env.slug} is already {env.mode}.", code="not_dry_run")
        before = _state(env)
        now = timezone.now()
        env.go_live()
        env.mode_changed_at = now
        env.dry_run_since = None
        env.version += 1
        env.save(update_fields=["mode", "mode_changed_at", "dry_run_since", "version"])
        incident = _open_incident_for(env)
        change = ModeChange.objects.create(
            environment=env,
            occurred_at=now,
            actor=_user(actor),
            kind=ModeChange.Kind.LIVE_TRANSITION,
            from_mode=before["mode"],
            to_mode=env.mode,
            reason=reason or f"Approval request #{approval_request_id}",
            incident=incident,
            approval_request_id=approval_request_id,
            version=env.version,
        )
        _checklist_best_effort(LIVE_TRANSITION_PROCEDURE, target=change, actor=actor)
        if incident is not None:
            _timeline(
                incident,
                actor=actor,
                body=f"{env.slug} went LIVE (request #{approval_request_id} approved).",
                metadata={"environment": env.slug, "mode_change": change.pk},
            )
        audit_record(
            actor=actor,
            event_type="mode.went_live",
            obj=env,
            before=before,
            after=_state(env),
            metadata={"approval_request": approval_request_id, "mode_change": change.pk},
        )
    return change


def mode_rollback(
    *, environment: Environment, actor: Any, reason: str, incident: Incident | None = None
) -> ModeChange:
    """LIVE → DRY_RUN now, by one operator (ops-drills-and-rollback-evidence, rollback
    procedure). Starts a new DRY_RUN period, blocks LIVE for
    OPSPORTAL_ROLLBACK_BLOCK_SECONDS (precondition `no_recent_rollback`), and
    instantiates the 8-step `rollback-to-dry-run` checklist on the returned
    ModeChange (`ModeChange.checklist`; a rollback is never refused because the
    library lacks it: then it is logged and the change has no checklist).

    Links `incident`, or else the environment's newest open incident, with a
    timeline entry. Raises ValidationFailed (no reason), Conflict "not_live".
    """
    reason = _require_text(reason, "reason", "A reason")
    with transaction.atomic():
        env = _locked(environment)
        if env.mode != Environment.Mode.LIVE:
            raise Conflict(f"{env.slug} is already {env.mode}.", code="not_live")
        before = _state(env)
        now = timezone.now()
        env.roll_back()
        env.mode_changed_at = now
        env.dry_run_since = now
        env.last_rollback_at = now
        env.version += 1
        env.save(
            update_fields=[
                "mode",
                "mode_changed_at",
                "dry_run_since",
                "last_rollback_at",
                "version",
            ]
        )
        incident = incident or _open_incident_for(env)
        change = ModeChange.objects.create(
            environment=env,
            occurred_at=now,
            actor=_user(actor),
            kind=ModeChange.Kind.ROLLBACK,
            from_mode=before["mode"],
            to_mode=env.mode,
            reason=reason,
            incident=incident,
            version=env.version,
        )
        checklist = _checklist_best_effort(ROLLBACK_PROCEDURE, target=change, actor=actor)
        audit_record(
            actor=actor,
            event_type="mode.rolled_back",
            obj=env,
            before=before,
            after=_state(env),
            metadata={
                "reason": reason,
                "mode_change": change.pk,
                "checklist": checklist.pk if checklist else None,
                "incident": incident.pk if incident else None,
            },
        )
        _timeline(
            incident,
            actor=actor,
            body=f"{env.slug} rolled back LIVE → DRY_RUN: {reason}",
            metadata={"environment": env.slug, "mode_change": change.pk},
        )
    return change


def _checklist_best_effort(slug: str, *, target: Any, actor: Any) -> Any:
    from opsportal.library.services import checklist_instantiate

    try:
        with transaction.atomic():
            return checklist_instantiate(procedure_slug=slug, target=target, actor=actor)
    except NotFound:
        logger.error("controls.checklist_missing", extra={"procedure": slug})
        return None


# --- gate tokens ---


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def gate_token_issue(
    *, name: str, environment: Environment | None, actor: Any
) -> tuple[GateToken, str]:
    """Create a gate token; returns (token row, raw token). The raw token is shown
    once and never stored (only its SHA-256)."""
    name = _require_text(name, "name", "A name")
    raw = "opsg_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = GateToken.objects.create(
            name=name,
            environment=environment,
            token_sha256=hash_token(raw),
            prefix=raw[:12],
            created_by=_user(actor),
        )
        audit_record(
            actor=actor,
            event_type="gate_token.issued",
            obj=token,
            after={"name": name, "environment": environment.slug if environment else "all"},
        )
    return token, raw


def gate_token_revoke(*, token_id: int, actor: Any) -> GateToken:
    """Revoke a gate token; the next gate read with it is refused. Idempotent."""
    with transaction.atomic():
        token = GateToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None:
            raise NotFound("No such gate token.", field="token")
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.revoked_by = _user(actor)
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=actor, event_type="gate_token.revoked", obj=token, after={"revoked": True}
        )
    return token


def api_token_issue(*, user: Any, name: str, actor: Any) -> tuple[ApiToken, str]:
    """Create a people-API token acting as `user`; returns (row, raw token), the raw
    token shown once (only its SHA-256 is stored)."""
    name = _require_text(name, "name", "A name")
    if not getattr(user, "is_active", False):
        raise ValidationFailed("The user is not active.", field="user")
    raw = "opsp_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, token_sha256=hash_token(raw), prefix=raw[:12]
        )
        audit_record(
            actor=actor,
            event_type="api_token.issued",
            obj=token,
            after={"name": name, "user": user.get_username()},
        )
    return token, raw


def token_touch(*, model: type[GateToken] | type[ApiToken], token_id: int, at: Any) -> None:
    """Record a token's use (`last_used_at`). Bookkeeping, not a state change: one
    UPDATE, no lock, no audit event; callers throttle it to once a minute."""
    model.objects.filter(pk=token_id).update(last_used_at=at)


def api_token_revoke(*, token_id: int, actor: Any) -> ApiToken:
    """Revoke a people-API token; its next use is refused. Idempotent."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None:
            raise NotFound("No such API token.", field="token")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor, event_type="api_token.revoked", obj=token, after={"revoked": True}
            )
    return token


def environment_save(*, environment: Environment, actor: Any, created: bool) -> Environment:
    """Admin create/edit of an environment's descriptive fields and cooldown (mode and
    kill switch are not editable there: they change only through the services above)."""
    fields = ["slug", "name", "venue", "description", "recovery_cooldown_seconds"]
    with transaction.atomic():
        if created:
            environment.save(force_insert=True)
        else:
            environment.save(update_fields=fields)
        audit_record(
            actor=actor,
            event_type="environment.created" if created else "environment.changed",
            obj=environment,
            after={f: getattr(environment, f) for f in fields},
        )
    return environment
