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


@dataclass
class OversightSeed:
    """Reviews, action items, clock and configuration drift and audit verifications
    for the monthly report, with the figures it must state."""

    reviews_due: int = 0
    reviews_on_time: int = 0
    reviews_overdue: int = 0
    reviews_done: int = 0
    items_created: int = 0
    items_closed: int = 0
    items_open: int = 0
    items_overdue: int = 0
    worst: dict[str, str] = field(default_factory=dict)  # source -> "1500.0 ms"
    breaches: dict[str, int] = field(default_factory=dict)
    neutral: dict[str, str] = field(default_factory=dict)
    findings_opened: int = 0
    findings_resolved: int = 0
    verified_events: int = 0


def seed_oversight(users) -> OversightSeed:
    """For the range today - 20 days .. today (as seed_monthly). Every review hangs off
    one incident detected before the range, so the incident figures do not move."""
    from incidents.models import ActionItem
    from opsportal.audit.models import AuditEvent, AuditVerification
    from opsportal.drift.models import ClockCheck, ConfigFinding, ConfigTarget, TimeSource
    from tests.incidents.reviews.factories import ActionItemFactory, ReviewFactory

    now, today = timezone.now(), timezone.now().date()
    days = dt.timedelta(days=1)
    seed = OversightSeed()
    old = IncidentFactory(severity="SEV1", detected_at=now - 60 * days)

    def review(revision, due, approved, created=now - 8 * days):
        return ReviewFactory(
            incident=old,
            revision=revision,
            created_at=created,
            due_at=due,
            approved_at=approved,
            state="approved" if approved else "draft",
        )

    r1 = review(1, now - 5 * days, now - 6 * days)  # due in range, approved on time
    review(2, now - 4 * days, now - 2 * days)  # due in range, approved late
    review(3, now - 3 * days, None)  # due in range, still a draft: overdue
    review(4, now + 10 * days, None)  # due after the range
    review(5, now - 40 * days, now - 41 * days, created=now - 45 * days)  # before the range
    seed.reviews_due, seed.reviews_on_time, seed.reviews_overdue, seed.reviews_done = 3, 1, 2, 2

    def action(due_in_days, created_days_ago, closed_days_ago=None):
        return ActionItemFactory(
            review=r1,
            owner=users["operator1"],
            due_on=today + due_in_days * days,
            created_at=now - created_days_ago * days,
            status=ActionItem.Status.DONE if closed_days_ago else ActionItem.Status.OPEN,
            closed_at=now - closed_days_ago * days if closed_days_ago else None,
        )

    action(-2, 10)  # open, overdue
    action(5, 10)  # open
    action(5, 10, closed_days_ago=3)  # closed in the range
    action(-30, 50)  # created before the range, still open, overdue
    action(-40, 50, closed_days_ago=45)  # closed before the range
    seed.items_created, seed.items_closed, seed.items_open, seed.items_overdue = 3, 1, 3, 2

    env = EnvironmentFactory(slug="drift-env")
    valr = TimeSource.objects.create(
        name="valr-time", kind="http", url="http://127.0.0.1:9/time", json_field="epochTime"
    )
    ntp = TimeSource.objects.create(name="ntp-pool", kind="ntp", ntp_host="127.0.0.1")
    for source, at, status, offset, drill in [
        (valr, 3, "healthy", 120.0, False),
        (valr, 3, "warning", -350.0, False),
        (valr, 2, "breach", 1500.0, False),
        (valr, 2, "breach", -1200.0, False),
        (valr, 1, "unreachable", None, False),
        (valr, 1, "breach", 5000.0, True),  # a drill: not a real breach
        (valr, 40, "breach", 9000.0, False),  # before the range
        (ntp, 1, "healthy", 30.0, False),
    ]:
        ClockCheck.objects.create(
            source=source,
            checked_at=now - at * days,
            status=status,
            offset_ms=offset,
            is_drill=drill,
        )
    seed.worst = {"valr-time": "1500.0 ms", "ntp-pool": "30.0 ms"}
    seed.breaches = {"valr-time": 2, "ntp-pool": 0}
    set_at = now - 2 * days
    for event_type, at in [
        ("clock_drift.neutral_set", set_at),
        ("clock_drift.neutral_lifted", set_at + dt.timedelta(hours=2, minutes=30)),
    ]:
        AuditEvent.objects.create(
            occurred_at=at,
            event_type=event_type,
            object_type="drift.timesource",
            object_id=str(valr.pk),
        )
    seed.neutral = {"valr-time": "2 h 30 min", "ntp-pool": "none"}

    target = ConfigTarget.objects.create(environment=env, location="/tmp/x.toml", format="toml")
    for opened, resolved in [(5, 4), (2, None), (50, 45)]:
        ConfigFinding.objects.create(
            target=target,
            opened_at=now - opened * days,
            resolved_at=now - resolved * days if resolved else None,
            baseline_sha256="a" * 64,
            running_sha256="b" * 64,
        )
    seed.findings_opened, seed.findings_resolved = 2, 1

    AuditVerification.objects.create(
        started_at=now - 10 * days, finished_at=now - 10 * days, ok=False, reason="hash"
    )
    AuditVerification.objects.create(
        started_at=now - 2 * days,
        finished_at=now - 2 * days,
        ok=True,
        events_checked=1234,
        through_seq=1234,
        message="The chain is intact.",
    )
    seed.verified_events = 1234
    return seed


WHYS = [
    {"question": "Why did the strategy loop?", "answer": "The fill handler retried on a reject."},
    {"question": "Why retry on a reject?", "answer": "Rejects were treated as timeouts."},
]
ROOT_CAUSE = "No distinction between rejects and timeouts in the order gateway."
ACTION_TITLE = "Add a pre-trade notional check"


def approved_review(users):
    """A SEV1 resolved through the services, its review written (two whys, a factor,
    an action item), submitted and signed by two reviewers: approved."""
    from incidents.models import PostIncidentReview
    from incidents.reviews import services as reviews
    from incidents.services import opening
    from tests.incidents.reviews.conftest import item, resolve, sign, write

    incident = opening.incident_open(
        actor=users["operator1"], title="Runaway orders on VALR", severity="SEV1"
    )
    resolve(incident, users["commander"])
    # Resolving queues the review's creation on commit; with a real worker under test
    # the task is not run in-process, so ensure it here (the service is idempotent).
    reviews.review_ensure_for_resolved(incident_id=incident.pk)
    review = PostIncidentReview.objects.get(incident=incident)
    write(
        review,
        users["commander"],
        whys=WHYS,
        root_cause=ROOT_CAUSE,
        lessons="Treat rejects as final.",
        verification_plan="Replay the day's rejects in staging.",
        action_items=[item(users["operator1"], title=ACTION_TITLE)],
    )
    reviews.review_submit(review_id=review.pk, actor=users["commander"])
    sign(review, users["risk"], "senior_reviewer")
    sign(review, users["operator2"], "second_reviewer")
    review.refresh_from_db()
    assert review.state == "approved"
    return review
