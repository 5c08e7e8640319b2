"""Data for the report tests, with the figures the reports must state computed here,
from the factories' own numbers (never by the code under test)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from statistics import median

from django.utils import timezone

from drills.models import DrillSchedule
from incidents.models import Status
from opsportal.controls.models import Environment
from opsportal.controls.services import mode_change_checklist_item_tick, mode_rollback
from opsportal.library.models import ChecklistItem
from opsportal.library.procedure_files import parse_procedure
from opsportal.library.services import procedure_publish
from tests.controls.factories import EnvironmentFactory
from tests.drills.factories import completed_run, publish
from tests.incidents.factories import IncidentFactory

# Minutes to acknowledge per severity (None: never acknowledged).
TTA_MINUTES = {
    "SEV1": [2, 4, 10],  # SLA 5 min: one breach, median 4 min
    "SEV2": [10, 20],  # SLA 15 min: one breach, median 15 min
    "SEV3": [30, 45, 50, 90, None],  # SLA 1 h: two breaches (90, never), median 47 min
    "SEV4": [],
}
SLA_MINUTES = {"SEV1": 5, "SEV2": 15, "SEV3": 60, "SEV4": 24 * 60}


@dataclass
class MonthlySeed:
    start: dt.date
    end: dt.date
    counts: dict[str, int] = field(default_factory=dict)
    breaches: dict[str, int] = field(default_factory=dict)
    mtta_median_min: dict[str, int] = field(default_factory=dict)
    drills_due: int = 0
    drills_done: int = 0


def seed_monthly(users) -> MonthlySeed:
    today = timezone.now().date()
    start, end = today - dt.timedelta(days=20), today
    seed = MonthlySeed(start=start, end=end)
    base = timezone.now() - dt.timedelta(days=5, hours=3)
    for code, minutes in TTA_MINUTES.items():
        for i, m in enumerate(minutes):
            detected = base + dt.timedelta(hours=i)
            IncidentFactory(
                severity=code,
                detected_at=detected,
                status=Status.ACKNOWLEDGED if m is not None else Status.DETECTED,
                acknowledged_at=detected + dt.timedelta(minutes=m) if m is not None else None,
            )
        acked = [m for m in minutes if m is not None]
        seed.counts[code] = len(minutes)
        seed.breaches[code] = sum(1 for m in minutes if m is None or m > SLA_MINUTES[code])
        if acked:
            seed.mtta_median_min[code] = int(median(acked))
    # Outside the range: must not be counted.
    IncidentFactory(severity="SEV1", detected_at=timezone.now() - dt.timedelta(days=40))

    paper = EnvironmentFactory(slug="paper")
    drill = publish()
    # Due in the period and done; due in the period and missed (another environment).
    DrillSchedule.objects.create(
        procedure=drill.procedure, environment=paper, frequency="monthly", first_due_on=start
    )
    other = EnvironmentFactory(slug="paper-2")
    DrillSchedule.objects.create(
        procedure=drill.procedure, environment=other, frequency="monthly", first_due_on=start
    )
    completed_run(version=drill, environment=paper, lead=users["operator1"])
    seed.drills_due, seed.drills_done = 2, 1
    return seed


ROLLBACK_STEPS = [
    "Trigger kill switch",
    "Check open positions",
    "Close all positions",
    "Disable live trading gates",
    "Restore DRY_RUN configuration",
    "Restart in DRY_RUN",
    "Verify DRY_RUN",
    "Document rollback",
]


def seed_rollback(users, *, slug: str = "valr-live"):
    """A LIVE environment rolled back to DRY_RUN through the real service, with the
    first two steps of its 8-step checklist ticked (the second with a note)."""
    procedure_publish(
        spec=parse_procedure(
            {
                "slug": "rollback-to-dry-run",
                "kind": "rollback",
                "title": "Rollback to DRY_RUN",
                "steps": [{"title": t, "instruction": f"Do: {t}"} for t in ROLLBACK_STEPS],
            },
            origin="test",
        )
    )
    env = EnvironmentFactory(slug=slug)
    # Going LIVE takes the four-eyes path (tested in tests/controls); here only the
    # rollback matters, so the environment is put in LIVE directly.
    Environment.objects.filter(pk=env.pk).update(mode="LIVE")
    env.refresh_from_db()
    change = mode_rollback(environment=env, actor=users["operator1"], reason="Fills diverged")
    items = list(
        ChecklistItem.objects.filter(checklist__target_id=str(change.pk)).order_by("position")
    )
    mode_change_checklist_item_tick(environment=env, item_id=items[0].pk, actor=users["operator1"])
    mode_change_checklist_item_tick(
        environment=env, item_id=items[1].pk, actor=users["operator2"], note="Flat: 0 BTC open"
    )
    return change
