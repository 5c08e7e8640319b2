"""Reading notifications (always the signed-in user's own)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
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


def people_in_roles(roles: Iterable[str], *, exclude: Any = None) -> QuerySet[Any]:
    """Active users in any of the role groups `roles` (e.g. ["operator"]), without
    `exclude` (a user, e.g. whoever caused the event). One query when iterated."""
    people = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=list(roles))
        .distinct()
        .order_by("pk")
    )
    if exclude is not None and getattr(exclude, "pk", None) is not None:
        people = people.exclude(pk=exclude.pk)
    return people
