"""`python manage.py drift_drill --environment SLUG`: the clock-drift drill, timed
(procedure `clock-drift-drill`): skew a test time source of the portal's own past
the breach limit, time the gate to NEUTRAL, remove the skew, time two healthy
checks to ALLOW. DRY_RUN environments only. Exit 0 when the drill passed, 1 when a
step failed."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from opsportal.controls.models import Environment
from opsportal.core.errors import DomainError
from opsportal.core.request_context import request_context
from opsportal.drift.drill import clock_drift_drill


class Command(BaseCommand):
    help = "Run the clock-drift drill on a DRY_RUN environment and print the timings."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--environment", required=True, help="Environment slug (DRY_RUN).")

    def handle(self, *args: Any, **options: Any) -> None:
        env = Environment.objects.filter(slug=options["environment"]).first()
        if env is None:
            raise CommandError(f"No environment '{options['environment']}'.")
        with request_context(source="command"):
            try:
                report = clock_drift_drill(environment=env, actor=None)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        for step in report.steps:
            verdict = "PASS" if step.passed else "FAIL"
            self.stdout.write(
                f"{verdict} {step.seconds * 1000:7.1f} ms  {step.title} ({step.detail})"
            )
        self.stdout.write(
            f"Clock-drift drill on {report.environment}: {'passed' if report.passed else 'FAILED'}"
        )
        if not report.passed:
            sys.exit(1)
