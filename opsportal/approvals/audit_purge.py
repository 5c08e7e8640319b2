"""Purging the audit trail past its retention is a four-eyes action: `audit_purge`
(issue 15). Two approvers from risk_officer or admin besides the requester (the
default policy, approvals.defaults); on approval the audit service deletes the events
through the target checkpoint, which it keeps as the chain's new anchor. Lives here
because approvals is the lowest layer that registers actions; audit sits below."""

from __future__ import annotations

import datetime as dt
from typing import Any

from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.registry import ActionSpec, PreconditionResult, register_action
from opsportal.approvals.services import approval_request_create
from opsportal.audit.models import AuditCheckpoint
from opsportal.audit.services import (
    audit_purge_in_transaction,
    purge_anchor,
    retention_cutoff,
)
from opsportal.core.errors import ValidationFailed

ACTION = "audit_purge"
PERMISSION = "audit.purge_auditevent"


def _cutoff(payload: dict) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(payload.get("cutoff")))
    except ValueError:
        return None


def audit_purge_preconditions(target: Any, payload: dict) -> list[PreconditionResult]:
    cutoff = _cutoff(payload)
    anchor = purge_anchor(cutoff) if cutoff else None
    return [
        PreconditionResult(
            "past_retention",
            "Every event purged is older than the retention period",
            cutoff is not None and cutoff <= retention_cutoff(),
        ),
        PreconditionResult(
            "anchor_checkpoint",
            "A signed checkpoint closes the purged range and is kept",
            anchor is not None and target.last_seq <= anchor.last_seq,
        ),
    ]


def audit_purge_execute(target: Any, payload: dict, request: ApprovalRequest) -> dict:
    cutoff = _cutoff(payload)
    if cutoff is None:
        raise ValidationFailed("The purge has no valid cutoff.")
    purge = audit_purge_in_transaction(anchor=target, cutoff=cutoff, actor=request.requester)
    return {"through_seq": purge.through_seq, "anchor_checkpoint": target.pk}


def audit_purge_request(
    *, actor: Any, reason: str, cutoff: dt.datetime | None = None
) -> ApprovalRequest:
    """Ask for a purge of every event older than `cutoff` (default: the retention
    period), through the latest checkpoint that closes that range (ValidationFailed
    when none does, or when `cutoff` is inside the retention period)."""
    limit = retention_cutoff()
    if cutoff is not None and cutoff > limit:
        raise ValidationFailed(
            f"Events after {limit:%Y-%m-%d} are inside the retention period: "
            "choose an earlier date.",
            field="cutoff",
        )
    cutoff = cutoff or limit
    anchor = purge_anchor(cutoff)
    if anchor is None:
        raise ValidationFailed("No checkpointed events are past the retention period.")
    return approval_request_create(
        action=ACTION,
        target=anchor,
        reason=reason,
        payload={"cutoff": cutoff.isoformat(), "through_seq": anchor.last_seq},
        actor=actor,
    )


def register() -> None:
    register_action(
        ActionSpec(
            action=ACTION,
            label="Purge audit events past retention",
            target_model="audit.auditcheckpoint",
            preconditions=audit_purge_preconditions,
            execute=audit_purge_execute,
            target_lookup=lambda key: (
                AuditCheckpoint.objects.filter(pk=int(key)).first() if key.isdigit() else None
            ),
            request_permission=PERMISSION,
            decide_permission=PERMISSION,
        )
    )
