"""Refusals on the drills' paths leave exactly one audit event, written after the
refused transaction rolled back, whatever the nesting (issue #8 part 3)."""

import pytest
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from drills.services.automation import drill_step_start_recovery, drill_step_trigger_automated
from drills.services.runs import drill_run_start
from opsportal.approvals.models import ApprovalPolicy, ApprovalRequest
from opsportal.audit.models import AuditEvent
from opsportal.controls.models import Environment
from opsportal.core.errors import ValidationFailed
from opsportal.signoffs.services import signable_sha256
from tests.drills.factories import completed_run, plan, start


@pytest.fixture
def killed_by_drill(version, paper, users, settings):
    """A kill-switch drill in progress whose trigger step killed `paper`; the resume
    approval policy is gone, so starting the recovery is refused by the approvals
    engine, three services deep (drills → controls → approvals)."""
    settings.OPSPORTAL_KILL_SWITCH_COOLDOWN_SECONDS = 0
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    drill_step_trigger_automated(
        result_id=run.step_results.get(position=1).pk, actor=users["operator1"]
    )
    ApprovalPolicy.objects.filter(action="kill_switch_resume").delete()
    return run


def start_recovery(run, users):
    return drill_step_start_recovery(
        result_id=run.step_results.get(position=3).pk, actor=users["operator1"]
    )


def refusals(event_type: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(event_type=event_type).values_list("metadata__code", flat=True)
    )


def test_drill_recovery_refused_by_the_approvals_engine_is_audited_once(killed_by_drill, users):
    with pytest.raises(ValidationFailed):
        start_recovery(killed_by_drill, users)

    assert refusals("approval.refused") == ["no_policy"]


def test_drill_recovery_refused_by_the_approvals_engine_changes_nothing(
    killed_by_drill, paper, users
):
    with pytest.raises(ValidationFailed):
        start_recovery(killed_by_drill, users)

    paper.refresh_from_db()
    assert (paper.kill_switch, ApprovalRequest.objects.count()) == (
        Environment.KillSwitch.KILLED,
        0,
    )


def test_sign_page_refusal_is_audited_once(version, paper, users, client_for):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])

    response = client_for("operator1").post(
        reverse("drills:run_sign", args=[run.pk]),
        {
            "role": "drill_lead",
            "password": "wrong",
            "comment": "",
            "content_sha256": signable_sha256(run),
        },
    )

    assert (response.status_code, refusals("signoff.refused")) == (400, ["password_incorrect"])


def test_sign_api_refusal_is_audited_once(version, paper, users):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])
    client = APIClient()
    client.force_authenticate(users["operator1"])

    response = client.post(
        reverse("drills-api-sign", args=[run.pk]),
        {"role": "drill_lead", "password": "wrong", "content_sha256": signable_sha256(run)},
        format="json",
    )

    assert (response.status_code, refusals("signoff.refused")) == (403, ["password_incorrect"])


@pytest.mark.django_db(transaction=True)
def test_drill_run_start_inside_a_callers_transaction_raises(version, paper, users):
    run = plan(version=version, environment=paper, lead=users["operator1"])

    with pytest.raises(RuntimeError, match="owns its transaction"), transaction.atomic():
        drill_run_start(run_id=run.pk, actor=users["operator1"])
