"""Reads for drill schedules, runs and their results."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from drills.models.runs import (
    DrillActionItem,
    DrillPreCheckItem,
    DrillRun,
    DrillSchedule,
    DrillStepResult,
)
from opsportal.approvals.registry import PreconditionResult
from opsportal.controls.verification import Verification, kill_switch_verification
from opsportal.core.errors import NotFound
from opsportal.library.models import ProcedureStep, ProcedureVersion

# Procedures whose trigger/recovery steps the portal can time itself.
KILL_SWITCH_DRILL = "kill-switch-drill"
KILL_SWITCH_VERIFICATION = "kill-switch-verification"
AUTOMATED_PROCEDURES = frozenset({KILL_SWITCH_DRILL, KILL_SWITCH_VERIFICATION})

DONE_STATES = (DrillRun.State.COMPLETED, DrillRun.State.SIGNED_OFF)
OPEN_STATES = (DrillRun.State.PLANNED, DrillRun.State.IN_PROGRESS)
FREQUENCY_MONTHS = {"monthly": 1, "quarterly": 3, "semi_annual": 6}
# A drill needs at least two different signers (DESIGN "Drill"); used when a
# procedure names fewer.
DEFAULT_SIGNOFF_ROLES = ["drill_lead", "risk_officer"]
PRECONDITION_CODE = "kill_switch_drilled"


# ------------------------------------------------------------------- automation


def automation_kind(procedure_slug: str, step: ProcedureStep) -> str | None:
    """ "trigger" for a step that triggers the kill switch and expects HALT,
    "recovery" for the step that completes recovery and expects ALLOW, else None.
    Only for the kill-switch drill and verification procedures."""
    if procedure_slug not in AUTOMATED_PROCEDURES:
        return None
    title = step.title.lower()
    if "halt" in title and ("trigger" in title or "activate" in title):
        return "trigger"
    if "recover" in title and "allow" in title:
        return "recovery"
    return None


# ---------------------------------------------------------------------- results


def derive_run_result(run: DrillRun) -> str:
    """The run's result from its step outcomes and issues, never typed:
    failed if any step failed (a timed step over its target is a fail);
    pending while steps remain unrecorded; incomplete if a step was skipped (the
    shipped procedures' pass criteria read "passed when every step passes", and a
    skipped step, whatever its recorded reason, shows nothing: it is not a pass);
    passed_with_issues if every step passed and an issue (follow-up) was
    recorded; passed otherwise."""
    outcomes = set(run.step_results.values_list("outcome", flat=True))
    if DrillStepResult.Outcome.FAIL in outcomes:
        return DrillRun.Result.FAILED
    if DrillStepResult.Outcome.PENDING in outcomes or not outcomes:
        return DrillRun.Result.PENDING
    if DrillStepResult.Outcome.SKIPPED in outcomes:
        return DrillRun.Result.INCOMPLETE
    if run.action_items.exists():
        return DrillRun.Result.PASSED_WITH_ISSUES
    return DrillRun.Result.PASSED


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def run_result_summary(run: DrillRun) -> str:
    """The result in words that say what happened, e.g. "Incomplete: 7 of 13 steps
    skipped, 6 passed; no issues recorded" or "Failed: 1 of 3 steps failed". Counts
    come from the step outcomes and issues (prefetched ones when present), so the
    words always match the steps shown below them."""
    outcomes = [r.outcome for r in run.step_results.all()]
    total = len(outcomes)
    failed = outcomes.count(DrillStepResult.Outcome.FAIL)
    pending = outcomes.count(DrillStepResult.Outcome.PENDING)
    skipped = outcomes.count(DrillStepResult.Outcome.SKIPPED)
    passed = outcomes.count(DrillStepResult.Outcome.PASS)
    issues = len(run.action_items.all())
    issue_words = f"{_count(issues, 'issue')} recorded" if issues else "no issues recorded"
    if failed:
        head = f"Failed: {failed} of {_count(total, 'step')} failed"
    elif pending or not total:
        head = f"Pending: {pending} of {_count(total, 'step')} not recorded yet"
    elif skipped:
        head = f"Incomplete: {skipped} of {_count(total, 'step')} skipped, {passed} passed"
    else:
        head = f"Passed: all {_count(total, 'step')}"
    return f"{head}; {issue_words}"


def signoff_roles_for_version(version: ProcedureVersion) -> list[str]:
    """The sign-off roles a run of `version` needs: the procedure's list, topped up
    so that there are always at least two (the drill lead and a second person)."""
    roles = list(dict.fromkeys(version.signoff_roles or []))
    if not roles:
        return list(DEFAULT_SIGNOFF_ROLES)
    if len(roles) == 1:
        roles.append("second_signer" if roles[0] == "drill_lead" else "drill_lead")
    return roles


def _name(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def drill_run_signable_content(run: DrillRun) -> dict[str, Any]:
    """The canonical content a drill sign-off attests: who ran what, where, the
    pre-drill checklist, every step's outcome and timing, and the issues. Action
    item status is left out: it is tracked after sign-off."""
    version = run.procedure_version
    results = run.step_results.select_related("step", "performed_by").order_by("position")
    prechecks = run.prechecks.select_related("done_by").order_by("position")
    items = run.action_items.select_related("owner", "step_result").order_by("id")
    return {
        "record": "drill_run",
        "id": run.pk,
        "procedure": {
            "slug": version.procedure.slug,
            "version": version.version,
            "title": version.title,
            "content_sha256": version.content_sha256,
            "pass_criteria": version.pass_criteria,
        },
        "environment": run.environment.slug,
        "environment_mode": run.environment_mode,
        "live_confirmed_by": _name(run.live_confirmed_by),
        "lead": _name(run.lead),
        "observer": _name(run.observer),
        "participants": sorted(p.get_username() for p in run.participants.all()),
        "planned_at": run.planned_at,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "result": run.result,
        "pre_checklist": [
            {
                "position": i.position,
                "text": i.text,
                "done_by": _name(i.done_by),
                "done_at": i.done_at,
                "note": i.note,
            }
            for i in prechecks
        ],
        "steps": [
            {
                "position": r.position,
                "scenario": r.step.scenario,
                "title": r.step.title,
                "time_target_seconds": r.step.time_target_seconds,
                "outcome": r.outcome,
                "outcome_reason": r.outcome_reason,
                "skip_reason": r.skip_reason,
                "measured_ms": r.measured_ms,
                "automated": r.automated,
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "performed_by": _name(r.performed_by),
                "observations": r.observations,
                "evidence_links": list(r.evidence_links),
            }
            for r in results
        ],
        "issues": [
            {
                "title": i.title,
                "owner": _name(i.owner),
                "due_on": i.due_on,
                "step": i.step_result.position if i.step_result else None,
            }
            for i in items
        ],
    }


# --------------------------------------------------------------------- runs


def drill_runs(*, filters: dict[str, str] | None = None) -> QuerySet[DrillRun]:
    """Runs, newest planned first, with what a list row shows (fixed query count).
    filters: state, result, procedure (slug), environment (slug)."""
    qs = DrillRun.objects.select_related(
        "procedure_version__procedure", "environment", "lead", "observer"
    )
    filters = filters or {}
    if filters.get("state"):
        qs = qs.filter(state=filters["state"])
    if filters.get("result"):
        qs = qs.filter(result=filters["result"])
    if filters.get("procedure"):
        qs = qs.filter(procedure_version__procedure__slug=filters["procedure"])
    if filters.get("environment"):
        qs = qs.filter(environment__slug=filters["environment"])
    return qs


def get_drill_run_for(user: Any, pk: int) -> DrillRun:
    """The run with everything its detail page shows. Every role that can view
    drills sees every run. Raises NotFound."""
    if not user.has_perm("drills.view_drillrun"):
        raise NotFound("No such drill run.")
    run = (
        DrillRun.objects.select_related(
            "procedure_version__procedure",
            "environment",
            "lead",
            "observer",
            "live_confirmed_by",
            "schedule",
        )
        .prefetch_related(
            "participants",
            Prefetch("prechecks", queryset=DrillPreCheckItem.objects.select_related("done_by")),
            Prefetch(
                "step_results",
                queryset=DrillStepResult.objects.select_related("step", "performed_by").order_by(
                    "position"
                ),
            ),
            Prefetch(
                "action_items",
                queryset=DrillActionItem.objects.select_related("owner", "step_result"),
            ),
        )
        .filter(pk=pk)
        .first()
    )
    if run is None:
        raise NotFound("No such drill run.")
    return run


@dataclass(frozen=True)
class TimingRow:
    position: int
    scenario: str
    title: str
    target_seconds: int | None
    measured_seconds: float | None
    within_target: bool | None
    outcome: str
    automated: bool


def timing_summary(run: DrillRun) -> list[TimingRow]:
    """One row per step: measured seconds against the target (uses the prefetched
    step results)."""
    return [
        TimingRow(
            position=r.position,
            scenario=r.step.scenario,
            title=r.step.title,
            target_seconds=r.step.time_target_seconds,
            measured_seconds=r.measured_seconds,
            within_target=r.within_target,
            outcome=r.outcome,
            automated=r.automated,
        )
        for r in run.step_results.all()
    ]


# ---------------------------------------------------------------- schedules


@dataclass(frozen=True)
class ScheduleStatus:
    schedule: DrillSchedule
    last_done_at: dt.datetime | None
    next_due_on: dt.date | None
    open_run_id: int | None
    today: dt.date

    @property
    def is_overdue(self) -> bool:
        return self.next_due_on is not None and self.next_due_on < self.today

    @property
    def days_until_due(self) -> int | None:
        return None if self.next_due_on is None else (self.next_due_on - self.today).days


def next_due_on(schedule: DrillSchedule, last_done_at: dt.datetime | None) -> dt.date | None:
    """When the next run is due: the last completed run's date plus the interval
    (the first due date before any run); for every frequency a manual "due after a
    major change" date applies too, until a run completes on or after it. Manual
    schedules have no regular date."""
    months = FREQUENCY_MONTHS.get(schedule.frequency)
    last_date = last_done_at.astimezone(dt.UTC).date() if last_done_at else None
    regular = None
    if months:
        regular = last_date + relativedelta(months=months) if last_date else schedule.first_due_on
    manual = schedule.manual_due_on
    if manual is not None and last_date is not None and last_date >= manual:
        manual = None
    candidates = [d for d in (regular, manual) if d is not None]
    return min(candidates) if candidates else None


def schedule_statuses(
    *, today: dt.date | None = None, active_only: bool = True
) -> list[ScheduleStatus]:
    """Every schedule with its last completed run, next due date and overdue flag,
    soonest due first. Three queries whatever the number of schedules."""
    today = today or timezone.now().date()
    done = DrillRun.objects.filter(
        procedure_version__procedure=OuterRef("procedure"),
        environment=OuterRef("environment"),
        state__in=DONE_STATES,
    )
    open_runs = DrillRun.objects.filter(
        procedure_version__procedure=OuterRef("procedure"),
        environment=OuterRef("environment"),
        state__in=OPEN_STATES,
    ).order_by("planned_at")
    qs = DrillSchedule.objects.select_related("procedure", "environment").annotate(
        last_done_at=Subquery(
            done.values("environment").annotate(m=Max("completed_at")).values("m")[:1]
        ),
        open_run_id=Subquery(open_runs.values("pk")[:1]),
    )
    if active_only:
        qs = qs.filter(is_active=True)
    statuses = [
        ScheduleStatus(
            schedule=s,
            last_done_at=s.last_done_at,
            next_due_on=next_due_on(s, s.last_done_at),
            open_run_id=s.open_run_id,
            today=today,
        )
        for s in qs
    ]
    far = dt.date.max
    statuses.sort(key=lambda st: (st.next_due_on or far, st.schedule.procedure.slug))
    return statuses


def due_schedules(*, within_days: int = 14, today: dt.date | None = None) -> list[ScheduleStatus]:
    """Overdue schedules and those due within `within_days` (the dashboard panel)."""
    return [
        s
        for s in schedule_statuses(today=today)
        if s.next_due_on is not None
        and s.days_until_due is not None
        and s.days_until_due <= within_days
    ]


@dataclass(frozen=True)
class CalendarEntry:
    status: ScheduleStatus
    due_on: dt.date
    is_overdue: bool


def drill_calendar(
    *, months: int = 12, today: dt.date | None = None
) -> tuple[list[ScheduleStatus], OrderedDict[str, list[CalendarEntry]]]:
    """(overdue schedules, {"2026-12": [entries...]}) — the projected due dates of
    every active schedule for the next `months` months, by month."""
    today = today or timezone.now().date()
    horizon = today + relativedelta(months=months)
    statuses = schedule_statuses(today=today)
    overdue = [s for s in statuses if s.is_overdue]
    entries: list[CalendarEntry] = []
    for st in statuses:
        due = st.next_due_on
        step = FREQUENCY_MONTHS.get(st.schedule.frequency)
        if due is None:
            continue
        if due < today:
            # Overdue: listed apart; the cycle continues from today.
            due = today + relativedelta(months=step) if step else None
        while due is not None and due <= horizon:
            entries.append(CalendarEntry(status=st, due_on=due, is_overdue=False))
            due = due + relativedelta(months=step) if step else None
    entries.sort(key=lambda e: (e.due_on, e.status.schedule.procedure.slug))
    by_month: OrderedDict[str, list[CalendarEntry]] = OrderedDict()
    for entry in entries:
        by_month.setdefault(entry.due_on.strftime("%Y-%m"), []).append(entry)
    return overdue, by_month


# --------------------------------------------------------- live precondition


def last_kill_switch_drill(
    environment: Any, *, since: dt.datetime | None = None
) -> DrillRun | None:
    """The latest completed (or signed-off) kill-switch drill or verification run
    on `environment` (completed at or after `since`, when given) whose trigger step
    passed."""
    # The same rule as automation_kind(...) == "trigger", as a query.
    passed_trigger = DrillStepResult.objects.filter(
        run=OuterRef("pk"), outcome=DrillStepResult.Outcome.PASS
    ).filter(
        Q(step__title__icontains="halt")
        & (Q(step__title__icontains="trigger") | Q(step__title__icontains="activate"))
    )
    runs = DrillRun.objects.filter(
        environment=environment,
        procedure_version__procedure__slug__in=AUTOMATED_PROCEDURES,
        state__in=DONE_STATES,
    )
    if since is not None:
        runs = runs.filter(completed_at__gte=since)
    return (
        runs.filter(Exists(passed_trigger))
        .select_related("procedure_version__procedure")
        .order_by("-completed_at")
        .first()
    )


def kill_switch_drill_verification(environment: Any) -> Verification | None:
    """The controls verification source (registered in DrillsConfig.ready()): the
    latest passing kill-switch drill or verification run of `environment`. One
    query."""
    run = last_kill_switch_drill(environment)
    if run is None or run.completed_at is None:
        return None
    return Verification(
        at=run.completed_at,
        detail=f"Drill #{run.pk} ({run.procedure_version.procedure.slug}) completed "
        f"{run.completed_at:%Y-%m-%d %H:%M} UTC.",
    )


def kill_switch_drill_precondition(environment: Any) -> Any:
    """Live-transition precondition "kill switch drilled within 24 h": passes iff
    the kill switch of `environment` was verified within
    `OPSPORTAL_KILL_SWITCH_DRILL_MAX_AGE_SECONDS`: a kill-switch drill or
    verification completed with its trigger step passed, or a drill trigger and
    recovery recorded by the kill switch, whichever is newer
    (`opsportal.controls.verification`, which the environment page shows too;
    DESIGN "Trading environment and controls"; live-trading runbook §4)."""
    max_age = int(settings.OPSPORTAL_KILL_SWITCH_DRILL_MAX_AGE_SECONDS)
    hours = max_age / 3600
    label = f"Kill switch drilled within {hours:g} h"
    since = timezone.now() - dt.timedelta(seconds=max_age)
    verification = kill_switch_verification(environment)
    if verification is None or verification.at < since:
        last = f" Last: {verification.detail}" if verification else ""
        return PreconditionResult(
            code=PRECONDITION_CODE,
            label=label,
            passed=False,
            detail=f"No completed kill-switch drill or verification on {environment.slug} "
            f"with a passed trigger step in the last {hours:g} h.{last}",
        )
    return PreconditionResult(
        code=PRECONDITION_CODE, label=label, passed=True, detail=verification.detail
    )
