import pytest
from django.contrib.contenttypes.models import ContentType

from incidents.models import Incident, TimelineEntry
from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.services import approval_grant
from opsportal.audit.models import AuditEvent
from opsportal.controls import services
from opsportal.controls.models import KillSwitchEvent
from opsportal.controls.selectors import gate_decision
from opsportal.core.errors import Conflict, NotPermitted, ValidationFailed
from tests.controls.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db


def test_kill_switch_trigger_needs_no_approval_and_the_next_gate_read_halts(env, users, library):
    assert gate_decision("paper").decision == "ALLOW"

    event = services.kill_switch_trigger(
        environment=env, actor=users["operator1"], reason_code="manual", note="odd fills"
    )

    decision = gate_decision("paper")
    assert (decision.decision, decision.reason_code) == ("HALT", "HALT_KILL_SWITCH")
    assert decision.kill_switch == "KILLED"
    assert decision.version == event.version == 2
    assert not ApprovalRequest.objects.exists()
    audit = AuditEvent.objects.get(event_type="kill_switch.triggered")
    assert audit.before["kill_switch"] == "ACTIVE" and audit.after["kill_switch"] == "KILLED"


def test_kill_switch_trigger_opens_sev1_with_playbook_matching_the_reason(env, users, library):
    event = services.kill_switch_trigger(
        environment=env, actor=users["operator1"], reason_code="threshold_pnl"
    )

    incident = Incident.objects.get()
    assert event.incident_id == incident.pk
    assert (incident.severity, incident.environment, incident.trading_halted) == (
        "SEV1",
        env,
        True,
    )
    from opsportal.library.models import Checklist

    checklist = Checklist.objects.get(
        target_type=ContentType.objects.get_for_model(Incident), target_id=str(incident.pk)
    )
    assert checklist.procedure_version.procedure.slug == "p0-1-kill-switch-pnl-breach"
    assert TimelineEntry.objects.filter(incident=incident, kind="control").count() == 1


def test_kill_switch_trigger_drill_opens_no_incident(env, users, library):
    event = services.kill_switch_trigger(
        environment=env, actor=users["operator1"], reason_code="drill"
    )

    assert event.is_drill and event.incident_id is None
    assert not Incident.objects.exists()
    assert gate_decision("paper").decision == "HALT"


def test_kill_switch_trigger_links_the_named_incident_instead_of_opening_one(env, users, library):
    from incidents.services import incident_open

    incident = incident_open(actor=users["operator1"], title="Broker lag", severity="SEV2")

    event = services.kill_switch_trigger(
        environment=env,
        actor=users["operator2"],
        reason_code="emergency_l1",
        incident_id=incident.pk,
    )

    assert event.incident_id == incident.pk
    assert Incident.objects.count() == 1
    entry = TimelineEntry.objects.filter(incident=incident, kind="control").get()
    assert "Kill switch triggered on paper" in entry.body


def test_kill_switch_trigger_by_risk_officer_opens_the_incident_as_system(env, users, library):
    event = services.kill_switch_trigger(
        environment=env, actor=users["risk"], reason_code="security"
    )

    assert event.actor == users["risk"]
    assert Incident.objects.get(pk=event.incident_id).severity == "SEV1"


def test_kill_switch_trigger_still_kills_when_the_playbook_library_is_empty(env, users):
    event = services.kill_switch_trigger(
        environment=env, actor=users["operator1"], reason_code="manual"
    )

    assert gate_decision("paper").decision == "HALT"
    assert Incident.objects.filter(pk=event.incident_id).exists()  # opened without a playbook


def test_kill_switch_trigger_when_killed_records_the_attempt_and_changes_nothing(
    env, users, library, kill
):
    kill(env)

    again = services.kill_switch_trigger(
        environment=env, actor=users["operator2"], reason_code="emergency_l2"
    )

    env.refresh_from_db()
    assert again.kind == KillSwitchEvent.Kind.TRIGGER_REPEATED
    assert (env.version, env.kill_reason_code) == (2, "manual")
    assert Incident.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="kill_switch.trigger_repeated").count() == 1


def test_kill_switch_trigger_unknown_reason_is_refused(env, users):
    with pytest.raises(ValidationFailed) as err:
        services.kill_switch_trigger(environment=env, actor=users["operator1"], reason_code="x")

    assert err.value.field == "reason_code"
    env.refresh_from_db()
    assert env.kill_switch == "ACTIVE"


def test_kill_switch_recover_before_cooldown_is_refused_with_seconds_left(
    env, users, library, kill
):
    kill(env)

    with pytest.raises(Conflict) as err:
        services.kill_switch_recover(environment=env, actor=users["operator1"], reason="ok now")

    assert err.value.code == "cooldown"
    assert "may start in 300 s" in err.value.message or "may start in 299 s" in err.value.message
    env.refresh_from_db()
    assert env.kill_switch == "KILLED"


def test_kill_switch_recover_when_active_is_refused(env, users):
    with pytest.raises(Conflict) as err:
        services.kill_switch_recover(environment=env, actor=users["operator1"], reason="x")

    assert err.value.code == "not_killed"


def test_kill_switch_recover_after_cooldown_opens_resume_request(env, users, library, kill, fast):
    kill(env)

    request = services.kill_switch_recover(
        environment=env, actor=users["operator1"], reason="limits fixed"
    )

    env.refresh_from_db()
    assert env.kill_switch == "RECOVERING"
    assert env.resume_request_id == request.pk
    assert (request.action, request.status) == ("kill_switch_resume", "pending")
    assert gate_decision("paper").decision == "HALT"


def test_kill_switch_complete_recovery_by_requester_is_refused(
    users, library, kill, fast, password
):
    env = EnvironmentFactory(slug="paper")
    users["operator1"].groups.add(*users["risk"].groups.all())  # requester is also risk
    kill(env)
    request = services.kill_switch_recover(environment=env, actor=users["operator1"], reason="ok")

    with pytest.raises(NotPermitted) as err:
        approval_grant(
            request_id=request.pk,
            actor=users["operator1"],
            password=password,
            payload_sha256=request.payload_sha256,
        )

    assert err.value.code == "self_approval"
    env.refresh_from_db()
    assert env.kill_switch == "RECOVERING"


def test_kill_switch_complete_recovery_by_operator_is_refused(
    env, users, library, kill, fast, password
):
    kill(env)
    request = services.kill_switch_recover(environment=env, actor=users["operator1"], reason="ok")

    with pytest.raises(NotPermitted) as err:
        approval_grant(
            request_id=request.pk,
            actor=users["operator2"],
            password=password,
            payload_sha256=request.payload_sha256,
        )

    assert err.value.code == "not_eligible"


def test_kill_switch_complete_recovery_by_risk_officer_resumes_trading(
    env, users, library, kill, fast, password
):
    kill(env)
    request = services.kill_switch_recover(environment=env, actor=users["operator1"], reason="ok")

    done = approval_grant(
        request_id=request.pk,
        actor=users["risk"],
        password=password,
        payload_sha256=request.payload_sha256,
    )

    env.refresh_from_db()
    assert done.status == "executed"
    assert (env.kill_switch, env.resume_request_id, env.version) == ("ACTIVE", None, 4)
    assert gate_decision("paper").decision == "ALLOW"
    completed = KillSwitchEvent.objects.get(kind="recovery_completed")
    assert completed.actor == users["risk"]
    incident = Incident.objects.get()
    assert TimelineEntry.objects.filter(incident=incident, kind="control").count() == 3


def test_kill_switch_retrigger_while_recovering_goes_back_to_killed_and_cancels(
    env, users, library, kill, fast, password
):
    kill(env)
    request = services.kill_switch_recover(environment=env, actor=users["operator1"], reason="ok")

    event = services.kill_switch_trigger(
        environment=env, actor=users["operator2"], reason_code="emergency_l1"
    )

    env.refresh_from_db()
    request.refresh_from_db()
    assert (event.from_state, env.kill_switch) == ("RECOVERING", "KILLED")
    assert request.status == "cancelled"
    assert env.resume_request_id is None
    with pytest.raises(Conflict):
        approval_grant(
            request_id=request.pk,
            actor=users["risk"],
            password=password,
            payload_sha256=request.payload_sha256,
        )
    env.refresh_from_db()
    assert env.kill_switch == "KILLED"


def test_drill_recovery_marks_the_kill_switch_verified(env, users, library, fast, password):
    services.kill_switch_trigger(environment=env, actor=users["operator1"], reason_code="drill")
    request = services.kill_switch_recover(environment=env, actor=users["operator1"], reason="ok")

    approval_grant(
        request_id=request.pk,
        actor=users["risk"],
        password=password,
        payload_sha256=request.payload_sha256,
    )

    env.refresh_from_db()
    assert env.last_verified_at is not None


def test_cooldown_per_environment_overrides_the_setting(users, library, kill):
    env = EnvironmentFactory(slug="fast-env", recovery_cooldown_seconds=0)
    kill(env)

    request = services.kill_switch_recover(environment=env, actor=users["operator1"], reason="ok")

    assert request.status == "pending"
    env.refresh_from_db()
    assert env.kill_switch == "RECOVERING"


def test_kill_switch_trigger_by_the_system_opens_the_incident(env, library):
    """A scheduled check (actor None) may kill, e.g. on a P&L threshold breach."""
    event = services.kill_switch_trigger(environment=env, actor=None, reason_code="threshold_pnl")

    assert event.actor is None
    assert Incident.objects.get(pk=event.incident_id).created_by is None
    assert gate_decision("paper").decision == "HALT"


def resume(env, users, password):
    """KILLED → ACTIVE through the real four-eyes path (needs `fast`)."""
    request = services.kill_switch_recover(environment=env, actor=users["operator1"], reason="ok")
    approval_grant(
        request_id=request.pk,
        actor=users["risk"],
        password=password,
        payload_sha256=request.payload_sha256,
    )
    env.refresh_from_db()


def test_kill_switch_trigger_again_reuses_the_open_kill_incident(
    env, users, library, fast, password
):
    first = services.kill_switch_trigger(
        environment=env, actor=users["operator1"], reason_code="manual"
    )
    resume(env, users, password)

    second = services.kill_switch_trigger(
        environment=env, actor=users["operator2"], reason_code="emergency_l1"
    )

    assert second.incident_id == first.incident_id
    assert Incident.objects.filter(severity="SEV1").count() == 1


def test_kill_switch_trigger_after_the_kill_incident_closed_opens_a_new_sev1(
    env, users, library, fast, password
):
    from incidents.services import incident_decline

    first = services.kill_switch_trigger(
        environment=env, actor=users["operator1"], reason_code="manual"
    )
    incident_decline(
        actor=users["commander"], incident=Incident.objects.get(), reason="false alarm"
    )
    resume(env, users, password)

    second = services.kill_switch_trigger(
        environment=env, actor=users["operator2"], reason_code="manual"
    )

    assert second.incident_id not in (None, first.incident_id)


def test_kill_switch_trigger_repeated_while_killed_is_on_the_kill_incidents_timeline(
    env, users, library
):
    first = services.kill_switch_trigger(
        environment=env, actor=users["operator1"], reason_code="manual"
    )

    again = services.kill_switch_trigger(
        environment=env, actor=users["operator2"], reason_code="manual"
    )

    assert again.incident_id == first.incident_id
    assert Incident.objects.count() == 1
    bodies = TimelineEntry.objects.filter(kind="control").values_list("body", flat=True)
    assert any("already KILLED" in body for body in bodies)


def test_kill_switch_trigger_on_another_environment_opens_its_own_sev1(env, users, library):
    first = services.kill_switch_trigger(
        environment=env, actor=users["operator1"], reason_code="manual"
    )

    other = services.kill_switch_trigger(
        environment=EnvironmentFactory(slug="valr-live"),
        actor=users["operator1"],
        reason_code="manual",
    )

    assert other.incident_id not in (None, first.incident_id)
