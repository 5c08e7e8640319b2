"""Writing the audit trail. Every write path in the portal calls `audit_record`."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from opsportal.audit import registry
from opsportal.audit.models import AuditEvent
from opsportal.core import request_context


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
    For refusals, which roll back, and sign-in events use `audit_record_standalone`.

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

    Call it outside any open transaction (after the refused transaction has ended).
    """
    registry.get(event_type)
    with transaction.atomic():
        return _write(actor, event_type, obj, None, None, metadata)


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
