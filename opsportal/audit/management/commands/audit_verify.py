"""Walk the audit chain and its checkpoints; exit 1 when it is broken."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from opsportal.audit.services import audit_verify_run
from opsportal.core.request_context import request_context


class Command(BaseCommand):
    help = "Verify the audit chain and its signed checkpoints (changes nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        with request_context(source="command"):
            verification = audit_verify_run(actor=None)
        if not verification.ok:
            raise CommandError(verification.message)
        self.stdout.write(verification.message)
