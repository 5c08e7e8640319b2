"""The monthly operations and compliance report (any date range on request).

Every figure is a database aggregate: a fixed number of queries whatever the number
of incidents, drills or audit events (tests/reports/test_monthly.py counts them).
Medians and 90th percentiles use PostgreSQL's `percentile_cont`; on SQLite (the
quick-start demo only) they fall back to reading the durations of the period.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Abs, Coalesce, TruncDay, TruncHour, TruncWeek

from drills.models import DrillRun, DrillSchedule, DrillStepResult
from drills.selectors import next_due_on
from incidents.models import ActionItem, Incident, PostIncidentReview, StatusUpdate
from incidents.models import Status as IncidentStatus
from incidents.severity import SEVERITIES
from opsportal.approvals.models import Approval, ApprovalRequest
from opsportal.audit.models import AuditEvent, AuditVerification
from opsportal.audit.selectors import last_verification
from opsportal.controls.models import KillSwitchEvent, ModeChange
from opsportal.core.formatting import human_duration
from opsportal.drift.models import ClockCheck, ClockStatus, ConfigFinding, TimeSource
from opsportal.reports.charts import (
    SEVERITY_COLOURS,
    measured_vs_target,
    offset_bands,
    stacked_bars,
)
from opsportal.reports.document import Document, Section

DONE_DRILL_STATES = (DrillRun.State.COMPLETED, DrillRun.State.SIGNED_OFF)


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day, inclusive
    end: dt.date  # last day, inclusive

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time.min, tzinfo=dt.UTC)

    @property
    def until(self) -> dt.datetime:  # exclusive
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"


class Seconds(Func):
    """A duration as seconds (float)."""

    output_field = FloatField()

    def as_postgresql(self, compiler: Any, conn: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, conn, template="EXTRACT(EPOCH FROM %(expressions)s)", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # Django stores SQLite durations as microseconds.
        return self.as_sql(
            compiler, connection, template="(%(expressions)s / 1000000.0)", **extra_context
        )


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


def _duration(end: str, start: str) -> Seconds:
    return Seconds(ExpressionWrapper(F(end) - F(start), output_field=DurationField()))


def _percentile_python(values: list[float], fraction: float) -> float | None:
    """percentile_cont's definition (linear interpolation), for SQLite."""
    if not values:
        return None
    values = sorted(values)
    position = (len(values) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def percentiles_by(
    qs: QuerySet[Any], *, group: str | None, end: str, start: str
) -> dict[Any, dict[str, float | None]]:
    """{group value: {"p50", "p90"}} of (end - start) in seconds over `qs` rows where
    `end` is set; `group` None: the whole set, under the key None. One query."""
    qs = qs.filter(**{f"{end}__isnull": False}).order_by()
    if connection.vendor == "postgresql":
        aggregates = {
            "p50": PercentileCont(_duration(end, start), 0.5),
            "p90": PercentileCont(_duration(end, start), 0.9),
        }
        if group is None:
            return {None: qs.aggregate(**aggregates)}
        rows = qs.values(group).annotate(**aggregates)
        return {r[group]: {"p50": r["p50"], "p90": r["p90"]} for r in rows}
    grouped: dict[Any, list[float]] = defaultdict(list)
    rows = qs.annotate(s=_duration(end, start))
    if group is None:
        grouped[None] = list(rows.values_list("s", flat=True))
    else:
        for key, seconds in rows.values_list(group, "s"):
            grouped[key].append(seconds)
    return {
        k: {"p50": _percentile_python(v, 0.5), "p90": _percentile_python(v, 0.9)}
        for k, v in grouped.items()
    }


def _fmt(seconds: float | None) -> str:
    return "—" if seconds is None else human_duration(seconds)


# ------------------------------------------------------------------- incidents


def incidents_section(period: Period, now: dt.datetime) -> Section:
    qs = Incident.objects.filter(detected_at__gte=period.since, detected_at__lt=period.until)
    not_declined = ~Q(status=IncidentStatus.DECLINED)
    breached = not_declined & (
        Q(acknowledged_at__isnull=True, ack_due_at__lt=now) | Q(acknowledged_at__gt=F("ack_due_at"))
    )
    counts = {
        r["severity"]: r
        for r in qs.order_by()
        .values("severity")
        .annotate(
            total=Count("pk"),
            breaches=Count("pk", filter=breached),
            declined=Count("pk", filter=Q(status=IncidentStatus.DECLINED)),
            halted=Count("pk", filter=Q(trading_halted=True)),
        )
    }
    mtta = percentiles_by(qs, group="severity", end="acknowledged_at", start="detected_at")
    mttr = percentiles_by(qs, group="severity", end="resolved_at", start="detected_at")
    rows = []
    for code, sev in SEVERITIES.items():
        c = counts.get(code, {})
        a, r = mtta.get(code, {}), mttr.get(code, {})
        p50 = a.get("p50")
        rows.append(
            {
                "sev": sev,
                "total": c.get("total", 0),
                "breaches": c.get("breaches", 0),
                "declined": c.get("declined", 0),
                "halted": c.get("halted", 0),
                "sla": human_duration(sev.response_seconds),
                "mtta_p50": _fmt(a.get("p50")),
                "mtta_p90": _fmt(a.get("p90")),
                "mttr_p50": _fmt(r.get("p50")),
                "mttr_p90": _fmt(r.get("p90")),
                "mtta_p50_s": a.get("p50"),
                "over_sla": p50 is not None and p50 > sev.response_seconds,
            }
        )
    with_mtta = [r for r in rows if r["mtta_p50_s"] is not None]
    mtta_chart = (
        measured_vs_target(
            labels=[r["sev"].code for r in with_mtta],
            measured=[r["mtta_p50_s"] / 60 for r in with_mtta],
            targets=[r["sev"].response_seconds / 60 for r in with_mtta],
            unit="minutes (bar: median time to acknowledge, mark: SLA)",
        )
        if with_mtta
        else None
    )
    return Section(
        "Incidents by severity, MTTA and MTTR",
        "reports/sections/monthly_incidents.html",
        {
            "rows": rows,
            "total": sum(r["total"] for r in rows),
            "breaches": sum(r["breaches"] for r in rows),
            "mtta_chart": mtta_chart,
        },
        anchor="incidents",
    )


def incidents_by_week_section(period: Period) -> Section:
    qs = Incident.objects.filter(detected_at__gte=period.since, detected_at__lt=period.until)
    weekly = (
        qs.order_by()
        .annotate(week=TruncWeek("detected_at", tzinfo=dt.UTC))
        .values("week", "severity")
        .annotate(n=Count("pk"))
    )
    weeks: list[dt.date] = []
    day = period.start - dt.timedelta(days=period.start.weekday())
    while day <= period.end:
        weeks.append(day)
        day += dt.timedelta(days=7)
    table: dict[str, dict[dt.date, int]] = {code: dict.fromkeys(weeks, 0) for code in SEVERITIES}
    for row in weekly:
        week = row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]
        if week in table[row["severity"]]:
            table[row["severity"]][week] = row["n"]
    labels = [f"{w:%d %b}" for w in weeks]
    chart = stacked_bars(
        categories=labels,
        series={code: [table[code][w] for w in weeks] for code in SEVERITIES},
        colours=SEVERITY_COLOURS,
        ylabel="incidents (week starting)",
    )
    return Section(
        "Incidents per week",
        "reports/sections/monthly_weeks.html",
        {
            "chart": chart,
            "weeks": [
                {"label": f"{w:%Y-%m-%d}", "counts": [table[c][w] for c in SEVERITIES]}
                for w in weeks
            ],
            "codes": list(SEVERITIES),
        },
        anchor="weekly",
    )


def status_updates_section(period: Period, now: dt.datetime) -> Section:
    """Punctuality: each update (after the first) against the due time the update
    before it set; and incidents whose update is overdue now."""
    previous_due = (
        StatusUpdate.objects.filter(
            incident=OuterRef("incident"), posted_at__lt=OuterRef("posted_at")
        )
        .order_by("-posted_at", "-id")
        .values("next_update_due_at")[:1]
    )
    figures = (
        StatusUpdate.objects.filter(posted_at__gte=period.since, posted_at__lt=period.until)
        .annotate(was_due=Subquery(previous_due, output_field=DateTimeField()))
        .aggregate(
            posted=Count("pk"),
            with_due=Count("pk", filter=Q(was_due__isnull=False)),
            late=Count("pk", filter=Q(posted_at__gt=F("was_due"))),
        )
    )
    overdue_now = Incident.objects.update_overdue(now).count()
    on_time = figures["with_due"] - figures["late"]
    share = f"{100 * on_time / figures['with_due']:.0f} %" if figures["with_due"] else "—"
    return Section(
        "Status-update punctuality",
        "reports/sections/monthly_status_updates.html",
        {**figures, "on_time": on_time, "share": share, "overdue_now": overdue_now},
        anchor="status-updates",
    )


# ---------------------------------------------------------------------- drills


def drills_section(period: Period) -> Section:
    done_before = DrillRun.objects.filter(
        procedure_version__procedure=OuterRef("procedure"),
        environment=OuterRef("environment"),
        state__in=DONE_DRILL_STATES,
        completed_at__lt=period.since,
    )
    done_within = DrillRun.objects.filter(
        procedure_version__procedure=OuterRef("procedure"),
        environment=OuterRef("environment"),
        state__in=DONE_DRILL_STATES,
        completed_at__gte=period.since,
        completed_at__lt=period.until,
    )
    schedules = (
        DrillSchedule.objects.filter(is_active=True)
        .select_related("procedure", "environment")
        .annotate(
            last_before=Subquery(
                done_before.values("environment").annotate(m=Max("completed_at")).values("m")[:1]
            ),
            runs_within=Coalesce(
                Subquery(
                    done_within.values("environment").annotate(n=Count("pk")).values("n")[:1],
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
        )
    )
    rows = []
    for s in schedules:  # one row per schedule (tens), not per run
        due = next_due_on(s, s.last_before)
        rows.append(
            {
                "schedule": s,
                "due_on": due,
                "due": due is not None and due <= period.end,
                "runs": s.runs_within,
            }
        )
    due_rows = [r for r in rows if r["due"]]
    results = dict(
        DrillRun.objects.filter(
            state__in=DONE_DRILL_STATES,
            completed_at__gte=period.since,
            completed_at__lt=period.until,
        )
        .order_by()
        .values("result")
        .annotate(n=Count("pk"))
        .values_list("result", "n")
    )
    timings = list(
        DrillStepResult.objects.filter(
            run__state__in=DONE_DRILL_STATES,
            run__completed_at__gte=period.since,
            run__completed_at__lt=period.until,
            measured_ms__isnull=False,
        )
        .values("step__title", "step__time_target_seconds", "automated")
        .annotate(
            n=Count("pk"),
            avg_ms=Avg("measured_ms"),
            max_ms=Max("measured_ms"),
            over=Count("pk", filter=Q(measured_ms__gt=F("step__time_target_seconds") * 1000)),
        )
        .order_by("-automated", "step__title")[:20]
    )
    chart = (
        measured_vs_target(
            labels=[t["step__title"] for t in timings],
            measured=[t["avg_ms"] / 1000 for t in timings],
            targets=[t["step__time_target_seconds"] for t in timings],
            unit="seconds (bar: average measured, mark: target)",
        )
        if timings
        else None
    )
    return Section(
        "Drills",
        "reports/sections/monthly_drills.html",
        {
            "rows": rows,
            "due": len(due_rows),
            "due_done": sum(1 for r in due_rows if r["runs"]),
            "done": sum(results.values()),
            "results": [(label, results.get(value, 0)) for value, label in DrillRun.Result.choices],
            "timings": timings,
            "chart": chart,
        },
        anchor="drills",
    )


# -------------------------------------------------------------------- controls


def controls_section(period: Period) -> Section:
    in_period = Q(occurred_at__gte=period.since, occurred_at__lt=period.until)
    kill_counts = list(
        KillSwitchEvent.objects.filter(in_period)
        .values("environment__slug")
        .annotate(
            triggered=Count("pk", filter=Q(kind=KillSwitchEvent.Kind.TRIGGERED)),
            drills=Count("pk", filter=Q(kind=KillSwitchEvent.Kind.TRIGGERED, is_drill=True)),
            recovered=Count("pk", filter=Q(kind=KillSwitchEvent.Kind.RECOVERY_COMPLETED)),
        )
        .order_by("environment__slug")
    )
    recovered_at = (
        KillSwitchEvent.objects.filter(
            environment=OuterRef("environment"),
            kind=KillSwitchEvent.Kind.RECOVERY_COMPLETED,
            occurred_at__gt=OuterRef("occurred_at"),
        )
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )
    halt = dict(
        _seconds_until(
            KillSwitchEvent.objects.filter(in_period, kind=KillSwitchEvent.Kind.TRIGGERED),
            recovered_at,
            min(period.until, _now()),
            "environment__slug",
        )
    )
    for row in kill_counts:
        row["halt"] = _fmt(halt.get(row["environment__slug"]))
    modes = list(
        ModeChange.objects.filter(in_period)
        .values("environment__slug")
        .annotate(
            live=Count("pk", filter=Q(kind=ModeChange.Kind.LIVE_TRANSITION)),
            rollbacks=Count("pk", filter=Q(kind=ModeChange.Kind.ROLLBACK)),
        )
        .order_by("environment__slug")
    )
    return Section(
        "Kill switch, live transitions and rollbacks",
        "reports/sections/monthly_controls.html",
        {"kills": kill_counts, "modes": modes},
        anchor="controls",
    )


def approvals_section(period: Period) -> Section:
    qs = ApprovalRequest.objects.filter(created_at__gte=period.since, created_at__lt=period.until)
    figures = qs.aggregate(
        total=Count("pk"),
        decided=Count("pk", filter=Q(decided_at__isnull=False)),
        rejected=Count("pk", filter=Q(status=ApprovalRequest.Status.REJECTED)),
        expired=Count("pk", filter=Q(status=ApprovalRequest.Status.EXPIRED)),
    )
    vetoes = Approval.objects.filter(request__in=qs, decision=Approval.Decision.REJECT).count()
    decide = percentiles_by(qs, group=None, end="decided_at", start="created_at").get(None, {})
    return Section(
        "Four-eyes approvals",
        "reports/sections/monthly_approvals.html",
        {**figures, "vetoes": vetoes, "median_decide": _fmt(decide.get("p50"))},
        anchor="approvals",
    )


def audit_section(period: Period) -> Section:
    qs = AuditEvent.objects.filter(occurred_at__gte=period.since, occurred_at__lt=period.until)
    top = list(
        qs.order_by().values("event_type").annotate(n=Count("pk")).order_by("-n", "event_type")[:12]
    )
    total = qs.count()
    return Section(
        "Audit trail",
        "reports/sections/monthly_audit.html",
        {"total": total, "top": top},
        anchor="audit",
    )


# --------------------------------------------------------------------- reviews


def reviews_section(period: Period, now: dt.datetime) -> Section:
    """Reviews due in the period, approved in it, and overdue (due in it and approved
    late or not at all by now); action items created and closed in the period, and
    open and overdue at its end. Two queries."""
    in_period = Q(due_at__gte=period.since, due_at__lt=period.until)
    approved_in = Q(approved_at__gte=period.since, approved_at__lt=period.until)
    reviews = PostIncidentReview.objects.order_by().aggregate(
        due=Count("pk", filter=in_period),
        done=Count("pk", filter=approved_in),
        due_done_on_time=Count("pk", filter=in_period & Q(approved_at__lte=F("due_at"))),
        overdue=Count(
            "pk",
            filter=in_period
            & (Q(approved_at__gt=F("due_at")) | Q(approved_at__isnull=True, due_at__lt=now)),
        ),
        started=Count("pk", filter=Q(created_at__gte=period.since, created_at__lt=period.until)),
    )
    end = min(period.until, now)
    cutoff = end.date()  # an item due before this day is overdue at the period's end
    open_at_end = Q(created_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=end))
    items = ActionItem.objects.order_by().aggregate(
        created=Count("pk", filter=Q(created_at__gte=period.since, created_at__lt=period.until)),
        closed=Count("pk", filter=Q(closed_at__gte=period.since, closed_at__lt=period.until)),
        open=Count("pk", filter=open_at_end),
        overdue=Count("pk", filter=open_at_end & Q(due_on__lt=cutoff)),
    )
    return Section(
        "Post-incident reviews and action items",
        "reports/sections/monthly_reviews.html",
        {"reviews": reviews, "items": items, "end": end},
        anchor="reviews",
    )


def _seconds_until(rows: Any, ended_at: Any, cap: dt.datetime, key: str) -> Any:
    """(key, seconds) pairs: for each value of `key`, the seconds from each of `rows`'
    occurred_at to its `ended_at` (a subquery: the first later event's time; `cap`
    when there is none), summed in one query. Kill-switch HALT and drift NEUTRAL time."""
    return (
        rows.order_by()
        .annotate(ended=Coalesce(Subquery(ended_at, output_field=DateTimeField()), Value(cap)))
        .annotate(
            span=Seconds(
                ExpressionWrapper(F("ended") - F("occurred_at"), output_field=DurationField())
            )
        )
        .values(key)
        .annotate(seconds=Sum("span"))
        .values_list(key, "seconds")
    )


# ----------------------------------------------------------------------- drift


def _neutral_seconds(period: Period, now: dt.datetime) -> dict[int, float]:
    """Seconds each time source held its environments in gate NEUTRAL, from the
    audit trail: each `clock_drift.neutral_set` in the period until the source's next
    set or lift (or the period's end). One query."""
    label = TimeSource._meta.label_lower
    events = AuditEvent.objects.filter(
        object_type=label, event_type__in=["clock_drift.neutral_set", "clock_drift.neutral_lifted"]
    )
    next_event = (
        events.filter(
            object_id=OuterRef("object_id"),
            occurred_at__gt=OuterRef("occurred_at"),
            occurred_at__lt=period.until,
        )
        .order_by("occurred_at", "id")
        .values("occurred_at")[:1]
    )
    rows = _seconds_until(
        events.filter(
            event_type="clock_drift.neutral_set",
            occurred_at__gte=period.since,
            occurred_at__lt=period.until,
        ),
        next_event,
        min(period.until, now),
        "object_id",
    )
    return {int(pk): seconds for pk, seconds in rows if str(pk).isdigit()}


def drift_section(period: Period, now: dt.datetime) -> Section:
    """Per time source: checks, worst offset, breaches and other bad checks, time in
    NEUTRAL (drill checks counted apart); the offset chart over the period; and the
    configuration-drift findings opened and resolved per environment. Five queries."""
    sources = list(TimeSource.objects.order_by("name"))
    in_period = Q(checked_at__gte=period.since, checked_at__lt=period.until)
    real = Q(is_drill=False)
    figures = {
        r["source_id"]: r
        for r in ClockCheck.objects.filter(in_period)
        .order_by()
        .values("source_id")
        .annotate(
            checks=Count("pk", filter=real),
            drills=Count("pk", filter=Q(is_drill=True)),
            worst=Max(Abs("offset_ms"), filter=real),
            breaches=Count("pk", filter=real & Q(status=ClockStatus.BREACH)),
            critical=Count("pk", filter=real & Q(status=ClockStatus.CRITICAL)),
            unreachable=Count(
                "pk", filter=real & Q(status__in=[ClockStatus.UNREACHABLE, ClockStatus.STALE])
            ),
        )
    }
    neutral = _neutral_seconds(period, now)
    rows = []
    for source in sources:
        f = figures.get(source.pk, {})
        rows.append(
            {
                "source": source,
                "checks": f.get("checks", 0),
                "drills": f.get("drills", 0),
                "worst": f.get("worst"),
                "breaches": f.get("breaches", 0),
                "critical": f.get("critical", 0),
                "unreachable": f.get("unreachable", 0),
                "neutral": _fmt(neutral.get(source.pk)) if source.pk in neutral else "none",
            }
        )
    hourly = (period.end - period.start).days <= 62
    bucket = TruncHour if hourly else TruncDay
    points = (
        ClockCheck.objects.filter(in_period, real, offset_ms__isnull=False)
        .order_by()
        .annotate(at=bucket("checked_at", tzinfo=dt.UTC))
        .values("source_id", "at")
        .annotate(lo=Min("offset_ms"), hi=Max("offset_ms"))
        .order_by("source_id", "at")
    )
    names = {s.pk: s.name for s in sources}
    series: dict[str, tuple[list[dt.datetime], list[float], list[float]]] = {}
    for p in points:  # one row per source and hour (or day), not per check
        times, lows, highs = series.setdefault(names.get(p["source_id"], "?"), ([], [], []))
        times.append(p["at"])
        lows.append(p["lo"])
        highs.append(p["hi"])
    chart = (
        offset_bands(
            series=series,
            ahead_limit_ms=min(s.ahead_breach_ms for s in sources),
            behind_limit_ms=min(s.behind_breach_ms for s in sources),
            start=period.since,
            end=period.until,
        )
        if series
        else None
    )
    findings = list(
        ConfigFinding.objects.order_by()
        .values("target__environment__slug")
        .annotate(
            opened=Count("pk", filter=Q(opened_at__gte=period.since, opened_at__lt=period.until)),
            resolved=Count(
                "pk", filter=Q(resolved_at__gte=period.since, resolved_at__lt=period.until)
            ),
            open_at_end=Count(
                "pk",
                filter=Q(opened_at__lt=period.until)
                & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=period.until)),
            ),
        )
        .filter(Q(opened__gt=0) | Q(resolved__gt=0) | Q(open_at_end__gt=0))
        .order_by("target__environment__slug")
    )
    return Section(
        "Clock and configuration drift",
        "reports/sections/monthly_drift.html",
        {
            "rows": rows,
            "breaches": sum(r["breaches"] for r in rows),
            "chart": chart,
            "bucket": "hour" if hourly else "day",
            "findings": findings,
            "opened": sum(f["opened"] for f in findings),
            "resolved": sum(f["resolved"] for f in findings),
        },
        anchor="drift",
    )


def audit_chain_section(period: Period) -> Section:
    """The audit chain's last verification (whenever it ran) and the verifications
    recorded in the period. Two queries."""
    runs = AuditVerification.objects.filter(
        finished_at__gte=period.since, finished_at__lt=period.until
    ).aggregate(total=Count("pk"), failed=Count("pk", filter=Q(ok=False)))
    return Section(
        "Audit chain verification",
        "reports/sections/monthly_audit_chain.html",
        {"last": last_verification(), **runs},
        anchor="audit-chain",
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def period_of(params: dict[str, Any]) -> Period:
    return Period(dt.date.fromisoformat(params["from"]), dt.date.fromisoformat(params["to"]))


def build(params: dict[str, Any]) -> Document:
    period, now = period_of(params), _now()
    return Document(
        title="Operations and compliance report",
        subject=period.label(),
        sections=[
            incidents_section(period, now),
            incidents_by_week_section(period),
            status_updates_section(period, now),
            reviews_section(period, now),
            drills_section(period),
            controls_section(period),
            approvals_section(period),
            drift_section(period, now),
            audit_section(period),
            audit_chain_section(period),
        ],
    )


def title(params: dict[str, Any]) -> str:
    return f"Operations and compliance report {period_of(params).label()}"
