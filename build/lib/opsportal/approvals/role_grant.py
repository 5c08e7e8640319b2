"""Granting a privileged role is a four-eyes action: `role_grant` (issue 14 item 5).

An admin who gives someone the risk officer or admin role, or superuser status, in
the admin (accounts.services.user_roles_change_in_transaction) gets an approval
request instead; another admin approves it, and then it is applied. It lives here,
in the approvals app, because it needs both the engine and accounts: approvals is the
lowest layer that may import accounts and register actions, and no domain app above
(controls, incidents, drills) has anything to do with people's roles. Registered
from ApprovalsConfig.ready(), with the accounts hook that creates the request.
"""

from __future__ import annotations

from typing import Any

from opsportal.accounts.models import User
from opsportal.accounts.roles import PRIVILEGED_ROLES
from opsportal.accounts.services import (
    register_privileged_grant_requester,
    user_privileged_grant_in_transaction,
)
from opsportal.approvals.models import Approval, ApprovalRequest
from opsportal.approvals.registry import ActionSpec, PreconditionResult, register_action
from opsportal.approvals.services import approval_request_create_in_transaction

ACTION = "role_grant"
ROLE_LABELS = {"risk_officer": "risk officer", "admin": "admin"}


def _what(roles: list[str], superuser: bool) -> str:
    parts = [ROLE_LABELS.get(role, role) for role in roles] + (["superuser"] if superuser else [])
    return " and ".join(parts)


def role_grant_preconditions(target: Any, payload: dict) -> list[PreconditionResult]:
    roles = list(payload.get("roles") or [])
    return [
        PreconditionResult("user_active", f"{target} is an active user", bool(target.is_active)),
        PreconditionResult(
            "roles_privileged",
            "Only privileged roles (risk officer, admin) go through this request",
            set(roles) <= set(PRIVILEGED_ROLES) and bool(roles or payload.get("superuser")),
        ),
    ]


def role_grant_execute(target: Any, payload: dict, request: ApprovalRequest) -> dict:
    approvers = [
        approval.approver
        for approval in Approval.objects.filter(
            request=request, decision=Approval.Decision.APPROVE
        ).select_related("approver")
    ]
    return user_privileged_grant_in_transaction(
        actor=request.requester,
        user=target,
        roles=list(payload.get("roles") or []),
        superuser=bool(payload.get("superuser")),
        approved_by=approvers,
    )


def role_grant_request(*, actor: Any, user: User, roles: list[str], superuser: bool) -> str:
    """accounts' privileged-grant requester: an approval request in the caller's
    transaction. Returns the message shown to the admin who asked."""
    request = approval_request_create_in_transaction(
        action=ACTION,
        target=user,
        reason=f"Grant {_what(roles, superuser)} to {user}",
        payload={"roles": sorted(roles), "superuser": superuser},
        actor=actor,
    )
    return (
        f"Granting {_what(roles, superuser)} to {user} needs another admin's approval: "
        f"approval request #{request.pk} is waiting."
    )


def register() -> None:
    register_action(
        ActionSpec(
            action=ACTION,
            label="Grant a privileged role (risk officer, admin, superuser)",
            target_model="accounts.user",
            preconditions=role_grant_preconditions,
            execute=role_grant_execute,
            target_lookup=lambda key: User.objects.filter(username=key).first(),
            # Admins manage people: the one who asks and the one who approves both
            # need to be allowed to change users (they hold no approvals.decide_*).
            request_permission="accounts.change_user",
            decide_permission="accounts.change_user",
        )
    )
    register_privileged_grant_requester(role_grant_request)
