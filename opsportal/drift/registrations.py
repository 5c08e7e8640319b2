"""What the drift app registers with the apps below it (from DriftConfig.ready)."""

from __future__ import annotations

from opsportal.controls.preconditions import register_live_precondition
from opsportal.controls.selectors import register_gate_neutral_check
from opsportal.drift.clock import (
    NEUTRAL_CLOCK_DRIFT,
    NEUTRAL_CLOCK_UNVERIFIED,
    gate_clock_drift,
    gate_clock_unverified,
)
from opsportal.drift.selectors import clock_drift_precondition


def register() -> None:
    # Gate evaluation order: kill switch (HALT) → clock drift → clock unverified → ALLOW.
    register_gate_neutral_check(NEUTRAL_CLOCK_DRIFT, gate_clock_drift)
    register_gate_neutral_check(NEUTRAL_CLOCK_UNVERIFIED, gate_clock_unverified)
    register_live_precondition(
        "clock_drift", "Clock drift healthy and fresh", clock_drift_precondition
    )
