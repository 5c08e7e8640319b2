"""Template tag for the notifications header fragment."""

from __future__ import annotations

from typing import Any

from django import template

from opsportal.notifications.selectors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def notifications_unread(context: Any) -> int | None:
    return unread_count(context.get("user"))
