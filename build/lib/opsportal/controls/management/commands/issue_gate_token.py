"""`python manage.py issue_gate_token --env SLUG --name NAME` (or `--all-environments`):
create a gate token for a trading engine and print it once. Only its SHA-256 is
stored; revoke it in the admin."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from opsportal.controls.models import Environment
from opsportal.controls.services import gate_token_issue
from opsportal.core.errors import DomainError
from opsportal.core.request_context import request_context


class Command(BaseCommand):
    help = "Issue a gate token for a trading engine (printed once)."

    def add_arguments(self, parser: Any) -> None:
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--env", help="Environment slug the token may read.")
        scope.add_argument(
            "--all-environments", action="store_true", help="The token may read every gate."
        )
        parser.add_argument("--name", required=True, help="Which engine holds it.")

    def handle(self, *args: Any, **options: Any) -> None:
        environment = None
        if options["env"]:
            environment = Environment.objects.filter(slug=options["env"]).first()
            if environment is None:
                raise CommandError(f"No environment '{options['env']}'.")
        with request_context(source="command"):
            try:
                token, raw = gate_token_issue(
                    name=options["name"], environment=environment, actor=None
                )
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        scope = environment.slug if environment else "all environments"
        self.stderr.write(
            f"Gate token '{token.name}' for {scope} (shown once; store it in the engine's secrets):"
        )
        self.stdout.write(raw)
