"""Seed the demo: users, environments, incidents, drills. Idempotent; refuses to run
with debug off so a production database never gets demo passwords."""

from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsportal.accounts.demo import DEMO_USERS
from opsportal.accounts.services import user_ensure
from opsportal.core.request_context import request_context

# Each app may provide `demo.seed(users: dict[str, User], stdout)`; run in this order.
DEMO_MODULES = ("opsportal.controls.demo", "incidents.demo", "drills.demo")


class Command(BaseCommand):
    help = "Create the demo users and sample data (DJANGO_DEBUG=1 only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Seed even with debug off (tests only)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo refuses to run with DJANGO_DEBUG off.")
        password = settings.OPSPORTAL_DEMO_PASSWORD
        users = {}
        with request_context(source="command"):
            for username, first, last, roles, is_staff in DEMO_USERS:
                users[username], created = user_ensure(
                    actor=None,
                    username=username,
                    password=password,
                    roles=roles,
                    first_name=first,
                    last_name=last,
                    is_staff=is_staff,
                )
                self.stdout.write(f"{'created' if created else 'updated'} user {username}")
            for module_name in DEMO_MODULES:
                try:
                    module = importlib.import_module(module_name)
                except ModuleNotFoundError as exc:
                    if exc.name != module_name:
                        raise
                    continue
                module.seed(users=users, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("demo seeded"))
