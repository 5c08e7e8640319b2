"""`python manage.py audit_purge_request --before YYYY-MM-DD --as USER [--reason TEXT]`:
ask for a purge of the audit events older than a date (which must be past the
retention period). It only creates the four-eyes `audit_purge` request: two approvers
from risk_officer or admin besides the requester decide it on the approvals page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsportal.accounts.models import User
from opsportal.approvals.audit_purge import audit_purge_request
from opsportal.core.errors import DomainError
from opsportal.core.request_context import request_context


class Command(BaseCommand):
    help = "Request (four-eyes) a purge of audit events older than --before."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", required=True, help="purge events before this day (UTC)")
        parser.add_argument("--as", dest="username", required=True, help="the requester")
        parser.add_argument(
            "--reason", default="Audit events past the retention period", help="why"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = dt.date.fromisoformat(options["before"])
        except ValueError as exc:
            raise CommandError("--before must be a date, YYYY-MM-DD.") from exc
        actor = User.objects.filter(username=options["username"]).first()
        if actor is None:
            raise CommandError(f"No user {options['username']!r}.")
        cutoff = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        try:
            with request_context(source="command"):
                request = audit_purge_request(
                    actor=actor, reason=options["reason"][:500], cutoff=cutoff
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Approval request #{request.pk}: purge audit events before {day} "
            f"(through seq {request.payload['through_seq']}); it needs two approvers "
            "from risk_officer or admin besides you."
        )
