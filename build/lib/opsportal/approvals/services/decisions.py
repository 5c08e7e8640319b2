"""Deciding on approval requests: grant (and, at the threshold, execute) and reject."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from opsportal.accounts.step_up import step_up_check
from opsportal.approvals.models import Approval, ApprovalRequest
from opsportal.approvals.registry import PreconditionResult, decide_permissions, get_action
from opsportal.approvals.services._common import (
    Status,
    failed_labels,
    is_expired,
    lock_request,
    lock_target,
    mark_expired,
    not_open_error,
    preconditions_snapshot,
    refusal_noted,
)
from opsportal.audit.services import audit_record, service_entry_point
from opsportal.core.errors import Conflict, DomainError, NotFound, NotPermitted
from opsportal.core.text import COMMENT_MAX, reason_given, text_within

logger = logging.getLogger(__name__)


def _check_password(actor: Any, password: str) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise NotPermitted("Sign in to decide on approval requests.", code="not_authenticated")
    step_up_check(actor=actor, password=password, purpose="approval")


def _user_groups(user: Any) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def _check_can_decide(request: ApprovalRequest, actor: Any, now: Any) -> DomainError | None:
    """Checks shared by grant and reject, on the locked request. Returns an error to
    raise after the transaction commits (expiry is recorded), or raises at once."""
    if request.requester_id == actor.pk:
        raise NotPermitted(
            "You cannot approve or reject your own request; another person must.",
            code="self_approval",
        )
    if is_expired(request, now):
        mark_expired(request, now)
        return not_open_error(request)
    if request.status != Status.PENDING:
        raise not_open_error(request)
    if not _user_groups(actor) & set(request.eligible_groups) or not actor.has_perms(
        decide_permissions(request.action)
    ):
        raise NotPermitted(
            "Only members of " + ", ".join(request.eligible_groups) + " may decide this request.",
            code="not_eligible",
        )
    if Approval.objects.filter(
        request=request, approver=actor, payload_revision=request.payload_revision
    ).exists():
        raise Conflict("You have already decided on this request.", code="already_decided")
    return None


def _record_decision(
    request: ApprovalRequest, actor: Any, decision: str, comment: str, now: Any
) -> Approval:
    try:
        # The unique constraint is the backstop for "one user counts once", whatever
        # path wrote the row.
        with transaction.atomic():
            return Approval.objects.create(
                request=request,
                approver=actor,
                decision=decision,
                payload_sha256=request.payload_sha256,
                payload_revision=request.payload_revision,
                comment=comment,
                at=now,
            )
    except IntegrityError:
        raise Conflict(
            "You have already decided on this request.", code="already_decided"
        ) from None


@service_entry_point
def approval_grant(
    *, request_id: int, actor: Any, password: str, payload_sha256: str, comment: str = ""
) -> ApprovalRequest:
    """`actor` approves the request whose payload hashes to `payload_sha256` (the
    hash they were shown). When the approvals on the current payload reach the
    snapshot's `approvals_required`, the request is claimed (approved -> executing)
    under its row lock, the preconditions are checked again, and the action runs:
    the request ends `executed` (with the action's result) or `failed` (with the
    reason; the approval stays recorded). Returns the request in its new state.

    Raises:
        NotPermitted: wrong password ("password_incorrect", field "password"), the
            requester ("self_approval"), not in an eligible group ("not_eligible").
        Conflict: expired ("expired"; the request is marked expired), cancelled,
            rejected, already executed/failed, payload changed since the approver
            looked ("payload_changed"), already decided ("already_decided").
        NotFound: no such request.
    """
    return refusal_noted(
        "grant",
        lambda: _grant(
            request_id=request_id,
            actor=actor,
            password=password,
            seen_sha256=payload_sha256,
            comment=comment,
        ),
        actor=actor,
        metadata={"request_id": request_id, "payload_sha256": payload_sha256},
    )


def _grant(
    *, request_id: int, actor: Any, password: str, seen_sha256: str, comment: str
) -> ApprovalRequest:
    text_within(comment, limit=COMMENT_MAX, field="comment", label="The comment")
    _check_password(actor, password)
    head = ApprovalRequest.objects.filter(pk=request_id).select_related("target_type").first()
    if head is None:
        raise NotFound("No such approval request.", field="request")
    deferred: DomainError | None = None
    with transaction.atomic(durable=True):
        # Lock order: target, then request (see the module docstring).
        target = lock_target(head.target_type, head.target_id)
        request = lock_request(request_id)
        now = timezone.now()
        deferred = _check_can_decide(request, actor, now)
        if deferred is None:
            if (seen_sha256 or "").strip().lower() != request.payload_sha256:
                raise Conflict(
                    "The payload changed since you looked at it; review it again.",
                    code="payload_changed",
                    field="payload_sha256",
                )
            _record_decision(request, actor, Approval.Decision.APPROVE, comment.strip(), now)
            audit_record(
                actor=actor,
                event_type="approval.granted",
                obj=request,
                after={"payload_sha256": request.payload_sha256, "comment": comment.strip()},
            )
            # Defence in depth: a requester's row written around the service (a raw
            # insert) never counts.
            count = (
                Approval.objects.filter(
                    request=request,
                    decision=Approval.Decision.APPROVE,
                    payload_revision=request.payload_revision,
                )
                .exclude(approver_id=request.requester_id)
                .count()
            )
            if count >= request.approvals_required:
                _execute(request, target, actor, now)
    if deferred is not None:
        raise deferred
    return request


def _execute(request: ApprovalRequest, target: Any, actor: Any, now: Any) -> None:
    """Claim and run a request that just reached its threshold. The caller holds the
    request's (and target's) row lock inside the transaction that recorded the final
    approval."""
    request.approve()
    request.claim()
    request.decided_at = now
    request.save(update_fields=["status", "decided_at"])
    audit_record(
        actor=actor,
        event_type="approval.executing",
        obj=request,
        before={"status": Status.PENDING},
        after={"status": Status.EXECUTING},
    )
    failure = ""
    result: dict | None = None
    checked: list[PreconditionResult] = []
    try:
        spec = get_action(request.action)
    except KeyError:
        failure = f"The action '{request.action}' is no longer registered."
        spec = None
    if spec is not None and target is None:
        failure = "The target no longer exists."
        checked = [PreconditionResult("target_exists", "The target still exists", False)]
    if spec is not None and not failure:
        try:
            checked = list(spec.preconditions(target, request.payload))
            failed = failed_labels(checked)
        except DomainError as exc:
            checked = [
                PreconditionResult(
                    "preconditions", "Preconditions could be evaluated", False, exc.message
                )
            ]
            failed = [exc.message]
        if failed:
            failure = "Preconditions no longer hold: " + "; ".join(failed) + "."
    # Kept with the request whatever happens next: the evidence of what held when
    # the action ran (or why it did not run).
    request.preconditions_at_execution = preconditions_snapshot(checked)
    if spec is not None and not failure:
        try:
            with transaction.atomic():
                result = spec.execute(target, request.payload, request)
        except DomainError as exc:
            failure = exc.message
    request.finished_at = timezone.now()
    if failure:
        request.fail()
        request.failure_reason = failure
        request.save(
            update_fields=["status", "failure_reason", "finished_at", "preconditions_at_execution"]
        )
        audit_record(
            actor=actor,
            event_type="approval.failed",
            obj=request,
            before={"status": Status.EXECUTING},
            after={"status": Status.FAILED, "failure_reason": failure},
        )
        logger.warning(
            "approval.failed",
            extra={"request_id": request.pk, "action": request.action, "reason": failure},
        )
        return
    request.complete()
    request.result = result
    request.save(update_fields=["status", "result", "finished_at", "preconditions_at_execution"])
    audit_record(
        actor=actor,
        event_type="approval.executed",
        obj=request,
        before={"status": Status.EXECUTING},
        after={"status": Status.EXECUTED, "result": result},
    )
    logger.info("approval.executed", extra={"request_id": request.pk, "action": request.action})


@service_entry_point
def approval_reject(*, request_id: int, actor: Any, reason: str, password: str) -> ApprovalRequest:
    """An eligible person other than the requester vetoes the request: it becomes
    `rejected`, which is final. Step-up password as for approving.

    Raises ValidationFailed (empty "reason"), NotPermitted ("password_incorrect",
    "self_approval", "not_eligible"), Conflict (not pending, "expired",
    "already_decided"), NotFound.
    """
    return refusal_noted(
        "reject",
        lambda: _reject(request_id=request_id, actor=actor, reason=reason, password=password),
        actor=actor,
        metadata={"request_id": request_id},
    )


def _reject(*, request_id: int, actor: Any, reason: str, password: str) -> ApprovalRequest:
    reason = reason_given(reason, missing="Say why you reject it.")
    _check_password(actor, password)
    deferred: DomainError | None = None
    with transaction.atomic(durable=True):
        request = lock_request(request_id)
        now = timezone.now()
        deferred = _check_can_decide(request, actor, now)
        if deferred is None:
            _record_decision(request, actor, Approval.Decision.REJECT, reason, now)
            request.reject()
            request.decided_at = now
            request.closed_reason = reason
            request.save(update_fields=["status", "decided_at", "closed_reason"])
            audit_record(
                actor=actor,
                event_type="approval.rejected",
                obj=request,
                before={"status": Status.PENDING},
                after={"status": Status.REJECTED, "reason": reason},
            )
    if deferred is not None:
        raise deferred
    logger.info("approval.rejected", extra={"request_id": request.pk, "action": request.action})
    return request
