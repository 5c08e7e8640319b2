"""Template tags for the controls fragments in every page's header and on the
dashboard. Each returns None for a user without the permission, so the fragment
renders nothing."""

from __future__ import annotations

from typing import Any

from django import template

from opsportal.controls import models as control_models
from opsportal.controls.forms import KillSwitchTriggerForm
from opsportal.controls.models import Environment
from opsportal.controls.selectors import (
    ModeChecklist,
    decide,
    gate_decisions,
    mode_change_checklists,
)

register = template.Library()


@register.simple_tag(takes_context=True)
def controls_header(context: Any) -> dict[str, Any] | None:
    """The sticky header's controls (one query): every environment's gate decision
    (for users who may view environments) and the kill button's form (for users who
    may trigger). None for a user who may do neither.

    The page tells the kill button what it is about through two context values a
    view may set: `page_environment_id` (the environment of the incident, drill run
    or environment shown: preselected) and `page_incident_id` (an open incident: the
    kill is linked to it when it is for the preselected environment, see
    `KillSwitchTriggerForm.incident_to_link`).
    """
    user = context.get("user")
    if user is None:
        return None
    can_view = user.has_perm("controls.view_environment")
    can_trigger = user.has_perm("controls.trigger_killswitch")
    if not (can_view or can_trigger):
        return None
    gates = gate_decisions()
    page_env = next((e for e, _ in gates if e.pk == context.get("page_environment_id")), None)
    return {
        "gates": gates if can_view else [],
        "can_trigger": can_trigger,
        "environments": [env for env, _ in gates],
        "form": KillSwitchTriggerForm(prefix="hdr"),
        "selected": page_env.slug if page_env else None,
        "from_incident": context.get("page_incident_id") if page_env else None,
    }


@register.simple_tag(takes_context=True)
def incident_mode_checklists(context: Any, incident_id: int) -> list[ModeChecklist]:
    """The rollback / live-transition checklists of mode changes linked to incident
    `incident_id` (three queries; empty for a user who may not view environments),
    for the incident page (`controls/_mode_checklists.html`)."""
    user = context.get("user")
    if user is None or not user.has_perm("controls.view_environment"):
        return []
    return mode_change_checklists(incident_id=incident_id)


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
