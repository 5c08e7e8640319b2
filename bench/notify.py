"""Notification delivery latency and /metrics scrape time (issue 13).

1. **Commit → SMTP receipt**: a real Celery worker (solo pool, Redis broker) and an
   aiosmtpd server on 127.0.0.1; `--trials` times, `notify()` of an email-by-default
   kind to one person inside a transaction, stamped when the commit returns; the SMTP
   server stamps each message when its DATA arrives. p50 / p99 / max.
2. **/metrics scrape**: `--incidents` incidents (bulk-created), then `--scrapes`
   GETs of /metrics through Django's test client (the whole view, five queries);
   p50 / p99 and the queries counted on one scrape.

Run against a PostgreSQL database of its own (created and migrated by the command in
docs/BENCHMARKS.md); it deletes the rows it made at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.worker import celery_worker  # noqa: E402 - after the path is set


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()

    port = free_port()
    os.environ.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port), CELERY_TASK_ALWAYS_EAGER="0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
    import django

    django.setup()
    from aiosmtpd.controller import Controller
    from django.db import connection, transaction
    from django.test import Client, RequestFactory
    from django.utils import timezone

    from incidents.models import Incident
    from opsportal.accounts.models import User
    from opsportal.celery import app
    from opsportal.metrics import metrics
    from opsportal.notifications.models import Delivery, Notification
    from opsportal.notifications.services import notify

    received: dict[str, float] = {}

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook
            for line in envelope.content.decode().splitlines():
                if line.startswith("Subject: [opsportal] bench "):
                    received[line.rsplit(" ", 1)[1]] = time.perf_counter()
            return "250 OK"

    smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
    smtp.start()
    worker = celery_worker("--pool=solo", "-n", "bench-notify@%h")
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline:
                raise SystemExit("the worker did not start")
        person, _ = User.objects.get_or_create(
            username="bench-notify", defaults={"email": "bench@example.test"}
        )
        latencies = []
        for n in range(args.trials):
            key = f"t{n}-{time.time_ns()}"
            with transaction.atomic():
                notify(kind="incident.opened", recipients=[person], title=f"bench {key}")
            committed = time.perf_counter()
            while key not in received and time.perf_counter() - committed < 30:
                time.sleep(0.002)
            if key in received:
                latencies.append((received[key] - committed) * 1000)
        print(
            f"commit -> SMTP receipt over {len(latencies)}/{args.trials}: "
            f"p50 {statistics.median(latencies):.1f} ms, p99 {pct(latencies, 99):.1f} ms, "
            f"max {max(latencies):.1f} ms"
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        smtp.stop()

    now = timezone.now()
    made = Incident.objects.bulk_create(
        Incident(
            reference=f"INC-BENCH-{n:06d}",
            title="bench",
            severity=("SEV1", "SEV2", "SEV3", "SEV4")[n % 4],
            detected_at=now,
            created_at=now,
            ack_due_at=now,
        )
        for n in range(args.incidents)
    )
    client = Client(HTTP_HOST="localhost")
    try:
        # The view itself for the count: the client's request_started resets the log.
        executed: list[str] = []

        def count(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            metrics(RequestFactory().get("/metrics", REMOTE_ADDR="127.0.0.1"))
        times = []
        for _ in range(args.scrapes):
            started = time.perf_counter()
            response = client.get("/metrics")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        print(
            f"/metrics at {args.incidents} incidents: p50 {statistics.median(times):.1f} ms, "
            f"p99 {pct(times, 99):.1f} ms, {len(executed)} queries a scrape"
        )
    finally:
        Incident.objects.filter(pk__in=[i.pk for i in made]).delete()
        Delivery.objects.filter(to="bench@example.test").delete()
        Notification.objects.filter(recipient__username="bench-notify").delete()


if __name__ == "__main__":
    main()
