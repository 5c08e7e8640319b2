"""Refusals on the controls' paths leave exactly one audit event, outside the
rolled-back transaction (issue #8 part 3; DESIGN "Approval request": refused attempts
are audited too)."""

import pytest
from django.db import transaction

from opsportal.approvals.models import ApprovalPolicy
from opsportal.approvals.services import approval_reject
from opsportal.audit.models import AuditEvent
from opsportal.controls import services
from opsportal.core.errors import ValidationFailed
from tests.controls.conftest import ALL_ATTESTED
from tests.factories import PASSWORD


def test_kill_switch_recover_without_a_resume_policy_is_audited_once(
    env, users, library, kill, fast
):
    kill(env)
    ApprovalPolicy.objects.filter(action="kill_switch_resume").delete()

    with pytest.raises(ValidationFailed):
        services.kill_switch_recover(environment=env, actor=users["operator1"], reason="fixed")

    assert AuditEvent.objects.filter(event_type="approval.refused").count() == 1


def test_kill_switch_recover_refusal_rolls_back_the_recovery(env, users, library, kill, fast):
    kill(env)
    ApprovalPolicy.objects.filter(action="kill_switch_resume").delete()

    with pytest.raises(ValidationFailed):
        services.kill_switch_recover(environment=env, actor=users["operator1"], reason="fixed")

    env.refresh_from_db()
    assert (env.kill_switch, env.version) == ("KILLED", 2)


def test_kill_switch_recover_refusal_names_the_operation_and_code(env, users, library, kill, fast):
    kill(env)
    ApprovalPolicy.objects.filter(action="kill_switch_resume").delete()

    with pytest.raises(ValidationFailed):
        services.kill_switch_recover(environment=env, actor=users["operator1"], reason="fixed")

    event = AuditEvent.objects.get(event_type="approval.refused")
    assert (event.actor, event.metadata["operation"], event.metadata["code"]) == (
        users["operator1"],
        "create",
        "no_policy",
    )


def test_live_transition_request_without_a_policy_is_audited_once(env, users, library):
    ApprovalPolicy.objects.filter(action="live_transition").delete()

    with pytest.raises(ValidationFailed):
        services.live_transition_request(
            environment=env, actor=users["operator1"], reason="go", attestations=ALL_ATTESTED
        )

    assert AuditEvent.objects.filter(event_type="approval.refused").count() == 1


@pytest.mark.django_db(transaction=True)
def test_kill_switch_recover_inside_a_callers_transaction_raises(env, users):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.kill_switch_recover(environment=env, actor=users["operator1"], reason="x")


def test_trigger_during_recovery_with_a_decided_request_audits_the_skipped_cancel_once(
    env, users, library, kill, fast, django_capture_on_commit_callbacks
):
    kill(env)
    request = services.kill_switch_recover(
        environment=env, actor=users["operator1"], reason="fixed"
    )
    approval_reject(request_id=request.pk, actor=users["risk"], reason="not yet", password=PASSWORD)

    with django_capture_on_commit_callbacks(execute=True):
        kill(env, by="operator2")

    refused = AuditEvent.objects.filter(event_type="approval.refused")
    assert [(e.metadata["operation"], e.metadata["request_id"]) for e in refused] == [
        ("cancel", request.pk)
    ]
