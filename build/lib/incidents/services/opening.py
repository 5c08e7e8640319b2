"""Opening an incident."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from incidents.models import (
    MAX_ORDERS_AFFECTED,
    Incident,
    Status,
    TimelineEntry,
)
from incidents.services._base import (
    next_reference,
    require_permission,
    timeline_write,
    update_due,
    user_or_none,
)
from incidents.services.playbooks import incident_attach_playbook_in_transaction
from incidents.severity import SEVERITIES
from opsportal.audit.services import audit_record, durable_entry_point
from opsportal.core.errors import ValidationFailed
from opsportal.core.text import SUMMARY_MAX, text_within

logger = logging.getLogger(__name__)

# Clocks of the reporting systems may run slightly ahead of ours.
_DETECTED_AT_FUTURE_TOLERANCE = timedelta(minutes=2)


def incident_open_in_transaction(
    *,
    actor: Any,
    title: str,
    severity: str,
    summary: str = "",
    environment: Any = None,
    trading_halted: bool = False,
    playbook_slug: str | None = None,
    detected_at: datetime | None = None,
    pnl_impact: Decimal | None = None,
    pnl_currency: str = "USD",
    orders_affected: int | None = None,
    affected_systems: str = "",
) -> Incident:
    """Open an incident in `detected` with a fresh `INC-YYYYMMDD-NNN` reference.

    Args:
        actor: the user opening it (needs incidents.add_incident), or None for the
            system (e.g. a drift check).
        title: one line; required.
        severity: "SEV1".."SEV4" (see incidents.severity).
        environment: a controls.Environment or None.
        trading_halted: the kill switch is engaged for this incident.
        playbook_slug: attach that published playbook as a checklist (NotFound if
            the procedure library does not have it; nothing is opened then).
        detected_at: when the problem was detected (UTC, default now; not in the
            future). The response SLA runs from here.
        pnl_impact, pnl_currency, orders_affected, affected_systems: impact so far.

    The response SLA deadline (`ack_due_at`) and the first status update due time
    (`next_update_due_at`, from the severity's cadence) are set from `detected_at`.
    Runs in the caller's transaction (the controls listener opens the SEV1 of a kill
    inside the kill-switch transaction); `incident_open` is the entry point that owns
    its transaction.
    """
    require_permission(actor, "incidents.add_incident")
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("Give the incident a title.", field="title")
    text_within(title, limit=200, field="title", label="The title")
    text_within(summary, limit=SUMMARY_MAX, field="summary", label="The summary")
    if severity not in SEVERITIES:
        raise ValidationFailed("Choose a severity from SEV1 to SEV4.", field="severity")
    now = timezone.now()
    detected_at = detected_at or now
    if timezone.is_naive(detected_at):
        raise ValidationFailed("The detection time needs a time zone.", field="detected_at")
    if detected_at > now + _DETECTED_AT_FUTURE_TOLERANCE:
        raise ValidationFailed("The detection time is in the future.", field="detected_at")
    pnl_currency = (pnl_currency or "USD").strip().upper()
    if len(pnl_currency) != 3 or not pnl_currency.isalpha():
        raise ValidationFailed("Currency is a three-letter code, e.g. USD.", field="pnl_currency")
    if orders_affected is not None and orders_affected < 0:
        raise ValidationFailed("Orders affected cannot be negative.", field="orders_affected")
    if orders_affected is not None and orders_affected > MAX_ORDERS_AFFECTED:
        raise ValidationFailed(
            f"Orders affected is at most {MAX_ORDERS_AFFECTED:,}.", field="orders_affected"
        )
    sev = SEVERITIES[severity]
    with transaction.atomic():
        incident = Incident(
            reference=next_reference(now),
            title=title,
            summary=(summary or "").strip(),
            severity=severity,
            environment=environment,
            trading_halted=trading_halted,
            pnl_impact=pnl_impact,
            pnl_currency=pnl_currency,
            orders_affected=orders_affected,
            affected_systems=(affected_systems or "").strip(),
            detected_at=detected_at,
            created_at=now,
            created_by=user_or_none(actor),
            ack_due_at=detected_at + timedelta(seconds=sev.response_seconds),
            next_update_due_at=update_due(detected_at, severity),
        )
        incident.save(force_insert=True)
        timeline_write(
            incident=incident,
            actor=actor,
            kind=TimelineEntry.Kind.TRANSITION,
            body=f"Opened as {sev.code} ({sev.alias}): {title}",
            metadata={"to": Status.DETECTED, "severity": severity},
            at=now,
        )
        audit_record(
            actor=actor,
            event_type="incident.opened",
            obj=incident,
            after={
                "reference": incident.reference,
                "severity": severity,
                "title": title,
                "environment": environment.pk if environment is not None else None,
                "trading_halted": trading_halted,
                "detected_at": detected_at,
            },
        )
        if playbook_slug:
            incident_attach_playbook_in_transaction(
                incident=incident, procedure_slug=playbook_slug, actor=actor
            )
    logger.info(
        "incident.opened",
        extra={"incident": incident.reference, "severity": severity},
    )
    return incident


incident_open = durable_entry_point(incident_open_in_transaction)
