"""Demo incidents (seed_demo): a handful that show every part of the incident pages.
Idempotent: an incident whose title already exists is skipped. Playbooks are attached
when the procedure library has them (load_procedures runs first in `make run`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from incidents import services
from incidents.models import Incident
from opsportal.controls.models import Environment, ReasonCode
from opsportal.controls.services import kill_switch_trigger
from opsportal.core.errors import NotFound


def _attach(incident: Incident, slug: str, actor: Any, stdout: Any) -> None:
    try:
        services.incident_attach_playbook(incident=incident, procedure_slug=slug, actor=actor)
    except NotFound:
        stdout.write(f"  playbook {slug} not loaded; run load_procedures to attach it")


def _halt(incident: Incident, env: Environment | None, stdout: Any) -> None:
    """The SEV1 says trading is halted: so it is. The risk service (the system, no
    user) trips the environment's kill switch, linked to the incident, so the gate,
    the header and the environment page all say HALT."""
    if env is None or env.kill_switch != Environment.KillSwitch.ACTIVE:
        return
    kill_switch_trigger(
        environment=env,
        actor=None,
        reason_code=ReasonCode.THRESHOLD_PNL.value,
        note="Risk service: realised P&L crossed the daily loss limit.",
        incident_id=incident.pk,
    )
    stdout.write(f"  kill switch tripped on {env.slug} for {incident.reference}")


def seed(*, users: dict[str, Any], stdout: Any) -> None:
    now = timezone.now()
    operator, operator2 = users["operator1"], users["operator2"]
    commander, risk = users["commander"], users["risk"]
    envs = {e.slug: e for e in Environment.objects.filter(slug__in=["paper", "valr-live"])}

    def new(title: str, **kwargs: Any) -> Incident | None:
        if Incident.objects.filter(title=title).exists():
            stdout.write(f"incident '{title}' exists")
            return None
        incident = services.incident_open(actor=operator, title=title, **kwargs)
        stdout.write(f"created incident {incident.reference} {title}")
        return incident

    # SEV1, unacknowledged past its 5-minute SLA: the dashboard shows the breach.
    inc = new(
        "Kill switch triggered: daily loss limit breached",
        severity="SEV1",
        summary="The risk service halted trading when realised P&L crossed the daily limit.",
        environment=envs.get("valr-live"),
        trading_halted=True,
        detected_at=now - timedelta(minutes=9),
        pnl_impact=Decimal("-18250.00"),
        orders_affected=42,
        affected_systems="risk service, order router",
    )
    if inc:
        _attach(inc, "p0-1-kill-switch-pnl-breach", operator, stdout)
        _halt(inc, envs.get("valr-live"), stdout)

    # SEV2 being worked: acknowledged, commander assigned, initial alert posted.
    inc = new(
        "Broker disconnection: order router cannot reach the gateway",
        severity="SEV2",
        summary="Heartbeats to the broker gateway stopped; orders queue in the router.",
        # On valr-live, not paper: an open SEV1/SEV2 blocks going live, and the demo
        # lets a newcomer try the live transition on paper at once.
        environment=envs.get("valr-live"),
        detected_at=now - timedelta(minutes=12),
        orders_affected=7,
        affected_systems="order router, broker gateway",
    )
    if inc:
        services.incident_acknowledge(actor=operator, incident=inc)
        services.incident_role_assign(
            actor=commander, incident=inc, role="incident_commander", user=commander
        )
        services.incident_role_assign(
            actor=commander, incident=inc, role="technical_lead", user=operator2
        )
        services.incident_role_assign(actor=commander, incident=inc, role="risk_officer", user=risk)
        services.incident_status_update_post(
            actor=operator,
            incident=inc,
            kind="initial",
            fields={"impact": "No new orders reach the broker on valr-live; positions unchanged."},
        )
        _attach(inc, "p1-1-broker-disconnection", operator, stdout)

    # SEV3 investigating, its status update overdue: the dashboard flags it.
    inc = new(
        "Market data latency above 500 ms at p99",
        severity="SEV3",
        summary="Quotes arrive late; strategies widen spreads.",
        environment=envs.get("paper"),
        detected_at=now - timedelta(hours=3),
        affected_systems="market data feed",
    )
    if inc:
        services.incident_acknowledge(actor=operator2, incident=inc)
        services.incident_transition(verb="investigate", actor=commander, incident=inc)
        services.timeline_entry_add(
            incident=inc,
            actor=operator2,
            kind="command",
            body="kubectl -n md top pods --sort-by=cpu",
        )
        services.timeline_entry_add(
            incident=inc,
            actor=operator2,
            kind="evidence",
            body="Latency dashboard during the spike",
            metadata={"url": "https://grafana.example.internal/d/md-latency"},
        )
        services.timeline_entry_add(
            incident=inc, actor=risk, kind="note", body="No P&L effect seen so far."
        )
        _attach(inc, "p2-1-high-latency", operator2, stdout)

    # SEV4 resolved and closed, with its resolution notice.
    inc = new(
        "Operations dashboard not loading",
        severity="SEV4",
        summary="Grafana returned 502 after a certificate rotation.",
        detected_at=now - timedelta(days=2),
        affected_systems="grafana",
    )
    if inc:
        services.incident_acknowledge(actor=operator, incident=inc)
        services.incident_transition(verb="investigate", actor=commander, incident=inc)
        services.incident_transition(verb="resolve", actor=commander, incident=inc)
        services.incident_status_update_post(
            actor=operator,
            incident=inc,
            kind="resolution",
            fields={
                "root_cause": "The reverse proxy kept the old certificate.",
                "action_items": "Reload the proxy in the rotation job.",
            },
        )
        services.incident_close(actor=commander, incident=inc)

    # SEV2 declined as a false positive.
    inc = new(
        "Order rejection spike on VALR",
        severity="SEV2",
        summary="Rejections rose to 30% for four minutes.",
        environment=envs.get("valr-live"),
        detected_at=now - timedelta(days=1),
    )
    if inc:
        services.incident_decline(
            actor=commander,
            incident=inc,
            reason="Announced exchange maintenance window; no action needed.",
        )
