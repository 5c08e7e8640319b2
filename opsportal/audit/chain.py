"""The audit chain: canonical form, the sealer, signed checkpoints and verification.

Design (docs/audit.md "The chain"): `audit_record` only inserts the event inside the
transaction of its change. The sealer (`audit_seal`), one at a time under an advisory
lock, takes committed unsealed events in id order and gives each the next `seq`, the
previous event's hash as `prev_hash`, and

    hash = SHA-256( canonical_event(event) + prev_hash )     (UTF-8 text, hex digests)

The first event's prev_hash is GENESIS (64 zeros); after a purge the chain continues
from the purge's anchor checkpoint. Writers never wait for each other: the only
serialised work is the sealer's, in batches, after commit (the CloudTrail digest model).

Checkpoints sign `{last_seq, last_hash, prev_signature, created_at, key_id}` with
HMAC-SHA256 under OPSPORTAL_AUDIT_SIGNING_KEY, which lives outside the database; a
copy of each is appended to `checkpoint_file()` under MEDIA_ROOT.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import multiprocessing
import os
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

import orjson
import psycopg
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from opsportal.audit.models import AuditCheckpoint, AuditPurge
from opsportal.core.hashing import canonical_json

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
SEAL_BATCH_SIZE = 2000
VERIFY_BATCH_SIZE = 10000
# pg_advisory_xact_lock key of the sealer and the checkpointer ("audit" in ASCII).
SEAL_LOCK_KEY = 0x6175646974

EVENT_COLUMNS = (
    "id, seq, occurred_at, actor_id, actor_username, event_type, object_type, object_id, "
    "object_repr, before, after, metadata, request_id, ip, source, prev_hash, hash"
)
# The same columns with occurred_at already in the canonical text (UTC, microseconds,
# Z) on PostgreSQL, so the readers of many events skip a datetime per event.
PG_EVENT_COLUMNS = EVENT_COLUMNS.replace(
    "occurred_at,",
    "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),",
    1,
)


def event_columns() -> str:
    """EVENT_COLUMNS for a SELECT on this connection's database."""
    return PG_EVENT_COLUMNS if connection.vendor == "postgresql" else EVENT_COLUMNS


# --- the canonical form -------------------------------------------------------------


def utc_timestamp(value: dt.datetime | str) -> str:
    """UTC ISO 8601 at microsecond precision with a Z: 2026-12-03T08:04:00.000000Z."""
    if isinstance(value, str):  # SQLite through a raw cursor
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_column(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=4096)
def _canonical_json_text(text: str) -> str:
    """The canonical text of stored JSON text (PostgreSQL hands jsonb over as text).
    Cached: the same before/after/metadata values recur across events, and the
    function is pure."""
    return canonical_json(json.loads(text))


# Where orjson's canonical text could differ from the stdlib's, in PostgreSQL's jsonb
# output: a number with a fraction (the two write some floats differently: 1e-05 and
# 0.00001) or an integer of 19 digits or more (orjson reads it as a float). In that
# output a number follows "[", ": " or ", ", or is the whole text; strings that merely
# look like one only send the text to the stdlib too. Two plain searches, the first
# only when there is a dot at all: one pattern with both alternatives costs ~5 µs a
# text, several times orjson's own work.
_FRACTION = re.compile(r"[\[ ]-?[0-9]+\.")
_LONG_INTEGER = re.compile(r"[0-9]{19}")
_SORT_KEYS = orjson.OPT_SORT_KEYS


def _orjson_may_differ(text: str) -> bool:
    return (
        text[:1] in "-0123456789"  # a number alone
        or ("." in text and _FRACTION.search(text) is not None)
        or _LONG_INTEGER.search(text) is not None
    )


@functools.lru_cache(maxsize=4096)
def _canonical_jsonb_text(text: str) -> str:
    """`_canonical_json_text` of PostgreSQL's jsonb output text (only that: the guard
    relies on its layout), through orjson where that gives the same text (no fraction,
    no integer past 18 digits; orjson escapes and sorts keys as the stdlib does with
    ensure_ascii=False), else the stdlib. Cached as `_canonical_json_text`."""
    if not _orjson_may_differ(text):
        try:
            return orjson.dumps(orjson.loads(text), option=_SORT_KEYS).decode()
        except (orjson.JSONDecodeError, orjson.JSONEncodeError):
            pass  # e.g. nested deeper than orjson goes: the stdlib decides
    return canonical_json(json.loads(text))


def _canonical_json_value(value: Any) -> str:
    if isinstance(value, str):
        return _canonical_json_text(value)
    return canonical_json(value)


def _string(value: Any) -> str:
    # What json.dumps(value, ensure_ascii=False) writes for a string (the C encoder).
    return "null" if value is None else encode_basestring(value)


def _timestamp_text(value: dt.datetime | str) -> str:
    # EVENT_SELECT formats occurred_at in PostgreSQL already (27 characters, "Z").
    if isinstance(value, str) and len(value) == 27 and value.endswith("Z"):
        return value
    return utc_timestamp(value)


def canonical_event(row: tuple[Any, ...]) -> str:
    """The canonical JSON text of one event row (EVENT_COLUMNS order): an object with
    these keys, sorted, no whitespace, UTF-8, JSON values as stored (the portal
    stores datetimes, Decimals and UUIDs in before/after/metadata as strings).

    Written out key by key in sorted order (the same text as `canonical_json` of the
    dict, which `_canonical_event_dict` builds; tests/audit/test_chain.py compares
    them): building a dict and re-encoding every column per event was most of the
    cost of verification and export."""
    actor_id, seq = row[3], row[1]
    if not (actor_id is None or type(actor_id) is int) or type(seq) is not int:
        return _canonical_event_dict(row)
    try:
        return "".join(
            (
                '{"actor_id":',
                "null" if actor_id is None else str(actor_id),
                ',"actor_username":',
                _string(row[4]),
                ',"after":',
                _canonical_json_value(row[10]),
                ',"before":',
                _canonical_json_value(row[9]),
                ',"event_type":',
                _string(row[5]),
                ',"ip":',
                "null" if row[13] is None else encode_basestring(str(row[13])),
                ',"metadata":',
                _canonical_json_value(row[11]),
                ',"object_id":',
                _string(row[7]),
                ',"object_repr":',
                _string(row[8]),
                ',"object_type":',
                _string(row[6]),
                ',"occurred_at":"',
                _timestamp_text(row[2]),
                '","request_id":',
                _string(row[12]),
                ',"seq":',
                str(seq),
                ',"source":',
                _string(row[14]),
                "}",
            )
        )
    except TypeError:  # a column of an unexpected type: the general path decides
        return _canonical_event_dict(row)


def _canonical_event_dict(row: tuple[Any, ...]) -> str:
    """canonical_event the plain way: the dict of the event, canonical_json of it."""
    return canonical_json(
        {
            "seq": row[1],
            "occurred_at": utc_timestamp(row[2]),
            "actor_id": row[3],
            "actor_username": row[4],
            "event_type": row[5],
            "object_type": row[6],
            "object_id": row[7],
            "object_repr": row[8],
            "before": _json_column(row[9]),
            "after": _json_column(row[10]),
            "metadata": _json_column(row[11]),
            "request_id": row[12],
            "ip": str(row[13]) if row[13] is not None else None,
            "source": row[14],
        }
    )


def event_hash(canonical: str, prev_hash: str) -> str:
    return hashlib.sha256((canonical + prev_hash).encode()).hexdigest()


# --- keys and signatures ------------------------------------------------------------


def key_id_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def signing_keys() -> dict[str, bytes]:
    """Every known key by id: the current one and those retired by rotation."""
    keys = [settings.AUDIT_SIGNING_KEY, *settings.AUDIT_PREVIOUS_SIGNING_KEYS]
    return {key_id_of(k): k.encode() for k in keys}


def sign(body: dict[str, Any]) -> tuple[str, str]:
    """(key_id, HMAC-SHA256 hex) of the canonical JSON of `body` under the current key."""
    key = settings.AUDIT_SIGNING_KEY
    digest = hmac.new(key.encode(), canonical_json(body).encode(), hashlib.sha256).hexdigest()
    return key_id_of(key), digest


def signature_valid(body: dict[str, Any], key_id: str, signature: str) -> bool:
    key = signing_keys().get(key_id)
    if key is None:
        return False
    expected = hmac.new(key, canonical_json(body).encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


# --- the sealer ---------------------------------------------------------------------


def lock_chain() -> None:
    """Serialise sealers and checkpointers (PostgreSQL). SQLite serialises writers
    itself; a concurrent sealer there fails on the unique seq and retries."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])


def _commit_without_waiting_for_the_disk() -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the
    disk (`synchronous_commit = off`, this transaction only).

    Safe for a seal, and only for a seal: the events it links committed durably in
    their own transactions, and a seal is derived from them. A crash can lose at most
    the seals of the last few hundred milliseconds; those events are unsealed again
    after recovery and the next seal links them. Nothing signed can refer to a lost
    seal: a checkpoint's own commit waits for the disk, and WAL is flushed in order,
    so it flushes every seal before it; its file copy is written after that commit.
    What it saves is one fsync per seal, on the disk the writers' commits wait for."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def chain_head() -> tuple[int, str]:
    """(seq, hash) of the last sealed event; (0, GENESIS) for an empty chain, or the
    purge anchor's when every remaining event was purged."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seq, hash FROM audit_auditevent WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
        )
        row = cursor.fetchone()
    if row:
        return int(row[0]), str(row[1])
    purge = AuditPurge.objects.select_related("anchor").first()
    if purge is not None:
        return purge.anchor.last_seq, purge.anchor.last_hash
    return 0, GENESIS


def _seal_batch(batch_size: int) -> int:
    with transaction.atomic():
        lock_chain()
        _commit_without_waiting_for_the_disk()
        seq, prev = chain_head()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {event_columns()} FROM audit_auditevent WHERE seq IS NULL "  # noqa: S608 - constant columns
                "ORDER BY id LIMIT %s",
                [batch_size],
            )
            rows = cursor.fetchall()
            updates = []
            for row in rows:
                seq += 1
                canonical = canonical_event((row[0], seq, *row[2:]))
                digest = event_hash(canonical, prev)
                updates.append((seq, prev, digest, row[0]))
                prev = digest
            if updates and connection.vendor == "postgresql":
                # One statement for the batch (arrays unnested), not one per event.
                cursor.execute(
                    "UPDATE audit_auditevent AS e SET seq = v.seq, prev_hash = v.prev, "
                    "hash = v.hash FROM unnest(%s::bigint[], %s::text[], %s::text[], "
                    "%s::bigint[]) AS v(seq, prev, hash, id) WHERE e.id = v.id AND e.seq IS NULL",
                    [list(column) for column in zip(*updates, strict=True)],
                )
            elif updates:
                cursor.executemany(
                    "UPDATE audit_auditevent SET seq = %s, prev_hash = %s, hash = %s "
                    "WHERE id = %s AND seq IS NULL",
                    updates,
                )
    return len(rows)


def audit_seal(*, batch_size: int = SEAL_BATCH_SIZE) -> int:
    """Link every committed unsealed event into the chain; returns how many. Safe to
    run concurrently and repeatedly (one sealer at a time; nothing to do is a no-op).
    Call outside a transaction of the caller's: it commits batch by batch."""
    total = 0
    attempts = 0
    while True:
        try:
            sealed = _seal_batch(batch_size)
        except (IntegrityError, OperationalError):
            # SQLite only: another sealer won the race for the same seq.
            attempts += 1
            if connection.vendor == "postgresql" or attempts > 5:
                raise
            continue
        total += sealed
        if sealed < batch_size:
            return total


# --- checkpoints --------------------------------------------------------------------


def checkpoint_file() -> Path:
    return Path(settings.MEDIA_ROOT) / "audit" / "checkpoints.jsonl"


def checkpoint_body(cp: AuditCheckpoint) -> dict[str, Any]:
    return {
        "last_seq": cp.last_seq,
        "last_hash": cp.last_hash,
        "prev_signature": cp.prev_signature,
        "created_at": utc_timestamp(cp.created_at),
        "key_id": cp.key_id,
    }


def _append_copy(line: str) -> None:
    path = checkpoint_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def checkpoint_create() -> AuditCheckpoint | None:
    """Seal, then sign the chain's head unless the last checkpoint already covers it
    (returned unchanged). None for an empty chain. The file copy is appended once
    the checkpoint committed."""
    audit_seal()
    with transaction.atomic():
        lock_chain()
        seq, head = chain_head()
        if seq == 0:
            return None
        previous = AuditCheckpoint.objects.order_by("-last_seq", "-id").first()
        if previous is not None and previous.last_seq == seq:
            return previous
        cp = AuditCheckpoint(
            last_seq=seq,
            last_hash=head,
            prev_signature=previous.signature if previous else "",
            created_at=timezone.now(),
        )
        body = checkpoint_body(cp)
        cp.key_id, cp.signature = sign({**body, "key_id": key_id_of(settings.AUDIT_SIGNING_KEY)})
        cp.save(force_insert=True)
        line = canonical_json({**checkpoint_body(cp), "signature": cp.signature})
        transaction.on_commit(lambda: _append_copy(line))
    return cp


# --- verification -------------------------------------------------------------------


@dataclass
class Verification:
    """The outcome of `verify_chain`. `failed_seq` is the first sequence number that
    fails and `reason` one of: hash_mismatch, gap, fork, insertion, checkpoint_mismatch,
    checkpoint_signature, checkpoint_link, checkpoint_copy (see docs/audit.md)."""

    ok: bool = True
    events_checked: int = 0
    through_seq: int | None = None
    checkpoint_pk: int | None = None
    checkpoint_seq: int | None = None
    failed_seq: int | None = None
    reason: str = ""
    detail: str = ""
    processes: int = 1  # how many processes walked the chain
    started_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def message(self) -> str:
        if self.ok:
            cp = (
                f"last checkpoint {self.checkpoint_pk} at seq {self.checkpoint_seq}"
                if self.checkpoint_pk
                else "no checkpoint yet"
            )
            return (
                f"{self.events_checked} events, chain intact through seq "
                f"{self.through_seq or 0}, {cp}"
            )
        return f"chain broken at seq {self.failed_seq}: {self.reason}: {self.detail}"

    def fail(self, seq: int, reason: str, detail: str) -> None:
        if self.ok or (self.failed_seq is not None and seq < self.failed_seq):
            self.ok, self.failed_seq, self.reason, self.detail = False, seq, reason, detail


def _read_copies() -> dict[str, dict[str, Any]] | None:
    path = checkpoint_file()
    if not path.exists():
        return None
    copies: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                record = json.loads(line)
                copies[str(record.get("signature"))] = record
    return copies


def _check_checkpoints(result: Verification, checkpoints: list[AuditCheckpoint]) -> None:
    """Signatures, the signature links between checkpoints, and the file copy."""
    previous_signature = ""
    for cp in checkpoints:
        body = checkpoint_body(cp)
        if not signature_valid(body, cp.key_id, cp.signature):
            result.fail(
                cp.last_seq, "checkpoint_signature", f"checkpoint {cp.pk} is not signed by a key"
            )
        if cp.prev_signature != previous_signature:
            result.fail(
                cp.last_seq,
                "checkpoint_link",
                f"checkpoint {cp.pk} does not follow the checkpoint before it",
            )
        previous_signature = cp.signature
    copies = _read_copies()
    if copies is None:
        if checkpoints:
            result.fail(
                checkpoints[0].last_seq,
                "checkpoint_copy",
                f"the checkpoint file {checkpoint_file()} is missing",
            )
        return
    in_db = {cp.signature: cp for cp in checkpoints}
    for cp in checkpoints:
        copy = copies.get(cp.signature)
        if copy is None or {k: v for k, v in copy.items() if k != "signature"} != checkpoint_body(
            cp
        ):
            result.fail(
                cp.last_seq,
                "checkpoint_copy",
                f"checkpoint {cp.pk} differs from its copy in {checkpoint_file()}",
            )
    for signature, copy in copies.items():
        if signature not in in_db:
            result.fail(
                int(copy.get("last_seq", 0)),
                "checkpoint_copy",
                f"the checkpoint at seq {copy.get('last_seq')} in {checkpoint_file()} "
                "is missing from the database",
            )


# --- reading the chain for verification ---------------------------------------------
#
# A row source yields (seq, prev_hash, hash, computed) in seq order, where `computed` is
# SHA-256(canonical_event + the row's own stored prev_hash): the walk compares it with
# `hash` only once the row's prev_hash was found to be the previous row's hash, so it is
# the hash the chain demands.


def _pg_string(column: str) -> str:
    # to_json() of text escapes exactly what json.dumps(ensure_ascii=False) escapes
    # (`"`, `\`, \b \f \n \r \t, other control characters as \u00xx in lowercase), so
    # this is `_string` computed by PostgreSQL (tests/audit/test_chain.py compares them).
    return f"coalesce(to_json({column})::text, 'null')"


PG_CANONICAL_COLUMNS = (
    "seq::bigint, prev_hash::text, hash::text, "
    "'{\"actor_id\":' || coalesce(actor_id::text, 'null') || ',\"actor_username\":' || "
    f"{_pg_string('actor_username')} || ',\"after\":', "
    "after::text, before::text, "
    f"',\"event_type\":' || {_pg_string('event_type')} || ',\"ip\":' || "
    f"{_pg_string('ip')} || ',\"metadata\":', "
    "metadata::text, "
    f"',\"object_id\":' || {_pg_string('object_id')} || ',\"object_repr\":' || "
    f"{_pg_string('object_repr')} || ',\"object_type\":' || {_pg_string('object_type')} || "
    "',\"occurred_at\":\"' || to_char(occurred_at AT TIME ZONE 'UTC', "
    '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') || \'","request_id":\' || '
    f"{_pg_string('request_id')} || ',\"seq\":' || seq::text || ',\"source\":' || "
    f"{_pg_string('source')} || '}}'"
)


PG_BATCH_SIZE = 5000


def pg_batches(
    raw: Any, columns: str, lo: int, hi: int | None = None, limit: int | None = None
) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of `columns` (seq first, as bigint) for seq lo..hi (or on, at most `limit`)
    in seq order, in keyset batches of PG_BATCH_SIZE over the psycopg connection `raw`,
    results in binary. A thread fetches the next batch while the caller works on this
    one: libpq lets go of the GIL while it waits for PostgreSQL. At most three batches
    are held at once (constant memory). Raises what the query raises."""
    batches: queue.Queue[list[tuple[Any, ...]] | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def fetch() -> None:
        after, left = lo - 1, limit
        try:
            # A server-side-binding cursor: Django's default (ClientCursor) has no binary.
            with psycopg.Cursor(raw) as cursor:
                while not stop.is_set() and (left is None or left > 0):
                    size = PG_BATCH_SIZE if left is None else min(left, PG_BATCH_SIZE)
                    cursor.execute(
                        f"SELECT {columns} FROM audit_auditevent WHERE seq > %s"  # noqa: S608 - constant columns
                        + (" AND seq <= %s" if hi is not None else "")
                        + " ORDER BY seq LIMIT %s",
                        [after, hi, size] if hi is not None else [after, size],
                        binary=True,
                    )
                    rows = cursor.fetchall()
                    if rows:
                        batches.put(rows)
                    if len(rows) < size:
                        break
                    after = rows[-1][0]
                    if left is not None:
                        left -= len(rows)
            batches.put(None)
        except BaseException as exc:  # raised again in the caller's thread
            batches.put(exc)

    thread = threading.Thread(target=fetch, name="audit-batches", daemon=True)
    thread.start()
    try:
        while (batch := batches.get()) is not None:
            if isinstance(batch, BaseException):
                raise batch
            yield batch
    finally:
        stop.set()
        while thread.is_alive():  # unblock a put, then let the thread end
            with contextlib.suppress(queue.Empty):
                batches.get(timeout=0.1)
        thread.join()


def pg_blocks(
    raws: list[Any], columns: str, lo: int, hi: int, block: int = PG_BATCH_SIZE
) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of `columns` for seq lo..hi in seq order, as lists (one per `block` seqs),
    fetched over the psycopg connections `raws` at once: connection i fetches blocks
    i, i + n, ... in a thread of its own, one block ahead of the caller, so n database
    backends do the work (in binary results). Holds at most 2n blocks. Raises what a
    query raises."""
    n = len(raws)
    queues: list[queue.Queue[list[tuple[Any, ...]] | BaseException]] = [
        queue.Queue(maxsize=1) for _ in raws
    ]
    stop = threading.Event()
    starts = list(range(lo, hi + 1, block))

    def fetch(i: int) -> None:
        try:
            # A server-side-binding cursor: Django's default (ClientCursor) has no binary.
            with psycopg.Cursor(raws[i]) as cursor:
                for first in starts[i::n]:
                    if stop.is_set():
                        return
                    cursor.execute(
                        f"SELECT {columns} FROM audit_auditevent "  # noqa: S608 - constant columns
                        "WHERE seq >= %s AND seq <= %s ORDER BY seq",
                        [first, min(first + block - 1, hi)],
                        binary=True,
                    )
                    queues[i].put(cursor.fetchall())
        except BaseException as exc:  # raised again in the caller's thread
            queues[i].put(exc)

    threads = [
        threading.Thread(target=fetch, args=(i,), name=f"audit-blocks-{i}", daemon=True)
        for i in range(n)
    ]
    for thread in threads:
        thread.start()
    try:
        for k in range(len(starts)):
            rows = queues[k % n].get()
            if isinstance(rows, BaseException):
                raise rows
            yield rows
    finally:
        stop.set()
        for i, thread in enumerate(threads):
            while thread.is_alive():  # unblock a put, then let the thread end
                with contextlib.suppress(queue.Empty):
                    queues[i].get(timeout=0.1)
            thread.join()


def _pg_hashed_rows(raw: Any, lo: int, limit: int | None) -> Iterator[tuple[Any, ...]]:
    """(seq, prev_hash, stored hash, computed hash) from seq `lo` on (at most `limit`):
    PostgreSQL writes the canonical text around the three JSON columns
    (PG_CANONICAL_COLUMNS), Python adds their canonical text and hashes."""
    sha256 = hashlib.sha256
    canonical_json_text = _canonical_jsonb_text
    for batch in pg_batches(raw, PG_CANONICAL_COLUMNS, lo, limit=limit):
        for seq, prev, stored, head, after, before, middle, metadata, tail in batch:
            text = "".join(
                (
                    head,
                    "null" if after is None else canonical_json_text(after),
                    ',"before":',
                    "null" if before is None else canonical_json_text(before),
                    middle,
                    "null" if metadata is None else canonical_json_text(metadata),
                    tail,
                    prev,
                )
            )
            yield seq, prev, stored, sha256(text.encode()).hexdigest()


def _plain_hashed_rows(lo: int, limit: int | None) -> Iterator[tuple[str | int, ...]]:
    """The same rows through Django's cursor in keyset batches (SQLite, any database)."""
    last, left = lo - 1, limit
    while left is None or left > 0:
        size = VERIFY_BATCH_SIZE if left is None else min(left, VERIFY_BATCH_SIZE)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {event_columns()} FROM audit_auditevent "  # noqa: S608 - constant columns
                "WHERE seq > %s ORDER BY seq LIMIT %s",
                [last, size],
            )
            rows = cursor.fetchall()
        for row in rows:
            yield row[1], row[15], row[16], event_hash(canonical_event(row), row[15])
        if len(rows) < size:
            return
        last = rows[-1][1]
        if left is not None:
            left -= len(rows)


# --- verification -------------------------------------------------------------------

# A chain this long on PostgreSQL is walked in VERIFY_WORKERS seq ranges at once, one
# per process (the walk is CPU-bound Python; threads would share one GIL).
# Chains shorter than this are walked by one process (forking costs more than it
# saves); OPSPORTAL_AUDIT_VERIFY_PARALLEL_MIN sets it for a process of its own (tests).
VERIFY_PARALLEL_MIN = int(os.environ.get("OPSPORTAL_AUDIT_VERIFY_PARALLEL_MIN", "100000"))
VERIFY_WORKERS = 2


@dataclass
class _Walk:
    """One seq range of the walk: its state at the start, and at the end its outcome.

    A range after the first starts at `first` with the row before it as context (that
    row is checked by the range before); a range that is not the last reads one row
    past `last`, to tell "the chain goes on" from a gap at the range's end. Ranges are
    walked independently; `verify_chain` combines them in seq order, so the report is
    the one a single walk would give."""

    first: int  # the first seq this range checks
    last: int | None  # the last (None: to the chain's end)
    start: int  # the chain's first seq (for checkpoint_mismatch's range)
    prev: str  # the hash the first event must link to (ignored with context)
    context: bool  # read the row before `first` for prev / before_prev
    pending: list[tuple[int, str, int]]  # (last_seq, last_hash, pk) of the checkpoints
    index: int  # the first pending checkpoint at or after `first`
    good: int  # index of the last matching checkpoint before `first` (-1: none)
    stop_at: int | None  # a failure already found (checkpoints): walk no further
    before_prev: str = ""
    expected: int = 0
    events_checked: int = 0
    through_seq: int | None = None
    failure: tuple[int, str, str] | None = None
    stopped: bool = False  # a failure, or stop_at reached: later ranges do not count
    ended: bool = False  # the rows ran out before `last`: the chain ends here


def _walk(
    rows: Iterator[tuple[Any, ...]], w: _Walk, progress: Callable[[int], None] | None
) -> None:
    """Walk `rows` (seq, prev_hash, hash, computed) for the range `w` describes."""
    expected, prev, before_prev = w.first, w.prev, w.before_prev
    pending, index, good = w.pending, w.index, w.good
    last, stop_at = w.last, w.stop_at
    checked, through = 0, w.through_seq
    context = w.context
    for seq, stored_prev, stored_hash, computed in rows:
        if context:
            context = False
            if seq == expected - 1:
                before_prev, prev = stored_prev, stored_hash
                continue
            # The row before the range is missing: the range before reports that gap.
        if last is not None and seq > last and seq == expected:
            break  # the next range's first event: this range is done
        if seq != expected:
            w.failure = (expected, "gap", f"seq {expected} is missing (next present: {seq})")
            break
        if stored_prev != prev:
            if stored_prev == before_prev:
                w.failure = (
                    seq - 1,
                    "insertion",
                    f"seq {seq - 1} was inserted: seq {seq} follows seq {seq - 2} directly",
                )
            else:
                w.failure = (seq, "fork", f"seq {seq}'s prev_hash is not seq {seq - 1}'s hash")
            break
        if computed != stored_hash:
            w.failure = (seq, "hash_mismatch", f"seq {seq}'s content does not match its hash")
            break
        while index < len(pending) and pending[index][0] == seq:
            cp_seq, cp_hash, cp_pk = pending[index]
            if cp_hash != stored_hash:
                first = (pending[good][0] + 1) if good >= 0 else w.start
                w.failure = (
                    first,
                    "checkpoint_mismatch",
                    f"checkpoint {cp_pk} signed another hash at seq {seq}: an event in "
                    f"seq {first}..{seq} was rewritten and the later hashes recomputed",
                )
                break
            good = index
            index += 1
        if w.failure is not None:
            break
        if stop_at is not None and stop_at <= seq:
            w.stopped = True
            break
        before_prev, prev = prev, stored_hash
        checked += 1
        through = seq
        expected += 1
        if progress and checked % 100000 == 0:
            progress(checked)
    else:
        w.ended = last is not None and expected <= last
    w.stopped = w.stopped or w.failure is not None
    w.expected, w.events_checked, w.through_seq = expected, checked, through
    w.index, w.good = index, good


def _walk_rows(w: _Walk, raw: Any | None) -> Iterator[tuple[Any, ...]]:
    lo = w.first - 1 if w.context else w.first
    limit = None if w.last is None else w.last - lo + 2  # one row past `last`
    if raw is not None:
        return _pg_hashed_rows(raw, lo, limit)
    return _plain_hashed_rows(lo, limit)


def _walk_in_child(w: _Walk, pipe: Any) -> None:
    """A forked process's range. It opens a connection of its own and never touches
    the parent's (inherited, open in the parent): multiprocessing ends a forked child
    with os._exit, so nothing is closed on the parent's socket either."""
    try:
        raw = connection.get_new_connection(connection.get_connection_params())
        try:
            _walk(_walk_rows(w, raw), w, None)
        finally:
            raw.close()
        pipe.send(w)
    except BaseException as exc:  # handed to the parent, which raises it
        pipe.send(exc)
    finally:
        pipe.close()


def _walk_ranges(walks: list[_Walk], progress: Callable[[int], None] | None) -> None:
    """Walk the first range here and each other one in a forked process at once."""
    context = multiprocessing.get_context("fork")
    children = []
    for w in walks[1:]:
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_walk_in_child, args=(w, send), daemon=True)
        child.start()
        send.close()
        children.append((child, receive))
    try:
        connection.ensure_connection()
        _walk(_walk_rows(walks[0], connection.connection), walks[0], progress)
    except BaseException:
        for child, _ in children:
            child.terminate()
        raise
    for i, (child, receive) in enumerate(children, start=1):
        try:
            outcome = receive.recv()
        except EOFError:
            outcome = RuntimeError(f"the verification process of seq {walks[i].first}.. died")
        child.join()
        if isinstance(outcome, BaseException):
            raise outcome
        walks[i] = outcome


def verify_chain(
    progress: Callable[[int], None] | None = None, *, workers: int | None = None
) -> Verification:
    """Walk the chain and the checkpoints; never changes anything.

    On PostgreSQL a chain of VERIFY_PARALLEL_MIN events or more is split into
    `workers` (default VERIFY_WORKERS, at most the CPUs) seq ranges walked by as many
    processes at once, when the calling process runs no other thread (a threaded or
    daemonic caller walks alone; `processes` says how many walked); the outcome is the
    single walk's. `progress(n)` is called every 100,000 events of the first range."""
    result = Verification()
    checkpoints = list(AuditCheckpoint.objects.order_by("last_seq", "id"))
    _check_checkpoints(result, checkpoints)
    purge = AuditPurge.objects.select_related("anchor").first()
    start, prev = (purge.anchor.last_seq + 1, purge.anchor.last_hash) if purge else (1, GENESIS)
    pending = [(cp.last_seq, cp.last_hash, cp.pk) for cp in checkpoints if cp.last_seq >= start]
    stop_at = None if result.ok else result.failed_seq
    postgres = connection.vendor == "postgresql"
    if workers is None:
        workers = min(VERIFY_WORKERS, os.cpu_count() or 1)
    head = 0
    if postgres and workers > 1 and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(seq) FROM audit_auditevent")
            head = cursor.fetchone()[0] or 0
    count = head - start + 1
    if count < max(VERIFY_PARALLEL_MIN, 2) or workers < 2:
        workers = 1
    if multiprocessing.current_process().daemon:  # may not have children: walk alone
        workers = 1
    if threading.active_count() > 1:
        # A forked child gets only the forking thread: a lock another thread held at
        # that moment stays held in the child for ever (seen: the test suite's live
        # server thread, the child hung). The management command and the daily task
        # are single-threaded and walk in parallel; a threaded caller walks alone.
        workers = 1
    result.processes = workers
    # Ranges of equal length; the last runs to the chain's end.
    bounds = [start + count * i // workers for i in range(workers)]
    walks = []
    for i, first in enumerate(bounds):
        index = next((j for j, cp in enumerate(pending) if cp[0] >= first), len(pending))
        walks.append(
            _Walk(
                first=first,
                last=bounds[i + 1] - 1 if i + 1 < workers else None,
                start=start,
                prev=prev,
                context=i > 0,
                pending=pending,
                index=index,
                good=index - 1,
                stop_at=stop_at,
            )
        )
    if workers > 1:
        _walk_ranges(walks, progress)
    else:
        raw = None
        if postgres:
            connection.ensure_connection()
            raw = connection.connection
        _walk(_walk_rows(walks[0], raw), walks[0], progress)
    # Combine in seq order: the first range that failed, stopped or ran out of events
    # ends the walk, as it would have ended a single walk.
    final = walks[0]
    for w in walks:
        final = w
        result.events_checked += w.events_checked
        if w.through_seq is not None:
            result.through_seq = w.through_seq
        if w.failure is not None:
            result.fail(*w.failure)
        if w.stopped or w.ended:
            break
    if result.ok and final.index < len(pending):
        cp_seq, _, cp_pk = pending[final.index]
        result.fail(
            final.expected,
            "gap",
            f"checkpoint {cp_pk} covers seq {cp_seq} but the chain ends at seq "
            f"{final.expected - 1}",
        )
    if final.good >= 0:
        result.checkpoint_pk, result.checkpoint_seq = pending[final.good][2], pending[final.good][0]
    elif checkpoints and purge and result.ok:
        result.checkpoint_pk, result.checkpoint_seq = purge.anchor.pk, purge.anchor.last_seq
    return result
