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

from incidents.models import Incident, TimelineEntry
from incidents.services._base import timeline_write
from opsportal.notifications.registry import register_notification_kind
from opsportal.notifications.services import notify

REVIEW_OVERDUE = "incident_review.overdue"
ACTION_ITEM_OVERDUE = "action_item.overdue"

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
