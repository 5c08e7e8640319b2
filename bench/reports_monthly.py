"""Monthly report benchmark (issue 12): the operations and compliance report over
10,000 incidents, 500 drill runs and 100,000 audit events, end to end.

    .venv/bin/python bench/reports_monthly.py [--incidents 10000] [--drill-runs 500]
        [--audit-events 100000] [--repeat 3] [--database opsportal_bench_reports]

1. Creates (if missing) and migrates the PostgreSQL database `--database` on
   127.0.0.1, and seeds it once in `bulk_create` batches, all inside one month (the
   report's range): incidents over SEV1..SEV4 (most acknowledged and resolved, a
   tenth past their SLA), drill runs completed with three timed steps each on two
   scheduled environments, kill-switch events and audit events. A database already
   holding that many incidents is reused.
2. Generates the monthly report `--repeat` times in-process (Celery eager, as the
   task would: request → build → HTML → PDF → files), timing each end to end, and
   counts the SQL queries the figures take (`CaptureQueriesContext` around the
   builder), then once more after adding 1,000 incidents: the count must not change.

Target: < 5 s end to end; a fixed number of queries whatever the row counts.
Results and the command: docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--drill-runs", type=int, default=500)
    parser.add_argument("--audit-events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", default="opsportal_bench_reports")
    args = parser.parse_args()

    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{args.database}",
        REDIS_URL="",
        DJANGO_DEBUG="1",
        DJANGO_SETTINGS_MODULE="opsportal.settings",
        OPSPORTAL_MEDIA_ROOT=tempfile.mkdtemp(prefix="opsportal-bench-reports-"),
        OPSPORTAL_ENV_FILE="",
    )
    _create_database(args.database)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    start = date(2026, 11, 1)
    end = date(2026, 11, 30)
    _seed(args, start)
    _measure(args, start, end)


def _create_database(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            c.execute(f'CREATE DATABASE "{name}"')


def _seed(args: argparse.Namespace, start: date) -> None:
    from django.db import transaction

    from drills.models import DrillRun, DrillSchedule, DrillStepResult
    from incidents.models import Incident, Status
    from incidents.severity import SEVERITIES
    from opsportal.accounts.models import User
    from opsportal.audit.models import AuditEvent
    from opsportal.controls.models import Environment, KillSwitchEvent
    from opsportal.library.procedure_files import parse_procedure
    from opsportal.library.services import procedure_publish

    if Incident.objects.count() >= args.incidents:
        print(f"reusing the seeded database ({Incident.objects.count()} incidents)")
        return
    rng = random.Random(12)  # noqa: S311 - benchmark data, not secrets
    t0 = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    month = 29 * 24 * 3600
    lead, _ = User.objects.get_or_create(username="bench-lead")
    envs = [
        Environment.objects.get_or_create(slug=s, defaults={"name": s})[0]
        for s in ("paper", "live")
    ]
    version = procedure_publish(
        spec=parse_procedure(
            {
                "slug": "bench-kill-switch-drill",
                "kind": "drill",
                "title": "Kill-switch drill",
                "signoff_roles": ["drill_lead", "risk_officer"],
                "pass_criteria": "Every step passes.",
                "steps": [
                    {"title": f"Step {n}", "instruction": "Do it", "time_target_seconds": 10 * n}
                    for n in (1, 2, 3)
                ],
            },
            origin="bench",
        )
    )[0]
    steps = list(version.steps.order_by("position"))
    for env in envs:
        DrillSchedule.objects.get_or_create(
            procedure=version.procedure,
            environment=env,
            defaults={"frequency": "monthly", "first_due_on": start},
        )
    codes = list(SEVERITIES)
    with transaction.atomic():
        batch = []
        for i in range(args.incidents):
            code = codes[i % 4]
            sev = SEVERITIES[code]
            detected = t0 + timedelta(seconds=rng.randrange(month))
            late = rng.random() < 0.1
            tta = sev.response_seconds * (rng.uniform(1.1, 3) if late else rng.uniform(0.1, 0.9))
            acked = detected + timedelta(seconds=tta)
            resolved = acked + timedelta(seconds=rng.randrange(600, 20_000))
            batch.append(
                Incident(
                    reference=f"INC-BENCH-{i:06d}",
                    title=f"Bench incident {i}",
                    severity=code,
                    status=Status.RESOLVED,
                    detected_at=detected,
                    created_at=detected,
                    acknowledged_at=acked,
                    resolved_at=resolved,
                    ack_due_at=detected + timedelta(seconds=sev.response_seconds),
                    environment=envs[i % 2],
                )
            )
        Incident.objects.bulk_create(batch, batch_size=5_000)
        runs = DrillRun.objects.bulk_create(
            [
                DrillRun(
                    procedure_version=version,
                    environment=envs[i % 2],
                    state="completed",
                    result="passed",
                    lead=lead,
                    planned_at=t0 + timedelta(seconds=rng.randrange(month)),
                    started_at=t0 + timedelta(seconds=rng.randrange(month)),
                    completed_at=t0 + timedelta(seconds=rng.randrange(month)),
                )
                for i in range(args.drill_runs)
            ],
            batch_size=1_000,
        )
        DrillStepResult.objects.bulk_create(
            [
                DrillStepResult(
                    run=run,
                    step=step,
                    position=step.position,
                    outcome="pass",
                    measured_ms=rng.randrange(500, 15_000),
                    automated=step.position == 1,
                )
                for run in runs
                for step in steps
            ],
            batch_size=5_000,
        )
        KillSwitchEvent.objects.bulk_create(
            [
                KillSwitchEvent(
                    environment=envs[i % 2],
                    kind=kind,
                    from_state="ACTIVE",
                    to_state="KILLED",
                    occurred_at=t0 + timedelta(hours=10 * i, minutes=m),
                    version=1,
                )
                for i in range(60)
                for kind, m in (("triggered", 0), ("recovery_completed", 7))
            ]
        )
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    occurred_at=t0 + timedelta(seconds=rng.randrange(month)),
                    event_type=rng.choice(
                        [
                            "incident.acknowledged",
                            "drill_run.step_recorded",
                            "gate.read",
                            "checklist.item_ticked",
                        ]
                    ),
                    actor_username="bench",
                )
                for _ in range(args.audit_events)
            ],
            batch_size=10_000,
        )
    print(
        f"seeded {args.incidents} incidents, {args.drill_runs} drill runs, "
        f"{args.audit_events} audit events"
    )


def _measure(args: argparse.Namespace, start: date, end: date) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from opsportal.reports.models import Report
    from opsportal.reports.sections import monthly
    from opsportal.reports.services import report_request
    from tests.incidents.factories import IncidentFactory

    params = {"from": start.isoformat(), "to": end.isoformat()}
    timings = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        report = report_request(kind="monthly", parameters=params, actor=None)
        report.refresh_from_db()
        timings.append(time.perf_counter() - t)
        assert report.state == Report.State.DONE, report.error
    sizes = {f.format: f.size for f in report.files.all()}
    with CaptureQueriesContext(connection) as before:
        t = time.perf_counter()
        monthly.build(params)
        build_s = time.perf_counter() - t
    IncidentFactory.create_batch(
        1_000,
        detected_at=datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(days=3),
    )
    with CaptureQueriesContext(connection) as after:
        monthly.build(params)
    print(
        f"end to end (request → PDF on disk), {args.repeat} runs: "
        f"median {statistics.median(timings):.2f} s, max {max(timings):.2f} s"
    )
    print(f"figures and charts only (build): {build_s:.2f} s")
    print(f"queries for the figures: {len(before)}; after 1,000 more incidents: {len(after)}")
    print(f"files: HTML {sizes.get('html', 0):,} B, PDF {sizes.get('pdf', 0):,} B")
    # Leave the database as seeded for the next run.
    from incidents.models import Incident

    Incident.objects.filter(reference__startswith="INC-20260101-").delete()


if __name__ == "__main__":
    main()
