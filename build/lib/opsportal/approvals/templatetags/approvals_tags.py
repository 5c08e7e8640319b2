"""Template tags for the approvals header fragment and pages."""

from __future__ import annotations

import json
from typing import Any

from django import template

from opsportal.accounts.roles import role_label
from opsportal.approvals.registry import get_action
from opsportal.approvals.selectors import approvals_waiting_count

register = template.Library()


@register.simple_tag(takes_context=True)
def approvals_waiting(context: Any) -> int | None:
    """How many requests wait for the signed-in user; None when they can decide
    nothing (the header then shows nothing)."""
    return approvals_waiting_count(context.get("user"))


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@register.filter
def action_label(action: str) -> str:
    """ "kill_switch_resume" -> its registered label ("Resume trading after a kill")."""
    try:
        return get_action(action).label
    except KeyError:
        return action


@register.filter
def role_labels(roles: list[str]) -> str:
    """["risk_officer", "operator"] -> "Risk officer, Operator"."""
    return ", ".join(role_label(r) for r in roles or [])
