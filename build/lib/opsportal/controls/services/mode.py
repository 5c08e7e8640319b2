"""The mode: DRY_RUN → LIVE through a four-eyes request, LIVE → DRY_RUN at once by one
operator (live-trading runbook 3 and 6; ops-drills-and-rollback-evidence, rollback)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from opsportal.approvals.services import approval_request_create
from opsportal.audit.services import audit_record, service_entry_point
from opsportal.controls import hooks
from opsportal.controls.models import Environment, ModeChange
from opsportal.controls.preconditions import PRE_LIVE_PROCEDURE, pre_live_checklist_items
from opsportal.controls.push import gate_change_publish_in_transaction
from opsportal.controls.services._common import (
    link_incident,
    locked,
    require_text,
    state,
    user_or_none,
)
from opsportal.core.errors import Conflict, NotFound, ValidationFailed
from opsportal.library.models import Checklist
from opsportal.library.services import checklist_instantiate_in_transaction

logger = logging.getLogger(__name__)

ACTION_LIVE_TRANSITION = "live_transition"
ROLLBACK_PROCEDURE = "rollback-to-dry-run"
LIVE_TRANSITION_PROCEDURE = "live-transition"


def live_transition_request(
    *, environment: Environment, actor: Any, reason: str, attestations: dict[str, bool]
) -> Any:
    """Ask to take `environment` from DRY_RUN to LIVE (live-trading runbook 3).

    Opens a `live_transition` approval request whose payload holds the requester's
    attestations of the pre-live checklist (`{"<step position>": true, ...}`). The
    approvals engine evaluates the preconditions (controls.preconditions) now and
    again at execution, and refuses with Conflict when one fails. The request is the
    engine's own entry point, which audits a refusal after rolling back.

    Raises ValidationFailed (no reason, attestations not a mapping).
    """
    reason = require_text(reason, "reason", "A reason")
    if not isinstance(attestations, dict):
        raise ValidationFailed("Attestations must be an object.", field="attestations")
    version, _ = pre_live_checklist_items()
    payload = {
        "environment": environment.slug,
        "checklist": {"procedure": PRE_LIVE_PROCEDURE, "version": version},
        "attestations": {str(k): v is True for k, v in sorted(attestations.items())},
    }
    return approval_request_create(
        action=ACTION_LIVE_TRANSITION,
        target=environment,
        reason=reason,
        payload=payload,
        actor=actor,
    )


def mode_go_live_in_transaction(
    *, environment: Environment, actor: Any, approval_request_id: int | None, reason: str = ""
) -> ModeChange:
    """DRY_RUN → LIVE. The `live_transition` action's execute: runs inside the
    approvals engine's transaction, after it re-checked the preconditions under its
    row lock. Instantiates the 10-step `live-transition` checklist on the ModeChange
    when the library has it. Raises Conflict "not_dry_run"."""
    with transaction.atomic():
        env = locked(environment)
        if env.mode != Environment.Mode.DRY_RUN:
            raise Conflict(f"{env.slug} is already {env.mode}.", code="not_dry_run")
        before = state(env)
        now = timezone.now()
        env.go_live()
        env.mode_changed_at = now
        env.dry_run_since = None
        env.version += 1
        env.save(update_fields=["mode", "mode_changed_at", "dry_run_since", "version"])
        gate_change_publish_in_transaction(environment=env)
        change = ModeChange.objects.create(
            environment=env,
            occurred_at=now,
            actor=user_or_none(actor),
            kind=ModeChange.Kind.LIVE_TRANSITION,
            from_mode=before["mode"],
            to_mode=env.mode,
            reason=reason or f"Approval request #{approval_request_id}",
            approval_request_id=approval_request_id,
            version=env.version,
        )
        _checklist_best_effort(LIVE_TRANSITION_PROCEDURE, target=change, actor=actor)
        link_incident(
            change,
            hooks.ControlChange(
                kind=hooks.WENT_LIVE,
                environment=env,
                actor=actor,
                summary=f"{env.slug} went LIVE (request #{approval_request_id} approved).",
                metadata={"environment": env.slug, "mode_change": change.pk},
            ),
        )
        audit_record(
            actor=actor,
            event_type="mode.went_live",
            obj=env,
            before=before,
            after=state(env),
            metadata={"approval_request": approval_request_id, "mode_change": change.pk},
        )
    return change


@service_entry_point
def mode_rollback(
    *, environment: Environment, actor: Any, reason: str, incident_id: int | None = None
) -> ModeChange:
    """LIVE → DRY_RUN now, by one operator (ops-drills-and-rollback-evidence, rollback
    procedure). Starts a new DRY_RUN period, blocks LIVE for
    OPSPORTAL_ROLLBACK_BLOCK_SECONDS (precondition `no_recent_rollback`), and
    instantiates the 8-step `rollback-to-dry-run` checklist on the returned
    ModeChange (`ModeChange.checklist`; a rollback is never refused because the
    library lacks it: then it is logged and the change has no checklist).

    `incident_id` links an open incident of `environment` (checked with
    `hooks.resolve_incident_link`); otherwise the control listeners link one (the
    incidents app: the environment's newest open incident). Raises ValidationFailed
    (no reason; "incident" not an open incident of `environment`), Conflict
    "not_live".
    """
    reason = require_text(reason, "reason", "A reason")
    incident_id = hooks.resolve_incident_link(
        user_or_none(actor), incident_id, environment=environment
    )
    with transaction.atomic(durable=True):
        env = locked(environment)
        if env.mode != Environment.Mode.LIVE:
            raise Conflict(f"{env.slug} is already {env.mode}.", code="not_live")
        before = state(env)
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
        gate_change_publish_in_transaction(environment=env)
        change = ModeChange.objects.create(
            environment=env,
            occurred_at=now,
            actor=user_or_none(actor),
            kind=ModeChange.Kind.ROLLBACK,
            from_mode=before["mode"],
            to_mode=env.mode,
            reason=reason,
            incident_id=incident_id,
            version=env.version,
        )
        checklist = _checklist_best_effort(ROLLBACK_PROCEDURE, target=change, actor=actor)
        link_incident(
            change,
            hooks.ControlChange(
                kind=hooks.ROLLED_BACK,
                environment=env,
                actor=actor,
                summary=f"{env.slug} rolled back LIVE → DRY_RUN: {reason}",
                metadata={"environment": env.slug, "mode_change": change.pk},
                note=reason,
                incident_id=incident_id,
            ),
        )
        audit_record(
            actor=actor,
            event_type="mode.rolled_back",
            obj=env,
            before=before,
            after=state(env),
            metadata={
                "reason": reason,
                "mode_change": change.pk,
                "checklist": checklist.pk if checklist else None,
                "incident": change.incident_id,
            },
        )
    return change


def _checklist_best_effort(slug: str, *, target: Any, actor: Any) -> Checklist | None:
    """The procedure's checklist on `target`, or None (logged) when the library has no
    published version: a mode change is never refused for want of a checklist."""
    try:
        with transaction.atomic():
            return checklist_instantiate_in_transaction(
                procedure_slug=slug, target=target, actor=actor
            )
    except NotFound:
        logger.error("controls.checklist_missing", extra={"procedure": slug})
        return None
