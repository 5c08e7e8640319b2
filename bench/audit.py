"""Audit chain benchmark (issue 15): append rate with and without the chain, the
sealer's lag, sealing, verification, export, and the audit pages at scale.

    .venv/bin/python bench/audit.py [--events 1000000] [--seconds 4] [--json out.json]
    .venv/bin/python bench/audit.py --skip-append     # only the 1,000,000-event part
    .venv/bin/python bench/audit.py --skip-append --scale-parts pages   # only the pages
    .venv/bin/python bench/audit.py --skip-append --distinct-json  # no two JSON values alike

Against the PostgreSQL database `opsportal_audit_bench` on 127.0.0.1 (created and
migrated here; the event table is emptied first, which the triggers allow only in a
session that sets `opsportal.audit_allow_truncate`, as this script does).

1. Appends: for 1, 8 and 32 writer threads (each its own connection), for
   `--seconds` each, every writer loops `transaction.atomic(): audit_record(...)`:
   - `unchained`: the insert alone (the sealer is not queued);
   - `sealer` (the design kept): the same insert, then after commit `queue_seal`
     as in production (a Redis `SET NX`; the first commit of a burst queues the seal
     task with its countdown, AUDIT_SEAL_DELAY_MS), run by a real Celery worker
     (`celery -A opsportal worker`, started here on the same database and Redis db);
   - `serialised` (the design not kept): the append takes the chain's advisory lock,
     reads the head, hashes and inserts the sealed event, and holds the lock to commit.
   Prints events/s per mode and the ratio to `unchained`; for `sealer`, the largest
   commit-to-sealed lag seen (a monitor samples the oldest unsealed event every 0.1 s)
   and the time to drain after the writers stop.
2. Scale: seeds the table to `--events` unsealed events with one INSERT ... SELECT
   (a mix of event types, actors, objects, before/after), seals them (events/s),
   checkpoints, verifies (events/s), exports the whole range in a child process
   (`build_bundle`'s seconds and peak RSS, then `audit_verify_export`'s seconds, each
   with the load average), and times the audit page and the admin's
   audit list in-process (Django test client, the portal's settings with DEBUG off):
   unfiltered, filtered and searched, `--requests` each: p50 / p95 / max ms.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.worker import celery_worker  # noqa: E402 - after the path is set

DB_NAME = os.environ.get("AUDIT_BENCH_DB", "opsportal_audit_bench")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("OPSPORTAL_AUDIT_SIGNING_KEY", "bench-audit-signing-key-0123456789")
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/2")
os.environ.setdefault("OPSPORTAL_MEDIA_ROOT", str(ROOT / "var" / "bench-audit-media"))


def ensure_database() -> None:
    import psycopg  # noqa: PLC0415 - before Django is set up

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            c.execute(f"CREATE DATABASE {DB_NAME}")


def setup(migrate: bool = True) -> None:
    import django  # noqa: PLC0415 - the environment above must be set first
    from django.conf import settings  # noqa: PLC0415

    django.setup()
    settings.DATABASES["default"]["OPTIONS"]["options"] = "-c opsportal.audit_allow_truncate=on"
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 600
    settings.ALLOWED_HOSTS = ["*"]
    if migrate:
        from django.core.management import call_command  # noqa: PLC0415

        call_command("migrate", verbosity=0)


def truncate() -> None:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE audit_auditevent, audit_auditcheckpoint, audit_auditverification, "
            "audit_auditexport, audit_auditpurge RESTART IDENTITY CASCADE"
        )


# --- 1. appends -----------------------------------------------------------------------


def serialised_append(i: int) -> int:
    from django.db import transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from opsportal.audit import chain  # noqa: PLC0415
    from opsportal.audit.models import AuditEvent  # noqa: PLC0415

    with transaction.atomic():
        chain.lock_chain()
        seq, prev = chain.chain_head()
        event = AuditEvent(
            occurred_at=timezone.now(),
            event_type="user.changed",
            object_type="bench.object",
            object_id=str(i),
            object_repr=f"bench {i}",
            metadata={"i": i},
            source="system",
            seq=seq + 1,
            prev_hash=prev,
        )
        row = (
            None, seq + 1, event.occurred_at, None, "", event.event_type, event.object_type,
            event.object_id, event.object_repr, None, None, event.metadata, "", None, "system",
        )  # fmt: skip
        event.hash = chain.event_hash(chain.canonical_event(row), prev)
        event.save(force_insert=True)
        return int(event.pk)


def run_appends(mode: str, writers: int, seconds: float) -> dict:
    from django.db import connection, transaction  # noqa: PLC0415

    from opsportal.audit import chain, services, tasks  # noqa: PLC0415
    from opsportal.audit.services import audit_record  # noqa: PLC0415

    truncate()
    from django.core.cache import cache  # noqa: PLC0415

    cache.delete(tasks.SEAL_PENDING_KEY)
    stop = threading.Event()
    commit_times: dict[int, float] = {}
    original_queue = services.queue_seal
    if mode != "sealer":
        # unchained: the insert alone; serialised: its appends are sealed already.
        services.queue_seal = lambda: None  # type: ignore[assignment]
    counts = [0] * writers
    lags: list[float] = []

    def writer(index: int) -> None:
        try:
            deadline = time.monotonic() + seconds
            i = 0
            while time.monotonic() < deadline:
                if mode == "serialised":
                    pk = serialised_append(i)
                else:
                    with transaction.atomic():
                        pk = audit_record(
                            actor=None,
                            event_type="user.changed",
                            metadata={"w": index, "i": i},
                        ).pk
                commit_times[pk] = time.monotonic()
                i += 1
            counts[index] = i
        finally:
            connection.close()

    def monitor() -> None:
        try:
            while not stop.is_set():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT min(id) FROM audit_auditevent WHERE seq IS NULL")
                    oldest = cursor.fetchone()[0]
                if oldest is not None and oldest in commit_times:
                    lags.append(time.monotonic() - commit_times[oldest])
                time.sleep(0.1)
        finally:
            connection.close()

    helpers = [threading.Thread(target=monitor)] if mode == "sealer" else []
    for h in helpers:
        h.start()
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    drain = None
    if mode == "sealer":
        t0 = time.monotonic()
        from opsportal.audit.models import AuditEvent  # noqa: PLC0415

        while AuditEvent.objects.filter(seq__isnull=True).exists():
            time.sleep(0.01)
        drain = time.monotonic() - t0
    stop.set()
    for h in helpers:
        h.join()
    services.queue_seal = original_queue  # type: ignore[assignment]
    total = sum(counts)
    result = {"mode": mode, "writers": writers, "events": total, "rate": total / elapsed}
    if mode != "unchained":
        chain.audit_seal()
        result["verifies"] = chain.verify_chain().ok
    if mode == "sealer":
        result["max_lag_s"] = max(lags) if lags else 0.0
        result["drain_s"] = drain
    return result


# --- 2. scale -------------------------------------------------------------------------

SEED_SQL = """
INSERT INTO audit_auditevent (occurred_at, actor_id, actor_username, event_type, object_type,
    object_id, object_repr, before, after, metadata, request_id, ip, source, prev_hash, hash)
SELECT now() - (%(n)s - g) * interval '200 milliseconds',
       NULL,
       (ARRAY['operator1','operator2','commander','risk','admin'])[1 + g %% 5],
       (ARRAY['incident.acknowledged','incident.status_update','killswitch.triggered',
              'approval.granted','drill.step_recorded','user.changed','auth.login'])[1 + g %% 7],
       (ARRAY['incidents.incident','drills.drillrun','approvals.approvalrequest',
              'controls.environment','accounts.user'])[1 + g %% 5],
       (g %% 50000)::text,
       'INC-2026' || lpad(((g / 1000) %% 10000)::text, 4, '0') || '-'
           || lpad((g %% 1000)::text, 3, '0')
           || (ARRAY[' Broker disconnect',' Kafka lag',' Order rejection spike',' Feed gap'])
              [1 + g %% 4],
       jsonb_build_object('status', 'detected', 'n', g %% 10),
       jsonb_build_object('status', 'acknowledged', 'n', g %% 10 + 1),
       jsonb_build_object('reason', 'bench'),
       md5(g::text),
       '10.0.0.1',
       (ARRAY['web','api','task'])[1 + g %% 3],
       '', ''
FROM generate_series(1, %(n)s) AS g
"""


# --distinct-json: every event's before, after and metadata differ from every other
# event's, so no cache of canonical JSON texts helps verification or the export (a
# real trail's values mostly differ; the seed above has 21 distinct texts in all).
DISTINCT_SEED_SQL = (
    SEED_SQL.replace(
        "jsonb_build_object('status', 'detected', 'n', g %% 10),",
        "jsonb_build_object('status', 'detected', 'n', g, 'note', 'seen by ' || md5(g::text)),",
    )
    .replace(
        "jsonb_build_object('status', 'acknowledged', 'n', g %% 10 + 1),",
        "jsonb_build_object('status', 'acknowledged', 'n', g + 1, 'by', 'operator' || g),",
    )
    .replace(
        "jsonb_build_object('reason', 'bench'),",
        "jsonb_build_object('reason', 'bench', 'seed', 'distinct', 'i', g),",
    )
)
assert DISTINCT_SEED_SQL.count("'distinct'") == 1 and "g %% 10)" not in DISTINCT_SEED_SQL


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    value = fn()
    return value, time.monotonic() - t0


def scale(events: int, requests: int, parts: set[str], *, distinct: bool = False) -> dict:
    from django.db import connection  # noqa: PLC0415

    from opsportal.audit import chain  # noqa: PLC0415
    from opsportal.audit.models import AuditEvent  # noqa: PLC0415

    out: dict = {"events": events}
    chain.audit_seal()  # events a previous run's page requests added
    have = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").first()
    seeded_distinct = AuditEvent.objects.filter(seq=1, metadata__seed="distinct").exists()
    out["seed"] = "distinct JSON" if distinct else "21 JSON texts"
    if have is None or have.seq < events or seeded_distinct != distinct:
        truncate()
        # The file copies of the checkpoints just truncated (else verification rightly
        # reports them missing from the database: checkpoint_copy).
        chain.checkpoint_file().unlink(missing_ok=True)
        seed_sql = DISTINCT_SEED_SQL if distinct else SEED_SQL
        with connection.cursor() as cursor:
            _, out["seed_s"] = timed(lambda: cursor.execute(seed_sql, {"n": events}))
            cursor.execute("ANALYZE audit_auditevent")
        sealed, seconds = timed(chain.audit_seal)
        out["seal_rate"] = sealed / seconds
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE audit_auditevent")
    chain.checkpoint_create()
    if "verify" in parts:
        load = os.getloadavg()[0]
        result, seconds = timed(chain.verify_chain)
        out["verify_ok"], out["verify_rate"] = result.ok, result.events_checked / seconds
        out["verify_load"] = load
        print(f"  verify: {result.message} in {seconds:.1f} s (load {load:.1f})", flush=True)
    if "export" in parts:
        # The export in a child process, to read its peak memory alone. The child
        # reports build_bundle's own time and peak RSS (read before it verifies the
        # bundle); the process's whole time (start-up, build, audit_verify_export) is
        # kept too: until 2026-12-03 14:45 that was the figure reported as the export's.
        t0 = time.monotonic()
        child = subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--export-child"],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        out["export_process_s"] = time.monotonic() - t0
        print(child.stdout, end="", flush=True)
        out.update(json.loads(child.stdout.strip().splitlines()[-1]))
    if "pages" in parts:
        out["pages"] = pages(requests)
    return out


def start_worker() -> subprocess.Popen:
    """A real Celery worker, as production runs it (README: `celery -A opsportal
    worker`), on this run's database and Redis db; the Redis db is emptied first so
    no task queued by an earlier run is waiting."""
    from django.core.cache import cache  # noqa: PLC0415

    cache.clear()  # FLUSHDB of the bench's own Redis db (the broker and the cache)
    return celery_worker()


def export_child() -> None:
    import datetime as dt  # noqa: PLC0415

    from django.utils import timezone  # noqa: PLC0415

    from opsportal.audit import exports  # noqa: PLC0415

    path = Path(os.environ["OPSPORTAL_MEDIA_ROOT"]) / "bench-export.zip"
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    manifest, _ = exports.build_bundle(
        path,
        start=timezone.now() - dt.timedelta(days=3650),
        end=timezone.now() + dt.timedelta(days=1),
        requested_by="bench",
        requested_at=timezone.now(),
        previous_manifest_sha256="",
    )
    rows = next(f["rows"] for f in manifest["files"] if f["name"] == "audit_events.csv")
    seconds = time.monotonic() - t0
    size = path.stat().st_size / 1e6
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  export: {rows} audit events in {seconds:.1f} s, {size:.0f} MB zip, "
          f"peak RSS {peak:.0f} MB", flush=True)  # fmt: skip
    check, verify_s = timed(lambda: exports.verify_bundle(path))  # after the peak was read
    print(f"  audit_verify_export: ok={check.ok} in {verify_s:.1f} s", flush=True)
    figures = {
        "export_s": seconds,
        "export_peak_rss_mb": peak,
        "export_zip_mb": size,
        "export_load": load,
        "export_verify_ok": check.ok,
        "export_verify_s": verify_s,
    }
    print(json.dumps(figures), flush=True)


def pages(requests: int) -> dict:
    from django.test import Client  # noqa: PLC0415

    from opsportal.accounts.models import User  # noqa: PLC0415
    from opsportal.accounts.services import user_ensure  # noqa: PLC0415

    if not User.objects.filter(username="bench-auditor").exists():
        user_ensure(
            actor=None,
            username="bench-auditor",
            password="bench-password-not-secret-0123",  # noqa: S106
            roles=["auditor"],
            first_name="Bench",
            last_name="Auditor",
        )
    user = User.objects.get(username="bench-auditor")
    User.objects.filter(pk=user.pk).update(is_staff=True)
    client = Client()
    client.force_login(user)
    urls = {
        "audit page, unfiltered": "/audit/",
        "audit page, event type": "/audit/?event_type=killswitch.triggered",
        "audit page, one object": "/audit/?object_type=incidents.incident&object_id=4242",
        "audit page, actor + type": "/audit/?actor=risk&event_type=approval.granted",
        "audit page, name contains": "/audit/?q=kafka",
        "audit page, request id": "/audit/?request_id=" + hashlib.md5(b"777").hexdigest(),  # noqa: S324 - the seeded ids
        "audit page, deep (older)": "/audit/?after=100000",
        "admin list, unfiltered": "/admin/audit/auditevent/",
        "admin list, event type": "/admin/audit/auditevent/?event_type=killswitch.triggered",
        "admin list, search reference": "/admin/audit/auditevent/?q=INC-20260042-042",
        "admin list, search object id": "/admin/audit/auditevent/?q=4242",
    }
    found = {}
    for label, url in urls.items():
        for _ in range(3):
            client.get(url)
        times = []
        status = set()
        for _ in range(requests):
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            status.add(response.status_code)
        times.sort()
        found[label] = {
            "p50": statistics.median(times),
            "p95": times[int(len(times) * 0.95) - 1],
            "max": times[-1],
            "status": sorted(status),
        }
        f = found[label]
        print(f"  {label:32} p50 {f['p50']:6.1f}  p95 {f['p95']:6.1f}  max {f['max']:6.1f} ms"
              f"  {f['status']}", flush=True)  # fmt: skip
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--writers", default="1,8,32")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-append", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument(
        "--scale-parts",
        default="verify,export,pages",
        help="which of the 1,000,000-event measurements to run (seeding and sealing "
        "run whenever the table is short of --events)",
    )
    parser.add_argument(
        "--distinct-json",
        action="store_true",
        help="seed events whose before/after/metadata all differ (no cache flatters "
        "verification or the export); reseeds when the table holds the other seed",
    )
    parser.add_argument("--export-child", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.export_child:
        setup(migrate=False)
        export_child()
        return
    ensure_database()
    setup()
    report: dict = {"appends": []}
    if not args.skip_append:
        # One worker for the whole run, started (and warmed up) before any
        # measurement; idle unless a seal is queued.
        sealer = start_worker()
        time.sleep(15)
        print("appends (events/s):", flush=True)
        for writers in [int(w) for w in args.writers.split(",")]:
            # Modes interleaved, --rounds times; the median round of each is kept (the
            # machine is shared: one mode must not get a quiet minute and another a busy one).
            runs: dict[str, list[dict]] = {"unchained": [], "sealer": [], "serialised": []}
            for _ in range(args.rounds):
                for mode in runs:
                    runs[mode].append(run_appends(mode, writers, args.seconds))
            base = statistics.median(r["rate"] for r in runs["unchained"])
            for mode, found in runs.items():
                r = sorted(found, key=lambda x: x["rate"])[len(found) // 2]
                r["rates"] = [round(x["rate"]) for x in found]
                r["ratio"] = r["rate"] / base
                if mode == "sealer":
                    r["max_lag_s"] = max(x["max_lag_s"] for x in found)
                    r["drain_s"] = max(x["drain_s"] for x in found)
                report["appends"].append(r)
                extra = ""
                if mode == "sealer":
                    extra = f"  max lag {r['max_lag_s']:.2f} s, drain {r['drain_s']:.2f} s"
                print(f"  {writers:2} writers {mode:10} {r['rate']:8.0f}/s  "
                      f"{r['ratio']:.2f}x{extra}  rounds {r['rates']}  "
                      f"verifies={r.get('verifies', '-')}", flush=True)  # fmt: skip
        sealer.terminate()
        sealer.wait()
    if not args.skip_scale:
        print(f"scale ({args.events} events):", flush=True)
        report["scale"] = scale(
            args.events,
            args.requests,
            set(args.scale_parts.split(",")),
            distinct=args.distinct_json,
        )
        s = report["scale"]
        if "seal_rate" in s:
            print(f"  seal: {s['seal_rate']:.0f} events/s", flush=True)
        if "verify_rate" in s:
            print(f"  verify: {s['verify_rate']:.0f} events/s", flush=True)
        if "export_s" in s:
            print(f"  export (build_bundle) {s['export_s']:.1f} s, peak "
                  f"{s['export_peak_rss_mb']:.0f} MB; audit_verify_export "
                  f"{s['export_verify_s']:.1f} s; whole child process "
                  f"{s['export_process_s']:.1f} s", flush=True)  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
