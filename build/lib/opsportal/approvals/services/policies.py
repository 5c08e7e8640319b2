"""Approval policies: how many approvers of which roles, and how long a request lives."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from opsportal.accounts.roles import ROLES, role_grants
from opsportal.approvals.models import ApprovalPolicy
from opsportal.approvals.registry import decide_permissions
from opsportal.audit.services import audit_record, durable_entry_point
from opsportal.core.errors import ValidationFailed


def approval_policy_check_groups(*, action: str, eligible_groups: list[str]) -> None:
    """Refuse eligible groups that are not roles, or roles whose grants lack the
    permission the action declares for approving (`ActionSpec.decide_permission`,
    `approvals.decide_approvalrequest` by default): the auditor, who may change
    nothing, can never be made an approver. Raises ValidationFailed (field
    "eligible_groups") naming the refused roles and the ones that may approve."""
    needed = set(decide_permissions(action))
    grants = role_grants()
    may = [role for role in ROLES if needed <= grants[role]]
    if not eligible_groups:
        raise ValidationFailed(
            "Choose at least one role that may approve: " + ", ".join(may) + ".",
            field="eligible_groups",
        )
    unknown = sorted(set(eligible_groups) - set(ROLES))
    if unknown:
        raise ValidationFailed(
            f"Unknown role {', '.join(unknown)}: eligible groups must be role names: "
            + ", ".join(ROLES)
            + ".",
            field="eligible_groups",
        )
    refused = [role for role in ROLES if role in eligible_groups and role not in may]
    if refused:
        raise ValidationFailed(
            f"{', '.join(refused)} may not approve '{action}': approving needs "
            f"{', '.join(sorted(needed))}, which that role does not hold. "
            f"Roles that may approve: {', '.join(may)}.",
            code="role_may_not_approve",
            field="eligible_groups",
        )


def approval_policy_save_in_transaction(
    *,
    actor: Any,
    action: str,
    approvals_required: int,
    eligible_groups: list[str],
    expiry_seconds: int,
    description: str = "",
) -> ApprovalPolicy:
    """Create or change the policy of `action`, in the caller's transaction (the
    admin's change form holds one; `approval_policy_save` is the entry point that
    owns one). Applies to requests made afterwards; pending requests keep their
    snapshot.

    Raises ValidationFailed for fewer than one approver, an unknown role or one that
    may not approve the action (`approval_policy_check_groups`), or an expiry under
    60 seconds.
    """
    if approvals_required < 1:
        raise ValidationFailed("At least one approver is needed.", field="approvals_required")
    approval_policy_check_groups(action=action, eligible_groups=eligible_groups)
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


approval_policy_save = durable_entry_point(approval_policy_save_in_transaction)
