"""Telling people about things.

`notify(...)` is the one entry for every app: it writes the in-app notifications
inside the caller's transaction (so they exist if and only if the change that
caused them commits), deduplicated per (recipient, kind, dedupe_key) when a key is
given, and returns how many were new.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from opsportal.audit.services import audit_record, durable_entry_point
from opsportal.core.errors import ValidationFailed
from opsportal.notifications.models import (
    BODY_MAX,
    DEDUPE_KEY_MAX,
    TITLE_MAX,
    URL_MAX,
    Channel,
    Delivery,
    Notification,
    NotificationPreference,
    WebhookEndpoint,
)
from opsportal.notifications.registry import (
    NotificationKind,
    get_notification_kind,
    notification_kinds,
)
from opsportal.notifications.tasks import enqueue

logger = logging.getLogger(__name__)


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
    registered = get_notification_kind(kind)
    if len(dedupe_key) > DEDUPE_KEY_MAX:
        raise ValidationFailed("The dedupe key is too long.", field="dedupe_key")
    title, body, url = _clip(title, TITLE_MAX), _clip(body, BODY_MAX), _clip(url, URL_MAX)
    people = {user.pk: user for user in recipients if user is not None and user.is_active}
    with transaction.atomic():
        deliveries = _webhook_deliveries(kind, title, body, url, dedupe_key)
        if not people:
            _queue_on_commit(deliveries)
            return 0
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
                title=title,
                body=body,
                url=url,
                dedupe_key=dedupe_key,
            )
            try:
                # A savepoint each: a concurrent writer of the same key loses quietly.
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                continue
            created.append(row)
        deliveries += _email_deliveries(registered, created, people)
        _queue_on_commit(deliveries)
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


def notify_best_effort(**kwargs: Any) -> int:
    """`notify(**kwargs)` for callers whose change must not fail because telling people
    about it failed (a kill switch): a database error inside notify rolls back its
    savepoint only, is logged, and counts 0. Programming errors still raise."""
    try:
        return notify(**kwargs)
    except DatabaseError:
        logger.exception("notify failed", extra={"kind": kwargs.get("kind")})
        return 0


def _webhook_deliveries(
    kind: str, title: str, body: str, url: str, dedupe_key: str
) -> list[Delivery]:
    """One delivery per enabled endpoint that subscribes to `kind` (once per dedupe key)."""
    made = []
    for endpoint in WebhookEndpoint.objects.filter(enabled=True).order_by("pk"):
        if not endpoint.wants(kind):
            continue
        row = Delivery(
            channel=Channel.WEBHOOK,
            kind=kind,
            endpoint=endpoint,
            to=endpoint.url,
            title=title,
            body=body,
            url=url,
            dedupe_key=dedupe_key,
        )
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            continue  # this endpoint already has this event
        made.append(row)
    return made


def _email_deliveries(
    kind: NotificationKind, created: list[Notification], people: dict[Any, Any]
) -> list[Delivery]:
    """An email for each new notification whose recipient wants this kind by email
    (their preference, else the kind's default) and has an address."""
    if not created:
        return []
    choices = dict(
        NotificationPreference.objects.filter(
            user_id__in=[n.recipient_id for n in created], kind=kind.code
        ).values_list("user_id", "email")
    )
    rows = [
        Delivery(
            channel=Channel.EMAIL,
            kind=kind.code,
            notification=n,
            to=people[n.recipient_id].email,
            title=n.title,
            body=n.body,
            url=n.url,
            dedupe_key=n.dedupe_key,
        )
        for n in created
        if people[n.recipient_id].email and choices.get(n.recipient_id, kind.email_default)
    ]
    return Delivery.objects.bulk_create(rows)


def _queue_on_commit(deliveries: list[Delivery]) -> None:
    if deliveries:
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: enqueue(ids))


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


def notification_preferences_set_in_transaction(*, actor: Any, email: dict[str, bool]) -> None:
    """Set the actor's "by email" choice for each registered kind in `email` (other
    keys are ignored). Audited with the kinds that changed."""
    before = dict(
        NotificationPreference.objects.select_for_update()
        .filter(user=actor)
        .values_list("kind", "email")
    )
    changed = {}
    for kind in notification_kinds():
        if kind.code not in email:
            continue
        wanted = bool(email[kind.code])
        if before.get(kind.code, kind.email_default) == wanted:
            continue
        NotificationPreference.objects.update_or_create(
            user=actor, kind=kind.code, defaults={"email": wanted}
        )
        changed[kind.code] = wanted
    if changed:
        audit_record(
            actor=actor,
            event_type="notification.preferences_changed",
            obj=actor,
            after={"email": changed},
        )


notification_preferences_set = durable_entry_point(notification_preferences_set_in_transaction)
