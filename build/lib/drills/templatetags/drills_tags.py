"""Template helpers for drills: the dashboard panel's data and display filters."""

from __future__ import annotations

from typing import Any

from django import template

from drills import selectors

register = template.Library()

_OUTCOME = {"pass": "ok", "fail": "danger", "skipped": "warn", "pending": ""}
_RESULT = {
    "passed": "ok",
    "passed_with_issues": "warn",
    "incomplete": "warn",
    "failed": "danger",
    "pending": "",
}
_STATE = {"signed_off": "ok", "completed": "ok", "in_progress": "warn", "aborted": "danger"}


@register.simple_tag(takes_context=True)
def drills_dashboard(context: Any) -> list[selectors.ScheduleStatus] | None:
    """Overdue drills and drills due within 14 days; None for a user who may not
    see schedules (the panel then renders nothing)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("drills.view_drillschedule"):
        return None
    return selectors.due_schedules(within_days=14)


@register.filter
def outcome_badge(value: str) -> str:
    return _OUTCOME.get(value, "")


@register.filter
def result_badge(value: str) -> str:
    return _RESULT.get(value, "")


@register.filter
def state_badge(value: str) -> str:
    return _STATE.get(value, "")


@register.filter
def seconds(value: float | None) -> str:
    """3.2 → "3.200 s"; None → "—"."""
    if value is None:
        return "—"
    return f"{value:.3f} s"
