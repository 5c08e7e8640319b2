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

import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

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


def _sealed_rows(after_seq: int) -> Iterator[tuple[Any, ...]]:
    """Sealed events in seq order, in keyset batches (constant memory)."""
    last = after_seq
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {event_columns()} FROM audit_auditevent "  # noqa: S608 - constant columns
                "WHERE seq > %s ORDER BY seq LIMIT %s",
                [last, VERIFY_BATCH_SIZE],
            )
            rows = cursor.fetchall()
        yield from rows
        if len(rows) < VERIFY_BATCH_SIZE:
            return
        last = rows[-1][1]


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


def verify_chain(progress: Callable[[int], None] | None = None) -> Verification:
    """Walk the chain and the checkpoints; never changes anything."""
    result = Verification()
    checkpoints = list(AuditCheckpoint.objects.order_by("last_seq", "id"))
    _check_checkpoints(result, checkpoints)
    purge = AuditPurge.objects.select_related("anchor").first()
    expected, prev = (purge.anchor.last_seq + 1, purge.anchor.last_hash) if purge else (1, GENESIS)
    start = expected
    before_prev = ""
    good_cp: AuditCheckpoint | None = None
    pending = [cp for cp in checkpoints if cp.last_seq >= expected]
    index = 0
    for row in _sealed_rows(expected - 1):
        seq, stored_prev, stored_hash = row[1], row[15], row[16]
        if seq != expected:
            result.fail(expected, "gap", f"seq {expected} is missing (next present: {seq})")
            break
        if stored_prev != prev:
            if stored_prev == before_prev:
                result.fail(
                    seq - 1,
                    "insertion",
                    f"seq {seq - 1} was inserted: seq {seq} follows seq {seq - 2} directly",
                )
            else:
                result.fail(seq, "fork", f"seq {seq}'s prev_hash is not seq {seq - 1}'s hash")
            break
        computed = event_hash(canonical_event(row), prev)
        if computed != stored_hash:
            result.fail(seq, "hash_mismatch", f"seq {seq}'s content does not match its hash")
            break
        while index < len(pending) and pending[index].last_seq == seq:
            cp = pending[index]
            if cp.last_hash != stored_hash:
                first = (good_cp.last_seq + 1) if good_cp else start
                result.fail(
                    first,
                    "checkpoint_mismatch",
                    f"checkpoint {cp.pk} signed another hash at seq {seq}: an event in "
                    f"seq {first}..{seq} was rewritten and the later hashes recomputed",
                )
                break
            good_cp = cp
            index += 1
        if not result.ok and result.failed_seq is not None and result.failed_seq <= seq:
            break
        before_prev, prev = prev, stored_hash
        result.events_checked += 1
        result.through_seq = seq
        expected += 1
        if progress and result.events_checked % 100000 == 0:
            progress(result.events_checked)
    if result.ok and index < len(pending):
        cp = pending[index]
        result.fail(
            expected,
            "gap",
            f"checkpoint {cp.pk} covers seq {cp.last_seq} but the chain ends at seq {expected - 1}",
        )
    if good_cp is not None:
        result.checkpoint_pk, result.checkpoint_seq = good_cp.pk, good_cp.last_seq
    elif checkpoints and purge and result.ok:
        result.checkpoint_pk, result.checkpoint_seq = purge.anchor.pk, purge.anchor.last_seq
    return result
