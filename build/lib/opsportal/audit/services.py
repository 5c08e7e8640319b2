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
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from django.db import connection, models, transaction
from django.utils import timezone

from opsportal.audit import registry
from opsportal.audit.models import AuditEvent
from opsportal.core import request_context
from opsportal.core.errors import DomainError

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
    return event
