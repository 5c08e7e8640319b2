"""The default approval policies (issue 3), created by a data migration and ensured
again after every migrate (the test runner's flush re-emits post_migrate). Existing
policies are never changed here: admins own them once they exist."""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps

DEFAULT_POLICIES = [
    {
        "action": "live_transition",
        "description": "DRY_RUN -> LIVE: one approver besides the requester.",
        "approvals_required": 1,
        "eligible_groups": ["operator", "risk_officer"],
        "expiry_seconds": 3600,
    },
    {
        "action": "kill_switch_resume",
        "description": "Resume trading after a kill: a risk officer approves.",
        "approvals_required": 1,
        "eligible_groups": ["risk_officer"],
        "expiry_seconds": 3600,
    },
    {
        "action": "role_grant",
        "description": "Grant risk officer, admin or superuser: another admin approves.",
        "approvals_required": 1,
        "eligible_groups": ["admin"],
        "expiry_seconds": 86400,
    },
]


def ensure_default_policies(apps: Any = global_apps) -> None:
    policy_model = apps.get_model("approvals", "ApprovalPolicy")
    for policy in DEFAULT_POLICIES:
        fields = dict(policy)
        policy_model.objects.get_or_create(action=fields.pop("action"), defaults=fields)


def ensure_default_policies_after_migrate(
    sender: Any, apps: Any = global_apps, **kwargs: Any
) -> None:
    try:
        apps.get_model("approvals", "ApprovalPolicy")
    except LookupError:  # migrating backwards past 0001
        return
    ensure_default_policies(apps)
