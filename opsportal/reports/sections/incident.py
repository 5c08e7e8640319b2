"""The incident report: summary, SLA outcome, times, roles and hand-offs, timeline,
status updates, playbook checklists, impact, linked controls and approvals, review."""

from __future__ import annotations

from typing import Any

from incidents.models import Incident
from incidents.selectors import incident_detail
from opsportal.approvals.models import ApprovalRequest
from opsportal.controls.models import KillSwitchEvent, ModeChange
from opsportal.core.formatting import human_duration
from opsportal.reports.document import Document, Section
from opsportal.reports.sections.review import incident_review_section


def _duration(td: Any) -> str:
    return "—" if td is None else human_duration(td.total_seconds())


def summary_section(incident: Incident) -> Section:
    return Section("Summary", "reports/sections/incident_summary.html", {"incident": incident})


def sla_section(incident: Incident) -> Section:
    sev = incident.sev
    tta, ttr = incident.time_to_acknowledge, incident.time_to_resolve
    rows = [
        ("Detected", incident.detected_at, incident.created_by),
        ("Acknowledged", incident.acknowledged_at, incident.acknowledged_by),
        ("Investigating", incident.investigating_at, incident.investigating_by),
        ("Mitigation started", incident.mitigated_at, incident.mitigated_by),
        ("Monitoring", incident.monitoring_at, incident.monitoring_by),
        ("Resolved", incident.resolved_at, incident.resolved_by),
        ("Closed", incident.closed_at, incident.closed_by),
        ("Declined", incident.declined_at, incident.declined_by),
    ]
    return Section(
        "Times and SLA",
        "reports/sections/incident_sla.html",
        {
            "incident": incident,
            "sev": sev,
            "breached": incident.sla_breached(),
            "sla": human_duration(sev.response_seconds),
            "tta": _duration(tta),
            "ttr": _duration(ttr),
            "rows": [r for r in rows if r[1] is not None],
        },
        anchor="sla",
    )


def roles_section(detail: Any) -> Section:
    return Section(
        "Roles and hand-offs",
        "reports/sections/incident_roles.html",
        {"current": detail.current_roles, "past": detail.past_roles},
        anchor="roles",
    )


def timeline_section(detail: Any) -> Section:
    return Section(
        "Timeline", "reports/sections/incident_timeline.html", {"entries": detail.timeline}
    )


def status_updates_section(detail: Any) -> Section:
    updates = sorted(detail.status_updates, key=lambda u: (u.posted_at, u.pk))
    rows, due = [], None
    for update in updates:
        late = due is not None and update.posted_at > due
        rows.append({"update": update, "due": due, "late": late})
        due = update.next_update_due_at
    return Section(
        "Status updates",
        "reports/sections/incident_status_updates.html",
        {"rows": rows},
        anchor="status-updates",
    )


def checklists_section(detail: Any) -> Section:
    return Section(
        "Playbook checklist",
        "reports/sections/checklists.html",
        {"checklists": detail.checklists},
        anchor="checklists",
    )


def impact_section(incident: Incident) -> Section:
    return Section("Impact", "reports/sections/incident_impact.html", {"incident": incident})


def controls_section(incident: Incident) -> Section:
    kills = list(
        KillSwitchEvent.objects.filter(incident_id=incident.pk)
        .select_related("environment", "actor")
        .order_by("occurred_at", "id")
    )
    modes = list(
        ModeChange.objects.filter(incident_id=incident.pk)
        .select_related("environment", "actor")
        .order_by("occurred_at", "id")
    )
    approval_ids = {k.approval_request_id for k in kills if k.approval_request_id} | {
        m.approval_request_id for m in modes if m.approval_request_id
    }
    approvals = list(
        ApprovalRequest.objects.filter(pk__in=approval_ids)
        .select_related("requester")
        .prefetch_related("decisions__approver")
        .order_by("created_at", "id")
    )
    return Section(
        "Kill switch, mode changes and approvals",
        "reports/sections/incident_controls.html",
        {"kills": kills, "modes": modes, "approvals": approvals},
        anchor="controls",
    )


def build(params: dict[str, Any]) -> Document:
    incident = Incident.objects.select_related(
        "environment",
        "created_by",
        "acknowledged_by",
        "investigating_by",
        "mitigated_by",
        "monitoring_by",
        "resolved_by",
        "closed_by",
        "declined_by",
    ).get(pk=params["incident"])
    detail = incident_detail(incident)
    return Document(
        title=f"Incident report {incident.reference}",
        subject=f"{incident.reference} — {incident.title}",
        sections=[
            summary_section(incident),
            sla_section(incident),
            impact_section(incident),
            roles_section(detail),
            timeline_section(detail),
            status_updates_section(detail),
            checklists_section(detail),
            controls_section(incident),
            incident_review_section(incident),
        ],
    )


def title(params: dict[str, Any]) -> str:
    ref = Incident.objects.filter(pk=params["incident"]).values_list("reference", flat=True).first()
    return f"Incident report {ref or params['incident']}"
