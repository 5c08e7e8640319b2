"""`python manage.py report_generate KIND [--incident REF | --review ID | --drill-run ID |
--rollback ID | --from YYYY-MM-DD --to YYYY-MM-DD] [--as USER] [--wait]`: queue a
report for scripts and cron; with --wait, wait for it and print each file's path and
SHA-256. Exit status 1 when the request is refused or the report fails."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsportal.accounts.models import User
from opsportal.core.errors import DomainError
from opsportal.core.request_context import request_context
from opsportal.reports import storage
from opsportal.reports.models import Kind, Report
from opsportal.reports.services import report_request


class Command(BaseCommand):
    help = "Queue a report (incident, review, drill, rollback, monthly); --wait prints its files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=Kind.values)
        parser.add_argument(
            "--incident",
            help="incident reference or id (incident; review: that incident's latest revision)",
        )
        parser.add_argument("--review", type=int, help="post-incident review id (review)")
        parser.add_argument("--drill-run", type=int, help="drill run id (drill)")
        parser.add_argument("--rollback", type=int, help="rollback mode-change id (rollback)")
        parser.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD (monthly)")
        parser.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (monthly)")
        parser.add_argument(
            "--as", dest="username", help="request as this user (default: the system)"
        )
        parser.add_argument("--wait", action="store_true", help="wait and print the files")
        parser.add_argument("--timeout", type=int, default=600, help="seconds --wait waits")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["username"]:
            actor = User.objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(f"No user {options['username']!r}.")
        parameters = {
            "incident": options["incident"],
            "review": options["review"],
            "drill_run": options["drill_run"],
            "mode_change": options["rollback"],
            "from": options["date_from"],
            "to": options["date_to"],
        }
        try:
            with request_context(source="command"):
                report = report_request(kind=options["kind"], parameters=parameters, actor=actor)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Report #{report.pk} ({report.title}): {report.state}")
        if not options["wait"]:
            return
        deadline = time.monotonic() + options["timeout"]
        while report.is_pending:
            if time.monotonic() > deadline:
                raise CommandError(f"Report #{report.pk} is still {report.state}.")
            time.sleep(1)
            report.refresh_from_db()
        if report.state == Report.State.FAILED:
            raise CommandError(f"Report #{report.pk} failed: {report.error}")
        for file in report.files.all():
            self.stdout.write(f"{file.sha256}  {storage.absolute(file.path)}")
