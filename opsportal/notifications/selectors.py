"""Reading notifications (always the signed-in user's own)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from opsportal.notifications.models import Notification, NotificationPreference
from opsportal.notifications.registry import notification_kinds

PERMISSION = "notifications.view_notification"


def unread_count(user: Any) -> int | None:
    """How many unread notifications `user` has; None for a user who reads none (the
    header then shows nothing). One query."""
    if user is None or not user.is_authenticated or not user.has_perm(PERMISSION):
        return None
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def email_choices(user: Any) -> dict[str, bool]:
    """{kind: by email?} for every registered kind: the person's choice, else the
    kind's default."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    return {k.code: chosen.get(k.code, k.email_default) for k in notification_kinds()}
