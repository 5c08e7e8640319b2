"""The audit chain on PostgreSQL: sealing, verification, and tampering by a database
superuser (triggers disabled) detected at the right sequence number."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from opsportal.audit import chain
from opsportal.audit.models import AuditEvent, AuditVerification
from opsportal.audit.services import audit_record
from opsportal.core.hashing import canonical_json

GENESIS_HASH = chain.GENESIS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True, params=["one process", "two processes"])
def walkers(request, monkeypatch):
    """Every test here runs with the chain walked by one process and, as a long chain
    is, split into two seq ranges walked by two processes: the reports must agree.
    (A process that runs other threads walks alone, forking would be unsafe: when the
    suite's live server thread runs, both variants walk in one process. The tests at
    the end of this file walk in two processes in a process of their own.)"""
    if request.param == "two processes":
        monkeypatch.setattr(chain, "VERIFY_PARALLEL_MIN", 2)
        monkeypatch.setattr(chain, "VERIFY_WORKERS", 2)
        monkeypatch.setattr("os.cpu_count", lambda: 2)
    return request.param


def record(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        with transaction.atomic():
            audit_record(actor=None, event_type="user.created", metadata={"i": i, "amount": "1.50"})
    chain.audit_seal()


def superuser(*statements: str, params: list | None = None) -> None:
    """Run SQL as the database superuser with the audit triggers disabled."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        try:
            for sql in statements:
                cursor.execute(sql, params or [])
        finally:
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def row(seq: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {chain.EVENT_COLUMNS} FROM audit_auditevent WHERE seq = %s", [seq])
        return cursor.fetchone()


def test_sealed_events_form_a_gapless_chain_that_verifies():
    record(5)

    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    result = chain.verify_chain()

    assert seqs == [1, 2, 3, 4, 5]
    assert result.ok
    assert result.message.startswith("5 events, chain intact through seq 5")


def test_a_hash_is_recomputable_from_the_documented_canonical_form():
    record(2)
    event = AuditEvent.objects.get(seq=2)
    canonical = chain.canonical_event(row(2))

    assert canonical.startswith('{"actor_id":null,"actor_username":"","after":null')
    assert '"occurred_at":"' in canonical and canonical.count(".") >= 1
    assert chain.event_hash(canonical, event.prev_hash) == event.hash
    assert event.prev_hash == AuditEvent.objects.get(seq=1).hash


def test_changing_one_field_of_one_event_is_detected_at_its_seq():
    record(6)
    superuser("UPDATE audit_auditevent SET object_repr = 'forged' WHERE seq = 4")

    result = chain.verify_chain()

    assert (result.ok, result.failed_seq, result.reason) == (False, 4, "hash_mismatch")


def test_deleting_one_event_is_detected_as_a_gap_at_its_seq():
    record(6)
    superuser("DELETE FROM audit_auditevent WHERE seq = 3")

    result = chain.verify_chain()

    assert (result.ok, result.failed_seq, result.reason) == (False, 3, "gap")


def test_inserting_one_event_is_detected_at_its_seq():
    record(6)
    forged_prev = AuditEvent.objects.get(seq=2).hash
    superuser(
        "UPDATE audit_auditevent SET seq = seq + 1000 WHERE seq >= 3",
        "UPDATE audit_auditevent SET seq = seq - 999 WHERE seq >= 1003",
    )
    with transaction.atomic():
        forged = audit_record(actor=None, event_type="user.created", metadata={"forged": True})
    superuser(
        "UPDATE audit_auditevent SET seq = 3, prev_hash = %s, hash = %s WHERE id = %s",
        params=[forged_prev, "0" * 64, forged.pk],
    )
    canonical = chain.canonical_event(row(3))
    superuser(
        "UPDATE audit_auditevent SET hash = %s WHERE seq = 3",
        params=[chain.event_hash(canonical, forged_prev)],
    )

    result = chain.verify_chain()

    assert (result.ok, result.failed_seq, result.reason) == (False, 3, "insertion")


def test_rewriting_an_event_and_recomputing_later_hashes_is_caught_by_the_checkpoint():
    record(3)
    chain.checkpoint_create()  # covers seq 3
    record(3, start=3)
    chain.checkpoint_create()  # covers seq 6
    superuser("UPDATE audit_auditevent SET object_repr = 'forged' WHERE seq = 4")
    prev = AuditEvent.objects.get(seq=3).hash
    for seq in range(4, 7):  # the attacker recomputes every later hash
        superuser("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = %s", params=[prev, seq])
        digest = chain.event_hash(chain.canonical_event(row(seq)), prev)
        superuser("UPDATE audit_auditevent SET hash = %s WHERE seq = %s", params=[digest, seq])
        prev = digest

    result = chain.verify_chain()

    assert (result.ok, result.failed_seq, result.reason) == (False, 4, "checkpoint_mismatch")
    assert "seq 4..6" in result.detail


def test_a_checkpoint_deleted_from_the_database_is_caught_by_its_file_copy():
    record(2)
    first = chain.checkpoint_create()
    record(2, start=2)
    second = chain.checkpoint_create()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditcheckpoint DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM audit_auditcheckpoint WHERE id = %s", [second.pk])
        cursor.execute("ALTER TABLE audit_auditcheckpoint ENABLE TRIGGER USER")

    result = chain.verify_chain()

    assert first is not None
    assert (result.ok, result.failed_seq, result.reason) == (False, 4, "checkpoint_copy")


def test_a_checkpoint_signed_with_an_unknown_key_fails(settings):
    record(2)
    chain.checkpoint_create()
    settings.AUDIT_SIGNING_KEY = "another-key-after-a-rotation-without-the-old-one"

    result = chain.verify_chain()

    assert (result.ok, result.reason) == (False, "checkpoint_signature")


def test_a_rotated_key_still_verifies_older_checkpoints(settings):
    record(2)
    chain.checkpoint_create()
    settings.AUDIT_PREVIOUS_SIGNING_KEYS = [settings.AUDIT_SIGNING_KEY]
    settings.AUDIT_SIGNING_KEY = "the-new-key-after-rotation-0123456789"
    record(1, start=2)
    cp = chain.checkpoint_create()

    result = chain.verify_chain()

    assert result.ok, result.message
    assert cp is not None and cp.key_id == chain.key_id_of(settings.AUDIT_SIGNING_KEY)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET object_repr = 'x'",
        "DELETE FROM audit_auditevent",
        "SET LOCAL opsportal.audit_allow_truncate = off; TRUNCATE audit_auditevent CASCADE",
        "UPDATE audit_auditevent SET seq = seq + 100",
        "UPDATE audit_auditcheckpoint SET last_hash = 'x'",
        "DELETE FROM audit_auditcheckpoint",
    ],
)
def test_the_applications_connection_cannot_change_the_trail(sql):
    record(2)
    chain.checkpoint_create()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        for statement in sql.split("; "):
            cursor.execute(statement)

    assert AuditEvent.objects.filter(object_repr="x").count() == 0
    assert chain.verify_chain().ok


def test_audit_verify_command_reports_intact_and_broken_chains(capsys):
    record(3)
    call_command("audit_checkpoint")
    call_command("audit_verify")
    assert "3 events, chain intact through seq 3, last checkpoint" in capsys.readouterr().out

    superuser("UPDATE audit_auditevent SET event_type = 'user.changed' WHERE seq = 2")
    with pytest.raises(CommandError, match="chain broken at seq 2: hash_mismatch"):
        call_command("audit_verify")
    assert AuditVerification.objects.first().failed_seq == 2


@pytest.mark.concurrency
def test_fifty_concurrent_writers_leave_one_gapless_chain():
    writers, per_writer = 50, 10
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(per_writer):
                with transaction.atomic():
                    audit_record(
                        actor=None, event_type="user.changed", metadata={"w": index, "i": i}
                    )
                chain.audit_seal()  # every writer also seals: sealers race too
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    chain.audit_seal()

    assert not errors
    total = writers * per_writer
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    result = chain.verify_chain()
    assert result.ok, result.message
    assert result.events_checked == total


def test_the_written_out_canonical_form_is_the_canonical_json_of_the_event():
    # Values that trip hand-written JSON: quotes, escapes, control characters,
    # non-ASCII, nested keys out of order, floats, big integers, an IPv6 address.
    with transaction.atomic():
        AuditEvent.objects.create(
            occurred_at=timezone.now(),
            event_type="user.created",
            object_repr='Zoë "quoted" \\ back\tslash\n\x01 ☃',
            before={"z": [1, 2.5, {"b": None, "a": True}], "a": "é\u2028"},
            after={"big": 2**70, "small": -1e-7, "x": 1e16},
            metadata={},
            ip="2001:db8::1",
        )
    chain.audit_seal()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {chain.event_columns()} FROM audit_auditevent WHERE seq = 1")
        fast_row = cursor.fetchone()
    plain_row = row(1)

    assert fast_row[2] == chain.utc_timestamp(plain_row[2])
    assert chain.canonical_event(fast_row) == chain._canonical_event_dict(plain_row)
    assert chain.event_hash(chain.canonical_event(fast_row), GENESIS_HASH) == (
        AuditEvent.objects.get(seq=1).hash
    )


@pytest.mark.parametrize(
    ("tampered", "workers"),
    [(20, 2), (21, 2), (22, 2), (39, 2), (40, 2), (14, 3), (27, 3), (28, 3)],
)
def test_a_changed_event_in_any_range_is_found_at_its_seq_by_parallel_walks(
    monkeypatch, tampered, workers
):
    # 40 events in 2 ranges (1-20, 21-40) or 3 (1-13, 14-26, 27-40): the changed
    # event at a range's first or last seq, or inside one.
    monkeypatch.setattr(chain, "VERIFY_PARALLEL_MIN", 2)
    record(40)
    superuser(f"UPDATE audit_auditevent SET object_repr = 'forged' WHERE seq = {tampered}")

    result = chain.verify_chain(workers=workers)

    assert (result.ok, result.failed_seq, result.reason) == (False, tampered, "hash_mismatch")
    assert result.events_checked == tampered - 1


@pytest.mark.parametrize("deleted", [20, 21])
def test_an_event_deleted_at_a_range_boundary_is_a_gap_at_its_seq(monkeypatch, deleted):
    monkeypatch.setattr(chain, "VERIFY_PARALLEL_MIN", 2)
    record(40)
    superuser(f"DELETE FROM audit_auditevent WHERE seq = {deleted}")

    result = chain.verify_chain(workers=2)

    assert (result.ok, result.failed_seq, result.reason) == (False, deleted, "gap")
    assert result.detail == f"seq {deleted} is missing (next present: {deleted + 1})"


def test_an_earlier_range_failure_wins_over_a_later_one(monkeypatch):
    monkeypatch.setattr(chain, "VERIFY_PARALLEL_MIN", 2)
    record(40)
    superuser(
        "UPDATE audit_auditevent SET object_repr = 'forged' WHERE seq = 35",
        "UPDATE audit_auditevent SET object_repr = 'forged' WHERE seq = 12",
    )

    result = chain.verify_chain(workers=2)

    assert (result.failed_seq, result.reason, result.events_checked) == (12, "hash_mismatch", 11)


def test_parallel_walks_count_every_event_of_an_intact_chain(monkeypatch):
    monkeypatch.setattr(chain, "VERIFY_PARALLEL_MIN", 2)
    record(3)
    chain.checkpoint_create()
    record(30, start=3)
    cp = chain.checkpoint_create()

    result = chain.verify_chain(workers=3)

    assert result.ok, result.message
    assert (result.events_checked, result.through_seq) == (33, 33)
    assert (result.checkpoint_pk, result.checkpoint_seq) == (cp.pk, 33)


AWKWARD = [
    'Zoë "quoted" \\ back\tslash\n\r ☃ 𝄞 \u2028\u2029 \x7f',
    "".join(chr(c) for c in range(1, 32)),
    "",
    "\\u0041 not an escape, </script>",
]


@pytest.mark.parametrize("ip", [None, "10.0.0.1", "2001:db8::1", "::ffff:10.0.0.1", "::1"])
def test_the_canonical_text_postgresql_writes_is_the_python_text(users, ip):
    # Every string column with quotes, backslashes, each control character, non-ASCII
    # (BMP and astral), U+2028/2029 and DEL; IPv4, IPv6 and an IPv4-mapped IPv6 address
    # (inet's own text, which is what Django's cursor hands the sealer).
    for text in AWKWARD:
        with transaction.atomic():
            AuditEvent.objects.create(
                occurred_at=timezone.now(),
                actor_id=users["risk"].pk,
                actor_username=text,
                event_type=text[:64],
                object_type=text[:100],
                object_id=text[:64],
                object_repr=text,
                before={"z": [text, 1, 2.5, 1e-05, 10**20], "a": {"é": None}},
                after=None,
                metadata={text: text},
                request_id=text[:64],
                ip=ip,
                source=text[:16],
            )
    chain.audit_seal()
    connection.ensure_connection()
    # The verifier's own rows: the text PostgreSQL writes, completed and hashed in Python.
    hashed = list(chain._pg_hashed_rows(connection.connection, 1, None))

    assert len(hashed) == len(AWKWARD)
    for seq, prev, _, computed in hashed:
        assert computed == chain.event_hash(chain._canonical_event_dict(row(seq)), prev)
    assert chain.verify_chain().ok


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text().filter(lambda t: "\x00" not in t),  # jsonb holds no NUL
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text().filter(lambda t: "\x00" not in t), children, max_size=4)
    ),
    max_leaves=12,
)


@hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=JSON_VALUES)
def test_the_quick_canonical_form_of_jsonb_text_is_the_stdlibs(value):
    # Any JSON value, stored as jsonb and read back as PostgreSQL writes it: orjson's
    # path (or the stdlib, where the guard sends it) gives the stdlib's canonical text.
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::jsonb::text", [json.dumps(value)])
        text = cursor.fetchone()[0]

    assert chain._canonical_jsonb_text.__wrapped__(text) == canonical_json(json.loads(text))


def test_the_usual_jsonb_texts_take_orjsons_path():
    # Amounts and datetimes are stored as strings: they take orjson's path.
    usual = '{"n": 3, "amount": "1.50", "at": "2026-12-03T08:04:00.123456Z", "ok": [true]}'
    floats = ['{"x": 1.5}', "[0.00001]", '{"big": 12345678901234567890}', "2.5", "[1, -2.5]"]

    assert not chain._orjson_may_differ(usual)
    assert all(chain._orjson_may_differ(text) for text in floats)


def verify_in_a_process_of_its_own(media_root) -> dict:
    """`chain.verify_chain()` in a fresh single-threaded process (as the management
    command runs it) on this test's database, splitting chains from 2 events on."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsportal.settings_test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "OPSPORTAL_MEDIA_ROOT": str(media_root),
        "OPSPORTAL_AUDIT_VERIFY_PARALLEL_MIN": "2",
    }
    code = (
        "import django, json; django.setup(); from opsportal.audit import chain; "
        "r = chain.verify_chain(workers=2); print(json.dumps({'ok': r.ok, "
        "'failed_seq': r.failed_seq, 'reason': r.reason, 'processes': r.processes, "
        "'checked': r.events_checked}))"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_single_threaded_process_walks_an_intact_chain_in_two_processes(settings):
    record(6)
    chain.checkpoint_create()

    found = verify_in_a_process_of_its_own(settings.MEDIA_ROOT)

    assert found == {"ok": True, "failed_seq": None, "reason": "", "processes": 2, "checked": 6}


def test_two_processes_find_a_change_in_the_second_range_at_its_seq(settings):
    record(6)
    superuser("UPDATE audit_auditevent SET object_repr = 'forged' WHERE seq = 5")

    found = verify_in_a_process_of_its_own(settings.MEDIA_ROOT)

    assert (found["processes"], found["failed_seq"], found["reason"]) == (2, 5, "hash_mismatch")
