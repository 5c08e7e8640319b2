"""Helpers shared by the approvals service modules (use the services, not these)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import models

from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.registry import (
    ActionSpec,
    PreconditionResult,
    get_action,
    request_permissions,
)
from opsportal.audit.services import audit_record, refusal_attach
from opsportal.core.errors import Conflict, DomainError, NotFound, NotPermitted, ValidationFailed

logger = logging.getLogger(__name__)
T = TypeVar("T")
Status = ApprovalRequest.Status


def refusal_noted(operation: str, fn: Callable[[], T], *, actor: Any, metadata: dict) -> T:
    """Run `fn`; if it refuses (DomainError), attach an `approval.refused` audit record
    to the error (written by the outermost service entry point once the refused
    transaction has rolled back: `opsportal.audit.services.service_entry_point`) and
    re-raise."""
    try:
        return fn()
    except DomainError as exc:
        request_id = metadata.get("request_id")
        refusal_attach(
            exc,
            actor=actor,
            event_type="approval.refused",
            # An unsaved instance names the request; it is looked up after the rollback.
            obj=ApprovalRequest(pk=request_id) if request_id else None,
            metadata={**metadata, "operation": operation, "code": exc.code, "message": exc.message},
        )
        logger.info(
            "approval.refused",
            extra={"operation": operation, "code": exc.code, "request_id": request_id},
        )
        raise


def spec_for(action: str) -> ActionSpec:
    try:
        return get_action(action)
    except KeyError:
        raise ValidationFailed(
            f"Unknown action '{action}'.", code="unknown_action", field="action"
        ) from None


def check_may_request(spec: ActionSpec, actor: Any) -> None:
    """Refuse `actor` unless they hold every permission `spec` declares for
    requesting it (NotPermitted "not_permitted_to_request")."""
    if not actor.is_active or not actor.has_perms(request_permissions(spec)):
        raise NotPermitted(
            f"You may not request '{spec.label}': it needs the permission "
            + " and ".join(request_permissions(spec))
            + ", which your roles do not hold.",
            code="not_permitted_to_request",
            field="action",
        )


def lock_target(content_type: ContentType, target_id: str) -> models.Model | None:
    model = content_type.model_class()
    if model is None:
        return None
    return model._default_manager.select_for_update().filter(pk=target_id).first()


def lock_request(request_id: int) -> ApprovalRequest:
    request = ApprovalRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFound("No such approval request.", field="request")
    return request


def failed_labels(results: list[PreconditionResult]) -> list[str]:
    return [r.label + (f" ({r.detail})" if r.detail else "") for r in results if not r.passed]


def preconditions_snapshot(results: list[PreconditionResult]) -> list[dict[str, Any]]:
    """`results` as stored on a request: [{"code", "label", "passed", "detail"}, ...]."""
    return [
        {"code": r.code, "label": r.label, "passed": bool(r.passed), "detail": r.detail}
        for r in results
    ]


def is_expired(request: ApprovalRequest, now: Any) -> bool:
    return request.status == Status.PENDING and now >= request.expires_at


def mark_expired(request: ApprovalRequest, now: Any) -> None:
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


def not_open_error(request: ApprovalRequest) -> Conflict:
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
