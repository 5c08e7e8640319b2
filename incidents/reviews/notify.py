"""The one function that tells people a review deadline passed.

It records the overdue on the incident timeline and notifies the people concerned
in-app (`opsportal.notifications.services.notify`, in the caller's transaction, with
a dedupe key so a retried job tells nobody twice). Email and webhooks follow each
person's notification choices inside `notify`. Registers its notification kinds at
import (incidents' `ready()` imports this module).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from incidents.models import Incident, TimelineEntry
from incidents.services._base import timeline_write
from opsportal.notifications.messages import utc_text
from opsportal.notifications.registry import register_notification_kind
from opsportal.notifications.services import notify

REVIEW_OVERDUE = "incident_review.overdue"
ACTION_ITEM_OVERDUE = "action_item.overdue"
REVIEW_DUE = "incident_review.due"
ACTION_ITEM_DUE = "action_item.due"
ACTION_ITEM_DUE_WITHIN_HOURS = 24

register_notification_kind(REVIEW_DUE, label="Post-incident review to write, with its due time")
register_notification_kind(ACTION_ITEM_DUE, label="Action item you own is due within 24 hours")

register_notification_kind(
    REVIEW_OVERDUE, label="Post-incident review you author or command is overdue"
)
register_notification_kind(ACTION_ITEM_OVERDUE, label="Action item you own is overdue")


def notify_overdue(
    *,
    kind: str,
    incident: Incident,
    recipients: Iterable[Any],
    title: str,
    body: str,
    url: str,
    dedupe_key: str,
    metadata: dict[str, Any],
) -> int:
    """Record `title` (`body`) on `incident`'s timeline, naming who is told, and
    notify them (`kind` is REVIEW_OVERDUE or ACTION_ITEM_OVERDUE). Returns how many
    notifications were new."""
    people = [u for u in recipients if u is not None]
    names = sorted({u.get_username() for u in people})
    who = f" Notified: {', '.join(names)}." if names else ""
    timeline_write(
        incident=incident,
        actor=None,
        kind=TimelineEntry.Kind.REVIEW,
        body=f"{title}. {body}{who}",
        metadata={**metadata, "recipients": names, "dedupe_key": dedupe_key, "url": url},
    )
    return notify(
        kind=kind, recipients=people, title=title, body=body, url=url, dedupe_key=dedupe_key
    )


def notify_review_due(*, review: Any, commander: Any, actor: Any, required: bool) -> int:
    """A review was created with a due time: tell its author and the incident
    commander (not whoever started it: they know). Once per review (dedupe key)."""
    if review.due_at is None:
        return 0
    incident = review.incident
    actor_pk = getattr(actor, "pk", None)
    people = [u for u in {review.author, commander} if u is not None and u.pk != actor_pk]
    kind = "required" if required else "offered (optional)"
    return notify(
        kind=REVIEW_DUE,
        recipients=people,
        title=f"Post-incident review of {incident.reference} due {utc_text(review.due_at)}",
        body=f"A post-incident review of {incident.reference} ({incident.title}) is {kind}; "
        f"author: {review.author.get_username() if review.author else 'nobody yet'}. "
        f"Due {utc_text(review.due_at)}.",
        url=review.get_absolute_url(),
        dedupe_key=f"review-due:{review.pk}",
    )


def notify_action_item_due(item: Any) -> int:
    """An open action item due within the next 24 hours: tell its owner, once per
    item and due date (a changed due date is a new reminder)."""
    return notify(
        kind=ACTION_ITEM_DUE,
        recipients=[item.owner],
        title=f"Action item due {item.due_on:%Y-%m-%d}: {item.title}",
        body=f"From the review of {item.incident.reference}; due by the end of "
        f"{item.due_on:%Y-%m-%d} ({item.get_priority_display().lower()} priority).",
        url=reverse("incidents:detail", args=[item.incident_id]) + "#review",
        dedupe_key=f"action-item-due:{item.pk}:{item.due_on:%Y-%m-%d}",
    )
