"""Step-up passwords, throttled like sign-in (issue 14 item 4).

Approving, rejecting, signing off and completing a kill-switch recovery ask for the
user's password again. A wrong one is refused and counted: after
OPSPORTAL_LOGIN_FAILURE_LIMIT wrong passwords within OPSPORTAL_LOGIN_LOCKOUT_SECONDS
the user's step-up is locked — the right password too — until the oldest of those
failures is that old. The failures are counted from the audit trail
(`auth.step_up_failed`, one per wrong password), so the count survives the rolled-back
transaction of the refused action, holds across processes and needs no cache; the
lockout itself is audited once (`auth.step_up_locked_out`).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from opsportal.audit.models import AuditEvent
from opsportal.audit.services import refusal_attach
from opsportal.core.errors import NotPermitted

STEP_UP_FAILED = "auth.step_up_failed"
STEP_UP_LOCKED_OUT = "auth.step_up_locked_out"


def retry_in_words(seconds: float) -> str:
    """'45 seconds', '1 minute', '15 minutes' (rounded up) for a wait of `seconds`."""
    if seconds < 60:
        count, unit = max(1, math.ceil(seconds)), "second"
    else:
        count, unit = math.ceil(seconds / 60), "minute"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def step_up_check(
    *,
    actor: Any,
    password: str,
    purpose: str,
    wrong_password_message: str = "Your password was not accepted.",  # noqa: S107 - a message
    field: str = "password",
) -> None:
    """Return if `password` is `actor`'s and their step-up is not locked out.

    `purpose` names the action in the audit trail ("approval", "signoff"). Call it
    in a `service_entry_point`, which writes the failure events attached to the error
    after its transaction rolls back.

    Raises NotPermitted, on `field`: "step_up_locked" ("Too many attempts with
    a wrong password: try again in 12 minutes.") while locked out, whatever the
    password; "password_incorrect" (`wrong_password_message`) for a wrong or empty one.
    """
    limit = settings.OPSPORTAL_LOGIN_FAILURE_LIMIT
    window = timedelta(seconds=settings.OPSPORTAL_LOGIN_LOCKOUT_SECONDS)
    now = timezone.now()
    recent = list(
        AuditEvent.objects.filter(
            actor_id=actor.pk, event_type=STEP_UP_FAILED, occurred_at__gt=now - window
        )
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        wait = (recent[limit - 1] + window - now).total_seconds()
        raise NotPermitted(
            f"Too many attempts with a wrong password: try again in {retry_in_words(wait)}.",
            code="step_up_locked",
            field=field,
        )
    if password and actor.check_password(password):
        return
    exc = NotPermitted(wrong_password_message, code="password_incorrect", field=field)
    failures = len(recent) + 1
    refusal_attach(
        exc,
        actor=actor,
        event_type=STEP_UP_FAILED,
        metadata={"purpose": purpose, "failures": failures},
    )
    if failures == limit:
        refusal_attach(
            exc,
            actor=actor,
            event_type=STEP_UP_LOCKED_OUT,
            metadata={
                "purpose": purpose,
                "failures": failures,
                "seconds": int(window.total_seconds()),
            },
        )
    raise exc
