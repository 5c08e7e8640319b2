"""Template tag for the notifications header fragment."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from opsportal.notifications.selectors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def notifications_unread(context: Any) -> int | None:
    return unread_count(context.get("user"))


@register.simple_tag
def notifications_poll_ms() -> int:
    """How often the header asks for the unread count (NOTIFICATIONS_POLL_SECONDS,
    default 30), in ms for static/js/notifications_poll.js."""
    return int(settings.NOTIFICATIONS_POLL_SECONDS * 1000)
