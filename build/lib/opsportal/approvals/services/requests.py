"""Making, amending, cancelling and expiring approval requests."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from opsportal.approvals.models import ApprovalPolicy, ApprovalRequest
from opsportal.approvals.services._common import (
    Status,
    check_may_request,
    failed_labels,
    is_expired,
    lock_request,
    lock_target,
    mark_expired,
    not_open_error,
    preconditions_snapshot,
    refusal_noted,
    spec_for,
)
from opsportal.approvals.services.payload import payload_canonical_json
from opsportal.audit.services import audit_record, service_entry_point
from opsportal.core.errors import Conflict, DomainError, NotFound, NotPermitted, ValidationFailed
from opsportal.core.hashing import text_sha256
from opsportal.core.text import reason_given

logger = logging.getLogger(__name__)

EXPIRE_BATCH_SIZE = 500


@service_entry_point
def approval_request_create(
    *, action: str, target: models.Model, reason: str, payload: dict, actor: Any
) -> ApprovalRequest:
    """Ask for approval of `action` on `target` with `payload` (frozen, hashed).

    The action's preconditions are evaluated now and must all pass; the action's
    policy is copied onto the request. Owns its transaction and locks the target row;
    inside another service's transaction use `approval_request_create_in_transaction`.

    Raises:
        NotPermitted: `actor` does not hold the action's declared
            `request_permission` ("not_permitted_to_request"), whatever the path.
        ValidationFailed: empty reason ("reason"), unknown action or no policy
            ("action"), target of the wrong model ("target"), payload not a JSON
            object ("payload").
        Conflict: a precondition fails ("preconditions_failed", message lists the
            failed checks); an open request for the same action and target exists
            ("already_pending").
    """
    return _create_noted(
        action=action, target=target, reason=reason, payload=payload, actor=actor, durable=True
    )


def approval_request_create_in_transaction(
    *, action: str, target: models.Model, reason: str, payload: dict, actor: Any
) -> ApprovalRequest:
    """`approval_request_create` composed into the caller's transaction (which must
    be a service entry point: it writes the `approval.refused` event after rolling
    back). Same arguments, result and errors."""
    return _create_noted(
        action=action, target=target, reason=reason, payload=payload, actor=actor, durable=False
    )


def _create_noted(
    *, action: str, target: models.Model, reason: str, payload: dict, actor: Any, durable: bool
) -> ApprovalRequest:
    label = target._meta.label_lower if isinstance(target, models.Model) else type(target).__name__
    metadata = {"action": action, "target": f"{label}:{getattr(target, 'pk', '')}"}
    return refusal_noted(
        "create",
        lambda: _create(
            action=action,
            target=target,
            reason=reason,
            payload=payload,
            actor=actor,
            durable=durable,
        ),
        actor=actor,
        metadata=metadata,
    )


def _create(
    *, action: str, target: models.Model, reason: str, payload: dict, actor: Any, durable: bool
) -> ApprovalRequest:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotPermitted("Sign in to request an approval.", code="not_authenticated")
    spec = spec_for(action)
    check_may_request(spec, actor)
    reason = reason_given(reason, missing="Say why this is needed.")
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
    with transaction.atomic(durable=durable):
        locked = lock_target(content_type, str(target.pk))
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
            mark_expired(stale, now)
        results = spec.preconditions(locked, frozen)
        failed = failed_labels(results)
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
            preconditions_at_request=preconditions_snapshot(results),
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


@service_entry_point
def approval_request_amend(*, request_id: int, actor: Any, payload: dict) -> ApprovalRequest:
    """The requester replaces the payload of their pending request. The new payload
    gets a new hash and revision; approvals given so far bound to the old hash and
    no longer count. The preconditions are evaluated again. No-op if the payload is
    unchanged.

    Raises NotPermitted ("not_requester"; "not_permitted_to_request" when the
    requester no longer holds the action's request permission), Conflict (not pending, "expired",
    "preconditions_failed"), ValidationFailed ("payload").
    """
    return refusal_noted(
        "amend",
        lambda: _amend(request_id=request_id, actor=actor, payload=payload),
        actor=actor,
        metadata={"request_id": request_id},
    )


def _amend(*, request_id: int, actor: Any, payload: dict) -> ApprovalRequest:
    canonical = payload_canonical_json(payload)
    digest = text_sha256(canonical)
    deferred: DomainError | None = None
    with transaction.atomic(durable=True):
        request = lock_request(request_id)
        if actor is None or request.requester_id != actor.pk:
            raise NotPermitted("Only the requester may amend a request.", code="not_requester")
        check_may_request(spec_for(request.action), actor)  # roles may have changed since
        now = timezone.now()
        if is_expired(request, now):
            mark_expired(request, now)
            deferred = not_open_error(request)
        elif request.status != Status.PENDING:
            raise not_open_error(request)
        elif digest != request.payload_sha256:
            spec = spec_for(request.action)
            frozen = json.loads(canonical)
            results = spec.preconditions(request.target, frozen)
            failed = failed_labels(results)
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
            # What approvers now decide on was evaluated at this amendment.
            request.preconditions_at_request = preconditions_snapshot(results)
            request.save(
                update_fields=[
                    "payload",
                    "payload_sha256",
                    "payload_revision",
                    "preconditions_at_request",
                ]
            )
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


@service_entry_point
def approval_cancel(*, request_id: int, actor: Any, reason: str) -> ApprovalRequest:
    """The requester withdraws their pending request, or the system (actor=None, e.g.
    the kill switch triggering again while recovering) cancels it. Idempotent: a
    cancelled request is returned unchanged. Owns its transaction; inside another
    service's use `approval_cancel_in_transaction`.

    Raises ValidationFailed (empty "reason"), NotPermitted ("not_requester"),
    Conflict (no longer pending), NotFound.
    """
    return refusal_noted(
        "cancel",
        lambda: _cancel(request_id=request_id, actor=actor, reason=reason, durable=True),
        actor=actor,
        metadata={"request_id": request_id},
    )


def approval_cancel_in_transaction(*, request_id: int, actor: Any, reason: str) -> ApprovalRequest:
    """`approval_cancel` composed into the caller's transaction (the caller's entry
    point writes the refusal event). Same arguments, result and errors."""
    return refusal_noted(
        "cancel",
        lambda: _cancel(request_id=request_id, actor=actor, reason=reason, durable=False),
        actor=actor,
        metadata={"request_id": request_id},
    )


def _cancel(*, request_id: int, actor: Any, reason: str, durable: bool) -> ApprovalRequest:
    reason = reason_given(reason, missing="Say why you cancel it.")
    with transaction.atomic(durable=durable):
        request = lock_request(request_id)
        if actor is not None and request.requester_id != actor.pk:
            raise NotPermitted("Only the requester may cancel a request.", code="not_requester")
        if request.status == Status.CANCELLED:
            return request
        if request.status != Status.PENDING:
            raise not_open_error(request)
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


@service_entry_point
def approvals_expire_due() -> int:
    """Mark pending requests past their `expires_at` as expired, up to
    EXPIRE_BATCH_SIZE per call (rows locked by a concurrent decision are skipped and
    picked up next time). Returns how many were expired; safe to run twice."""
    with transaction.atomic(durable=True):
        now = timezone.now()
        due = list(
            ApprovalRequest.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, expires_at__lte=now)
            .order_by("expires_at")[:EXPIRE_BATCH_SIZE]
        )
        for request in due:
            mark_expired(request, now)
    return len(due)
