"""Clock-drift notifications: a time source started holding the gate NEUTRAL (a
breach, or its clock could not be verified) and its recovery (two healthy checks in
a row). Registered at import (drift's `ready()` imports this module).

Told: operators and risk officers (live-trading runbook section 8: the desk acts,
risk knows new risk is stopped). Sent from inside the check's transaction with
`notify_best_effort`: telling people never undoes a NEUTRAL. One notice per source
and episode: the dedupe key names the check that started (or ended) the hold, and
a check is recorded once, so a repeated task or a second worker tells nobody twice.
"""

from __future__ import annotations

from django.urls import reverse

from opsportal.drift.clock import NEUTRAL_CLOCK_DRIFT
from opsportal.drift.models import ClockCheck, TimeSource
from opsportal.notifications.messages import utc_text
from opsportal.notifications.registry import register_notification_kind
from opsportal.notifications.selectors import people_in_roles
from opsportal.notifications.services import notify_best_effort

CLOCK_NEUTRAL = "clock_drift.neutral"
CLOCK_RECOVERED = "clock_drift.recovered"
AUDIENCE = ("operator", "risk_officer")

register_notification_kind(
    CLOCK_NEUTRAL, label="Clock drift breach or clock unverified", email_default=True
)
register_notification_kind(CLOCK_RECOVERED, label="Clock drift recovered")


def _offset(check: ClockCheck) -> str:
    if check.offset_ms is None:
        return f"{check.get_status_display()}" + (f" ({check.detail})" if check.detail else "")
    return f"offset {check.offset_ms:+.1f} ± {check.error_ms or 0:.1f} ms ({check.status})"


def _prefix(check: ClockCheck) -> str:
    return "[DRILL] " if check.is_drill else ""


def notify_clock_neutral(source: TimeSource, check: ClockCheck, gated: list[str]) -> int:
    """`source` started holding NEUTRAL (or moved from UNVERIFIED to DRIFT) with
    `check`; `gated` are the slugs of the environments whose gate it turns NEUTRAL."""
    breach = source.neutral_reason == NEUTRAL_CLOCK_DRIFT
    what = "Clock drift breach" if breach else "Clock unverified"
    lines = [
        f"Summary: {what} on time source {source.name}: {_offset(check)}.",
        f"Start time: {utc_text(check.checked_at)}",
        "Gate NEUTRAL (no new risk) for " + ", ".join(gated)
        if gated
        else "No gate changes: no LIVE environment is guarded by this source.",
        "Check the host's time sync (runbook 8.2); recovery needs two healthy checks.",
    ]
    if check.is_drill:
        lines.insert(0, "This is a drill.")
    return notify_best_effort(
        kind=CLOCK_NEUTRAL,
        recipients=people_in_roles(AUDIENCE),
        title=f"{_prefix(check)}{what} on {source.name} ({source.neutral_reason})",
        body="\n".join(lines),
        url=reverse("drift:source", kwargs={"pk": source.pk}),
        dedupe_key=f"clock-source:{source.pk}:{source.neutral_reason}:{check.pk}",
    )


def notify_clock_recovered(
    source: TimeSource, check: ClockCheck, previous_reason: str, lifted: list[str]
) -> int:
    body = (
        f"Time source {source.name} is healthy again since {utc_text(check.checked_at)} "
        f"({_offset(check)}, two healthy checks in a row); its {previous_reason} hold "
        f"is lifted" + (f" for {', '.join(lifted)}." if lifted else ".")
    )
    return notify_best_effort(
        kind=CLOCK_RECOVERED,
        recipients=people_in_roles(AUDIENCE),
        title=f"{_prefix(check)}Clock drift recovered on {source.name}",
        body=body,
        url=reverse("drift:source", kwargs={"pk": source.pk}),
        dedupe_key=f"clock-source:{source.pk}:recovered:{check.pk}",
    )
