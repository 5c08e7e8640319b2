import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType

from incidents.models import TimelineEntry
from incidents.services import incident_open
from opsportal.approvals.services import approval_grant
from opsportal.audit.models import AuditEvent
from opsportal.controls import preconditions, services
from opsportal.controls.models import ModeChange
from opsportal.controls.selectors import gate_decision
from opsportal.core.errors import Conflict, ValidationFailed
from opsportal.library.models import Checklist
from tests.controls.conftest import ALL_ATTESTED
from tests.controls.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db


def request_live(env, users, attestations=ALL_ATTESTED):
    return services.live_transition_request(
        environment=env, actor=users["operator1"], reason="ready", attestations=attestations
    )


def grant(request, user, password):
    return approval_grant(
        request_id=request.pk,
        actor=user,
        password=password,
        payload_sha256=request.payload_sha256,
    )


def test_live_transition_request_then_second_operator_approval_goes_live(
    env, users, library, password
):
    request = request_live(env, users)

    done = grant(request, users["operator2"], password)

    env.refresh_from_db()
    assert done.status == "executed"
    assert (env.mode, env.dry_run_since, env.version) == ("LIVE", None, 2)
    change = ModeChange.objects.get()
    assert (change.kind, change.actor, change.approval_request_id) == (
        "live_transition",
        users["operator2"],
        request.pk,
    )
    assert gate_decision("paper").mode == "LIVE"
    assert AuditEvent.objects.filter(event_type="mode.went_live").count() == 1
    assert request.payload["attestations"] == ALL_ATTESTED


def test_live_transition_precondition_durations_read_in_hours(env, library):
    results = {r.code: r.label for r in preconditions.evaluate_live_preconditions(env, {})}

    assert results["dry_run_duration"] == "At least 24 h in DRY_RUN (runbook 1.6.4)"
    assert results["no_recent_rollback"] == "No rollback in the last 24 h"


def test_live_transition_passes_every_precondition_line_for_a_ready_environment(env, library):
    results = preconditions.evaluate_live_preconditions(env, ALL_ATTESTED)

    assert [r.code for r in results if not r.passed] == []
    assert {r.code for r in results} >= {
        "kill_switch_active",
        "dry_run_duration",
        "no_recent_rollback",
        "no_open_incident",
        "pre_live_checklist",
    }


def _codes_failing(env, attestations=ALL_ATTESTED):
    env.refresh_from_db()
    return [
        r.code for r in preconditions.evaluate_live_preconditions(env, attestations) if not r.passed
    ]


def test_live_transition_blocked_when_kill_switch_not_active(env, users, library):
    services.kill_switch_trigger(environment=env, actor=users["operator1"], reason_code="drill")

    with pytest.raises(Conflict) as err:
        request_live(env, users)

    assert err.value.code == "preconditions_failed"
    assert "Kill switch ACTIVE" in err.value.message
    assert _codes_failing(env) == ["kill_switch_active"]


def test_live_transition_blocked_when_dry_run_too_short(users, library):
    env = EnvironmentFactory(slug="fresh", dry_run_since=dt.datetime.now(dt.UTC))

    with pytest.raises(Conflict) as err:
        request_live(env, users)

    assert "in DRY_RUN" in err.value.message
    assert _codes_failing(env) == ["dry_run_duration"]


def test_live_transition_blocked_after_a_recent_rollback(env, users, library, make_live):
    make_live(env)
    services.mode_rollback(environment=env, actor=users["operator1"], reason="bad fills")

    failing = _codes_failing(env)

    assert "no_recent_rollback" in failing
    with pytest.raises(Conflict):
        request_live(env, users)


def test_live_transition_allowed_again_when_rollback_block_has_passed(
    env, users, library, make_live, settings
):
    make_live(env)
    services.mode_rollback(environment=env, actor=users["operator1"], reason="bad fills")
    settings.OPSPORTAL_ROLLBACK_BLOCK_SECONDS = 0
    settings.OPSPORTAL_MIN_DRY_RUN_SECONDS = 0

    assert _codes_failing(env) == []


def test_live_transition_blocked_by_open_sev1_or_sev2_for_the_environment(env, users, library):
    incident_open(actor=users["operator1"], title="Broker down", severity="SEV2", environment=env)

    with pytest.raises(Conflict) as err:
        request_live(env, users)

    assert "No open SEV1/SEV2 incident" in err.value.message
    assert _codes_failing(env) == ["no_open_incident"]


def test_live_transition_not_blocked_by_sev3_or_other_environment(env, users, library):
    other = EnvironmentFactory(slug="other")
    incident_open(actor=users["operator1"], title="Slow UI", severity="SEV3", environment=env)
    incident_open(actor=users["operator1"], title="Down", severity="SEV1", environment=other)

    assert _codes_failing(env) == []


def test_live_transition_blocked_when_an_item_is_not_attested(env, users, library):
    partial = {**ALL_ATTESTED, "2": False}

    with pytest.raises(Conflict) as err:
        request_live(env, users, partial)

    assert "2. Exchange API key valid" in err.value.message
    assert _codes_failing(env, partial) == ["pre_live_checklist"]


def test_live_transition_blocked_without_the_pre_live_procedure(env, users):
    assert _codes_failing(env) == ["pre_live_checklist"]


def test_live_transition_request_needs_a_reason(env, users, library):
    with pytest.raises(ValidationFailed) as err:
        services.live_transition_request(
            environment=env, actor=users["operator1"], reason=" ", attestations=ALL_ATTESTED
        )

    assert err.value.field == "reason"


def test_live_transition_rechecked_at_execution_fails_cleanly(env, users, library, password):
    request = request_live(env, users)
    services.kill_switch_trigger(environment=env, actor=users["operator2"], reason_code="drill")

    done = grant(request, users["operator2"], password)

    env.refresh_from_db()
    assert done.status == "failed"
    assert "Kill switch ACTIVE" in done.failure_reason
    assert env.mode == "DRY_RUN"
    assert not ModeChange.objects.exists()


def test_live_transition_requester_cannot_approve(env, users, library, password):
    from opsportal.core.errors import NotPermitted

    request = request_live(env, users)

    with pytest.raises(NotPermitted):
        grant(request, users["operator1"], password)

    env.refresh_from_db()
    assert env.mode == "DRY_RUN"


def test_register_live_precondition_adds_a_line_that_blocks(env, users, library):
    from opsportal.approvals.registry import PreconditionResult

    preconditions.register_live_precondition(
        "test_extra",
        "Extra check",
        lambda e: PreconditionResult("test_extra", "Extra check", False, "nope"),
    )
    try:
        with pytest.raises(Conflict) as err:
            request_live(env, users)
        assert "Extra check (nope)" in err.value.message
    finally:
        preconditions._REGISTRY.pop("test_extra")


# --- rollback ---


def test_mode_rollback_is_immediate_and_instantiates_the_8_step_checklist(
    env, users, library, make_live
):
    make_live(env)

    change = services.mode_rollback(environment=env, actor=users["operator1"], reason="slippage")

    env.refresh_from_db()
    assert (env.mode, change.kind, change.actor) == ("DRY_RUN", "rollback", users["operator1"])
    assert env.last_rollback_at == change.occurred_at == env.dry_run_since
    checklist = Checklist.objects.get(
        target_type=ContentType.objects.get_for_model(ModeChange), target_id=str(change.pk)
    )
    assert checklist.items.count() == 8
    assert checklist.procedure_version.procedure.slug == "rollback-to-dry-run"
    assert AuditEvent.objects.filter(event_type="mode.rolled_back").count() == 1
    assert gate_decision("paper").mode == "DRY_RUN"


def test_mode_rollback_when_dry_run_is_refused(env, users):
    with pytest.raises(Conflict) as err:
        services.mode_rollback(environment=env, actor=users["operator1"], reason="x")

    assert err.value.code == "not_live"


def test_mode_rollback_needs_a_reason(env, users, library, make_live):
    make_live(env)

    with pytest.raises(ValidationFailed):
        services.mode_rollback(environment=env, actor=users["operator1"], reason="")

    env.refresh_from_db()
    assert env.mode == "LIVE"


def test_mode_rollback_writes_a_timeline_entry_on_the_open_incident(env, users, library, make_live):
    make_live(env)
    incident = incident_open(
        actor=users["operator1"], title="Slippage", severity="SEV3", environment=env
    )

    services.mode_rollback(environment=env, actor=users["operator1"], reason="slippage")

    entry = TimelineEntry.objects.get(incident=incident, kind="control")
    assert "rolled back LIVE → DRY_RUN" in entry.body
