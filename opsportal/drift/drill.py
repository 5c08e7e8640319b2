"""The clock-drift drill, automated (procedure `clock-drift-drill`): a time server of
the portal's own on 127.0.0.1 whose clock is shifted on purpose, a drill source
guarding a DRY_RUN environment, and the timings skew → NEUTRAL → ALLOW measured the
way the kill-switch drill measures trigger → HALT (the gate read through
`controls.selectors.gate_decision`, the same row and `decide()` an engine's next
poll gets).

Checks made here are marked `is_drill` and open no incident (a drill, like a
kill-switch drill trigger, is not an outage); NEUTRAL is set and lifted for real.
The drill source is disabled afterwards (its checks stay as evidence) so the
scheduled checks do not find its server gone.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opsportal.controls.models import Environment
from opsportal.controls.selectors import ALLOW, NEUTRAL, gate_decision
from opsportal.core.errors import Conflict
from opsportal.drift.models import TimeSource
from opsportal.drift.services import (
    time_source_check_now,
    time_source_create,
    time_source_enable,
)

SKEW_MS = 1200.0
TIME_TARGET_SECONDS = 10.0


class SkewedClock:
    """An HTTP time endpoint answering `{"epochTime": ms}` from a shifted clock."""

    def __init__(self) -> None:
        self.skew_ms = 0.0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = json.dumps({"epochTime": int(time.time() * 1000 + owner.skew_ms)})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/time"


@contextmanager
def skewed_clock() -> Iterator[SkewedClock]:
    clock = SkewedClock()
    thread = threading.Thread(target=clock.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield clock
    finally:
        clock.httpd.shutdown()
        clock.httpd.server_close()


@dataclass
class DrillStep:
    title: str
    seconds: float
    passed: bool
    detail: str


@dataclass
class DrillReport:
    environment: str
    source: str
    steps: list[DrillStep] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(s.passed for s in self.steps)


def clock_drift_drill(*, environment: Environment, actor: Any) -> DrillReport:
    """Run the drill on a DRY_RUN `environment` (Conflict for LIVE, or when its gate
    is not ALLOW to begin with). Returns the timed steps."""
    if environment.mode == Environment.Mode.LIVE:
        raise Conflict("The clock-drift drill runs on DRY_RUN environments only.", code="live")
    if gate_decision(environment.slug).decision != ALLOW:
        raise Conflict("The gate must answer ALLOW before the drill.", code="not_allow")
    name = f"drill-clock-{environment.slug}"[:64]
    with skewed_clock() as clock:
        source = TimeSource.objects.filter(name=name).first()
        if source is None:
            source = time_source_create(
                actor=actor,
                name=name,
                kind="http",
                url=clock.url,
                json_field="epochTime",
                environments=[environment],
            )
        else:
            TimeSource.objects.filter(pk=source.pk).update(url=clock.url)
            source.refresh_from_db()
        time_source_enable(source_id=source.pk, enabled=True, actor=actor)
        report = DrillReport(environment=environment.slug, source=name)
        try:
            _run(report, source, clock, environment, actor)
        finally:
            time_source_enable(source_id=source.pk, enabled=False, actor=actor)
    return report


def _check(source: TimeSource, actor: Any) -> str:
    check = time_source_check_now(source=source, actor=actor, is_drill=True)
    return check.status if check else "skipped"


def _run(
    report: DrillReport, source: TimeSource, clock: SkewedClock, env: Environment, actor: Any
) -> None:
    clock.skew_ms = SKEW_MS
    started = time.monotonic()
    status = _check(source, actor)
    decision = gate_decision(env.slug)
    seconds = time.monotonic() - started
    report.steps.append(
        DrillStep(
            "Skew +1200 ms → gate NEUTRAL within one check",
            seconds,
            status == "breach" and decision.decision == NEUTRAL and seconds <= TIME_TARGET_SECONDS,
            f"check {status}; gate {decision.decision} {decision.reason_code}",
        )
    )
    clock.skew_ms = 0.0
    started = time.monotonic()
    first = _check(source, actor)
    after_one = gate_decision(env.slug).decision
    second = _check(source, actor)
    after_two = gate_decision(env.slug)
    seconds = time.monotonic() - started
    report.steps.append(
        DrillStep(
            "Skew removed → NEUTRAL held after one healthy check, lifted after two",
            seconds,
            (first, second, after_one, after_two.decision)
            == ("healthy", "healthy", NEUTRAL, ALLOW),
            f"checks {first}, {second}; gate {after_one} then {after_two.decision}",
        )
    )
