import pytest

from drills.services.recording import drill_action_item_add, drill_step_record
from opsportal.audit.models import AuditEvent
from opsportal.core.errors import Conflict, NotPermitted, ValidationFailed
from opsportal.signoffs.models import Signoff
from opsportal.signoffs.services import (
    signable_content,
    signable_sha256,
    signoff_sign,
    signoffs_for,
    valid_signoffs,
)
from tests.drills.factories import completed_run, plan, publish, start
from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def run(version, paper, users):
    return completed_run(
        version=version, environment=paper, lead=users["operator1"], observer=users["operator2"]
    )


def sign(run, user, role, *, password=PASSWORD, sha=None, comment=""):
    return signoff_sign(
        target=run,
        actor=user,
        role=role,
        password=password,
        content_sha256=sha or signable_sha256(run),
        comment=comment,
    )


def refused_codes():
    return list(
        AuditEvent.objects.filter(event_type="signoff.refused").values_list(
            "metadata__code", flat=True
        )
    )


def test_signoff_sign_records_signer_role_hash_and_comment(run, users):
    sha = signable_sha256(run)

    signoff = sign(run, users["operator1"], "drill_lead", comment=" all good ")

    assert (signoff.signer, signoff.role, signoff.comment) == (
        users["operator1"],
        "drill_lead",
        "all good",
    )
    assert signoff.content_sha256 == sha and len(sha) == 64
    assert signoff.target == run
    run.refresh_from_db()
    assert run.state == "completed"


def test_both_required_signoffs_make_the_run_signed_off(run, users):
    sign(run, users["operator1"], "drill_lead")
    sign(run, users["risk"], "risk_officer")

    run.refresh_from_db()
    assert run.state == "signed_off"
    assert run.signed_off_at is not None
    assert AuditEvent.objects.filter(event_type="drill_run.signed_off").count() == 1


def test_signable_content_is_canonical_and_names_what_was_done(run):
    content = signable_content(run)

    assert content["procedure"]["slug"] == "kill-switch-drill"
    assert content["lead"] == "operator1"
    assert [s["outcome"] for s in content["steps"]] == ["pass", "pass", "pass"]
    assert signable_sha256(run) == signable_sha256(run)


def test_same_user_cannot_fill_two_required_signoffs(version, paper, users):
    lead = UserFactory(username="lead-risk", roles=["operator", "risk_officer"])
    run = completed_run(version=version, environment=paper, lead=lead)
    sign(run, lead, "drill_lead")

    with pytest.raises(Conflict) as exc:
        sign(run, lead, "risk_officer")

    assert exc.value.code == "same_signer"
    assert signoffs_for(run).count() == 1
    assert refused_codes() == ["same_signer"]


def test_a_role_already_signed_cannot_be_signed_again(run, users):
    UserFactory(username="risk2", roles=["risk_officer"])
    sign(run, users["risk"], "risk_officer")

    with pytest.raises(Conflict) as exc:
        sign(run, UserFactory(username="risk2"), "risk_officer")

    assert exc.value.code == "role_already_signed"


def test_wrong_password_is_refused_and_audited(run, users):
    with pytest.raises(NotPermitted) as exc:
        sign(run, users["operator1"], "drill_lead", password="wrong")

    assert (exc.value.code, exc.value.field) == ("password_incorrect", "password")
    assert not Signoff.objects.exists()
    assert refused_codes() == ["password_incorrect"]


def test_stale_content_hash_is_refused(run, users):
    with pytest.raises(Conflict) as exc:
        sign(run, users["operator1"], "drill_lead", sha="0" * 64)

    assert exc.value.code == "stale_content"


@pytest.mark.parametrize(
    ("username", "role"),
    [
        ("operator2", "drill_lead"),  # not the run's lead
        ("operator1", "risk_officer"),  # not a risk officer
        ("auditor", "risk_officer"),  # cannot sign drills at all
    ],
)
def test_role_requirements_are_enforced(run, users, username, role):
    with pytest.raises(NotPermitted) as exc:
        sign(run, users[username], role)

    assert exc.value.code == "wrong_role"


def test_a_role_the_procedure_does_not_require_is_refused(run, users):
    with pytest.raises(ValidationFailed) as exc:
        sign(run, users["operator2"], "observer")

    assert exc.value.code == "role_not_required"


def test_observer_role_must_be_the_runs_observer(paper, users):
    version = publish(slug="observed-drill", signoff_roles=["drill_lead", "observer"])
    run = completed_run(
        version=version, environment=paper, lead=users["operator1"], observer=users["operator2"]
    )

    with pytest.raises(NotPermitted):
        sign(run, users["commander"], "observer")
    sign(run, users["operator2"], "observer")
    sign(run, users["operator1"], "drill_lead")

    run.refresh_from_db()
    assert run.state == "signed_off"


def test_procedure_without_signoff_roles_needs_lead_and_risk_officer(paper, users):
    version = publish(slug="verify-proc", kind="checklist", signoff_roles=[], pre_checklist=[])
    run = completed_run(version=version, environment=paper, lead=users["operator1"])
    sign(run, users["operator1"], "drill_lead")
    run.refresh_from_db()
    assert run.state == "completed"

    sign(run, users["risk"], "risk_officer")

    run.refresh_from_db()
    assert run.state == "signed_off"


def test_a_run_in_progress_cannot_be_signed(version, paper, users):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))

    with pytest.raises(Conflict) as exc:
        sign(run, users["operator1"], "drill_lead")

    assert exc.value.code == "not_signable"


def test_editing_a_step_after_signing_leaves_no_valid_signoff(run, users):
    sign(run, users["operator1"], "drill_lead")
    result = run.step_results.get(position=2)

    drill_step_record(
        result_id=result.pk,
        actor=users["operator1"],
        outcome="fail",
        observations="an order went out",
    )

    assert valid_signoffs(run) == []


def test_signing_again_after_an_edit_voids_the_stale_signoff_and_keeps_it(run, users):
    stale = sign(run, users["operator1"], "drill_lead")
    drill_step_record(
        result_id=run.step_results.get(position=2).pk, actor=users["operator1"], outcome="fail"
    )
    run.refresh_from_db()

    fresh = sign(run, users["operator1"], "drill_lead")

    stale.refresh_from_db()
    assert (stale.void_reason, [s.pk for s in valid_signoffs(run)]) == (
        "The signed content changed after signing.",
        [fresh.pk],
    )


def test_voiding_a_stale_signoff_is_audited_once(run, users):
    sign(run, users["operator1"], "drill_lead")
    drill_step_record(
        result_id=run.step_results.get(position=2).pk, actor=users["operator1"], outcome="fail"
    )
    run.refresh_from_db()

    sign(run, users["operator1"], "drill_lead")

    assert AuditEvent.objects.filter(event_type="signoff.voided").count() == 1


def test_a_stale_signoff_does_not_count_towards_completion(run, users):
    sign(run, users["operator1"], "drill_lead")
    drill_step_record(
        result_id=run.step_results.get(position=2).pk, actor=users["operator1"], outcome="fail"
    )
    run.refresh_from_db()

    sign(run, users["risk"], "risk_officer")

    run.refresh_from_db()
    assert run.state == "completed"


def test_re_recording_the_same_values_keeps_the_signoff_valid(run, users):
    signoff = sign(run, users["operator1"], "drill_lead")
    result = run.step_results.get(position=2)

    drill_step_record(
        result_id=result.pk, actor=users["operator1"], outcome="pass", measured_seconds="3"
    )

    assert [s.pk for s in valid_signoffs(run)] == [signoff.pk]


def test_adding_an_issue_after_signing_leaves_no_valid_signoff(run, users):
    import datetime as dt

    sign(run, users["operator1"], "drill_lead")

    drill_action_item_add(
        run_id=run.pk,
        actor=users["operator1"],
        title="Alert late",
        owner=users["operator2"],
        due_on=dt.date(2030, 1, 1),
    )

    assert valid_signoffs(run) == []


def test_a_signed_off_run_cannot_be_edited(run, users):
    sign(run, users["operator1"], "drill_lead")
    sign(run, users["risk"], "risk_officer")

    with pytest.raises(Conflict):
        drill_step_record(
            result_id=run.step_results.first().pk, actor=users["operator1"], outcome="fail"
        )


def test_any_model_can_be_made_signable(db, users):
    """The post-incident review will register its own adapter; a user record stands
    in for such a target here."""
    from opsportal.accounts.models import User
    from opsportal.signoffs import services as svc

    class ProfileSignable(svc.SignableAdapter):
        def content(self, target):
            return {"username": target.username, "name": target.first_name}

        def required_roles(self, target):
            return ["author", "risk_officer"]

        def on_complete(self, target, actor):
            target.last_name = "approved"
            target.save(update_fields=["last_name"])

    svc.register_signable(User, ProfileSignable())
    try:
        target = UserFactory(username="subject", first_name="Sam")
        sha = svc.signable_sha256(target)
        svc.signoff_sign(
            target=target,
            actor=users["operator1"],
            role="author",
            password=PASSWORD,
            content_sha256=sha,
        )
        with pytest.raises(NotPermitted):  # the default rule: risk_officer is a group
            svc.signoff_sign(
                target=target,
                actor=users["operator2"],
                role="risk_officer",
                password=PASSWORD,
                content_sha256=sha,
            )
        svc.signoff_sign(
            target=target,
            actor=users["risk"],
            role="risk_officer",
            password=PASSWORD,
            content_sha256=sha,
        )
    finally:
        svc._ADAPTERS.pop(User._meta.label_lower)

    target.refresh_from_db()
    assert target.last_name == "approved"
    assert sorted(s.role for s in svc.signoffs_for(target)) == ["author", "risk_officer"]


def test_repeated_wrong_passwords_lock_signing_the_right_one_included(run, users, settings):
    for _ in range(settings.OPSPORTAL_LOGIN_FAILURE_LIMIT):
        with pytest.raises(NotPermitted):
            sign(run, users["operator1"], "drill_lead", password="wrong")

    with pytest.raises(NotPermitted) as exc:
        sign(run, users["operator1"], "drill_lead")

    assert (exc.value.code, exc.value.field) == ("step_up_locked", "password")
    assert not Signoff.objects.exists()
    assert AuditEvent.objects.filter(event_type="auth.step_up_locked_out").count() == 1
