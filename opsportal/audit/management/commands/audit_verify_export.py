"""Check an audit export bundle on its own (the command an external auditor runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsportal.audit.exports import verify_bundle


class Command(BaseCommand):
    help = (
        "Verify an audit export (ZIP or unpacked directory): files against SHA256SUMS and "
        "MANIFEST.json, the manifest's signature, and the audit events' chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        check = verify_bundle(path)
        if not check.ok:
            raise CommandError("export NOT verified:\n" + "\n".join(check.problems))
        self.stdout.write(f"export verified: {check.events} audit events chain intact, files match")
