"""Page benchmark: p50/p95 of the portal's list, search, detail and API pages with
100,000 incidents behind the production server (issue 14, item 20).

    .venv/bin/python bench/pages.py [--incidents 100000] [--requests 40] [--json out.json]
    .venv/bin/python bench/pages.py --code /tmp/opsportal-main --database opsportal_bench_main

What it does (loopback only, bounded):

1. Creates (if missing) and migrates the PostgreSQL database `--database` (default
   `opsportal_bench_pages`) on 127.0.0.1 with the code in `--code` (default: this
   checkout), and seeds it once: `--incidents` incidents in 5,000-row `bulk_create`
   batches (about 100 a day over the last ~3 years, two environments, SEV1..SEV4,
   ~0.5 % open, titles and summaries drawn from a dozen scenarios so a word such as
   "broker" matches about one in six), one incident opened through the service with
   a timeline, and an auditor. A database already holding that many incidents is
   reused as it is.
2. Starts gunicorn serving that code (`bench.wsgi`, the portal's production settings,
   DEBUG off; gthread, one worker per CPU, two threads, keep-alive: the README's
   production command) on a free port.
3. Signs the auditor in (a session row made in-process, sent as the cookie) and, for
   each page, sends `--warmup` then `--requests` GETs back to back on one keep-alive
   connection, timing each from send to the last byte. Prints p50 / p95 / max in ms
   per page, the status codes seen, and the server's CPU per request: the CPU time
   (user + system, from /proc) the gunicorn processes and the database's PostgreSQL
   backends used over the measured requests, divided by their number. On a busy
   shared machine the wall times include waiting for a CPU; the CPU figure is what
   the page itself costs.

Deep pages: the list shows 25 incidents a page and the API 50. With `--legacy` (code
that paginates with OFFSET, e.g. `main` before issue 14) the deep pages are
`?page=3900` and `?page=1900`; otherwise they are the same positions reached by
their keyset cursor (`?after=` for the list, DRF's `?cursor=` for the API), computed
here from the row at that offset.

Target (issue 14): every list, search and detail page p95 < 150 ms at 100,000
incidents. Results and the commands used are in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import gate  # noqa: E402  (bench/ is run as a script: ROOT goes on the path first)

PG = gate.PG
PASSWORD = gate.PASSWORD
LIST_PAGE_SIZE = 25
API_PAGE_SIZE = 50

# (title, summary, affected systems): what the seeded incidents are about.
SCENARIOS = [
    (
        "Broker disconnect on {venue}",
        "Session to the broker dropped; orders not acknowledged.",
        "broker gateway",
    ),
    (
        "Kafka consumer lag on market data",
        "Market data consumer fell behind by minutes.",
        "kafka, md-feed",
    ),
    (
        "Order rejection spike on {venue}",
        "More than 10 % of orders rejected: risk limit.",
        "order router",
    ),
    ("High latency to {venue}", "Round trip to the venue above 800 ms.", "network"),
    ("Stale prices from {venue}", "Data quality: prices unchanged for 90 s.", "md-feed"),
    (
        "P&L breach on strategy mm-{n}",
        "Daily loss limit hit; kill switch triggered.",
        "risk engine",
    ),
    ("Clock drift warning on {venue}", "Offset to the exchange above 600 ms.", "time sync"),
    (
        "Position mismatch after restart",
        "Reconciliation differs from the broker's view.",
        "broker gateway, oms",
    ),
    ("Message bus failure", "Redis stream unavailable; signals queued.", "message bus"),
    ("Max drawdown on strategy arb-{n}", "Drawdown beyond 5 %; trading halted.", "risk engine"),
    ("Unauthorised order from {venue} key", "An order not sent by any strategy.", "security"),
    ("Deployment rollback of engine {n}", "Rolled back to DRY_RUN after failed canary.", "deploy"),
]
VENUES = ["VALR", "Binance", "Kraken", "IBKR", "Luno"]


def server_env(database: str) -> dict[str, str]:
    return {**gate.SERVER_ENV, "DATABASE_URL": f"postgres://postgres@{PG['host']}:5432/{database}"}


def ensure_database(database: str) -> None:
    import psycopg  # noqa: PLC0415  (set-up only; the module must import without a database)

    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{database}"')


def migrate(code: Path, database: str) -> None:
    """`manage.py migrate` with the benchmarked code, so its own schema is measured."""
    env = {**os.environ, **server_env(database), "DJANGO_SETTINGS_MODULE": "opsportal.settings"}
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=code, env=env, check=True
    )


def django_setup(database: str) -> None:
    os.environ.update(server_env(database))
    import django  # noqa: PLC0415  (settings come from the environment set just above)

    django.setup()


def seed(count: int) -> dict:
    """Seed `count` incidents (once) and return what the pages need: the detail
    incident's id, a reference, the auditor."""
    # Django is set up by django_setup() first: the models import only after it.
    from incidents import services  # noqa: PLC0415
    from incidents.models import Incident  # noqa: PLC0415
    from incidents.severity import SEVERITIES  # noqa: PLC0415
    from opsportal.accounts.services import user_ensure  # noqa: PLC0415
    from opsportal.controls.models import Environment  # noqa: PLC0415
    from opsportal.controls.services import environment_save  # noqa: PLC0415

    auditor, _ = user_ensure(
        actor=None, username="bench_auditor", password=PASSWORD, roles=["auditor"]
    )
    operator, _ = user_ensure(
        actor=None, username="bench_operator", password=PASSWORD, roles=["operator"]
    )
    envs = []
    for slug in ("bench-live", "bench-paper"):
        env = Environment.objects.filter(slug=slug).first() or environment_save(
            environment=Environment(slug=slug, name=slug), actor=None, created=True
        )
        envs.append(env)
    existing = Incident.objects.count()
    if existing < count:
        rng = random.Random(14)  # noqa: S311  (reproducible test data, not secrets)
        now = datetime.now(UTC).replace(microsecond=0)
        per_day = 100
        batch: list = []
        started = time.monotonic()
        for n in range(existing, count):
            day = now - timedelta(days=n // per_day + 1)
            detected = day - timedelta(seconds=rng.randrange(86_000))
            title, summary, systems = SCENARIOS[rng.randrange(len(SCENARIOS))]
            severity = f"SEV{rng.choice([1, 2, 2, 3, 3, 3, 4, 4])}"
            sev = SEVERITIES[severity]
            status = (
                "detected"
                if rng.random() < 0.005
                else rng.choice(["closed", "resolved", "declined"])
            )
            batch.append(
                Incident(
                    reference=f"INC-{day:%Y%m%d}-{n % per_day + 500:03d}",
                    title=title.format(venue=rng.choice(VENUES), n=rng.randrange(40)),
                    summary=summary,
                    affected_systems=systems,
                    severity=severity,
                    status=status,
                    environment=envs[n % 2],
                    detected_at=detected,
                    created_at=detected,
                    ack_due_at=detected + timedelta(seconds=sev.response_seconds),
                    next_update_due_at=None,
                )
            )
            if len(batch) == 5000:
                Incident.objects.bulk_create(batch)
                batch.clear()
        Incident.objects.bulk_create(batch)
        print(f"seeded {count - existing} incidents in {time.monotonic() - started:.0f} s")
        from django.db import connection  # noqa: PLC0415

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE incidents_incident")
    detail = Incident.objects.filter(title="Bench: broker session dropped").first()
    if detail is None:
        detail = services.incident_open(
            actor=operator,
            title="Bench: broker session dropped",
            severity="SEV2",
            summary="Opened by bench/pages.py.",
            environment=envs[0],
        )
        for n in range(10):
            services.timeline_entry_add(
                actor=operator, incident=detail, kind="note", body=f"Note {n}"
            )
    reference = Incident.objects.order_by("id").values_list("reference", flat=True)[count // 2]
    return {"auditor": auditor, "detail_id": detail.pk, "reference": reference}


def session_cookie(user) -> str:
    """A signed-in session for `user`, made as django.contrib.auth.login does."""
    from django.conf import settings  # noqa: PLC0415
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: PLC0415
    from django.contrib.sessions.backends.db import SessionStore  # noqa: PLC0415

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    # The backend that signs people in (ModelBackend), as login() records it: the
    # lockout backend ahead of it in the list only refuses, it loads no users.
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    assert session[BACKEND_SESSION_KEY] in settings.AUTHENTICATION_BACKENDS
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def list_cursor(offset: int) -> str:
    """The list's `?after=` cursor of the row just before `offset` (newest first)."""
    from incidents.models import Incident  # noqa: PLC0415

    row = Incident.objects.order_by("-detected_at", "-id").values("detected_at", "id")[offset - 1]
    micros = int(
        (row["detected_at"] - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1)
    )
    return f"{micros}_{row['id']}"


def api_cursor(offset: int) -> str:
    """DRF's CursorPagination cursor (base64 of `p=<position>`) at `offset`."""
    from incidents.models import Incident  # noqa: PLC0415

    position = Incident.objects.order_by("-detected_at", "-id").values_list(
        "detected_at", flat=True
    )[offset - 1]
    return base64.b64encode(urlencode({"p": str(position)}).encode()).decode()


def pages(ctx: dict, legacy: bool) -> list[tuple[str, str]]:
    deep_list = 3900
    deep_api = 1900
    if legacy:
        list_deep = f"/incidents/?page={deep_list}"
        api_deep = f"/api/v1/incidents/?page={deep_api}"
    else:
        list_deep = f"/incidents/?after={list_cursor((deep_list - 1) * LIST_PAGE_SIZE)}"
        api_deep = f"/api/v1/incidents/?cursor={quote(api_cursor((deep_api - 1) * API_PAGE_SIZE))}"
    return [
        ("dashboard", "/"),
        ("list", "/incidents/"),
        (
            "list page 2",
            "/incidents/?page=2" if legacy else f"/incidents/?after={list_cursor(LIST_PAGE_SIZE)}",
        ),
        (f"list deep (page {deep_list})", list_deep),
        ("filter open", "/incidents/?state=open"),
        ("filter SEV1 finished", "/incidents/?state=finished&severity=SEV1"),
        ("filter status closed", "/incidents/?status=closed"),
        ("search broker", "/incidents/?q=broker"),
        ("search 'kafka consumer'", "/incidents/?q=kafka+consumer"),
        ("search rare (arb-7)", "/incidents/?q=arb-7"),
        ("search no match", "/incidents/?q=zebra"),
        ("search reference", f"/incidents/?q={ctx['reference']}"),
        ("search broker + SEV1", "/incidents/?q=broker&severity=SEV1"),
        ("detail", f"/incidents/{ctx['detail_id']}/"),
        ("API list", "/api/v1/incidents/"),
        (f"API deep (page {deep_api})", api_deep),
        ("API search broker", "/api/v1/incidents/?q=broker"),
        ("API search reference", f"/api/v1/incidents/?q={ctx['reference']}"),
        ("API detail", f"/api/v1/incidents/{ctx['detail_id']}/"),
    ]


def cpu_snapshot(server_pid: int, database: str) -> dict[int, float]:
    """CPU seconds so far of the gunicorn processes and of the database's backends
    (persistent connections: CONN_MAX_AGE keeps them across requests)."""
    import psycopg  # noqa: PLC0415  (set-up only, as in ensure_database)

    with psycopg.connect(dbname="postgres", **PG) as conn:
        backends = [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]
            ).fetchall()
        ]
    pids = [server_pid, *gate.child_pids(server_pid), *backends]
    return {pid: gate.cpu_seconds(pid) for pid in pids}


def measure(
    port: int, cookie: str, path: str, warmup: int, count: int, server_pid: int, database: str
) -> dict:
    """Wall time per request (client side) and the server's CPU per request (gunicorn
    plus PostgreSQL backends, from /proc): the CPU figure is what the page costs,
    the wall time also what other work on the machine costs it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie, "Accept": "text/html,application/json"}
    times = []
    status = set()
    cpu_before: dict[int, float] = {}
    for n in range(warmup + count):
        if n == warmup:
            cpu_before = cpu_snapshot(server_pid, database)
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        status.add(response.status)
        if n >= warmup:
            times.append(elapsed)
    conn.close()
    cpu_after = cpu_snapshot(server_pid, database)
    cpu = sum(cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after)
    return {
        "cpu_ms_per_request": round(cpu * 1000 / count, 1),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(gate.percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
        "status": sorted(status),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--database", default="opsportal_bench_pages")
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="checkout to serve (default: this one)"
    )
    parser.add_argument("--legacy", action="store_true", help="deep pages by ?page=N (OFFSET code)")
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (1 <= args.incidents <= 1_000_000 and 1 <= args.requests <= 1000):
        raise SystemExit("--incidents 1..1,000,000 and --requests 1..1000")

    ensure_database(args.database)
    migrate(args.code.resolve(), args.database)
    django_setup(args.database)
    ctx = seed(args.incidents)
    cookie = session_cookie(ctx["auditor"])
    targets = pages(ctx, args.legacy)

    gate.SERVER_ENV.update(server_env(args.database))
    os.chdir(args.code)
    gate.ROOT = args.code.resolve()
    port = gate.free_port()
    server = gate.start_server(sys.executable, port, args.workers, args.threads)
    results = {}
    try:
        for name, path in targets:
            results[name] = {
                "path": path,
                **measure(
                    port, cookie, path, args.warmup, args.requests, server.pid, args.database
                ),
            }
            r = results[name]
            print(
                f"{name:28} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms"
                f"  max {r['max_ms']:7.1f} ms  server CPU {r['cpu_ms_per_request']:6.1f} ms/req"
                f"  {r['status']}"
            )
    finally:
        gate.stop_server(server)
    failed = sorted(name for name, r in results.items() if r["status"] != [200])
    if failed:
        # A page answering an error is fast and means nothing: no figures for it.
        sys.exit(f"pages did not answer 200: {', '.join(failed)}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"incidents": args.incidents, "code": str(args.code), "pages": results}, indent=2
            )
        )


if __name__ == "__main__":
    main()
