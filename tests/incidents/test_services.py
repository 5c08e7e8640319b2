import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from incidents import services
from incidents.models import Incident, RoleAssignment, Status, StatusUpdate, TimelineEntry
from opsportal.audit.models import AuditEvent
from opsportal.core.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from tests.controls.factories import EnvironmentFactory
from tests.factories import UserFactory
from tests.incidents.factories import publish_playbook

pytestmark = pytest.mark.django_db


def events(incident, event_type):
    return AuditEvent.objects.filter(
        event_type=event_type, object_type="incidents.incident", object_id=str(incident.pk)
    )


# --- opening ----------------------------------------------------------------


def test_incident_open_gives_reference_deadlines_timeline_and_audit(users):
    before = timezone.now()

    incident = services.incident_open(
        actor=users["operator1"],
        title=" Broker session dropped ",
        severity="SEV2",
        summary="IB gateway closed the session",
        trading_halted=True,
        pnl_impact=Decimal("-1250.50"),
        pnl_currency="usd",
        orders_affected=12,
        affected_systems="order router",
    )

    assert re.fullmatch(rf"INC-{before:%Y%m%d}-001", incident.reference)
    assert incident.status == Status.DETECTED
    assert incident.title == "Broker session dropped"
    assert incident.pnl_currency == "USD"
    assert incident.ack_due_at == incident.detected_at + timedelta(minutes=15)
    assert incident.next_update_due_at == incident.detected_at + timedelta(minutes=30)
    entry = incident.timeline.get()
    assert (entry.kind, entry.author) == ("transition", users["operator1"])
    assert "SEV2 (P1)" in entry.body
    assert events(incident, "incident.opened").get().after["severity"] == "SEV2"


def test_incident_open_numbers_references_per_day(users):
    first = services.incident_open(actor=users["operator1"], title="a", severity="SEV4")
    second = services.incident_open(actor=users["operator1"], title="b", severity="SEV4")

    assert first.reference.endswith("-001")
    assert second.reference.endswith("-002")


@pytest.mark.parametrize(
    ("severity", "ack_minutes", "update_minutes"),
    [("SEV1", 5, 30), ("SEV2", 15, 30), ("SEV3", 60, 120), ("SEV4", 24 * 60, None)],
)
def test_incident_open_sets_sla_and_cadence_per_severity(
    users, severity, ack_minutes, update_minutes
):
    incident = services.incident_open(actor=users["operator1"], title="x", severity=severity)

    assert incident.ack_due_at - incident.detected_at == timedelta(minutes=ack_minutes)
    expected = incident.detected_at + timedelta(minutes=update_minutes) if update_minutes else None
    assert incident.next_update_due_at == expected


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": "  "}, "title"),
        ({"severity": "SEV9"}, "severity"),
        ({"detected_at": timezone.now() + timedelta(hours=1)}, "detected_at"),
        ({"pnl_currency": "dollars"}, "pnl_currency"),
        ({"orders_affected": -1}, "orders_affected"),
    ],
)
def test_incident_open_refuses_bad_input_naming_the_field(users, kwargs, field):
    args = {"actor": users["operator1"], "title": "ok", "severity": "SEV2", **kwargs}

    with pytest.raises(ValidationFailed) as exc:
        services.incident_open(**args)

    assert exc.value.field == field
    assert not Incident.objects.exists()


@pytest.mark.parametrize("username", ["risk", "auditor", "admin"])
def test_incident_open_refused_without_permission(users, username):
    with pytest.raises(NotPermitted):
        services.incident_open(actor=users[username], title="x", severity="SEV2")

    assert not Incident.objects.exists()


def test_incident_open_by_the_system_has_no_author(db):
    incident = services.incident_open(actor=None, title="Clock drift breach", severity="SEV2")

    assert incident.created_by is None
    assert incident.timeline.get().author is None


def test_incident_open_with_playbook_attaches_its_checklist(users, playbook):
    incident = services.incident_open(
        actor=users["operator1"],
        title="Broker down",
        severity="SEV2",
        playbook_slug="test-broker-disconnect",
    )

    (checklist,) = services.incident_checklists(incident)
    assert checklist.items.count() == 3
    assert incident.timeline.filter(kind="playbook").count() == 1


def test_incident_open_with_unknown_playbook_opens_nothing(users):
    with pytest.raises(NotFound):
        services.incident_open(
            actor=users["operator1"], title="x", severity="SEV2", playbook_slug="nope"
        )

    assert not Incident.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_incident_open_links_environment(users):
    env = EnvironmentFactory(slug="valr-live")

    incident = services.incident_open(
        actor=users["operator1"], title="x", severity="SEV1", environment=env
    )

    assert incident.environment == env


# --- lifecycle ----------------------------------------------------------------

HAPPY_PATH = [
    ("acknowledge", "acknowledged", "acknowledged_at", "acknowledged_by", "operator1"),
    ("investigate", "investigating", "investigating_at", "investigating_by", "commander"),
    ("mitigate", "mitigating", "mitigated_at", "mitigated_by", "commander"),
    ("monitor", "monitoring", "monitoring_at", "monitoring_by", "commander"),
    ("resolve", "resolved", "resolved_at", "resolved_by", "commander"),
]


def test_incident_transitions_walk_the_lifecycle_recording_who_and_when(users, open_incident):
    incident = open_incident(severity="SEV3")
    service_for = {
        "acknowledge": services.incident_acknowledge,
        "investigate": services.incident_investigate,
        "mitigate": services.incident_mitigate,
        "monitor": services.incident_monitor,
        "resolve": services.incident_resolve,
    }

    for verb, status, at_field, by_field, username in HAPPY_PATH:
        before = timezone.now()
        incident = service_for[verb](actor=users[username], incident_id=incident.pk)
        incident.refresh_from_db()
        assert incident.status == status
        assert getattr(incident, at_field) >= before
        assert getattr(incident, by_field) == users[username]
        assert events(incident, f"incident.{status}").count() == 1
    closed = services.incident_close(actor=users["commander"], incident=incident)

    assert closed.status == Status.CLOSED
    assert closed.closed_by == users["commander"]
    bodies = list(incident.timeline.filter(kind="transition").values_list("body", flat=True))
    assert bodies[1:] == [
        "Detected → Acknowledged",
        "Acknowledged → Investigating",
        "Investigating → Mitigating",
        "Mitigating → Monitoring",
        "Monitoring → Resolved",
        "Resolved → Closed",
    ]
    assert incident.time_to_acknowledge == incident.acknowledged_at - incident.detected_at
    assert closed.next_update_due_at is None


def test_incident_acknowledge_twice_is_a_no_op(users, open_incident):
    incident = open_incident()

    first = services.incident_acknowledge(actor=users["operator1"], incident=incident)
    second = services.incident_acknowledge(actor=users["operator2"], incident=incident)

    assert second.acknowledged_by == users["operator1"]
    assert second.acknowledged_at == first.acknowledged_at
    assert events(incident, "incident.acknowledged").count() == 1
    assert incident.timeline.filter(kind="transition").count() == 2


@pytest.mark.parametrize(
    ("path", "verb"),
    [
        ([], "investigate"),
        ([], "mitigate"),
        ([], "resolve"),
        ([], "close"),
        ([], "reopen"),
        (["acknowledge", "mitigate"], "decline"),
        (["acknowledge", "investigate"], "acknowledge"),
        (["acknowledge", "investigate", "resolve"], "monitor"),
        (["decline"], "acknowledge"),
    ],
)
def test_incident_transition_illegal_moves_are_refused(users, open_incident, path, verb):
    incident = open_incident(severity="SEV3")
    for step in path:
        services.incident_transition(verb=step, actor=users["commander"], incident=incident)
    incident.refresh_from_db()
    status_before = incident.status
    entries_before = incident.timeline.count()

    with pytest.raises(Conflict):
        services.incident_transition(verb=verb, actor=users["commander"], incident=incident)

    incident.refresh_from_db()
    assert incident.status == status_before
    assert incident.timeline.count() == entries_before


@pytest.mark.parametrize(
    ("username", "verb", "walk"),
    [
        ("operator1", "investigate", ("acknowledge",)),
        ("operator1", "mitigate", ("acknowledge",)),
        ("operator1", "decline", ("acknowledge",)),
        ("risk", "acknowledge", ()),
        ("auditor", "acknowledge", ()),
        ("admin", "acknowledge", ()),
    ],
)
def test_incident_transition_refused_without_permission(users, open_incident, username, verb, walk):
    """`walk`: the transitions operator1 makes first, so `verb` is legal from there."""
    incident = open_incident()
    for step in walk:
        services.incident_transition(verb=step, actor=users["operator1"], incident=incident)
    incident.refresh_from_db()
    status = incident.status

    with pytest.raises(NotPermitted):
        services.incident_transition(verb=verb, actor=users[username], incident=incident)

    incident.refresh_from_db()
    assert incident.status == status


@pytest.mark.parametrize("severity", ["SEV1", "SEV2"])
def test_incident_close_needs_an_approved_review_for_sev1_and_sev2(users, open_incident, severity):
    incident = open_incident(severity=severity)
    for verb in ("acknowledge", "investigate", "resolve"):
        services.incident_transition(verb=verb, actor=users["commander"], incident=incident)

    with pytest.raises(Conflict) as exc:
        services.incident_close(actor=users["commander"], incident=incident)

    assert exc.value.code == "review_required"
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    assert incident.review_requirement().required is True


@pytest.mark.parametrize("severity", ["SEV3", "SEV4"])
def test_review_requirement_lets_sev3_and_sev4_close(users, open_incident, severity):
    incident = open_incident(severity=severity)

    requirement = incident.review_requirement()

    assert (requirement.required, requirement.satisfied) == (False, True)


def test_incident_decline_records_the_reason(users, open_incident):
    incident = open_incident()

    declined = services.incident_decline(
        actor=users["commander"], incident=incident, reason="Monitoring glitch"
    )

    assert declined.status == Status.DECLINED
    assert declined.declined_by == users["commander"]
    assert declined.next_update_due_at is None
    assert (
        incident.timeline.last().body == "Detected → Declined (false positive). Monitoring glitch"
    )


def test_incident_reopen_goes_back_to_investigating_and_is_recorded(users, open_incident):
    incident = open_incident()
    for verb in ("acknowledge", "investigate", "resolve"):
        services.incident_transition(verb=verb, actor=users["commander"], incident=incident)

    reopened = services.incident_reopen(
        actor=users["commander"], incident=incident, reason="Disconnects again"
    )

    assert reopened.status == Status.INVESTIGATING
    assert reopened.resolved_at is None
    assert reopened.reopened_count == 1
    assert reopened.next_update_due_at > timezone.now()
    assert incident.timeline.last().body.startswith("Reopened: Resolved → Investigating")
    assert events(incident, "incident.reopened").count() == 1


def test_incident_fsm_field_is_protected(open_incident):
    incident = open_incident()

    with pytest.raises(AttributeError):
        incident.status = Status.CLOSED


# --- severity -------------------------------------------------------------------


def test_incident_severity_change_records_old_and_new_and_moves_deadlines(users, open_incident):
    incident = open_incident(severity="SEV3")

    changed = services.incident_severity_change(
        actor=users["commander"], incident=incident, severity="SEV1", reason="Money at risk"
    )

    assert changed.severity == "SEV1"
    assert changed.ack_due_at == changed.detected_at + timedelta(minutes=5)
    assert changed.next_update_due_at == changed.detected_at + timedelta(minutes=30)
    entry = incident.timeline.get(kind="severity_change")
    assert entry.body == "Severity SEV3 (P2) → SEV1 (P0). Money at risk"
    assert entry.metadata["from"] == "SEV3"
    assert events(incident, "incident.severity_changed").get().before == {"severity": "SEV3"}


def test_incident_severity_change_keeps_the_met_sla_after_acknowledgement(users, open_incident):
    incident = open_incident(severity="SEV4")
    services.incident_acknowledge(actor=users["operator1"], incident=incident)

    changed = services.incident_severity_change(
        actor=users["commander"], incident=incident, severity="SEV1"
    )

    assert changed.ack_due_at == changed.detected_at + timedelta(hours=24)
    assert changed.sla_breached() is False


def test_incident_severity_change_refused_for_operator_and_when_closed(users, open_incident):
    incident = open_incident(severity="SEV4")
    with pytest.raises(NotPermitted):
        services.incident_severity_change(
            actor=users["operator1"], incident=incident, severity="SEV1"
        )
    services.incident_decline(actor=users["commander"], incident=incident)

    with pytest.raises(Conflict):
        services.incident_severity_change(
            actor=users["commander"], incident=incident, severity="SEV1"
        )


# --- roles ------------------------------------------------------------------------


def test_incident_role_assign_hands_over_and_keeps_history(users, open_incident):
    incident = open_incident()
    # The next commander must be able to command (issue 14 item 16).
    next_commander = UserFactory(username="commander2", roles=["incident_commander"])

    first = services.incident_role_assign(
        actor=users["commander"],
        incident=incident,
        role="incident_commander",
        user=users["commander"],
    )
    second = services.incident_role_assign(
        actor=users["commander"],
        incident=incident,
        role="incident_commander",
        user=next_commander,
    )

    first.refresh_from_db()
    assert first.ended_at == second.started_at
    assert first.ended_by == users["commander"]
    assert services.current_commander(incident) == next_commander
    bodies = list(incident.timeline.filter(kind="role_change").values_list("body", flat=True))
    assert len(bodies) == 2
    assert "handed over from" in bodies[1]


def test_incident_role_assign_allows_many_smes_and_is_idempotent(users, open_incident):
    incident = open_incident()
    for username in ("operator1", "operator2", "operator1"):
        services.incident_role_assign(
            actor=users["commander"], incident=incident, role="sme", user=users[username]
        )

    current = RoleAssignment.objects.filter(incident=incident, ended_at__isnull=True)
    assert sorted(a.user.username for a in current) == ["operator1", "operator2"]
    assert incident.timeline.filter(kind="role_change").count() == 2


def test_incident_role_end_and_permissions(users, open_incident):
    incident = open_incident()
    with pytest.raises(NotPermitted):
        services.incident_role_assign(
            actor=users["operator1"], incident=incident, role="scribe", user=users["operator1"]
        )
    assignment = services.incident_role_assign(
        actor=users["commander"], incident=incident, role="scribe", user=users["operator1"]
    )

    ended = services.incident_role_end(actor=users["commander"], assignment_id=assignment.pk)

    assert ended.ended_at is not None
    assert incident.timeline.last().body.endswith("is no longer scribe")


def test_incident_role_assign_refuses_unknown_role(users, open_incident):
    with pytest.raises(ValidationFailed):
        services.incident_role_assign(
            actor=users["commander"], incident=open_incident(), role="boss", user=users["risk"]
        )


# --- status updates ---------------------------------------------------------------


def test_incident_status_update_post_initial_renders_template_and_sets_next_due(
    users, open_incident
):
    incident = open_incident(severity="SEV2", trading_halted=True)
    services.incident_role_assign(
        actor=users["commander"],
        incident=incident,
        role="incident_commander",
        user=users["commander"],
    )
    before = timezone.now()

    update = services.incident_status_update_post(
        actor=users["operator1"],
        incident=incident,
        kind="initial",
        fields={"impact": "No new orders on IBKR"},
    )

    assert (
        update.body.splitlines()[0] == f"INCIDENT OPENED - {incident.reference}: {incident.title}"
    )
    assert "Severity: SEV2 (P1)" in update.body
    assert "Impact: No new orders on IBKR" in update.body
    assert "Trading halted (kill switch): yes" in update.body
    assert f"Incident commander: {users['commander'].display_name}" in update.body
    assert before + timedelta(minutes=30) <= update.next_update_due_at
    incident.refresh_from_db()
    assert incident.next_update_due_at == update.next_update_due_at
    assert incident.timeline.last().kind == "status_update"


def test_incident_status_update_post_sev4_has_no_next_update(users, open_incident):
    update = services.incident_status_update_post(
        actor=users["operator1"],
        incident=open_incident(severity="SEV4"),
        kind="update",
        fields={"progress": "Rotated logs", "next_steps": "Watch disk"},
    )

    assert update.next_update_due_at is None
    assert "Next update: none scheduled" in update.body


def test_incident_status_update_post_requires_template_fields(users, open_incident):
    with pytest.raises(ValidationFailed) as exc:
        services.incident_status_update_post(
            actor=users["operator1"],
            incident=open_incident(),
            kind="update",
            fields={"progress": "done"},
        )

    assert exc.value.field == "next_steps"


def test_incident_status_update_resolution_only_once_resolved(users, open_incident):
    incident = open_incident(severity="SEV2")
    fields = {"root_cause": "Gateway restart", "action_items": "Auto-reconnect"}
    with pytest.raises(Conflict):
        services.incident_status_update_post(
            actor=users["operator1"], incident=incident, kind="resolution", fields=fields
        )
    for verb in ("acknowledge", "mitigate", "resolve"):
        services.incident_transition(verb=verb, actor=users["commander"], incident=incident)

    update = services.incident_status_update_post(
        actor=users["operator1"], incident=incident, kind="resolution", fields=fields
    )

    assert update.body.startswith("INCIDENT RESOLVED")
    assert "Root cause: Gateway restart" in update.body
    assert "Post-incident review: required, due by" in update.body
    with pytest.raises(Conflict):
        services.incident_status_update_post(
            actor=users["operator1"],
            incident=incident,
            kind="update",
            fields={"progress": "a", "next_steps": "b"},
        )


def test_incident_status_update_refused_for_risk_officer(users, open_incident):
    with pytest.raises(NotPermitted):
        services.incident_status_update_post(
            actor=users["risk"], incident=open_incident(), kind="initial", fields={"impact": "x"}
        )


# --- timeline -------------------------------------------------------------------


TIMELINE_BODY = "kubectl rollout restart deploy/router"
TIMELINE_LINK = {"url": "https://grafana.example/d/abc"}


@pytest.mark.parametrize(
    ("username", "kind"), [("operator1", "note"), ("risk", "note"), ("operator1", "command")]
)
def test_timeline_entry_add_allowed_per_kind(users, open_incident, username, kind):
    incident = open_incident()

    entry = services.timeline_entry_add(
        incident=incident,
        actor=users[username],
        kind=kind,
        body=TIMELINE_BODY,
        metadata=TIMELINE_LINK,
    )

    assert (entry.kind, entry.author, entry.body) == (kind, users[username], TIMELINE_BODY)
    assert events(incident, "incident.timeline_entry_added").count() == 1


@pytest.mark.parametrize(
    ("username", "kind"), [("auditor", "note"), ("risk", "command"), ("risk", "evidence")]
)
def test_timeline_entry_add_refused_per_kind(users, open_incident, username, kind):
    incident = open_incident()

    with pytest.raises(NotPermitted):
        services.timeline_entry_add(
            incident=incident,
            actor=users[username],
            kind=kind,
            body=TIMELINE_BODY,
            metadata=TIMELINE_LINK,
        )

    assert not incident.timeline.filter(kind=kind).exists()


def test_timeline_entry_add_evidence_needs_an_http_link(users, open_incident):
    incident = open_incident()
    with pytest.raises(ValidationFailed) as exc:
        services.timeline_entry_add(
            incident=incident,
            actor=users["operator1"],
            kind="evidence",
            body="graph",
            metadata={"url": "javascript:alert(1)"},
        )
    assert exc.value.field == "url"

    entry = services.timeline_entry_add(
        incident=incident,
        actor=users["operator1"],
        kind="evidence",
        body="",
        metadata={"url": "https://grafana.example/d/abc"},
    )

    assert entry.body == "https://grafana.example/d/abc"


def test_timeline_entry_add_refuses_reserved_kinds_and_empty_bodies(users, open_incident):
    incident = open_incident()
    with pytest.raises(ValidationFailed):
        services.timeline_entry_add(
            incident=incident, actor=users["commander"], kind="transition", body="faked"
        )
    with pytest.raises(ValidationFailed):
        services.timeline_entry_add(
            incident=incident, actor=users["commander"], kind="note", body="  "
        )


def test_timeline_entry_add_control_event_from_the_controls_app(users, open_incident):
    incident = open_incident()

    entry = services.timeline_entry_add(
        incident=incident,
        actor=users["operator2"],
        kind="control",
        body="Kill switch triggered on valr-live",
        metadata={"environment": "valr-live"},
    )

    assert (entry.kind, entry.metadata) == ("control", {"environment": "valr-live"})


def test_timeline_is_append_only(users, open_incident):
    incident = open_incident()
    entry = incident.timeline.get()

    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        TimelineEntry.objects.filter(pk=entry.pk).update(body="rewritten")
    with pytest.raises(TypeError):
        TimelineEntry.objects.all().delete()
    with pytest.raises(TypeError):
        StatusUpdate.objects.all().delete()


# --- playbooks --------------------------------------------------------------------


def test_incident_attach_playbook_is_idempotent_and_on_the_timeline(users, open_incident, playbook):
    incident = open_incident()

    first = services.incident_attach_playbook(
        incident=incident, procedure_slug=playbook.procedure.slug, actor=users["operator1"]
    )
    again = services.incident_attach_playbook(
        incident=incident, procedure_slug=playbook.procedure.slug, actor=users["operator1"]
    )

    assert first.pk == again.pk
    assert incident.timeline.get(kind="playbook").body == "Playbook attached: Test playbook (v1)"
    assert events(incident, "incident.playbook_attached").count() == 1


def test_incident_attach_playbook_refused_for_risk_officer(users, open_incident, playbook):
    with pytest.raises(NotPermitted):
        services.incident_attach_playbook(
            incident=open_incident(), procedure_slug=playbook.procedure.slug, actor=users["risk"]
        )


def test_incident_checklist_item_tick_records_who_when_note(users, open_incident, playbook):
    incident = open_incident(playbook_slug=playbook.procedure.slug)
    item = services.incident_checklists(incident).get().items.first()

    ticked = services.incident_checklist_item_tick(
        incident_id=incident.pk, item_id=item.pk, actor=users["operator2"], note="Gate says HALT"
    )

    assert (ticked.done_by, ticked.note) == (users["operator2"], "Gate says HALT")
    assert ticked.done_at is not None


def test_incident_checklist_item_tick_is_on_the_timeline_once(users, open_incident, playbook):
    incident = open_incident(playbook_slug=playbook.procedure.slug)
    item = services.incident_checklists(incident).get().items.first()

    for _ in range(2):
        services.incident_checklist_item_tick(
            incident_id=incident.pk, item_id=item.pk, actor=users["operator2"], note="Gate HALT"
        )

    ticks = incident.timeline.filter(kind="playbook", body__startswith="Checklist step")
    assert [(e.body, e.author) for e in ticks] == [
        ("Checklist step 1 done (Test playbook): Step 1 — Gate HALT", users["operator2"])
    ]


def test_incident_checklist_item_tick_refuses_an_item_of_another_incident(
    users, open_incident, playbook
):
    mine = open_incident()
    other = open_incident(playbook_slug=playbook.procedure.slug)
    item = services.incident_checklists(other).get().items.first()

    with pytest.raises(NotFound):
        services.incident_checklist_item_tick(
            incident_id=mine.pk, item_id=item.pk, actor=users["operator1"]
        )


def test_incident_checklist_item_tick_refused_for_risk_and_on_declined(
    users, open_incident, playbook
):
    incident = open_incident(playbook_slug=playbook.procedure.slug)
    item = services.incident_checklists(incident).get().items.first()
    with pytest.raises(NotPermitted):
        services.incident_checklist_item_tick(
            incident_id=incident.pk, item_id=item.pk, actor=users["risk"]
        )
    services.incident_decline(actor=users["commander"], incident=incident)

    with pytest.raises(Conflict):
        services.incident_checklist_item_tick(
            incident_id=incident.pk, item_id=item.pk, actor=users["operator1"]
        )


def test_publish_playbook_helper_versions(db):
    assert publish_playbook(slug="p-x").version == 1


# --- impact -------------------------------------------------------------------------


def test_incident_impact_update_records_old_and_new(users, open_incident):
    incident = open_incident(orders_affected=3)

    updated = services.incident_impact_update(
        actor=users["operator2"],
        incident=incident,
        trading_halted=True,
        pnl_impact=Decimal("-2500.00"),
        pnl_currency="zar",
        orders_affected=3,
        affected_systems="",
    )

    assert (updated.pnl_impact, updated.pnl_currency) == (Decimal("-2500.00"), "ZAR")
    entry = incident.timeline.get(kind="impact")
    assert entry.body == (
        "Impact updated: trading halted no → yes; P&L impact — → -2500.00; currency USD → ZAR"
    )
    assert events(incident, "incident.impact_updated").get().before["pnl_currency"] == "USD"


def test_incident_impact_update_unchanged_is_a_no_op_and_risk_is_refused(users, open_incident):
    incident = open_incident()
    same = {
        "trading_halted": False,
        "pnl_impact": None,
        "pnl_currency": "USD",
        "orders_affected": None,
        "affected_systems": "",
    }

    services.incident_impact_update(actor=users["operator1"], incident=incident, **same)

    assert not incident.timeline.filter(kind="impact").exists()
    with pytest.raises(NotPermitted):
        services.incident_impact_update(actor=users["risk"], incident=incident, **same)
