"""`python manage.py drift_source_add --name NAME (--url URL --json-field FIELD |
--ntp HOST[:PORT]) --environment SLUG [--environment SLUG ...]`: add a time source
with the runbook's default limits (500 / 800 / 1000 ms either way)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from opsportal.controls.models import Environment
from opsportal.core.errors import DomainError
from opsportal.core.request_context import request_context
from opsportal.drift.services import time_source_create


class Command(BaseCommand):
    help = "Add a clock-drift time source (exchange HTTP time endpoint or NTP server)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True)
        kind = parser.add_mutually_exclusive_group(required=True)
        kind.add_argument("--url", help="Exchange time endpoint answering JSON.")
        kind.add_argument("--ntp", metavar="HOST[:PORT]", help="NTP server.")
        parser.add_argument("--json-field", default="", help="Key of the epoch ms (dotted).")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between checks.")
        parser.add_argument(
            "--environment", action="append", required=True, help="Slug it guards (repeat)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slugs = options["environment"]
        envs = list(Environment.objects.filter(slug__in=slugs))
        missing = sorted(set(slugs) - {e.slug for e in envs})
        if missing:
            raise CommandError(f"No environment {', '.join(missing)}.")
        host, port = "", 123
        if options["ntp"]:
            host, _, port_text = options["ntp"].partition(":")
            if port_text:
                if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                    raise CommandError(f"Bad port in --ntp {options['ntp']}.")
                port = int(port_text)
        with request_context(source="command"):
            try:
                source = time_source_create(
                    actor=None,
                    name=options["name"],
                    kind="ntp" if options["ntp"] else "http",
                    url=options["url"] or "",
                    json_field=options["json_field"],
                    ntp_host=host,
                    ntp_port=port,
                    interval_seconds=options["interval"],
                    environments=envs,
                )
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Time source {source.name}: {source.target}, guards "
            f"{', '.join(e.slug for e in envs)}, every {source.interval_seconds} s."
        )
