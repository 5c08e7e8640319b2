"""Gate tokens (trading engines) and people-API tokens: issue (the raw token shown
once, only its SHA-256 stored), revoke, and record use."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from opsportal.audit.services import audit_record, service_entry_point
from opsportal.controls.models import ApiToken, Environment, GateToken
from opsportal.controls.services._common import require_text, user_or_none
from opsportal.core.errors import NotFound, ValidationFailed


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@service_entry_point
def gate_token_issue(
    *, name: str, environment: Environment | None, actor: Any
) -> tuple[GateToken, str]:
    """Create a gate token; returns (token row, raw token). The raw token is shown
    once and never stored (only its SHA-256)."""
    name = require_text(name, "name", "A name")
    raw = "opsg_" + secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        token = GateToken.objects.create(
            name=name,
            environment=environment,
            token_sha256=hash_token(raw),
            prefix=raw[:12],
            created_by=user_or_none(actor),
        )
        audit_record(
            actor=actor,
            event_type="gate_token.issued",
            obj=token,
            after={"name": name, "environment": environment.slug if environment else "all"},
        )
    return token, raw


@service_entry_point
def gate_token_revoke(*, token_id: int, actor: Any) -> GateToken:
    """Revoke a gate token; the next gate read with it is refused. Idempotent."""
    with transaction.atomic(durable=True):
        token = GateToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None:
            raise NotFound("No such gate token.", field="token")
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.revoked_by = user_or_none(actor)
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=actor, event_type="gate_token.revoked", obj=token, after={"revoked": True}
        )
    return token


@service_entry_point
def api_token_issue(*, user: Any, name: str, actor: Any) -> tuple[ApiToken, str]:
    """Create a people-API token acting as `user`; returns (row, raw token), the raw
    token shown once (only its SHA-256 is stored)."""
    name = require_text(name, "name", "A name")
    if not getattr(user, "is_active", False):
        raise ValidationFailed("The user is not active.", field="user")
    raw = "opsp_" + secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        token = ApiToken.objects.create(
            user=user, name=name, token_sha256=hash_token(raw), prefix=raw[:12]
        )
        audit_record(
            actor=actor,
            event_type="api_token.issued",
            obj=token,
            after={"name": name, "user": user.get_username()},
        )
    return token, raw


def token_touch(*, model: type[GateToken] | type[ApiToken], token_id: int, at: Any) -> None:
    """Record a token's use (`last_used_at`). Bookkeeping, not a state change: one
    UPDATE, no lock, no audit event; callers throttle it to once a minute."""
    model.objects.filter(pk=token_id).update(last_used_at=at)


@service_entry_point
def api_token_revoke(*, token_id: int, actor: Any) -> ApiToken:
    """Revoke a people-API token; its next use is refused. Idempotent."""
    with transaction.atomic(durable=True):
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None:
            raise NotFound("No such API token.", field="token")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor, event_type="api_token.revoked", obj=token, after={"revoked": True}
            )
    return token
