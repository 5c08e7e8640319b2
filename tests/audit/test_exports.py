"""Audit exports: a bundle of a seeded range verifies alone; one changed byte of a
CSV, or of the manifest, is detected; requesting and downloading are audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from opsportal.audit import chain, exports
from opsportal.audit.models import AuditEvent, AuditExport
from opsportal.audit.services import audit_export_request, audit_record
from opsportal.core.errors import NotPermitted
from opsportal.drift.services import time_source_check_now
from tests.controls.factories import EnvironmentFactory
from tests.drift.factories import http_source
from tests.drift.servers import TimeHTTPServer
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def seed(users, n: int = 20) -> None:
    IncidentFactory()
    for i in range(n):
        with transaction.atomic():
            audit_record(
                actor=users["operator1"],
                event_type="user.changed",
                obj=users["operator2"],
                before={"first_name": f"a{i}"},
                after={"first_name": f"b{i}", "note": 'ünïcode, "quoted"\nline'},
            )
    chain.audit_seal()


def build(users) -> Path:
    export = audit_export_request(
        actor=users["auditor"],
        start=timezone.now() - dt.timedelta(hours=1),
        end=timezone.now() + dt.timedelta(minutes=1),
    )
    export.refresh_from_db()  # built by the (eager) Celery job after the commit
    assert export.status == AuditExport.Status.READY, export.error
    return Path(export.path)


def rewrite(bundle: Path, target: Path, name: str, change) -> None:
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            dst.writestr(item, change(data) if item == name else data)


def test_an_export_of_a_seeded_range_verifies_on_its_own(users, capsys):
    seed(users)
    path = build(users)

    call_command("audit_verify_export", str(path))

    assert "export verified" in capsys.readouterr().out
    names = set(zipfile.ZipFile(path).namelist())
    assert {"MANIFEST.json", "SHA256SUMS", "audit_events.csv", "incidents.csv"} <= names
    assert {"kill_switch_events.csv", "approvals.csv", "drill_step_results.csv"} <= names
    assert {"signoffs.csv", "incident_timeline.csv", "gate_mode_changes.csv"} <= names
    assert {"post_incident_reviews.csv", "action_items.csv", "clock_checks.csv"} <= names
    assert {"config_checks.csv", "config_findings.csv", "notification_deliveries.csv"} <= names


def test_an_export_carries_the_clock_checks_of_its_range(users):
    env = EnvironmentFactory(slug="paper")
    with TimeHTTPServer() as server:
        server.skew_ms = 1200
        source = http_source(server.url, env)
        check = time_source_check_now(source=source, actor=None)
    assert check is not None
    path = build(users)

    rows = list(
        csv.DictReader(io.StringIO(zipfile.ZipFile(path).read("clock_checks.csv").decode()))
    )
    assert [(r["id"], r["source_id"], r["status"]) for r in rows] == [
        (str(check.pk), str(source.pk), "breach")
    ]
    assert exports.verify_bundle(path).ok


def test_the_manifest_names_the_chain_range_and_the_previous_export(users):
    seed(users, n=3)
    first = build(users)
    second = build(users)
    manifest = exports.verify_bundle(second)
    body = json.loads(zipfile.ZipFile(second).read("MANIFEST.json"))
    first_export = AuditExport.objects.order_by("id").first()
    assert manifest.ok
    assert body["previous_manifest_sha256"] == first_export.manifest_sha256
    assert (
        body["audit_chain"]["last_hash"]
        == AuditEvent.objects.get(seq=body["audit_chain"]["last_seq"]).hash
    )
    assert body["requested_by"] == "auditor"
    assert first.exists()


def test_one_changed_byte_of_a_csv_is_detected(users, tmp_path):
    seed(users)
    path = build(users)
    forged = tmp_path / "forged.zip"
    rewrite(path, forged, "audit_events.csv", lambda d: d.replace(b"b7", b"b8", 1))

    with pytest.raises(CommandError, match="audit_events.csv"):
        call_command("audit_verify_export", str(forged))


def test_a_changed_manifest_is_detected(users, tmp_path):
    seed(users)
    path = build(users)
    forged = tmp_path / "forged.zip"
    rewrite(path, forged, "MANIFEST.json", lambda d: d.replace(b'"auditor"', b'"someone"'))

    check = exports.verify_bundle(forged)

    assert not check.ok
    assert any("signature" in p for p in check.problems)


def test_an_event_rewritten_with_recomputed_hashes_and_sums_still_fails_the_signature(
    users, tmp_path
):
    """An attacker who edits a CSV and recomputes SHA256SUMS cannot re-sign the manifest."""
    seed(users, n=3)
    path = build(users)
    forged = tmp_path / "forged.zip"
    rewrite(path, forged, "SHA256SUMS", lambda d: d.replace(d[:4], b"0000", 1))

    check = exports.verify_bundle(forged)

    assert not check.ok


def test_requesting_and_downloading_are_audit_events(users, client_for):
    seed(users, n=2)
    path = build(users)
    export = AuditExport.objects.get()

    response = client_for("auditor").get(f"/audit/exports/{export.pk}/download/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == path.read_bytes()
    types = set(AuditEvent.objects.values_list("event_type", flat=True))
    assert {"audit.export_requested", "audit.export_downloaded"} <= types


def test_an_operator_cannot_request_an_export(users):
    with pytest.raises(NotPermitted):
        audit_export_request(
            actor=users["operator1"],
            start=timezone.now() - dt.timedelta(days=1),
            end=timezone.now(),
        )


def test_the_documented_recipe_recomputes_every_hash_of_an_export(users, tmp_path, monkeypatch):
    """docs/audit.md's few lines of Python check an export's audit_events.csv."""
    seed(users, n=5)
    path = build(users)
    zipfile.ZipFile(path).extract("audit_events.csv", tmp_path)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text()
    recipe = doc.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)

    exec(compile(recipe, "docs/audit.md", "exec"), {})  # noqa: S102 - our own documentation


AWKWARD = [
    'comma, "quotes", back\\slash, new\nline, tab\t, \x01\x1f\x7f, Zoë ☃ 𝄞 \u2028',
    "",
    '"',
    ",",
]


def test_the_events_file_postgresql_writes_holds_the_csv_modules_rows(users, monkeypatch):
    # Awkward values in every text column, JSON that needs quoting and JSON that does
    # not, NULL and IPv4/IPv6 addresses; blocks of 3 seqs, so both connections serve
    # several blocks each.
    monkeypatch.setattr(exports, "CHUNK", 3)
    for i, text in enumerate(AWKWARD * 3):
        with transaction.atomic():
            AuditEvent.objects.create(
                occurred_at=timezone.now(),
                actor_id=users["risk"].pk if i % 2 else None,
                actor_username=text,
                event_type=text[:64],
                object_type=text[:100],
                object_id=text[:64],
                object_repr=text,
                before=None if i % 3 == 0 else {"z": [text, 1, 2.5], "a": {"é": None}},
                after=[] if i % 3 == 1 else {"n": i},
                metadata={text: text} if i % 2 else {},
                request_id=text[:64],
                ip=[None, "10.0.0.1", "2001:db8::1", "::ffff:10.0.0.1"][i % 4],
                source=text[:16],
            )
    chain.audit_seal()
    last = AuditEvent.objects.count()

    def events_file(write) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            entry = write(zf)
        data = zipfile.ZipFile(buffer).read(exports.AUDIT_EVENTS_FILE)
        assert entry["rows"] == last
        return data

    written_by_postgresql = events_file(lambda zf: exports._write_pg_event_csv(zf, 1, last))
    written_by_csv = events_file(
        lambda zf: exports._write_csv(
            zf,
            exports.AUDIT_EVENTS_FILE,
            exports.AUDIT_EVENT_COLUMNS,
            exports._event_rows(1, last),
            cells_ready=True,
        )
    )

    def rows(data: bytes) -> list[list]:
        # The JSON cells compared as values: PostgreSQL writes jsonb out in its own
        # spelling (spaces, its key order), the csv path the canonical form.
        json_at = [exports.AUDIT_EVENT_COLUMNS.index(c) for c in ("before", "after", "metadata")]
        found = list(csv.reader(io.StringIO(data.decode(), newline="")))
        return [
            [json.loads(cell) if i in json_at and n else cell for i, cell in enumerate(row)]
            for n, row in enumerate(found)
        ]

    assert rows(written_by_postgresql) == rows(written_by_csv)


def test_a_carriage_return_in_a_field_is_quoted_and_the_bundle_verifies(users):
    # The csv module of Python 3.11 leaves a field holding only "\r" unquoted, which
    # no CSV reader reads back as one field; PostgreSQL's line quotes it.
    with transaction.atomic():
        audit_record(
            actor=users["operator1"],
            event_type="user.changed",
            metadata={"note": "pasted from a textarea"},
        )
        AuditEvent.objects.create(
            occurred_at=timezone.now(), event_type="user.changed", object_repr="line\rbreak"
        )
    chain.audit_seal()

    path = build(users)
    check = exports.verify_bundle(path)

    assert check.ok, check.problems
    assert b'"line\rbreak"' in zipfile.ZipFile(path).read(exports.AUDIT_EVENTS_FILE)
