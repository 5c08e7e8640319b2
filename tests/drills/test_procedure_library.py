from pathlib import Path

import pytest
from django.core.management import call_command

from drills.models import ProcedureVersion
from drills.procedure_files import read_procedure_dir

SPEC = """
slug = "test-proc"
kind = "drill"
title = "Test procedure"

[[steps]]
title = "Do it"
instruction = "Press the button"
time_target_seconds = {target}
"""


def write_spec(directory: Path, target: int) -> None:
    (directory / "test-proc.toml").write_text(SPEC.format(target=target))


@pytest.mark.django_db
def test_load_procedures_is_idempotent_and_versions_changes(tmp_path):
    write_spec(tmp_path, 10)
    call_command("load_procedures", "--dir", str(tmp_path))
    call_command("load_procedures", "--dir", str(tmp_path))
    first = ProcedureVersion.objects.get(procedure__slug="test-proc")
    assert (first.version, first.status) == (1, "published")

    write_spec(tmp_path, 20)
    call_command("load_procedures", "--dir", str(tmp_path))

    versions = dict(
        ProcedureVersion.objects.filter(procedure__slug="test-proc").values_list(
            "version", "status"
        )
    )
    assert versions == {1: "retired", 2: "published"}
    first.refresh_from_db()
    assert first.steps.get().time_target_seconds == 10


def test_shipped_procedure_library_parses():
    from django.conf import settings

    specs = read_procedure_dir(settings.OPSPORTAL_PROCEDURES_DIR)

    assert specs, "the shipped procedure library is empty"
