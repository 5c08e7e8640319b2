"""`python manage.py drift_check --source NAME` (or `--all`): check now and print
the status and `offset ± error` in ms. Exit 0 whatever the status; non-zero only
when the command itself fails (unknown source...)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from opsportal.core.errors import DomainError
from opsportal.core.request_context import request_context
from opsportal.drift.models import TimeSource
from opsportal.drift.services import time_source_check_now


class Command(BaseCommand):
    help = "Run a clock-drift check now (runbook 8.2 manual check)."

    def add_arguments(self, parser: Any) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--source", help="Time source name.")
        which.add_argument("--all", action="store_true", help="Every enabled source.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["all"]:
            sources = list(TimeSource.objects.filter(enabled=True))
        else:
            sources = list(TimeSource.objects.filter(name=options["source"]))
            if not sources:
                raise CommandError(f"No time source '{options['source']}'.")
        with request_context(source="command"):
            for source in sources:
                try:
                    check = time_source_check_now(source=source, actor=None)
                except DomainError as exc:
                    raise CommandError(exc.message) from exc
                if check is None:
                    self.stdout.write(f"{source.name}: skipped (another check is running)")
                elif check.offset_ms is None:
                    self.stdout.write(f"{source.name}: {check.status} ({check.detail})")
                else:
                    self.stdout.write(
                        f"{source.name}: {check.status} offset {check.offset_ms:+.1f} ± "
                        f"{check.error_ms or 0:.1f} ms (rtt {check.rtt_ms or 0:.1f} ms, "
                        f"{check.samples_taken}/{check.samples_asked} samples)"
                    )
        if not sources:
            self.stdout.write("No time source.")
