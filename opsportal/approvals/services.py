"""Writes for four-eyes approvals. Every rule of DESIGN.md's "Approval request"
paragraph is enforced here, so it holds for every path (views, API, admin, commands,
shell):

- the policy is copied onto the request when it is made;
- the requester never approves (or rejects) their own request;
- one user counts once per payload revision (a database unique constraint);
- any rejection by an eligible approver vetoes, and is final;
- an expired, cancelled, rejected or finished request cannot be approved;
- an approval binds to the payload hash: amending the payload voids earlier approvals;
- the final approval claims the request (approved -> executing) under the row lock,
  in the same transaction, before any side effect; the action's preconditions are
  checked again and the request ends `executed` or `failed` with the reason;
- approving and rejecting ask for the approver's password again (step-up);
- refused attempts are audited in a transaction of their own, after the refused one
  has rolled back.

Lock order: the target row, then the request row. Code that holds a lock on a
target (an environment) and then calls `approval_cancel` follows the same order.
Call these services outside an open transaction when you can: a refusal's audit
event is written after the refused transaction ends, and if the caller holds an
outer transaction that rolls back, the refusal event goes with it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from opsportal.approvals.models import Approval, ApprovalPolicy, ApprovalRequest
from opsportal.approvals.registry import ActionSpec, PreconditionResult, get_action
from opsportal.audit.services import audit_record, audit_record_standalone
from opsportal.core.errors import Conflict, DomainError, NotFound, NotPermitted, ValidationFailed
from opsportal.core.hashing import canonical_json, text_sha256

logger = logging.getLogger(__name__)
T = TypeVar("T")
Status = ApprovalRequest.Status

EXPIRE_BATCH_SIZE = 500
# A payload is what people review before approving: keep it readable.
MAX_PAYLOAD_CHARS = 64_000


# --- helpers -------------------------------------------------------------------------


def payload_canonical_json(payload: Any) -> str:
    """The canonical JSON text of `payload` (`opsportal.core.hashing`), the input of
    its SHA-256. ValidationFailed (field "payload") unless it is a JSON object of JSON
    values of at most MAX_PAYLOAD_CHARS characters."""
    if not isinstance(payload, dict):
        raise ValidationFailed("The payload must be a JSON object.", field="payload")
    try:
        text = canonical_json(payload)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            f"The payload must contain only JSON values ({exc}).", field="payload"
        ) from exc
    if len(text) > MAX_PAYLOAD_CHARS:
        raise ValidationFailed(
            f"The payload is too large (at most {MAX_PAYLOAD_CHARS} characters of JSON).",
            field="payload",
        )
    return text


def payload_sha256(payload: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of `payload`; raises as
    `payload_canonical_json`."""
    return text_sha256(payload_canonical_json(payload))


def _refusal_audited(operation: str, fn: Callable[[], T], *, actor: Any, metadata: dict) -> T:
    """Run `fn`; if it refuses (DomainError), record `approval.refused` in a
    transaction of its own after `fn`'s transaction has rolled back, and re-raise."""
    try:
        return fn()
    except DomainError as exc:
        request_id = metadata.get("request_id")
        obj = ApprovalRequest.objects.filter(pk=request_id).first() if request_id else None
        audit_record_standalone(
            actor=actor,
            event_type="approval.refused",
            obj=obj,
            metadata={**metadata, "operation": operation, "code": exc.code, "message": exc.message},
        )
        logger.info(
            "approval.refused",
            extra={"operation": operation, "code": exc.code, "request_id": request_id},
        )
        raise


def _spec_for(action: str) -> ActionSpec:
    try:
        return get_action(action)
    except KeyError:
        raise ValidationFailed(
            f"Unknown action '{action}'.", code="unknown_action", field="action"
        ) from None


def _lock_target(content_type: ContentType, target_id: str) -> models.Model | None:
    model = content_type.model_class()
    if model is None:
        return None
    return model._default_manager.select_for_update().filter(pk=target_id).first()


def _lock_request(request_id: int) -> ApprovalRequest:
    request = ApprovalRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFound("No such approval request.", field="request")
    return request


def _failed_labels(results: list[PreconditionResult]) -> list[str]:
    return [r.label + (f" ({r.detail})" if r.detail else "") for r in results if not r.passed]


def _check_password(actor: Any, password: str) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise NotPermitted("Sign in to decide on approval requests.", code="not_authenticated")
    if not password or not actor.check_password(password):
        raise NotPermitted(
            "Your password was not accepted.", code="password_incorrect", field="password"
        )


def _user_groups(user: Any) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def _is_expired(request: ApprovalRequest, now: Any) -> bool:
    return request.status == Status.PENDING and now >= request.expires_at


def _mark_expired(request: ApprovalRequest, now: Any) -> None:
    """Expire a locked pending request (caller holds its lock, inside a transaction)."""
    request.expire()
    request.decided_at = now
    request.closed_reason = "Expired before enough approvals."
    request.save(update_fields=["status", "decided_at", "closed_reason"])
    audit_record(
        actor=None,
        event_type="approval.expired",
        obj=request,
        before={"status": Status.PENDING},
        after={"status": Status.EXPIRED, "expires_at": request.expires_at},
    )
    logger.info("approval.expired", extra={"request_id": request.pk, "action": request.action})


def _not_open_error(request: ApprovalRequest) -> Conflict:
    messages = {
        Status.EXPIRED: ("This request has expired.", "expired"),
        Status.CANCELLED: ("This request was cancelled.", "cancelled"),
        Status.REJECTED: ("This request was rejected; a rejection is final.", "rejected"),
        Status.EXECUTED: (
            "This request has already been approved and executed.",
            "already_executed",
        ),
        Status.FAILED: (
            "This request has already been approved; its execution failed.",
            "already_failed",
        ),
    }
    message, code = messages.get(
        request.status, (f"This request is {request.get_status_display().lower()}.", "not_pending")
    )
    return Conflict(message, code=code)


# --- create and amend ----------------------------------------------------------------


def approval_request_create(
    *, action: str, target: models.Model, reason: str, payload: dict, actor: Any
) -> ApprovalRequest:
    """Ask for approval of `action` on `target` with `payload` (frozen, hashed).

    The action's preconditions are evaluated now and must all pass; the action's
    policy is copied onto the request. Runs in the caller's transaction when there
    is one; locks the target row.

    Raises:
        ValidationFailed: empty reason ("reason"), unknown action or no policy
            ("action"), target of the wrong model ("target"), payload not a JSON
            object ("payload").
        Conflict: a precondition fails ("preconditions_failed", message lists the
            failed checks); an open request for the same action and target exists
            ("already_pending").
    """
    label = target._meta.label_lower if isinstance(target, models.Model) else type(target).__name__
    metadata = {"action": action, "target": f"{label}:{getattr(target, 'pk', '')}"}
    return _refusal_audited(
        "create",
        lambda: _create(action=action, target=target, reason=reason, payload=payload, actor=actor),
        actor=actor,
        metadata=metadata,
    )


def _create(
    *, action: str, target: models.Model, reason: str, payload: dict, actor: Any
) -> ApprovalRequest:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotPermitted("Sign in to request an approval.", code="not_authenticated")
    spec = _spec_for(action)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why this is needed.", code="required", field="reason")
    if not isinstance(target, models.Model) or target._meta.label_lower != spec.target_model:
        raise ValidationFailed(
            f"The target of '{action}' must be a {spec.target_model}.",
            code="wrong_target",
            field="target",
        )
    canonical = payload_canonical_json(payload)
    frozen = json.loads(canonical)
    digest = text_sha256(canonical)
    policy = ApprovalPolicy.objects.filter(action=action).first()
    if policy is None:
        raise ValidationFailed(
            f"No approval policy for '{action}'; an admin must create one.",
            code="no_policy",
            field="action",
        )
    content_type = ContentType.objects.get_for_model(target)
    with transaction.atomic():
        locked = _lock_target(content_type, str(target.pk))
        if locked is None:
            raise NotFound("The target no longer exists.", field="target")
        now = timezone.now()
        # A request that is past its expiry but not yet swept must not block a new one.
        for stale in ApprovalRequest.objects.select_for_update().filter(
            action=action,
            target_type=content_type,
            target_id=str(target.pk),
            status=Status.PENDING,
            expires_at__lte=now,
        ):
            _mark_expired(stale, now)
        results = spec.preconditions(locked, frozen)
        failed = _failed_labels(results)
        if failed:
            raise Conflict(
                "Preconditions not met: " + "; ".join(failed) + ".", code="preconditions_failed"
            )
        request = ApprovalRequest(
            action=action,
            target_type=content_type,
            target_id=str(target.pk),
            target_repr=str(locked)[:200],
            requester=actor,
            reason=reason,
            payload=frozen,
            payload_sha256=digest,
            approvals_required=policy.approvals_required,
            eligible_groups=list(policy.eligible_groups),
            expires_at=now + timedelta(seconds=policy.expiry_seconds),
            created_at=now,
        )
        try:
            with transaction.atomic():
                request.save(force_insert=True)
        except IntegrityError:
            raise Conflict(
                f"An open '{action}' request for {locked} already exists.",
                code="already_pending",
            ) from None
        audit_record(
            actor=actor,
            event_type="approval.requested",
            obj=request,
            after={
                "action": action,
                "target": request.target_repr,
                "reason": reason,
                "payload_sha256": digest,
                "approvals_required": request.approvals_required,
                "eligible_groups": request.eligible_groups,
                "expires_at": request.expires_at,
                "preconditions": {r.code: r.passed for r in results},
            },
        )
    logger.info("approval.requested", extra={"request_id": request.pk, "action": action})
    return request


def approval_request_amend(*, request_id: int, actor: Any, payload: dict) -> ApprovalRequest:
    """The requester replaces the payload of their pending request. The new payload
    gets a new hash and revision; approvals given so far bound to the old hash and
    no longer count. The preconditions are evaluated again. No-op if the payload is
    unchanged.

    Raises NotPermitted ("not_requester"), Conflict (not pending, "expired",
    "preconditions_failed"), ValidationFailed ("payload").
    """
    return _refusal_audited(
        "amend",
        lambda: _amend(request_id=request_id, actor=actor, payload=payload),
        actor=actor,
        metadata={"request_id": request_id},
    )


def _amend(*, request_id: int, actor: Any, payload: dict) -> ApprovalRequest:
    canonical = payload_canonical_json(payload)
    digest = text_sha256(canonical)
    deferred: DomainError | None = None
    with transaction.atomic():
        request = _lock_request(request_id)
        if actor is None or request.requester_id != actor.pk:
            raise NotPermitted("Only the requester may amend a request.", code="not_requester")
        now = timezone.now()
        if _is_expired(request, now):
            _mark_expired(request, now)
            deferred = _not_open_error(request)
        elif request.status != Status.PENDING:
            raise _not_open_error(request)
        elif digest != request.payload_sha256:
            spec = _spec_for(request.action)
            frozen = json.loads(canonical)
            failed = _failed_labels(spec.preconditions(request.target, frozen))
            if failed:
                raise Conflict(
                    "Preconditions not met: " + "; ".join(failed) + ".",
                    code="preconditions_failed",
                )
            before = {
                "payload_sha256": request.payload_sha256,
                "revision": request.payload_revision,
            }
            request.payload = frozen
            request.payload_sha256 = digest
            request.payload_revision += 1
            request.save(update_fields=["payload", "payload_sha256", "payload_revision"])
            audit_record(
                actor=actor,
                event_type="approval.amended",
                obj=request,
                before=before,
                after={"payload_sha256": digest, "revision": request.payload_revision},
            )
    if deferred is not None:
        raise deferred
    return request


# --- decide ---------------------------------------------------------------------------


def _check_can_decide(request: ApprovalRequest, actor: Any, now: Any) -> DomainError | None:
    """Checks shared by grant and reject, on the locked request. Returns an error to
    raise after the transaction commits (expiry is recorded), or raises at once."""
    if request.requester_id == actor.pk:
        raise NotPermitted(
            "You cannot approve or reject your own request; another person must.",
            code="self_approval",
        )
    if _is_expired(request, now):
        _mark_expired(request, now)
        return _not_open_error(request)
    if request.status != Status.PENDING:
        raise _not_open_error(request)
    if not _user_groups(actor) & set(request.eligible_groups):
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
    return _refusal_audited(
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
    _check_password(actor, password)
    head = ApprovalRequest.objects.filter(pk=request_id).select_related("target_type").first()
    if head is None:
        raise NotFound("No such approval request.", field="request")
    deferred: DomainError | None = None
    with transaction.atomic():
        # Lock order: target, then request (see the module docstring).
        target = _lock_target(head.target_type, head.target_id)
        request = _lock_request(request_id)
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
    try:
        spec = get_action(request.action)
    except KeyError:
        failure = f"The action '{request.action}' is no longer registered."
        spec = None
    if spec is not None and target is None:
        failure = "The target no longer exists."
    if spec is not None and not failure:
        try:
            failed = _failed_labels(spec.preconditions(target, request.payload))
        except DomainError as exc:
            failed = [exc.message]
        if failed:
            failure = "Preconditions no longer hold: " + "; ".join(failed) + "."
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
        request.save(update_fields=["status", "failure_reason", "finished_at"])
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
    request.save(update_fields=["status", "result", "finished_at"])
    audit_record(
        actor=actor,
        event_type="approval.executed",
        obj=request,
        before={"status": Status.EXECUTING},
        after={"status": Status.EXECUTED, "result": result},
    )
    logger.info("approval.executed", extra={"request_id": request.pk, "action": request.action})


def approval_reject(*, request_id: int, actor: Any, reason: str, password: str) -> ApprovalRequest:
    """An eligible person other than the requester vetoes the request: it becomes
    `rejected`, which is final. Step-up password as for approving.

    Raises ValidationFailed (empty "reason"), NotPermitted ("password_incorrect",
    "self_approval", "not_eligible"), Conflict (not pending, "expired",
    "already_decided"), NotFound.
    """
    return _refusal_audited(
        "reject",
        lambda: _reject(request_id=request_id, actor=actor, reason=reason, password=password),
        actor=actor,
        metadata={"request_id": request_id},
    )


def _reject(*, request_id: int, actor: Any, reason: str, password: str) -> ApprovalRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why you reject it.", code="required", field="reason")
    _check_password(actor, password)
    deferred: DomainError | None = None
    with transaction.atomic():
        request = _lock_request(request_id)
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


def approval_cancel(*, request_id: int, actor: Any, reason: str) -> ApprovalRequest:
    """The requester withdraws their pending request, or the system (actor=None, e.g.
    the kill switch triggering again while recovering) cancels it. Idempotent: a
    cancelled request is returned unchanged.

    Raises ValidationFailed (empty "reason"), NotPermitted ("not_requester"),
    Conflict (no longer pending), NotFound.
    """
    return _refusal_audited(
        "cancel",
        lambda: _cancel(request_id=request_id, actor=actor, reason=reason),
        actor=actor,
        metadata={"request_id": request_id},
    )


def _cancel(*, request_id: int, actor: Any, reason: str) -> ApprovalRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why you cancel it.", code="required", field="reason")
    with transaction.atomic():
        request = _lock_request(request_id)
        if actor is not None and request.requester_id != actor.pk:
            raise NotPermitted("Only the requester may cancel a request.", code="not_requester")
        if request.status == Status.CANCELLED:
            return request
        if request.status != Status.PENDING:
            raise _not_open_error(request)
        request.cancel()
        request.decided_at = timezone.now()
        request.closed_reason = reason
        request.save(update_fields=["status", "decided_at", "closed_reason"])
        audit_record(
            actor=actor,
            event_type="approval.cancelled",
            obj=request,
            before={"status": Status.PENDING},
            after={"status": Status.CANCELLED, "reason": reason},
        )
    logger.info("approval.cancelled", extra={"request_id": request.pk, "action": request.action})
    return request


def approvals_expire_due() -> int:
    """Mark pending requests past their `expires_at` as expired, up to
    EXPIRE_BATCH_SIZE per call (rows locked by a concurrent decision are skipped and
    picked up next time). Returns how many were expired; safe to run twice."""
    with transaction.atomic():
        now = timezone.now()
        due = list(
            ApprovalRequest.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, expires_at__lte=now)
            .order_by("expires_at")[:EXPIRE_BATCH_SIZE]
        )
        for request in due:
            _mark_expired(request, now)
    return len(due)


# --- policies --------------------------------------------------------------------------


def approval_policy_save(
    *,
    actor: Any,
    action: str,
    approvals_required: int,
    eligible_groups: list[str],
    expiry_seconds: int,
    description: str = "",
) -> ApprovalPolicy:
    """Create or change the policy of `action` (admins, through the admin). Applies
    to requests made afterwards; pending requests keep their snapshot.

    Raises ValidationFailed for fewer than one approver, an unknown role, or an
    expiry under 60 seconds.
    """
    from opsportal.accounts.roles import ROLES

    if approvals_required < 1:
        raise ValidationFailed("At least one approver is needed.", field="approvals_required")
    unknown = sorted(set(eligible_groups) - set(ROLES))
    if unknown or not eligible_groups:
        raise ValidationFailed(
            "Eligible groups must be role names: " + ", ".join(ROLES) + ".",
            field="eligible_groups",
        )
    if expiry_seconds < 60:
        raise ValidationFailed("Expiry must be at least 60 seconds.", field="expiry_seconds")
    with transaction.atomic():
        policy = ApprovalPolicy.objects.select_for_update().filter(action=action).first()
        before = (
            {
                "approvals_required": policy.approvals_required,
                "eligible_groups": policy.eligible_groups,
                "expiry_seconds": policy.expiry_seconds,
            }
            if policy
            else None
        )
        policy = policy or ApprovalPolicy(action=action)
        policy.approvals_required = approvals_required
        policy.eligible_groups = sorted(set(eligible_groups))
        policy.expiry_seconds = expiry_seconds
        policy.description = description
        policy.save()
        audit_record(
            actor=actor,
            event_type="approval.policy_changed",
            obj=policy,
            before=before,
            after={
                "approvals_required": approvals_required,
                "eligible_groups": policy.eligible_groups,
                "expiry_seconds": expiry_seconds,
            },
        )
    return policy
