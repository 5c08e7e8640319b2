"""The one function that tells people a review deadline passed.

Today it records the overdue on the incident timeline (in the caller's transaction,
once: the deadline job only calls it for rows it has just flagged). In-app
notifications (opsportal.notifications) and, later, email and webhooks go here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from incidents.models import Incident, TimelineEntry
from incidents.services._base import timeline_write


def notify_overdue(
    *,
    incident: Incident,
    recipients: Iterable[Any],
    title: str,
    body: str,
    url: str,
    dedupe_key: str,
    metadata: dict[str, Any],
) -> None:
    """Record `title` (`body`) on `incident`'s timeline, naming who should act."""
    names = sorted({u.get_username() for u in recipients})
    who = f" Notified: {', '.join(names)}." if names else ""
    timeline_write(
        incident=incident,
        actor=None,
        kind=TimelineEntry.Kind.REVIEW,
        body=f"{title}. {body}{who}",
        metadata={**metadata, "recipients": names, "dedupe_key": dedupe_key, "url": url},
    )
