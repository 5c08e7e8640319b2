"""`python manage.py issue_api_token --user USERNAME --name NAME`: create a
people-API token that acts as that user (same permissions) and print it once. Only
its SHA-256 is stored; revoke it in the admin."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from opsportal.accounts.models import User
from opsportal.controls.services import api_token_issue
from opsportal.core.errors import DomainError
from opsportal.core.request_context import request_context


class Command(BaseCommand):
    help = "Issue a people-API token for a user (printed once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--user", required=True, help="Username the token acts as.")
        parser.add_argument("--name", required=True, help="What it is for (e.g. laptop CLI).")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user '{options['user']}'.")
        with request_context(source="command"):
            try:
                token, raw = api_token_issue(user=user, name=options["name"], actor=None)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        self.stderr.write(f"API token '{token.name}' for {user} (shown once):")
        self.stdout.write(raw)
