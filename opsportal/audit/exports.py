"""Audit exports: one ZIP per requested time range, verifiable on its own.

A bundle holds one CSV per registered table (`register_export_table`; the audit
events are built in), `MANIFEST.json` (range, who, when, files with row counts and
SHA-256, the first and last audit seq and hash, the checkpoint it covers, the
previous export's manifest hash; signed with the checkpoint key) and `SHA256SUMS`.
Rows stream from server-side cursors into the ZIP entries, so memory stays constant.
`verify_bundle` (and `manage.py audit_verify_export PATH`) checks a bundle alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import queue
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from opsportal.audit import chain
from opsportal.audit.models import AuditEvent, AuditExport
from opsportal.core.hashing import canonical_json

AUDIT_EVENTS_FILE = "audit_events.csv"
AUDIT_EVENT_COLUMNS = [
    "seq",
    "prev_hash",
    "hash",
    "occurred_at",
    "actor_id",
    "actor_username",
    "event_type",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "metadata",
    "request_id",
    "ip",
    "source",
]
CHUNK = 2000
# Database connections that read audit_events.csv's rows at once on PostgreSQL: the
# database's work on each line (CSV quoting, the timestamp) is most of the export's.
EXPORT_CONNECTIONS = 2


@dataclass(frozen=True)
class ExportTable:
    """A table an export carries: rows of `model` whose `time_field` is in range."""

    name: str  # file name without .csv
    model: type[models.Model]
    time_field: str
    exclude: tuple[str, ...] = ()  # columns left out (e.g. a webhook URL holding a token)

    def columns(self) -> list[str]:
        return [
            f.attname for f in self.model._meta.concrete_fields if f.attname not in self.exclude
        ]


_TABLES: dict[str, ExportTable] = {}


def register_export_table(
    name: str, model: type[models.Model], time_field: str, *, exclude: tuple[str, ...] = ()
) -> None:
    """Add `model` to every export as `<name>.csv`: every concrete column, rows whose
    `time_field` falls in the export's range, ordered by primary key. Called from
    the owning app's `AppConfig.ready()` (audit sits below every app it exports).
    `exclude` names columns the export leaves out (secrets)."""
    existing = _TABLES.get(name)
    table = ExportTable(name=name, model=model, time_field=time_field, exclude=tuple(exclude))
    if existing is not None and existing != table:
        raise ValueError(f"export table {name!r} is already registered")
    _TABLES[name] = table


def export_tables() -> list[ExportTable]:
    return sorted(_TABLES.values(), key=lambda t: t.name)


def exports_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "audit" / "exports"


# --- writing ------------------------------------------------------------------------


class _HashingWriter(io.RawIOBase):
    """Passes bytes to `target` and hashes them on the way."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.sha = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = bytes(data)
        self.sha.update(view)
        self.target.write(view)
        return len(view)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return chain.utc_timestamp(value)
    if isinstance(value, dict | list):
        return canonical_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_csv(
    zf: zipfile.ZipFile,
    name: str,
    header: list[str],
    rows: Iterator[tuple[Any, ...]],
    *,
    cells_ready: bool = False,
) -> dict[str, Any]:
    """`cells_ready`: the rows hold only str, int and None already (the audit events),
    which the csv module writes as `_cell` would, so skip a call per cell."""
    count = 0
    with zf.open(name, "w", force_zip64=True) as raw:
        hashing = _HashingWriter(raw)
        text = io.TextIOWrapper(
            io.BufferedWriter(hashing, buffer_size=1 << 16), encoding="utf-8", newline=""
        )
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header)
        if cells_ready:
            for row in rows:
                writer.writerow(row)
                count += 1
        else:
            for row in rows:
                writer.writerow([_cell(v) for v in row])
                count += 1
        text.flush()
        text.detach().flush()
    return {"name": name, "rows": count, "sha256": hashing.sha.hexdigest()}


def _event_rows(first: int, last: int) -> Iterator[tuple[Any, ...]]:
    """Audit events seq first..last in order, in keyset batches, as CSV values."""
    cursor_seq = first - 1
    while cursor_seq < last:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {chain.event_columns()} FROM audit_auditevent "  # noqa: S608 - constant columns
                "WHERE seq > %s AND seq <= %s ORDER BY seq LIMIT %s",
                [cursor_seq, last, CHUNK],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        for r in rows:
            yield (
                r[1],
                r[15],
                r[16],
                chain._timestamp_text(r[2]),
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                chain._canonical_json_value(r[9]),
                chain._canonical_json_value(r[10]),
                chain._canonical_json_value(r[11]),
                r[12],
                str(r[13]) if r[13] is not None else None,
                r[14],
            )
        cursor_seq = rows[-1][1]


def _csv_field_sql(column: str) -> str:
    # What the csv module writes for a str or None (QUOTE_MINIMAL): empty for NULL,
    # quoted with quotes doubled when the field holds a comma, a quote or a line break
    # (a bare \r too, which Python 3.11's csv module leaves unquoted and no reader
    # reads back as one field).
    # strpos, not a regular expression: a quarter of the database's time per field.
    return (
        f"CASE WHEN strpos({column}, ',') + strpos({column}, '\"') + "
        f"strpos({column}, E'\\n') + strpos({column}, E'\\r') > 0 "
        f"THEN '\"' || replace({column}, '\"', '\"\"') || '\"' ELSE coalesce({column}, '') END"
    )


# An audit_events.csv line on PostgreSQL, written whole by the database: columns in
# AUDIT_EVENT_COLUMNS order. The JSON columns are the stored JSON as PostgreSQL writes
# jsonb out (`{"a": 1, "b": [2]}`), not re-encoded in Python: that text is exactly what
# the sealer parsed to hash the event, and a reader parses it the same way (the recipe
# in docs/audit.md, `verify_bundle`). Re-encoding it was the export's bottleneck when
# no two events' values are alike (one Python thread; docs/BENCHMARKS.md).
PG_EVENT_CSV_COLUMNS = (
    "seq::bigint, seq::text || ',' || "
    + " || ',' || ".join(
        [
            _csv_field_sql("prev_hash"),
            _csv_field_sql("hash"),
            "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
            "coalesce(actor_id::text, '')",
            *(
                _csv_field_sql(c)
                for c in ("actor_username", "event_type", "object_type", "object_id", "object_repr")
            ),
            *(
                _csv_field_sql(f"coalesce({c}::text, 'null')")
                for c in ("before", "after", "metadata")
            ),
            _csv_field_sql("request_id"),
            "coalesce(abbrev(ip), '')",
            _csv_field_sql("source"),
        ]
    )
    + " || E'\\n'"
)


def _write_pg_event_csv(zf: zipfile.ZipFile, first: int, last: int) -> dict[str, Any]:
    """audit_events.csv for seq first..last on PostgreSQL: blocks of lines as
    PostgreSQL writes them (`PG_EVENT_CSV_COLUMNS`, fetched over two connections by
    `chain.pg_blocks`), and a thread hashes, deflates and writes each block meanwhile
    (zlib and hashlib let go of the GIL on large blocks, so that work runs on the other
    CPU). Memory: a few blocks. The rows are those `_write_csv` writes but for the JSON
    cells, which hold the stored JSON as PostgreSQL writes it out (equal values, another
    spelling)."""
    sha = hashlib.sha256()
    blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []
    count = 0
    raws: list[Any] = []
    with zf.open(AUDIT_EVENTS_FILE, "w", force_zip64=True) as raw:

        def write() -> None:
            try:
                while (block := blocks.get()) is not None:
                    sha.update(block)
                    raw.write(block)
            except BaseException as exc:  # raised again by the producer below
                failed.append(exc)
                while blocks.get() is not None:  # let the producer finish
                    pass

        writer = threading.Thread(target=write, name="audit-export-writer")
        writer.start()
        try:
            blocks.put((",".join(AUDIT_EVENT_COLUMNS) + "\n").encode())
            connection.ensure_connection()
            raws.append(connection.connection)
            for _ in range(EXPORT_CONNECTIONS - 1):
                raws.append(connection.get_new_connection(connection.get_connection_params()))
            for batch in chain.pg_blocks(raws, PG_EVENT_CSV_COLUMNS, first, last, CHUNK):
                count += len(batch)
                blocks.put("".join([line for _, line in batch]).encode())
                if failed:
                    break
        finally:
            blocks.put(None)
            writer.join()
            for extra in raws[1:]:
                extra.close()
        if failed:
            raise failed[0]
    return {"name": AUDIT_EVENTS_FILE, "rows": count, "sha256": sha.hexdigest()}


def _table_rows(table: ExportTable, start: dt.datetime, end: dt.datetime) -> Iterator[Any]:
    columns = table.columns()
    qs = (
        table.model._default_manager.filter(
            **{f"{table.time_field}__gte": start, f"{table.time_field}__lt": end}
        )
        .order_by("pk")
        .values_list(*columns)
    )
    return qs.iterator(chunk_size=CHUNK)


def _seq_range(start: dt.datetime, end: dt.datetime) -> tuple[int | None, int | None]:
    in_range = AuditEvent.objects.filter(
        occurred_at__gte=start, occurred_at__lt=end, seq__isnull=False
    )
    first = in_range.order_by("occurred_at", "seq").values_list("seq", flat=True).first()
    last = in_range.order_by("-occurred_at", "-seq").values_list("seq", flat=True).first()
    if first is not None and last is not None and first > last:
        first, last = last, first
    return first, last


def sign_manifest(body: dict[str, Any]) -> dict[str, Any]:
    key_id, signature = chain.sign(body)
    return {**body, "key_id": key_id, "signature": signature}


def _manifest_body(manifest: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in manifest.items() if k not in ("key_id", "signature")}


def build_bundle(
    path: Path,
    *,
    start: dt.datetime,
    end: dt.datetime,
    requested_by: str,
    requested_at: dt.datetime,
    previous_manifest_sha256: str,
) -> tuple[dict[str, Any], str]:
    """Write the ZIP at `path`; returns (manifest, its SHA-256). Seals and
    checkpoints first, so the events exported are covered by a signed checkpoint."""
    checkpoint = chain.checkpoint_create()
    first, last = _seq_range(start, end)
    files = []
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        if first is not None and last is not None and connection.vendor == "postgresql":
            files.append(_write_pg_event_csv(zf, first, last))
        else:
            rows: Iterator[Any] = (
                _event_rows(first, last) if first is not None and last is not None else iter(())
            )
            files.append(
                _write_csv(zf, AUDIT_EVENTS_FILE, AUDIT_EVENT_COLUMNS, rows, cells_ready=True)
            )
        for table in export_tables():
            header = table.columns()
            files.append(
                _write_csv(zf, f"{table.name}.csv", header, _table_rows(table, start, end))
            )
        head: dict[str, Any] = {
            "first_seq": None,
            "first_prev_hash": "",
            "last_seq": None,
            "last_hash": "",
        }
        if first is not None and last is not None:
            first_event = AuditEvent.objects.only("prev_hash").get(seq=first)
            last_event = AuditEvent.objects.only("hash").get(seq=last)
            head = {
                "first_seq": first,
                "first_prev_hash": first_event.prev_hash,
                "last_seq": last,
                "last_hash": last_event.hash,
            }
        manifest = sign_manifest(
            {
                "format": 1,
                "range": {"start": chain.utc_timestamp(start), "end": chain.utc_timestamp(end)},
                "requested_by": requested_by,
                "requested_at": chain.utc_timestamp(requested_at),
                "generated_at": chain.utc_timestamp(timezone.now()),
                "files": files,
                "audit_chain": head,
                "checkpoint": (
                    {
                        "id": checkpoint.pk,
                        "last_seq": checkpoint.last_seq,
                        "last_hash": checkpoint.last_hash,
                        "signature": checkpoint.signature,
                    }
                    if checkpoint
                    else None
                ),
                "previous_manifest_sha256": previous_manifest_sha256,
            }
        )
        manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        zf.writestr("MANIFEST.json", manifest_bytes)
        manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
        sums = "".join(f"{f['sha256']}  {f['name']}\n" for f in files)
        sums += f"{manifest_sha}  MANIFEST.json\n"
        zf.writestr("SHA256SUMS", sums)
    tmp.replace(path)
    return manifest, manifest_sha


def audit_export_build(*, export_id: int) -> str:
    """Build export `export_id` (a Celery job). Safe to run twice: a finished export
    is left as it is. Returns its status."""
    export = AuditExport.objects.select_related("requested_by").get(pk=export_id)
    if export.status != AuditExport.Status.PENDING:
        return export.status
    previous = (
        AuditExport.objects.filter(status=AuditExport.Status.READY, pk__lt=export.pk)
        .order_by("-pk")
        .first()
    )
    stamp = export.requested_at.strftime("%Y%m%dT%H%M%SZ")
    path = exports_dir() / f"audit-export-{export.pk}-{stamp}.zip"
    try:
        _, manifest_sha = build_bundle(
            path,
            start=export.range_start,
            end=export.range_end,
            requested_by=export.requested_by.get_username(),
            requested_at=export.requested_at,
            previous_manifest_sha256=previous.manifest_sha256 if previous else "",
        )
    except Exception as exc:  # recorded on the export for the requester to see
        with transaction.atomic():
            AuditExport.objects.filter(pk=export.pk).update(
                status=AuditExport.Status.FAILED, error=repr(exc)[:2000], finished_at=timezone.now()
            )
        raise
    with transaction.atomic():
        AuditExport.objects.filter(pk=export.pk).update(
            status=AuditExport.Status.READY,
            path=str(path),
            size_bytes=path.stat().st_size,
            manifest_sha256=manifest_sha,
            finished_at=timezone.now(),
        )
    return AuditExport.Status.READY


# --- verifying ----------------------------------------------------------------------


@dataclass
class BundleCheck:
    ok: bool
    problems: list[str]
    events: int = 0


class _Bundle:
    """A ZIP or a directory, read by file name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip = zipfile.ZipFile(path) if path.is_file() else None

    def names(self) -> set[str]:
        if self.zip is not None:
            return set(self.zip.namelist())
        return {p.name for p in self.path.iterdir() if p.is_file()}

    def open(self, name: str) -> IO[bytes]:
        if self.zip is not None:
            return self.zip.open(name)
        return open(self.path / name, "rb")

    def read(self, name: str) -> bytes:
        with self.open(name) as fh:
            return fh.read()


def _sha_and_rows(bundle: _Bundle, name: str) -> tuple[str, int]:
    sha = hashlib.sha256()
    lines = 0
    with bundle.open(name) as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            sha.update(block)
    with bundle.open(name) as fh:
        reader = csv.reader(io.TextIOWrapper(fh, encoding="utf-8", newline=""))
        lines = sum(1 for _ in reader) - 1
    return sha.hexdigest(), max(lines, 0)


def _verify_events(bundle: _Bundle, manifest: dict[str, Any], problems: list[str]) -> int:
    head = manifest.get("audit_chain") or {}
    count = 0
    prev = head.get("first_prev_hash", "")
    expected = head.get("first_seq")
    last_hash = ""
    with bundle.open(AUDIT_EVENTS_FILE) as fh:
        reader = csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8", newline=""))
        for rec in reader:
            seq = int(rec["seq"])
            if expected is not None and seq != expected:
                problems.append(f"{AUDIT_EVENTS_FILE}: seq {expected} is missing (found {seq})")
                return count
            if rec["prev_hash"] != prev:
                problems.append(f"{AUDIT_EVENTS_FILE}: seq {seq} does not follow seq {seq - 1}")
                return count
            row = (
                None,
                seq,
                rec["occurred_at"].replace("Z", "+00:00"),
                int(rec["actor_id"]) if rec["actor_id"] else None,
                rec["actor_username"],
                rec["event_type"],
                rec["object_type"],
                rec["object_id"],
                rec["object_repr"],
                rec["before"],
                rec["after"],
                rec["metadata"],
                rec["request_id"],
                rec["ip"] or None,
                rec["source"],
            )
            digest = chain.event_hash(chain.canonical_event(row), prev)
            if digest != rec["hash"]:
                problems.append(f"{AUDIT_EVENTS_FILE}: seq {seq}'s content does not match its hash")
                return count
            prev = last_hash = digest
            expected = seq + 1
            count += 1
    if count and last_hash != head.get("last_hash"):
        problems.append(f"{AUDIT_EVENTS_FILE}: the last event is not the manifest's last_hash")
    checkpoint = manifest.get("checkpoint") or {}
    if (
        checkpoint
        and checkpoint.get("last_seq") == head.get("last_seq")
        and checkpoint.get("last_hash") != head.get("last_hash")
    ):
        problems.append("the manifest's checkpoint does not match the last event")
    return count


def verify_bundle(path: Path) -> BundleCheck:
    """Check a bundle alone: SHA256SUMS and the manifest against the files, the
    manifest's signature (needs the signing key), and the events' chain."""
    problems: list[str] = []
    bundle = _Bundle(path)
    names = bundle.names()
    for required in ("MANIFEST.json", "SHA256SUMS", AUDIT_EVENTS_FILE):
        if required not in names:
            return BundleCheck(ok=False, problems=[f"{required} is missing"])
    manifest_bytes = bundle.read("MANIFEST.json")
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        return BundleCheck(ok=False, problems=["MANIFEST.json is not JSON"])
    if not chain.signature_valid(
        _manifest_body(manifest), str(manifest.get("key_id")), str(manifest.get("signature"))
    ):
        problems.append("MANIFEST.json: the signature does not match (altered or unknown key)")
    sums = {}
    for line in bundle.read("SHA256SUMS").decode(errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        sums[name] = digest
    if sums.get("MANIFEST.json") != hashlib.sha256(manifest_bytes).hexdigest():
        problems.append("MANIFEST.json: its SHA-256 differs from SHA256SUMS")
    for entry in manifest.get("files", []):
        name = entry.get("name", "")
        if name not in names:
            problems.append(f"{name}: missing")
            continue
        digest, rows = _sha_and_rows(bundle, name)
        if digest != entry.get("sha256") or digest != sums.get(name):
            problems.append(f"{name}: its SHA-256 differs from the manifest")
        if rows != entry.get("rows"):
            problems.append(f"{name}: {rows} rows, the manifest says {entry.get('rows')}")
    events = _verify_events(bundle, manifest, problems)
    return BundleCheck(ok=not problems, problems=problems, events=events)
