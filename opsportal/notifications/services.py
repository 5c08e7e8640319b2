"""Telling people about things.

`notify(...)` is the one entry for every app: it writes the in-app notifications
inside the caller's transaction (so they exist if and only if the change that
caused them commits), deduplicated per (recipient, kind, dedupe_key) when a key is
given, and returns how many were new.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from opsportal.audit.services import audit_record, durable_entry_point
from opsportal.core.errors import ValidationFailed
from opsportal.notifications.models import (
    BODY_MAX,
    DEDUPE_KEY_MAX,
    TITLE_MAX,
    URL_MAX,
    Notification,
)
from opsportal.notifications.registry import get_notification_kind


def _clip(value: str, limit: int) -> str:
    """Messages are written by the portal, not typed: a long one is cut, not refused."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def notify(
    *,
    kind: str,
    recipients: Iterable[Any],
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str = "",
) -> int:
    """Create one in-app notification of the registered `kind` for each recipient
    (users; inactive ones and duplicates are skipped) inside the caller's transaction.

    With a `dedupe_key`, a recipient who already has a notification of this kind and
    key gets no second one (a retried task or a re-sent alert notifies once).
    Returns how many notifications were new. ValueError for an unregistered kind.
    """
    get_notification_kind(kind)
    if len(dedupe_key) > DEDUPE_KEY_MAX:
        raise ValidationFailed("The dedupe key is too long.", field="dedupe_key")
    people = {user.pk: user for user in recipients if user is not None and user.is_active}
    if not people:
        return 0
    with transaction.atomic():
        if dedupe_key:
            already = set(
                Notification.objects.filter(
                    recipient_id__in=people, kind=kind, dedupe_key=dedupe_key
                ).values_list("recipient_id", flat=True)
            )
        else:
            already = set()
        created: list[Notification] = []
        for pk in sorted(set(people) - already):
            row = Notification(
                recipient_id=pk,
                kind=kind,
                title=_clip(title, TITLE_MAX),
                body=_clip(body, BODY_MAX),
                url=_clip(url, URL_MAX),
                dedupe_key=dedupe_key,
            )
            try:
                # A savepoint each: a concurrent writer of the same key loses quietly.
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                continue
            created.append(row)
        if created:
            audit_record(
                actor=None,
                event_type="notification.created",
                metadata={
                    "kind": kind,
                    "dedupe_key": dedupe_key,
                    "recipients": [row.recipient_id for row in created],
                    "title": created[0].title,
                },
            )
    return len(created)


def notifications_mark_read_in_transaction(
    *, actor: Any, notification_ids: Iterable[int] | None = None
) -> int:
    """Mark the actor's unread notifications read: the given ids (others' ids are
    ignored), or all of them when `notification_ids` is None. Returns how many."""
    unread = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    ids = list(unread.select_for_update().values_list("pk", flat=True))
    if not ids:
        return 0
    Notification.objects.filter(pk__in=ids).update(read_at=timezone.now())
    audit_record(actor=actor, event_type="notification.read", metadata={"notifications": ids})
    return len(ids)


notifications_mark_read = durable_entry_point(notifications_mark_read_in_transaction)
