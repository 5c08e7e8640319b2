"""When the kill switch of an environment was last seen to work: one answer for every
page and check that asks (DESIGN "Trading environment and controls": going LIVE
needs the kill switch verified within 24 h; live-trading runbook 4.3).

Two kinds of evidence count, and the newest wins:

- the verification controls records itself: `Environment.last_verified_at`, set when
  a kill triggered as a drill went KILLED and back to ACTIVE;
- evidence other apps register with `register_verification_source(source)`, where
  `source(environment) -> Verification | None` answers the newest passing evidence
  it holds (the drills app: the latest completed kill-switch drill or verification
  run whose trigger step passed). Controls sits below drills and never imports it.

The environment page's "Kill switch verified" and the go-live precondition "kill
switch drilled within 24 h" both read `kill_switch_verification`, so they cannot
disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsportal.controls.models import Environment


@dataclass(frozen=True)
class Verification:
    at: dt.datetime  # when the kill switch was seen to work (UTC)
    detail: str  # what showed it, for people: "Drill #12 (kill-switch-drill) completed …"


VerificationSource = Callable[["Environment"], "Verification | None"]
_SOURCES: list[VerificationSource] = []


def register_verification_source(source: VerificationSource) -> None:
    """Add a source of kill-switch verifications (idempotent). A source may cost one
    query; it must not write."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def kill_switch_verification(environment: Environment) -> Verification | None:
    """The newest verification of `environment`'s kill switch, or None when it was
    never verified. Costs one query per registered source (none for the recorded
    one: it is a column of `environment`)."""
    found: list[Verification] = []
    if environment.last_verified_at is not None:
        found.append(
            Verification(
                at=environment.last_verified_at,
                detail="Drill trigger and recovery recorded by the kill switch",
            )
        )
    for source in _SOURCES:
        answer = source(environment)
        if answer is not None:
            found.append(answer)
    return max(found, key=lambda v: v.at, default=None)
