"""Helpers shared by the controls services."""

from __future__ import annotations

from typing import Any

from opsportal.controls.hooks import ControlChange, notify_control_change
from opsportal.controls.models import Environment
from opsportal.core.errors import ValidationFailed


def user_or_none(actor: Any) -> Any:
    """`actor` when it is a signed-in user; None for the system."""
    return actor if getattr(actor, "is_authenticated", False) else None


def locked(environment: Environment) -> Environment:
    """The environment's row, locked for this transaction (re-read: never trust the
    caller's instance for state)."""
    return Environment.objects.select_for_update().get(pk=environment.pk)


def require_text(value: str, field: str, what: str) -> str:
    """`value` stripped; ValidationFailed (code "required") naming `field` when it is
    empty."""
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(f"{what} is required.", code="required", field=field)
    return text


def state(env: Environment) -> dict[str, Any]:
    """The gate-relevant state, for audit before/after snapshots."""
    return {"mode": env.mode, "kill_switch": env.kill_switch, "version": env.version}


def link_incident(row: Any, change: ControlChange) -> None:
    """Tell the control listeners about `change` and record on the history `row`
    (a KillSwitchEvent or ModeChange) the incident they linked it to."""
    linked = notify_control_change(change)
    if linked != row.incident_id:
        row.incident_id = linked
        row.save(update_fields=["incident_id"])
