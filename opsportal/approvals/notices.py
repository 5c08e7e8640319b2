"""Approval notifications: a new request goes to the people who may approve it (its
eligible roles, without the requester); the outcome goes to the requester.
Registered at import (approvals' `ready()` imports this module)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.registry import get_action
from opsportal.notifications.messages import utc_text
from opsportal.notifications.registry import register_notification_kind
from opsportal.notifications.selectors import people_in_roles
from opsportal.notifications.services import notify

REQUESTED = "approval.requested"
DECIDED = "approval.decided"

register_notification_kind(REQUESTED, label="Approval requested from you", email_default=True)
register_notification_kind(DECIDED, label="Your approval request was decided", email_default=True)


def _label(request: ApprovalRequest) -> str:
    try:
        return get_action(request.action).label
    except KeyError:
        return request.action


def notify_requested(request: ApprovalRequest) -> int:
    """Tell everyone who may decide `request` (inside its transaction)."""
    return notify(
        kind=REQUESTED,
        recipients=people_in_roles(request.eligible_groups, exclude=request.requester),
        title=f"Approval needed: {_label(request)} — {request.target_repr}",
        body=(
            f"Requested by {request.requester.get_username()}: {request.reason}\n"
            f"Approvals needed: {request.approvals_required}. "
            f"Expires: {utc_text(request.expires_at)}."
        ),
        url=reverse("approvals:detail", kwargs={"pk": request.pk}),
        dedupe_key=f"approval:{request.pk}:rev{request.payload_revision}",
    )


def notify_decided(request: ApprovalRequest, *, outcome: str, by: Any) -> int:
    """Tell the requester how `request` ended ("approved and executed", "rejected",
    "approved but failed to execute")."""
    detail = f" Reason: {request.closed_reason}" if request.closed_reason else ""
    return notify(
        kind=DECIDED,
        recipients=[request.requester],
        title=f"Your request was {outcome}: {_label(request)} — {request.target_repr}",
        body=f"Decided by {getattr(by, 'username', '') or 'the system'}.{detail}",
        url=reverse("approvals:detail", kwargs={"pk": request.pk}),
        dedupe_key=f"approval:{request.pk}:decided",
    )
