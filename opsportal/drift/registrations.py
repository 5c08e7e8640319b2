"""What the drift app registers with the apps below it (from DriftConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps

from opsportal.controls.preconditions import register_live_precondition
from opsportal.controls.selectors import register_gate_neutral_check
from opsportal.drift import config
from opsportal.drift.clock import (
    NEUTRAL_CLOCK_DRIFT,
    NEUTRAL_CLOCK_UNVERIFIED,
    gate_clock_drift,
    gate_clock_unverified,
)
from opsportal.drift.selectors import clock_drift_precondition

CONFIG_BASELINE_POLICY = {
    "action": config.ACTION_CONFIG_BASELINE,
    "description": "Set or replace a configuration baseline: a risk officer approves.",
    "approvals_required": 1,
    "eligible_groups": ["risk_officer"],
    "expiry_seconds": 86400,
}


def ensure_policy_after_migrate(sender: Any, apps: Any = global_apps, **kwargs: Any) -> None:
    """The approval policy of `config_baseline_approve` (created once; admins own it
    afterwards), ensured after every migrate like approvals' default policies."""
    try:
        policy_model = apps.get_model("approvals", "ApprovalPolicy")
    except LookupError:
        return
    fields = dict(CONFIG_BASELINE_POLICY)
    policy_model.objects.get_or_create(action=fields.pop("action"), defaults=fields)


def register() -> None:
    # Gate evaluation order: kill switch (HALT) → clock drift → clock unverified → ALLOW.
    register_gate_neutral_check(NEUTRAL_CLOCK_DRIFT, gate_clock_drift)
    register_gate_neutral_check(NEUTRAL_CLOCK_UNVERIFIED, gate_clock_unverified)
    register_live_precondition(
        "clock_drift", "Clock drift healthy and fresh", clock_drift_precondition
    )
    register_live_precondition(
        "config_baseline", "Configuration matches its approved baseline", config.config_precondition
    )
    config.register()
