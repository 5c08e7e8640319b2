"""Gate push benchmark: commit → event received at each of N open gate streams, and
the polled gate's throughput ratio with and without those streams open.

    .venv/bin/python bench/push.py [--streams 1,100,500] [--trials 20] [--rounds 2]

What it does (loopback only, bounded in time and count):

1. Prepares the PostgreSQL database `opsportal_bench` as bench/gate.py does (created,
   migrated, seeded: environment `bench`, two users, a gate token).
2. Starts the production topology (README "Running in production"): gunicorn gthread
   (`bench.wsgi`: the portal plus the bare baseline view of bench/gate.py, one worker
   per CPU, two threads) and uvicorn serving `opsportal.asgi` (the gate streams), each
   on a free port of 127.0.0.1; nothing pinned (both share the machine's CPUs with
   PostgreSQL and this client).
3. Throughput with no stream open: `--rounds` alternating bare / gate rounds
   (bench/gate.py's load clients and CPU meter): the gate / bare ratio.
4. For each N in `--streams`: opens N streams (one asyncio client process: raw
   HTTP/1.1, bench/sse.py), then triggers the kill switch `--trials` times through
   the service (recovering through the real four-eyes path in between, which
   publishes two more changes). Each trigger's commit is stamped by a
   wrapper around the connection's commit (the instant PostgreSQL acknowledged it,
   before any on-commit work), and each stream's receipt of the event carrying the trigger's
   version is stamped when its block is parsed. Reports p50 / p99 / max of commit →
   receipt over every (trigger, stream) pair, and how many receipts were missing
   after 10 s (target 0).
   Also the same rounds against uvicorn (the polled gate served under ASGI), for the
   choice of topology (docs/controls.md "Gate stream: how it is served").
5. Throughput again with the largest N open (idle: a lease refresh every half lease
   each): the same ratio, in the same run.

Target (issue 9): p99 < 50 ms at 100 streams; the ratio with streams open equal to
the ratio without, within the machine's round-to-round noise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import gate as gatebench  # noqa: E402 - after sys.path: run as a script
from bench.sse import GateStream, open_stream  # noqa: E402

EVENT_TIMEOUT = 10.0  # seconds a stream may take to show one change
OPEN_TIMEOUT = 120.0  # seconds for all streams of one N to open


def start_stream_server(port: int, max_streams: int) -> subprocess.Popen:
    """uvicorn serving opsportal.asgi on 127.0.0.1:`port` (the README's command line);
    returns once it answers /health."""
    env = {
        **os.environ,
        **gatebench.SERVER_ENV,
        "PYTHONPATH": str(ROOT),
        "OPSPORTAL_GATE_STREAM_MAX": str(max_streams),
        "OPSPORTAL_GATE_STREAM_MAX_PER_TOKEN": str(max_streams),
    }
    cmd = [
        str(Path(sys.executable).with_name("uvicorn")),
        "opsportal.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    return gatebench.wait_until_healthy(proc, port, "uvicorn", detail=" ".join(cmd))


class Receipts:
    """Per stream: version → time.monotonic() of the first event carrying it."""

    def __init__(self, streams: list[GateStream]):
        self.streams = streams
        self.seen: list[dict[int, float]] = [{} for _ in streams]
        self.tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._read(i)) for i in range(len(self.streams))]

    async def _read(self, i: int) -> None:
        stream = self.streams[i]
        while (event := await stream.next_event()) is not None:
            version = event.get("version")
            if version is not None and version not in self.seen[i]:
                self.seen[i][version] = stream.received_at[-1]

    async def wait_for(self, version: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(version in seen for seen in self.seen):
                return
            await asyncio.sleep(0.005)

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for stream in self.streams:
            stream.close()


async def latencies_for(
    n: int, stream_port: int, token: str, env, operator, risk, trials: int
) -> dict:
    from django.db import DEFAULT_DB_ALIAS, connections

    from opsportal.controls.services import kill_switch_trigger

    loop = asyncio.get_running_loop()

    async def one() -> GateStream:
        stream = await open_stream("127.0.0.1", stream_port, gatebench.ENV_SLUG, token)
        if stream.status != 200:
            raise SystemExit(f"stream refused: {stream.status} {await stream.read_body()}")
        await stream.next_event()
        return stream

    streams = list(await asyncio.wait_for(asyncio.gather(*(one() for _ in range(n))), OPEN_TIMEOUT))
    receipts = Receipts(streams)
    receipts.start()
    stamps: list[float] = []

    def trigger():  # in an executor thread: Django's ORM refuses the event loop's
        # Stamp the instant PostgreSQL acknowledged the COMMIT (NOTIFY is delivered
        # then), before any on-commit work: wrap this thread's connection's commit.
        conn = connections[DEFAULT_DB_ALIAS]
        if not getattr(conn, "_bench_stamped", False):
            commit = conn._commit

            def stamped_commit():
                commit()
                stamps.append(time.monotonic())

            conn._commit = stamped_commit
            conn._bench_stamped = True
        return kill_switch_trigger(
            environment=env, actor=operator, reason_code="drill", note="bench"
        )

    latencies: list[float] = []
    missing = 0
    try:
        for _ in range(trials):
            stamps.clear()
            event = await loop.run_in_executor(None, trigger)
            committed = stamps[0]  # the trigger's durable transaction's commit
            await receipts.wait_for(event.version, EVENT_TIMEOUT)
            for seen in receipts.seen:
                if event.version in seen:
                    latencies.append((seen[event.version] - committed) * 1000)
                else:
                    missing += 1
            # ORM calls off the event loop (Django refuses them in async code).
            await loop.run_in_executor(None, gatebench.recover, env, operator, risk)
            await receipts.wait_for(event.version + 2, EVENT_TIMEOUT)  # RECOVERING, ACTIVE
    finally:
        receipts.stop()
    return {
        "streams": n,
        "trials": trials,
        "receipts": len(latencies),
        "missing": missing,
        "p50_ms": gatebench.percentile(latencies, 0.50),
        "p99_ms": gatebench.percentile(latencies, 0.99),
        "max_ms": max(latencies),
    }


def throughput(port: int, token: str, rounds: int, seconds: float, cpu) -> dict:
    gate_path = f"/api/v1/environments/{gatebench.ENV_SLUG}/gate"
    bare_path = f"/api/v1/environments/{gatebench.ENV_SLUG}/bare"
    auth = {"Authorization": f"Bearer {token}"}
    ratios, bare_rps, gate_rps = [], [], []
    for _ in range(rounds):
        bare = gatebench.measure(port, bare_path, {}, 4, 1.0, seconds, cpu)
        gate = gatebench.measure(port, gate_path, auth, 4, 1.0, seconds, cpu)
        bare_rps.append(bare["rps"])
        gate_rps.append(gate["rps"])
        ratios.append(gate["rps"] / bare["rps"])
    return {
        "bare_rps": statistics.mean(bare_rps),
        "gate_rps": statistics.mean(gate_rps),
        "ratio": statistics.mean(gate_rps) / statistics.mean(bare_rps),
        "round_ratios": ratios,
    }


async def with_open_streams(n: int, stream_port: int, token: str, work):
    """Run `work()` in a thread while `n` idle streams stay open (read, discarded)."""
    streams = list(
        await asyncio.wait_for(
            asyncio.gather(
                *(
                    open_stream("127.0.0.1", stream_port, gatebench.ENV_SLUG, token)
                    for _ in range(n)
                )
            ),
            OPEN_TIMEOUT,
        )
    )
    receipts = Receipts(streams)
    receipts.start()
    try:
        return await asyncio.get_running_loop().run_in_executor(None, work)
    finally:
        receipts.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="1,100,500", help="comma-separated N")
    parser.add_argument("--trials", type=int, default=20, help="triggers per N")
    parser.add_argument("--rounds", type=int, default=2, help="bare/gate rounds per ratio")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per round")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    counts = [int(n) for n in args.streams.split(",")]
    if max(counts) > 1000 or args.trials > 100 or args.rounds > 10 or args.seconds > 60:
        raise SystemExit("refusing: keep the benchmark bounded (streams<=1000, trials<=100)")

    gatebench.ensure_database()
    gatebench.django_setup()
    gatebench.migrate()
    token, env, operator, risk = gatebench.seed()
    gatebench.recover(env, operator, risk)
    port, stream_port = gatebench.free_port(), gatebench.free_port()
    workers = len(os.sched_getaffinity(0))
    server = gatebench.start_server(sys.executable, port, workers, 2)
    streamer = start_stream_server(stream_port, max(counts) + 10)
    backends = gatebench.BackendWatch(pin_to=None)
    backends.start()
    cpu = gatebench.CpuMeter(server.pid, backends)
    try:
        before = throughput(port, token, args.rounds, args.seconds, cpu)
        # For the choice of topology: the same polled gate served by uvicorn (ASGI),
        # as it would be if one ASGI server served everything.
        asgi = throughput(stream_port, token, args.rounds, args.seconds, cpu)
        results = [
            asyncio.run(latencies_for(n, stream_port, token, env, operator, risk, args.trials))
            for n in counts
        ]
        during = asyncio.run(
            with_open_streams(
                max(counts),
                stream_port,
                token,
                lambda: throughput(port, token, args.rounds, args.seconds, cpu),
            )
        )
    finally:
        gatebench.stop_server(streamer)
        gatebench.stop_server(server)
        backends.stop()

    print(f"gunicorn {workers} workers x 2 threads (gthread); uvicorn 1 process; shared CPUs")
    for r in results:
        print(
            f"N={r['streams']:4d}  commit->event p50 {r['p50_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms"
            f"  max {r['max_ms']:.1f} ms  ({r['receipts']} receipts, {r['missing']} missing)"
        )
    for label, t in (
        ("no streams open", before),
        (f"{max(counts)} streams open", during),
        ("served by uvicorn instead (ASGI), no streams", asgi),
    ):
        print(
            f"polled gate, {label}: bare {t['bare_rps']:.0f} req/s, gate {t['gate_rps']:.0f}"
            f" req/s, ratio {t['ratio']:.2f} (rounds "
            + ", ".join(f"{x:.2f}" for x in t["round_ratios"])
            + ")"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "latency": results,
                    "throughput": {"before": before, "during": during, "uvicorn": asgi},
                }
            )
        )


if __name__ == "__main__":
    main()
