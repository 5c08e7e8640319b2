"""Template tags for the controls fragments in every page's header and on the
dashboard. Each returns None for a user without the permission, so the fragment
renders nothing."""

from __future__ import annotations

from typing import Any

from django import template

from opsportal.controls import models as control_models
from opsportal.controls.forms import KillSwitchTriggerForm
from opsportal.controls.models import Environment
from opsportal.controls.selectors import decide

register = template.Library()


@register.simple_tag(takes_context=True)
def kill_switch_header(context: Any) -> dict[str, Any] | None:
    """The header kill button's data (one query), or None without the trigger
    permission."""
    user = context.get("user")
    if user is None or not user.has_perm("controls.trigger_killswitch"):
        return None
    environments = list(Environment.objects.only("slug", "name", "kill_switch"))
    return {
        "form": KillSwitchTriggerForm(prefix="hdr"),
        "environments": environments,
    }


@register.simple_tag(takes_context=True)
def controls_dashboard(context: Any) -> list[tuple[Environment, Any]] | None:
    """Environments with their gate decision (one query), or None without the view
    permission."""
    user = context.get("user")
    if user is None or not user.has_perm("controls.view_environment"):
        return None
    return [
        (env, decide({"mode": env.mode, "kill_switch": env.kill_switch, "version": env.version}))
        for env in Environment.objects.all()
    ]


@register.filter
def decision_badge(decision: str) -> str:
    return {"ALLOW": "ok", "NEUTRAL": "warn", "HALT": "danger"}.get(decision, "")


@register.filter
def kill_switch_badge(state: str) -> str:
    return {"ACTIVE": "ok", "RECOVERING": "warn", "KILLED": "danger"}.get(state, "")


@register.filter
def reason_label(code: str) -> str:
    """A kill reason code as people read it: "emergency_l2" -> "Emergency L2 — system
    malfunction"; an unknown code is shown as it is."""
    return str(dict(control_models.ReasonCode.choices).get(code, code))
