"""Gate benchmark: throughput and latency of GET /api/v1/environments/<slug>/gate
against a bare Django JSON view, and trigger-to-HALT visibility.

    .venv/bin/python bench/gate.py [--seconds 8] [--clients 4] [--trials 20]

What it does (loopback only, bounded in time and count):

1. Creates (if missing) and migrates the PostgreSQL database `opsportal_bench` on
   127.0.0.1, seeds an environment `bench`, two users and a gate token.
2. Starts gunicorn on 127.0.0.1 (a free port; gthread workers, keep-alive; one worker
   per server CPU with two threads unless told otherwise) serving
   `bench.wsgi`: the portal's own settings and URLs plus `/api/v1/environments/<slug>/bare`, a
   bare Django JSON view with a body of the same size. Same server, same middleware.
3. Throughput: `--clients` client processes, each one keep-alive `http.client`
   connection sending requests back to back, for `--seconds` after a warm-up;
   alternating bare / gate for `--rounds` rounds. Prints requests/s, p50, p99 and
   the gate/bare ratio (target >= 0.8).
4. Visibility: poller processes read the gate in a tight loop while this process
   triggers the kill switch `--trials` times (and recovers through the real
   four-eyes path in between). For each trigger: time from the commit (an
   on_commit stamp) to the first read that shows the trigger's version, and the
   number of stale reads (sent after the commit, answering an older version).
   Target: zero stale reads.

Topology (`--topology`). In production the engines, the portal and PostgreSQL are
on different hosts, so the CPU the gate costs the portal server is its own Python
work and its side of one database round trip. On one machine everything competes for
the same CPUs unless it is kept apart:

- `isolated` (default when there are two CPUs or more and this process may set the
  affinity of PostgreSQL's backends, i.e. runs as root or as postgres): gunicorn is
  pinned to the first half of the CPUs (one of two); the load clients, the pollers
  and the benchmark database's PostgreSQL backends (those serving `opsportal_bench`,
  pinned as they appear; nothing else of the cluster is touched) to the others.
  The portal server's CPU is then the bottleneck, as on a web host, and the ratio
  measures what the gate costs the server.
- `shared`: nothing pinned; server, clients and PostgreSQL share every CPU, so the
  gate is also charged for PostgreSQL's work and for the context switches between
  all of them, which a web host with a remote database does not pay. Reported for
  comparison.

Each measured window also reads the CPU time (user + system, from /proc) that the
gunicorn processes and the benchmark database's backends used, per request: the
server's own cost of a gate read, less noisy than throughput on a shared VM.

Clients are Python processes (not threads: the GIL would cap the client, not the
server). Times are time.monotonic(), which is system-wide on Linux, so stamps from
different processes compare; the measured window starts at the same instant for
every client and for the CPU sampler.

`--server-python` runs gunicorn with another interpreter (default: this one); it
needs gunicorn installed (`make install` does, from pyproject.toml).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# OPSPORTAL_BENCH_DB: another database name, so benchmarks of two branches (with
# different migrations) on one machine do not migrate each other's database.
DB_NAME = os.environ.get("OPSPORTAL_BENCH_DB", "opsportal_bench")
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
ENV_SLUG = "bench"
PASSWORD = "bench-password-not-secret-0123"

SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
    "OPSPORTAL_AUDIT_SIGNING_KEY": "bench-audit-signing-key-not-for-production-0123",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_LOG_LEVEL": "WARNING",
    "REDIS_URL": "",
}


# --- set-up -------------------------------------------------------------------------


def ensure_database() -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def django_setup() -> None:
    os.environ.update(SERVER_ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def seed() -> tuple[str, object, object, object]:
    """Users, the environment (cooldown 0 so trials can recover at once), a token."""
    from opsportal.accounts.services import user_ensure
    from opsportal.controls.models import Environment
    from opsportal.controls.services import environment_save, gate_token_issue

    operator, _ = user_ensure(
        actor=None, username="bench_operator", password=PASSWORD, roles=["operator"]
    )
    risk, _ = user_ensure(
        actor=None, username="bench_risk", password=PASSWORD, roles=["risk_officer"]
    )
    env = Environment.objects.filter(slug=ENV_SLUG).first()
    if env is None:
        env = environment_save(
            environment=Environment(slug=ENV_SLUG, name="Benchmark", recovery_cooldown_seconds=0),
            actor=None,
            created=True,
        )
    _, token = gate_token_issue(name="bench", environment=env, actor=None)
    return token, env, operator, risk


def recover(env: object, operator: object, risk: object) -> None:
    """KILLED → ACTIVE through the real path: recover, then a risk officer approves."""
    from opsportal.approvals.services import approval_grant
    from opsportal.controls.services import kill_switch_recover

    env.refresh_from_db()
    if env.kill_switch == "ACTIVE":
        return
    if env.kill_switch == "KILLED":
        request = kill_switch_recover(environment=env, actor=operator, reason="bench")
    else:
        from opsportal.approvals.models import ApprovalRequest

        request = ApprovalRequest.objects.get(pk=env.resume_request_id)
    approval_grant(
        request_id=request.pk,
        actor=risk,
        password=PASSWORD,
        payload_sha256=request.payload_sha256,
    )
    env.refresh_from_db()
    assert env.kill_switch == "ACTIVE", env.kill_switch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    python: str, port: int, workers: int, threads: int, cpus: set[int] | None = None
) -> subprocess.Popen:
    """gunicorn serving bench.wsgi on 127.0.0.1:`port`, pinned to `cpus` (all when
    None); returns once /health answers."""
    env = {**os.environ, **SERVER_ENV, "PYTHONPATH": str(ROOT)}
    cmd = [
        python,
        "-m",
        "gunicorn",
        "bench.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "5",
        "--log-level",
        "warning",
    ]
    # The affinity is set in the child before gunicorn starts, so every worker it
    # forks inherits it. preexec_fn is unsafe in a process with threads: call this
    # before starting any.
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    proc = subprocess.Popen(  # noqa: S603
        cmd,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        preexec_fn=pin,
    )
    return wait_until_healthy(proc, port, "gunicorn", detail=" ".join(cmd))


def wait_until_healthy(
    proc: subprocess.Popen, port: int, name: str, *, detail: str = ""
) -> subprocess.Popen:
    """`proc` once its server on 127.0.0.1:`port` answers /health (200 or 503), within
    30 s; SystemExit (after killing it) when it exits or stays silent."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with {proc.returncode}: {detail}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status in (200, 503):
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{name} did not answer /health within 30 s")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


# --- clients (run in child processes) --------------------------------------------------


def load_client(
    port: int, path: str, headers: dict, measure_from: float, seconds: float, out
) -> None:
    """Send requests back to back until `measure_from + seconds` (monotonic clock);
    keep the latencies of those sent from `measure_from` on."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies: list[float] = []
    errors = 0
    end = measure_from + seconds
    while True:
        t0 = time.monotonic()
        if t0 >= end:
            break
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            ok = False
        t1 = time.monotonic()
        if t0 >= measure_from:
            if ok:
                latencies.append(t1 - t0)
            else:
                errors += 1
    conn.close()
    out.put((latencies, errors))


def poll_client(port: int, path: str, headers: dict, stop_at: float, out) -> None:
    """Read the gate back to back; record (sent, received, decision, version)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    reads = []
    while time.monotonic() < stop_at:
        sent = time.monotonic()
        try:
            conn.request("GET", path, headers=headers)
            body = json.loads(conn.getresponse().read())
        except (OSError, http.client.HTTPException, ValueError):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        reads.append((sent, time.monotonic(), body["decision"], body["version"]))
    conn.close()
    out.put(reads)


# --- CPU placement and accounting ---------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process `pid` (all its threads); 0.0
    once it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (proc(5))


def child_pids(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def can_isolate() -> bool:
    """Whether the isolated topology is possible: two CPUs or more, and the right to
    set the CPU affinity of PostgreSQL's backends (root or the postgres user)."""
    import pwd

    uid = os.geteuid()
    may_pin = uid == 0 or pwd.getpwuid(uid).pw_name == "postgres"
    return len(os.sched_getaffinity(0)) >= 2 and may_pin


def split_cpus() -> tuple[set[int], set[int]]:
    """(server CPUs, everything else): the first half of this process's CPUs, at
    least one, for gunicorn; the rest for clients and the database's backends."""
    cpus = sorted(os.sched_getaffinity(0))
    half = max(1, len(cpus) // 2)
    return set(cpus[:half]), set(cpus[half:])


class BackendWatch:
    """The PostgreSQL backends serving the benchmark database (`DB_NAME`), found in
    pg_stat_activity every 0.2 s by a thread. With `pin_to`, each new backend is
    pinned to those CPUs (the isolated topology); backends of other databases, and
    the cluster's own processes, are never touched."""

    def __init__(self, pin_to: set[int] | None):
        self.pin_to = pin_to
        self.pids: set[int] = set()
        self.error: BaseException | None = None
        self._conn = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        import psycopg

        self._conn = psycopg.connect(dbname="postgres", autocommit=True, **PG)
        self._scan()  # raise at once if pinning is refused
        self._thread.start()  # from here on only the thread uses the connection

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._conn.close()

    def _scan(self) -> None:
        rows = self._conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [DB_NAME]
        ).fetchall()
        for (pid,) in rows:
            if pid in self.pids:
                continue
            if self.pin_to:
                try:
                    os.sched_setaffinity(pid, self.pin_to)
                except ProcessLookupError:
                    continue
            self.pids.add(pid)

    def _run(self) -> None:
        try:
            while not self._stop.wait(0.2):
                self._scan()
        except Exception as exc:  # noqa: BLE001 - reported by CpuMeter.since
            self.error = exc


class CpuMeter:
    """CPU seconds used by the gunicorn processes (master and workers) and by the
    benchmark database's backends between two snapshots."""

    def __init__(self, server_pid: int, backends: BackendWatch):
        self.server_pid = server_pid
        self.backends = backends

    def snapshot(self) -> dict[str, dict[int, float]]:
        server = [self.server_pid, *child_pids(self.server_pid)]
        return {
            "server": {pid: cpu_seconds(pid) for pid in server},
            "database": {pid: cpu_seconds(pid) for pid in set(self.backends.pids)},
        }

    def since(self, before: dict[str, dict[int, float]]) -> dict[str, float]:
        if self.backends.error is not None:
            raise SystemExit(f"watching PostgreSQL's backends failed: {self.backends.error}")
        after = self.snapshot()
        return {
            group: sum(cpu - before[group].get(pid, 0.0) for pid, cpu in after[group].items())
            for group in after
        }


# --- measurements ---------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(
    port: int,
    path: str,
    headers: dict,
    clients: int,
    warmup: float,
    seconds: float,
    cpu: CpuMeter,
) -> dict:
    """One round for one path: `clients` processes, a warm-up, then `seconds` measured;
    the CPU meter reads the same window."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    measure_from = time.monotonic() + warmup
    procs = [
        ctx.Process(target=load_client, args=(port, path, headers, measure_from, seconds, out))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    time.sleep(max(0.0, measure_from - time.monotonic()))
    before = cpu.snapshot()
    time.sleep(max(0.0, measure_from + seconds - time.monotonic()))
    used = cpu.since(before)
    results = [out.get(timeout=warmup + seconds + 60) for _ in procs]
    for p in procs:
        p.join(10)
    latencies = [lat for lats, _ in results for lat in lats]
    errors = sum(e for _, e in results)
    if not latencies:
        raise SystemExit(f"{path}: every request failed ({errors} errors)")
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        # CPU time (user + system) per answered request, in microseconds.
        "server_cpu_us": used["server"] / len(latencies) * 1e6,
        "database_cpu_us": used["database"] / len(latencies) * 1e6,
    }


def visibility(port: int, token: str, env, operator, risk, trials: int, pollers: int) -> dict:
    from opsportal.controls.services import kill_switch_trigger

    recover(env, operator, risk)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    path = f"/api/v1/environments/{ENV_SLUG}/gate"
    headers = {"Authorization": f"Bearer {token}"}
    budget = 8 + trials * 3.0  # bounded: pollers stop on their own
    stop_at = time.monotonic() + budget
    procs = [
        ctx.Process(target=poll_client, args=(port, path, headers, stop_at, out))
        for _ in range(pollers)
    ]
    for p in procs:
        p.start()
    time.sleep(3)  # let the pollers start (spawned interpreters import Django-free code)
    windows = []  # (commit stamp, version after trigger, recovery start stamp)
    for _ in range(trials):
        if time.monotonic() > stop_at - 3:
            break
        # The trigger is a service entry point: its transaction has committed when it
        # returns, so that is the commit stamp.
        event = kill_switch_trigger(
            environment=env, actor=operator, reason_code="drill", note="bench"
        )
        stamp = [time.monotonic()]
        time.sleep(0.25)
        recovery_start = time.monotonic()
        recover(env, operator, risk)
        windows.append((stamp[0], event.version, recovery_start))
        time.sleep(0.1)
    reads = [r for _ in procs for r in out.get(timeout=budget + 60)]
    for p in procs:
        p.join(10)
    to_halt_ms, stale = [], 0
    for commit, version, recovery_start in windows:
        seen = [recv for sent, recv, decision, v in reads if v >= version and decision == "HALT"]
        first = min((r for r in seen if r >= commit - 0.05), default=None)
        if first is not None:
            to_halt_ms.append((first - commit) * 1000)
        stale += sum(
            1
            for sent, recv, decision, v in reads
            if sent >= commit and recv <= recovery_start and v < version
        )
    return {
        "trials": len(windows),
        "reads": len(reads),
        "stale_reads_after_commit": stale,
        "commit_to_first_halt_ms": {
            "p50": statistics.median(to_halt_ms) if to_halt_ms else None,
            "max": max(to_halt_ms) if to_halt_ms else None,
            "min": min(to_halt_ms) if to_halt_ms else None,
        },
        "trials_with_halt_seen": len(to_halt_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2, help="alternating bare/gate rounds")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument(
        "--workers", type=int, help="gunicorn workers (default: one per server CPU)"
    )
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--trials", type=int, default=20, help="kill-switch triggers")
    parser.add_argument("--pollers", type=int, default=2, help="gate pollers during trials")
    parser.add_argument("--server-python", default=sys.executable)
    parser.add_argument(
        "--database-host",
        default="127.0.0.1",
        help="PostgreSQL host for the portal, e.g. /var/run/postgresql for the Unix socket",
    )
    parser.add_argument(
        "--topology",
        choices=["isolated", "shared"],
        default="isolated" if can_isolate() else "shared",
        help="isolated: gunicorn on its own CPU(s), clients and the database's backends on "
        "the others; shared: nothing pinned (default: isolated where possible)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.seconds > 60 or args.rounds > 10 or args.trials > 100 or args.clients > 32:
        raise SystemExit("refusing: keep the benchmark bounded (seconds<=60, rounds<=10, ...)")
    if args.topology == "isolated":
        if not can_isolate():
            raise SystemExit(
                "--topology isolated needs two CPUs and the right to pin PostgreSQL's "
                "backends (root or postgres); use --topology shared"
            )
        server_cpus, other_cpus = split_cpus()
        os.sched_setaffinity(0, other_cpus)  # inherited by the clients and pollers
    else:
        server_cpus = other_cpus = None
    # One worker per CPU the server has, two threads each: the gate is fastest with
    # one worker per CPU and 2-4 threads; 8 threads, or more workers than CPUs, slow it
    # (docs/BENCHMARKS.md, "Server configuration").
    args.workers = args.workers or len(server_cpus or os.sched_getaffinity(0))

    ensure_database()
    host = args.database_host.replace("/", "%2F")
    SERVER_ENV["DATABASE_URL"] = f"postgres://postgres@{host}:5432/{DB_NAME}"
    django_setup()
    migrate()
    token, env, operator, risk = seed()
    recover(env, operator, risk)
    port = free_port()
    server = start_server(args.server_python, port, args.workers, args.threads, server_cpus)
    # Started after the server: start_server forks with a preexec hook, which must not
    # run while this process has other threads.
    backends = BackendWatch(pin_to=other_cpus)
    try:
        backends.start()
    except BaseException:
        stop_server(server)
        raise
    cpu = CpuMeter(server.pid, backends)
    try:
        gate_path = f"/api/v1/environments/{ENV_SLUG}/gate"
        bare_path = f"/api/v1/environments/{ENV_SLUG}/bare"
        auth = {"Authorization": f"Bearer {token}"}
        runs: dict[str, list[dict]] = {"bare": [], "gate": []}
        for _ in range(args.rounds):
            for name, path, headers in (("bare", bare_path, {}), ("gate", gate_path, auth)):
                runs[name].append(
                    measure(port, path, headers, args.clients, args.warmup, args.seconds, cpu)
                )
        vis = visibility(port, token, env, operator, risk, args.trials, args.pollers)
    finally:
        stop_server(server)
        backends.stop()

    def summary(name: str) -> dict:
        rs = runs[name]
        return {
            "rps": statistics.mean(r["rps"] for r in rs),
            "p50_ms": statistics.mean(r["p50_ms"] for r in rs),
            "p99_ms": statistics.mean(r["p99_ms"] for r in rs),
            "server_cpu_us": statistics.median(r["server_cpu_us"] for r in rs),
            "database_cpu_us": statistics.median(r["database_cpu_us"] for r in rs),
            "errors": sum(r["errors"] for r in rs),
            "rounds": rs,
        }

    bare, gate = summary("bare"), summary("gate")
    pairs = list(zip(runs["bare"], runs["gate"], strict=True))
    result = {
        "config": {
            "seconds": args.seconds,
            "rounds": args.rounds,
            "clients": args.clients,
            "gunicorn": f"{args.workers} workers x {args.threads} threads (gthread)",
            "cpus": os.cpu_count(),
            "topology": args.topology,
            "server_cpus": sorted(server_cpus) if server_cpus else None,
            "client_and_database_cpus": sorted(other_cpus) if other_cpus else None,
            "database_host": args.database_host,
        },
        "bare": bare,
        "gate": gate,
        "ratio": gate["rps"] / bare["rps"],
        # Each round measures bare then gate back to back, so a round's ratio is the
        # least exposed to load that drifts during the run.
        "round_ratios": [g["rps"] / b["rps"] for b, g in pairs],
        # Server CPU per request, bare / gate: the throughput ratio the server's CPU
        # alone allows.
        "round_cpu_ratios": [b["server_cpu_us"] / g["server_cpu_us"] for b, g in pairs],
        "visibility": vis,
    }
    if server_cpus:
        print(
            f"topology isolated: gunicorn on CPU {sorted(server_cpus)}, clients and the "
            f"database's backends on CPU {sorted(other_cpus)}"
        )
    else:
        print("topology shared: nothing pinned")
    for name, r in (("bare", bare), ("gate", gate)):
        print(
            f"{name}  {r['rps']:8.0f} req/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms"
            f"  server CPU {r['server_cpu_us']:.0f} us/req"
            f"  database CPU {r['database_cpu_us']:.0f} us/req"
        )
    print(f"ratio gate/bare {result['ratio']:.2f} (target >= 0.80)")
    labels = (("per-round ratios", "round_ratios"), ("server CPU ratios", "round_cpu_ratios"))
    for label, key in labels:
        values = result[key]
        print(
            f"{label} "
            + ", ".join(f"{r:.2f}" for r in values)
            + f"; median {statistics.median(values):.2f}"
        )
    halt = vis["commit_to_first_halt_ms"]
    print(
        f"trigger->first HALT read: p50 {halt['p50']:.2f} ms, max {halt['max']:.2f} ms over "
        f"{vis['trials']} triggers ({vis['reads']} reads); stale reads after commit: "
        f"{vis['stale_reads_after_commit']} (target 0)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
