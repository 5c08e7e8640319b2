"""Purging the audit trail past its retention is a four-eyes action: `audit_purge`
(issue 15). Two approvers from risk_officer or admin besides the requester (the
default policy, approvals.defaults); on approval the audit service deletes the events
through the target checkpoint, which it keeps as the chain's new anchor. Lives here
because approvals is the lowest layer that registers actions; audit sits below."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.registry import ActionSpec, PreconditionResult, register_action
from opsportal.approvals.services import approval_request_create
from opsportal.audit.models import AuditCheckpoint, AuditEvent, AuditPurge
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


# The purge page counts the events past retention up to this many ("more than …").
PURGE_COUNT_LIMIT = 100_000


@dataclass(frozen=True)
class PurgeStatus:
    """What the purge page shows: the retention (days) and its cutoff (UTC), the
    events older than the cutoff (counted up to PURGE_COUNT_LIMIT; `count_capped`
    when there are more), the oldest event's time, the checkpoint a purge would keep
    (None: nothing may be purged yet), the open purge requests and the last purge."""

    retention_days: int
    cutoff: dt.datetime
    past_retention: int
    count_capped: bool
    oldest_at: dt.datetime | None
    anchor: AuditCheckpoint | None
    open_requests: list[ApprovalRequest]
    last_purge: AuditPurge | None


def audit_purge_status() -> PurgeStatus:
    """The page's facts, in a fixed number of queries whatever the size of the trail."""
    cutoff = retention_cutoff()
    past = AuditEvent.objects.filter(occurred_at__lt=cutoff)[: PURGE_COUNT_LIMIT + 1].count()
    oldest = AuditEvent.objects.order_by("occurred_at").values_list("occurred_at", flat=True)
    return PurgeStatus(
        retention_days=settings.AUDIT_RETENTION_DAYS,
        cutoff=cutoff,
        past_retention=min(past, PURGE_COUNT_LIMIT),
        count_capped=past > PURGE_COUNT_LIMIT,
        oldest_at=oldest.first(),
        anchor=purge_anchor(cutoff),
        open_requests=list(
            ApprovalRequest.objects.filter(
                action=ACTION, status__in=ApprovalRequest.OPEN_STATUSES
            ).select_related("requester")
        ),
        last_purge=AuditPurge.objects.select_related("anchor").first(),
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
