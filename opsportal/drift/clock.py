"""Clock-drift classification and the gate's NEUTRAL reasons (no database access).

Limits per source, separately for a local clock running ahead of the source
(offset < 0) and one running behind (offset > 0); defaults from the live-trading
runbook 8: |offset| < 500 ms healthy, 500–800 warning, 800–1000 critical, over 1000
breach.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from opsportal.drift.models import ClockStatus, TimeSource

NEUTRAL_CLOCK_DRIFT = "NEUTRAL_CLOCK_DRIFT"
NEUTRAL_CLOCK_UNVERIFIED = "NEUTRAL_CLOCK_UNVERIFIED"
STALE_AFTER_INTERVALS = 3
HEALTHY_CHECKS_TO_RECOVER = 2


def classify(source: TimeSource, offset_ms: float) -> str:
    """The status of a measured offset against `source`'s limits."""
    if offset_ms < 0:  # the local clock is ahead of the source
        warning, critical, breach = (
            source.ahead_warning_ms,
            source.ahead_critical_ms,
            source.ahead_breach_ms,
        )
    else:
        warning, critical, breach = (
            source.behind_warning_ms,
            source.behind_critical_ms,
            source.behind_breach_ms,
        )
    size = abs(offset_ms)
    if size > breach:
        return ClockStatus.BREACH
    if size >= critical:
        return ClockStatus.CRITICAL
    if size >= warning:
        return ClockStatus.WARNING
    return ClockStatus.HEALTHY


def next_neutral_reason(previous: str, status: str, healthy_streak: int) -> str:
    """Whether a source holds its environments in NEUTRAL after a check of `status`.

    A breach → NEUTRAL_CLOCK_DRIFT. Unreachable or stale → NEUTRAL_CLOCK_UNVERIFIED
    (a held DRIFT stays DRIFT: we cannot tell it is over). Lifted only after
    `HEALTHY_CHECKS_TO_RECOVER` consecutive healthy checks (no flapping); a warning
    or critical check keeps what is held."""
    if status == ClockStatus.BREACH:
        return NEUTRAL_CLOCK_DRIFT
    if status in (ClockStatus.UNREACHABLE, ClockStatus.STALE):
        return previous or NEUTRAL_CLOCK_UNVERIFIED
    if status == ClockStatus.HEALTHY and healthy_streak >= HEALTHY_CHECKS_TO_RECOVER:
        return ""
    return previous


# --- the gate's NEUTRAL checks: they read only the environment row they are given ---


def gate_clock_drift(state: Mapping[str, Any]) -> bool:
    """NEUTRAL_CLOCK_DRIFT: a source guarding the environment is breached."""
    return state.get("neutral_reason") == NEUTRAL_CLOCK_DRIFT


def gate_clock_unverified(state: Mapping[str, Any]) -> bool:
    """NEUTRAL_CLOCK_UNVERIFIED, for a LIVE environment only: a guarding source is
    unreachable or stale, or no good check has refreshed `clock_fresh_until_ms` in
    time (the dead man's switch: even with every drift job stopped, the clock of a
    LIVE environment stops counting as verified three intervals after its last good
    check)."""
    if state.get("mode") != "LIVE":
        return False
    if state.get("neutral_reason") == NEUTRAL_CLOCK_UNVERIFIED:
        return True
    until = state.get("clock_fresh_until_ms")
    return until is not None and time.time() * 1000 > until
