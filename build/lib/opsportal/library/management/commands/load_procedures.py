from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsportal.core.errors import ValidationFailed
from opsportal.core.request_context import request_context
from opsportal.library.procedure_files import read_procedure_dir
from opsportal.library.services import procedure_library_load


class Command(BaseCommand):
    help = "Load the shipped procedure library (opsportal/library/procedures/*.toml). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", default=str(settings.OPSPORTAL_PROCEDURES_DIR))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            specs = read_procedure_dir(Path(options["dir"]))
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        with request_context(source="command"):
            result = procedure_library_load(specs=specs)
        for line in result.created:
            self.stdout.write(f"published {line}")
        for line in result.kept_revised:
            self.stdout.write(f"kept portal revision {line} (its data file is unchanged)")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(result.created)} published, {len(result.unchanged)} unchanged, "
                f"{len(result.kept_revised)} kept portal revisions"
            )
        )
