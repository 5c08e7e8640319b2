"""Template tags for the approvals header fragment and pages."""

from __future__ import annotations

import json
from typing import Any

from django import template

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
