"""Turning monitoring alerts into incidents.

`alerts_ingest` runs one durable transaction for the whole payload (all or nothing):
- a firing alert joins the open incident that already has its fingerprint (counted,
  no new incident), or opens an incident with the severity of its labels
  (`AlertIntegration.severity_for`) and a timeline entry;
- a resolved alert adds a timeline entry; when every alert of the incident is
  resolved, a mitigating incident moves to monitoring (earlier phases cannot skip to
  monitoring, so the timeline says all alerts are resolved instead);
- a resolved alert for no open incident is ignored (reported back as such).
- a new firing alert whose name an admin enabled in an AlertKillSwitchRule opens a
  SEV1 for the rule's environment and, once committed, triggers its kill switch as
  the system (no person), linked to that incident.
Everything is done by the system (actor None) and audited.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from incidents.alerts.parsing import ParsedAlert
from incidents.models import (
    OPEN_STATUSES,
    Alert,
    AlertIntegration,
    AlertKillSwitchRule,
    Status,
    TimelineEntry,
)
from incidents.services._base import timeline_write
from incidents.services.lifecycle import incident_transition_in_transaction
from incidents.services.opening import incident_open_in_transaction
from opsportal.audit.services import audit_record, durable_entry_point
from opsportal.controls.services import kill_switch_trigger

logger = logging.getLogger(__name__)

TITLE_MAX = 200


def _describe(alert: ParsedAlert) -> str:
    text = alert.annotations.get("summary") or alert.annotations.get("description") or ""
    return f"{alert.name}: {text}" if text else alert.name


def _detected_at(alert: ParsedAlert, now: dt.datetime) -> dt.datetime:
    # A monitoring clock ahead of ours must not put detection in the future.
    return min(alert.starts_at, now)


def _kill_on_commit(rule: AlertKillSwitchRule, incident_id: int, alert: ParsedAlert) -> None:
    """Trigger the rule's kill switch as the system once the incident is committed
    (the kill is an entry point with its own transaction). A failure is logged: the
    incident stands and says trading should be halted."""
    environment = rule.environment
    note = f"Alert {alert.name} ({alert.fingerprint}) fired; kill enabled for it by an admin."

    def trigger() -> None:
        try:
            kill_switch_trigger(
                environment=environment,
                actor=None,
                reason_code=rule.reason_code,
                note=note,
                incident_id=incident_id,
            )
        except Exception:  # noqa: BLE001 - logged; the incident already records it
            logger.exception("alert kill switch trigger failed", extra={"rule": rule.pk})

    transaction.on_commit(trigger)


def alerts_ingest_in_transaction(
    *, integration: AlertIntegration, alerts: list[ParsedAlert]
) -> dict[str, Any]:
    now = timezone.now()
    result: dict[str, Any] = {"opened": [], "joined": [], "resolved": [], "ignored": 0}
    with transaction.atomic():
        # One payload at a time per integration: two deliveries of the same new alert
        # must not both open an incident.
        AlertIntegration.objects.select_for_update().filter(pk=integration.pk).first()
        for alert in alerts:
            existing = (
                Alert.objects.select_for_update()
                .select_related("incident")
                .filter(fingerprint=alert.fingerprint, incident__status__in=OPEN_STATUSES)
                .order_by("-pk")
                .first()
            )
            if alert.status == "firing":
                if existing is None:
                    rule = AlertKillSwitchRule.objects.filter(
                        alert_name=alert.name, enabled=True
                    ).first()
                    incident = incident_open_in_transaction(
                        actor=None,
                        title=_describe(alert)[:TITLE_MAX],
                        severity="SEV1" if rule else integration.severity_for(alert.labels),
                        summary=alert.annotations.get("description", ""),
                        environment=rule.environment if rule else integration.environment,
                        trading_halted=rule is not None,
                        detected_at=_detected_at(alert, now),
                    )
                    if rule is not None:
                        _kill_on_commit(rule, incident.pk, alert)
                    Alert.objects.create(
                        integration=integration,
                        incident=incident,
                        fingerprint=alert.fingerprint,
                        name=alert.name,
                        state=Alert.State.FIRING,
                        labels=alert.labels,
                        annotations=alert.annotations,
                        starts_at=alert.starts_at,
                        last_received_at=now,
                    )
                    timeline_write(
                        incident=incident,
                        actor=None,
                        kind=TimelineEntry.Kind.ALERT,
                        body=f"Alert firing from {integration.name}: {_describe(alert)}",
                        metadata={"fingerprint": alert.fingerprint, "labels": alert.labels},
                        at=now,
                    )
                    result["opened"].append(incident.reference)
                    continue
                refired = existing.state == Alert.State.RESOLVED
                existing.state = Alert.State.FIRING
                existing.ends_at = None
                existing.last_received_at = now
                existing.times_received += 1
                existing.save(
                    update_fields=["state", "ends_at", "last_received_at", "times_received"]
                )
                if refired:
                    timeline_write(
                        incident=existing.incident,
                        actor=None,
                        kind=TimelineEntry.Kind.ALERT,
                        body=f"Alert firing again: {_describe(alert)}",
                        metadata={"fingerprint": alert.fingerprint},
                        at=now,
                    )
                result["joined"].append(existing.incident.reference)
                continue
            # resolved
            if existing is None:
                result["ignored"] += 1
                continue
            if existing.state == Alert.State.RESOLVED:
                result["resolved"].append(existing.incident.reference)
                continue  # a repeated resolved notification: already on the timeline
            existing.state = Alert.State.RESOLVED
            existing.ends_at = alert.ends_at or now
            existing.last_received_at = now
            existing.save(update_fields=["state", "ends_at", "last_received_at"])
            incident = existing.incident
            timeline_write(
                incident=incident,
                actor=None,
                kind=TimelineEntry.Kind.ALERT,
                body=f"Alert resolved: {_describe(alert)}",
                metadata={"fingerprint": alert.fingerprint},
                at=now,
            )
            still_firing = Alert.objects.filter(
                incident=incident, state=Alert.State.FIRING
            ).exists()
            if not still_firing:
                if incident.status == Status.MITIGATING:
                    incident_transition_in_transaction(
                        verb="monitor",
                        actor=None,
                        incident_id=incident.pk,
                        note="Every alert of this incident is resolved.",
                    )
                else:
                    timeline_write(
                        incident=incident,
                        actor=None,
                        kind=TimelineEntry.Kind.ALERT,
                        body=(
                            "Every alert of this incident is resolved; move it to monitoring "
                            "once the mitigation is confirmed."
                        ),
                        at=now,
                    )
            result["resolved"].append(incident.reference)
        audit_record(
            actor=None,
            event_type="alert.received",
            obj=integration,
            metadata={
                "alerts": len(alerts),
                "opened": result["opened"],
                "joined": result["joined"],
                "resolved": result["resolved"],
                "ignored": result["ignored"],
            },
        )
    return result


alerts_ingest = durable_entry_point(alerts_ingest_in_transaction)
