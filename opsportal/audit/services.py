"""Writing the audit trail. Every write path in the portal calls `audit_record`.

Service entry points own a durable transaction (`service_entry_point`); a refusal
raised inside one carries its audit records (`refusal_attach`), which the entry point
writes after the rollback, each in a transaction of its own. A service composed into
another's transaction (named `..._in_transaction`) only attaches: whichever entry
point is outermost writes the records, exactly once, whatever the nesting.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction
from django.utils import timezone

from opsportal.audit import chain, registry
from opsportal.audit.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditExport,
    AuditPurge,
    AuditVerification,
)
from opsportal.core import request_context
from opsportal.core.errors import DomainError, NotFound, NotPermitted, ValidationFailed

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    return value


def audit_record(
    *,
    actor: Any,
    event_type: str,
    obj: models.Model | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event.

    Must run inside the transaction that makes the change it records (raises
    RuntimeError otherwise), so an event exists if and only if its change committed.
    A refusal, which rolls back, attaches its record to the error (`refusal_attach`);
    sign-in events use `audit_record_standalone`.

    Args:
        actor: the user who acted; None or an anonymous user for the system.
        event_type: a registered code (ValueError otherwise), e.g. "incident.acknowledged".
        obj: the object acted on; its `app_label.model`, pk and str() are recorded.
        before, after: JSON-able snapshots of the fields that changed.
        metadata: anything else worth keeping (reason, payload hash...).
    """
    registry.get(event_type)
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change")
    return _write(actor, event_type, obj, before, after, metadata)


def audit_record_standalone(
    *,
    actor: Any,
    event_type: str,
    obj: models.Model | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Record an event that belongs to no change (a refused attempt, a sign-in) in a
    transaction of its own, so it survives the rollback of the refused action.

    Call it outside any open transaction (after the refused transaction has ended):
    inside one it raises RuntimeError, since the event would roll back with it.
    """
    registry.get(event_type)
    with transaction.atomic(durable=True):
        return _write(actor, event_type, obj, None, None, metadata)


@dataclass(frozen=True)
class RefusalRecord:
    """An audit event owed for a refused attempt, written after the rollback.
    `model`/`pk` name the object; it is looked up again then (a row created by the
    refused transaction no longer exists, and the event then names no object)."""

    actor: Any
    event_type: str
    metadata: Mapping[str, Any]
    model: type[models.Model] | None = None
    pk: Any = None


def refusal_attach(
    exc: DomainError,
    *,
    actor: Any,
    event_type: str,
    metadata: Mapping[str, Any],
    obj: models.Model | None = None,
) -> DomainError:
    """Attach the audit event `event_type` (registered; ValueError otherwise) to the
    refusal `exc`, for the outermost `service_entry_point` to write after its
    transaction rolls back. Returns `exc` so callers can `raise refusal_attach(...)`."""
    registry.get(event_type)
    exc.refusals.append(
        RefusalRecord(
            actor=actor,
            event_type=event_type,
            metadata=dict(metadata),
            model=type(obj) if obj is not None else None,
            pk=obj.pk if obj is not None else None,
        )
    )
    return exc


def service_entry_point(fn: Callable[P, T]) -> Callable[P, T]:
    """Make `fn` a service entry point, whose body owns its transaction
    (`transaction.atomic(durable=True)`): calling it inside a caller's transaction
    raises RuntimeError before anything runs (compose the `_in_transaction` variant
    instead), and the refusal records attached to a DomainError it raises are written,
    once, after its transaction rolled back. So no nesting can silently roll back the
    evidence of a refusal."""

    @functools.wraps(fn)
    def entry(*args: P.args, **kwargs: P.kwargs) -> T:
        if in_caller_transaction():
            raise RuntimeError(
                f"{entry.__qualname__} is a service entry point and owns its transaction; "
                "inside another transaction call its _in_transaction variant."
            )
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            write_refusals(exc)
            raise

    return entry


def durable_entry_point(inner: Callable[P, T]) -> Callable[P, T]:
    """The entry point of a service written for composition (`x_in_transaction`):
    `x = durable_entry_point(x_in_transaction)` runs it in a durable transaction of
    its own, as `service_entry_point` describes."""

    @functools.wraps(inner)
    def body(*args: P.args, **kwargs: P.kwargs) -> T:
        with transaction.atomic(durable=True):
            return inner(*args, **kwargs)

    entry = service_entry_point(body)
    entry.__name__ = entry.__qualname__ = inner.__name__.removesuffix("_in_transaction")
    return entry


def in_caller_transaction() -> bool:
    """True inside an atomic block opened by code (not by the test runner): the same
    rule as Django's own check for `atomic(durable=True)`."""
    blocks = connection.atomic_blocks
    # Django marks the blocks its TestCase opens (the durable check skips them too).
    return bool(blocks) and not getattr(blocks[-1], "_from_testcase", False)


def write_refusals(exc: DomainError) -> None:
    """Write and clear the refusal records attached to `exc`, each in a transaction
    of its own. Call outside any transaction (after the refused one rolled back)."""
    records, exc.refusals = list(exc.refusals), []
    for record in records:
        obj = None
        if record.model is not None and record.pk is not None:
            obj = record.model._default_manager.filter(pk=record.pk).first()
        audit_record_standalone(
            actor=record.actor, event_type=record.event_type, obj=obj, metadata=record.metadata
        )


def audit_denied_write(request: Any, permission: str | tuple[str, ...]) -> None:
    """Record "access.denied" for a write refused for want of `permission` (registered
    with `opsportal.core.web.register_denial_listener` by the audit app)."""
    audit_record_standalone(
        actor=request.user,
        event_type="access.denied",
        metadata={"path": request.path, "method": request.method, "permission": permission},
    )


def _write(
    actor: Any,
    event_type: str,
    obj: models.Model | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
) -> AuditEvent:
    ctx = request_context.current()
    user = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=user,
        actor_username=user.get_username() if user else "",
        event_type=event_type,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        metadata=_jsonable(metadata or {}),
        request_id=ctx.request_id,
        ip=ctx.ip,
        source=ctx.source,
    )
    event.save(force_insert=True)
    transaction.on_commit(queue_seal)
    return event


# This process's knowledge of the queued seal: one will start reading no earlier than
# this (epoch seconds). Commits before it need no call to Redis: that seal sees them.
_seal_reads_after = 0.0
# Allowance for the clocks of the process that queued a seal and of the worker.
SEAL_CLOCK_MARGIN_S = 0.1


def queue_seal() -> None:
    """After a commit: make sure a seal that has not read yet will run.

    The first commit of a burst sets the flag `SEAL_PENDING_KEY` (Redis `SET NX`; its
    value is the time the seal will start, epoch seconds) and queues the seal task
    `AUDIT_SEAL_DELAY_MS` from now; every later commit of the burst finds the flag and
    joins that seal (the task clears the flag before it reads, so a set flag means
    "queued, not read yet"). A busy portal so seals a few times a second, in batches.
    The process remembers the start time, and until then skips Redis altogether: the
    call cost a writer about a fifth of its CPU per commit (docs/BENCHMARKS.md).

    With eager tasks (no broker: the quick start and the tests) the seal runs at once.
    Never fails the caller, whose change has committed: the beat entry seals what a
    lost queueing missed."""
    global _seal_reads_after  # noqa: PLW0603 - a per-process hint, see above
    # Imported here: tasks imports this module (audit_verify_task runs a service).
    from opsportal.audit.tasks import SEAL_PENDING_KEY, audit_seal_task

    now = time.time()
    if now < _seal_reads_after:
        return
    try:
        if audit_seal_task.app.conf.task_always_eager:
            if cache.add(SEAL_PENDING_KEY, now, timeout=5):
                audit_seal_task.apply()
            return
        delay = settings.AUDIT_SEAL_DELAY_MS / 1000
        if cache.add(SEAL_PENDING_KEY, now + delay, timeout=5):
            audit_seal_task.apply_async(countdown=delay)
            queued_for = now + delay
        else:
            queued_for = cache.get(SEAL_PENDING_KEY) or 0.0
        if isinstance(queued_for, float):
            _seal_reads_after = queued_for - SEAL_CLOCK_MARGIN_S
    except Exception:  # the broker or cache is down; the beat backstop seals later
        logger.exception("could not queue the audit sealer")


# --- verification listeners and the recorded verification -----------------------------

_VERIFICATION_FAILURE_LISTENERS: list[Callable[[AuditVerification], None]] = []


def register_verification_failure_listener(fn: Callable[[AuditVerification], None]) -> None:
    """`fn(verification)` runs, in the verification's transaction, when a recorded
    verification fails (incidents opens a SEV1)."""
    if fn not in _VERIFICATION_FAILURE_LISTENERS:
        _VERIFICATION_FAILURE_LISTENERS.append(fn)


def audit_verify_run(*, actor: Any) -> AuditVerification:
    """Seal, verify the whole chain and its checkpoints, record the outcome (a row and
    an audit event) and, on failure, tell the listeners. Never repairs anything."""
    chain.audit_seal()
    result = chain.verify_chain()
    with transaction.atomic(durable=True):
        verification = AuditVerification.objects.create(
            started_at=result.started_at,
            finished_at=timezone.now(),
            ok=result.ok,
            events_checked=result.events_checked,
            through_seq=result.through_seq,
            checkpoint_pk=result.checkpoint_pk,
            checkpoint_seq=result.checkpoint_seq,
            failed_seq=result.failed_seq,
            reason=result.reason,
            message=result.message,
        )
        audit_record(
            actor=actor,
            event_type="audit.verified" if result.ok else "audit.verification_failed",
            obj=verification,
            metadata={
                "message": result.message,
                "failed_seq": result.failed_seq,
                "reason": result.reason,
            },
        )
        if not result.ok:
            for listener in _VERIFICATION_FAILURE_LISTENERS:
                listener(verification)
    return verification


# --- exports --------------------------------------------------------------------------


@service_entry_point
def audit_export_request(*, actor: Any, start: dt.datetime, end: dt.datetime) -> AuditExport:
    """Request an export of [start, end): recorded in the trail; built by a Celery job
    queued once the request committed. Needs audit.export_auditevent."""
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(
        "audit.export_auditevent"
    ):
        raise NotPermitted("You may not export the audit trail.", code="not_permitted")
    if end <= start:
        raise ValidationFailed("The end must be after the start.", field="end")
    with transaction.atomic(durable=True):
        export = AuditExport.objects.create(
            requested_by=actor, requested_at=timezone.now(), range_start=start, range_end=end
        )
        audit_record(
            actor=actor,
            event_type="audit.export_requested",
            obj=export,
            after={"range_start": start, "range_end": end},
        )
        transaction.on_commit(lambda: _queue_export_build(export.pk))
    return export


def _queue_export_build(export_id: int) -> None:
    # Imported here: tasks imports this module.
    from opsportal.audit.tasks import audit_export_build_task

    audit_export_build_task.delay(export_id)


@service_entry_point
def audit_export_download(*, actor: Any, export_id: int) -> AuditExport:
    """The ready export `export_id` for `actor` to download; the download is recorded
    in the trail. NotFound unless it exists and is ready."""
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(
        "audit.export_auditevent"
    ):
        raise NotPermitted("You may not export the audit trail.", code="not_permitted")
    with transaction.atomic(durable=True):
        export = AuditExport.objects.filter(pk=export_id, status=AuditExport.Status.READY).first()
        if export is None:
            raise NotFound("No such export is ready.")
        audit_record(
            actor=actor,
            event_type="audit.export_downloaded",
            obj=export,
            metadata={"manifest_sha256": export.manifest_sha256},
        )
    return export


# --- retention ------------------------------------------------------------------------


def purge_anchor(cutoff: dt.datetime) -> AuditCheckpoint | None:
    """The checkpoint a purge of events older than `cutoff` keeps: the latest one
    whose events are all older than `cutoff` (None when nothing may be purged)."""
    newer = (
        AuditEvent.objects.filter(occurred_at__gte=cutoff, seq__isnull=False)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    checkpoints = AuditCheckpoint.objects.order_by("-last_seq", "-id")
    if newer is not None:
        checkpoints = checkpoints.filter(last_seq__lt=newer)
    anchor = checkpoints.first()
    done = AuditPurge.objects.order_by("-through_seq").first()
    if anchor is None or (done is not None and anchor.last_seq <= done.through_seq):
        return None
    return anchor


def retention_cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)


def audit_purge_in_transaction(
    *, anchor: AuditCheckpoint, cutoff: dt.datetime, actor: Any
) -> AuditPurge:
    """Delete the events through `anchor.last_seq` (all older than `cutoff`, past the
    retention period), keeping `anchor` so the rest of the chain still verifies, and
    record the purge in the chain. Runs only as the execution of an approved
    `audit_purge` request (four-eyes, approvals.audit_purge); the triggers refuse any
    other DELETE."""
    if cutoff > retention_cutoff():
        raise ValidationFailed("Events inside the retention period cannot be purged.")
    allowed = purge_anchor(cutoff)
    if allowed is None or anchor.last_seq > allowed.last_seq:
        raise ValidationFailed("That checkpoint does not close a range past retention.")
    with transaction.atomic():
        chain.lock_chain()
        purge = AuditPurge.objects.create(
            through_seq=anchor.last_seq, anchor=anchor, cutoff=cutoff, created_at=timezone.now()
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM audit_auditevent WHERE seq IS NOT NULL AND seq <= %s",
                [anchor.last_seq],
            )
            deleted = cursor.rowcount
        audit_record(
            actor=actor,
            event_type="audit.purged",
            obj=purge,
            metadata={
                "through_seq": anchor.last_seq,
                "anchor_checkpoint": anchor.pk,
                "anchor_hash": anchor.last_hash,
                "cutoff": cutoff,
                "deleted": deleted,
            },
        )
    return purge
