"""Post-incident review services: creation on resolution, editing, the lifecycle,
the sign-off rules, the lock after approval, revisions and closing."""

from datetime import timedelta

import pytest

from incidents import services
from incidents.models import ActionItem, PostIncidentReview, TimelineEntry
from incidents.reviews import services as reviews
from opsportal.audit.models import AuditEvent
from opsportal.core.errors import Conflict, NotPermitted, ValidationFailed
from opsportal.signoffs.services import signoffs_for, valid_signoffs
from tests.factories import UserFactory
from tests.incidents.reviews.conftest import item, sign, write

pytestmark = pytest.mark.django_db


def review_of(incident):
    return PostIncidentReview.objects.get(incident=incident)


def test_resolving_a_sev1_creates_its_review_due_48h_after_resolution(resolved, users):
    incident = resolved("SEV1")
    review = review_of(incident)
    assert review.state == "draft"
    assert review.required is True
    assert review.author == users["commander"]
    assert review.due_at == incident.resolved_at + timedelta(hours=48)
    assert "Time to acknowledge:" in review.impact
    assert len(review.timeline_entry_ids) >= 4  # detection, ack, mitigation, resolution


def test_resolving_a_sev2_review_is_due_in_a_week(resolved):
    incident = resolved("SEV2")
    assert review_of(incident).due_at == incident.resolved_at + timedelta(days=7)


def test_a_sev3_gets_no_review_automatically_but_a_commander_can_start_one(resolved, users):
    incident = resolved("SEV3")
    assert not PostIncidentReview.objects.filter(incident=incident).exists()
    review = reviews.review_start(incident_id=incident.pk, actor=users["commander"])
    assert review.required is False


def test_an_operator_cannot_start_a_review(resolved, users):
    incident = resolved("SEV3")
    with pytest.raises(NotPermitted):
        reviews.review_start(incident_id=incident.pk, actor=users["operator1"])


def test_creation_on_resolution_is_safe_to_run_twice(resolved):
    incident = resolved("SEV1")
    assert reviews.review_ensure_for_resolved(incident_id=incident.pk) is None
    assert PostIncidentReview.objects.filter(incident=incident).count() == 1


def test_update_keeps_whys_in_order_and_creates_action_items(resolved, users):
    review = review_of(resolved())
    write(
        review,
        users["commander"],
        action_items=[item(users["operator1"]), item(users["risk"], "B")],
    )
    review.refresh_from_db()
    assert [w["question"] for w in review.whys] == ["Why did it loop?", "Why retry on a reject?"]
    assert [i.title for i in review.action_items.order_by("position")] == [
        "Add a pre-trade notional check",
        "B",
    ]


def test_a_factor_needs_a_control_objective(resolved, users):
    review = review_of(resolved())
    with pytest.raises(ValidationFailed) as exc:
        write(review, users["commander"], factors=[{"description": "x", "objective": "luck"}])
    assert exc.value.field == "factors"


def test_submit_needs_a_summary_a_why_and_the_root_cause(resolved, users):
    review = review_of(resolved())
    with pytest.raises(ValidationFailed) as exc:
        reviews.review_submit(review_id=review.pk, actor=users["commander"])
    assert "a summary" in exc.value.message and "at least one why" in exc.value.message


def submitted(resolved, users, **overrides):
    review = review_of(resolved())
    write(review, users["commander"], action_items=[item(users["operator1"])], **overrides)
    return reviews.review_submit(review_id=review.pk, actor=users["commander"])


def test_the_author_cannot_sign(resolved, users):
    review = submitted(resolved, users)
    with pytest.raises(NotPermitted) as exc:
        sign(review, users["commander"], "senior_reviewer")
    assert exc.value.code == "author"
    assert AuditEvent.objects.filter(event_type="signoff.refused").count() == 1


def test_one_person_signs_once(resolved, users):
    review = submitted(resolved, users)
    sign(review, users["risk"], "senior_reviewer")
    with pytest.raises(Conflict) as exc:
        sign(review, users["risk"], "second_reviewer")
    assert exc.value.code == "same_signer"


def test_a_role_less_signer_cannot_give_the_commander_or_risk_sign_off(resolved, users):
    review = submitted(resolved, users)
    with pytest.raises(NotPermitted) as exc:
        sign(review, users["operator2"], "senior_reviewer")
    assert "incident commander or a risk officer" in exc.value.message


def test_two_plain_operators_cannot_approve(resolved, users):
    review = submitted(resolved, users)
    sign(review, users["operator2"], "second_reviewer")
    with pytest.raises(NotPermitted):
        sign(review, users["operator1"], "senior_reviewer")
    review.refresh_from_db()
    assert review.state == "in_review"


def test_the_auditor_cannot_sign(resolved, users):
    review = submitted(resolved, users)
    with pytest.raises(NotPermitted):
        sign(review, users["auditor"], "second_reviewer")


def test_a_draft_cannot_be_signed(resolved, users):
    review = review_of(resolved())
    with pytest.raises(Conflict) as exc:
        sign(review, users["risk"], "senior_reviewer")
    assert exc.value.code == "not_signable"


def test_two_valid_signoffs_approve_and_freeze_the_content(resolved, users):
    review = submitted(resolved, users)
    sign(review, users["risk"], "senior_reviewer")
    sign(review, users["operator2"], "second_reviewer")
    review.refresh_from_db()
    assert review.state == "approved"
    assert review.signed_content["whys"][0]["question"] == "Why did it loop?"
    assert AuditEvent.objects.filter(event_type="incident_review.approved").count() == 1
    assert TimelineEntry.objects.filter(
        incident=review.incident, metadata__event="approved"
    ).exists()


def test_an_edit_after_one_signoff_voids_it(resolved, users):
    review = submitted(resolved, users)
    sign(review, users["risk"], "senior_reviewer")
    reviews.review_request_changes(
        review_id=review.pk, actor=users["operator2"], reason="Add the rate-limit factor."
    )
    write(review, users["commander"], root_cause="Rejects and timeouts share one code path.")
    reviews.review_submit(review_id=review.pk, actor=users["commander"])
    review.refresh_from_db()
    assert valid_signoffs(review) == []
    sign(review, users["operator2"], "second_reviewer")
    review.refresh_from_db()
    assert review.state == "in_review"  # the risk officer's stale sign-off does not count
    stale = [s for s in signoffs_for(review, include_void=True) if s.signer == users["risk"]]
    assert stale[0].is_void


def test_an_approved_review_is_locked(resolved, users):
    review = submitted(resolved, users)
    sign(review, users["risk"], "senior_reviewer")
    sign(review, users["operator2"], "second_reviewer")
    with pytest.raises(Conflict) as exc:
        write(review, users["commander"], summary="Changed after approval")
    assert exc.value.code == "review_locked"


def test_marking_an_action_item_done_keeps_the_approval(resolved, users):
    review = submitted(resolved, users)
    sign(review, users["risk"], "senior_reviewer")
    sign(review, users["operator2"], "second_reviewer")
    action = review.action_items.get()
    reviews.action_item_set_status(item_id=action.pk, actor=users["operator1"], status="done")
    review.refresh_from_db()
    assert len(valid_signoffs(review)) == 2


def test_wont_do_needs_a_reason(resolved, users):
    review = submitted(resolved, users)
    action = review.action_items.get()
    with pytest.raises(ValidationFailed):
        reviews.action_item_set_status(
            item_id=action.pk, actor=users["operator1"], status="wont_do"
        )
    done = reviews.action_item_set_status(
        item_id=action.pk, actor=users["operator1"], status="wont_do", reason="Superseded"
    )
    assert done.status == ActionItem.Status.WONT_DO


def test_a_correction_is_a_new_revision_and_the_approved_one_stays(resolved, users):
    review = submitted(resolved, users)
    sign(review, users["risk"], "senior_reviewer")
    sign(review, users["operator2"], "second_reviewer")
    new = reviews.review_revise(review_id=review.pk, actor=users["commander"])
    assert (new.revision, new.state, new.summary) == (2, "draft", review.summary)
    review.refresh_from_db()
    assert review.state == "approved" and len(valid_signoffs(review)) == 2
    write(new, users["commander"], summary="Corrected summary", action_items=[])
    review.refresh_from_db()
    assert len(valid_signoffs(review)) == 2  # the approved revision's content is frozen


def test_closing_a_sev1_without_an_approved_review_is_refused_naming_the_review(resolved, users):
    review = submitted(resolved, users)
    with pytest.raises(Conflict) as exc:
        services.incident_close(incident=review.incident, actor=users["commander"])
    assert exc.value.code == "review_required"
    assert review.incident.reference in exc.value.message
    assert f"/incidents/reviews/{review.pk}/" in exc.value.message
    sign(review, users["risk"], "senior_reviewer")
    sign(review, users["operator2"], "second_reviewer")
    closed = services.incident_close(incident=review.incident, actor=users["commander"])
    assert closed.status == "closed"


def test_a_sev3_closes_without_a_review(resolved, users):
    incident = resolved("SEV3")
    assert services.incident_close(incident=incident, actor=users["commander"]).status == "closed"


def test_an_offered_sev3_review_is_due_in_two_weeks_and_does_not_block_closing(
    resolved, users, client_for
):
    incident = resolved("SEV3")
    review = reviews.review_start(incident_id=incident.pk, actor=users["commander"])
    assert review.required is False
    assert review.due_at == incident.resolved_at + timedelta(days=14)
    page = client_for("commander").get(f"/incidents/reviews/{review.pk}/")
    assert f"{review.due_at:%Y-%m-%d %H:%M} UTC" in page.content.decode()
    assert services.incident_close(incident=incident, actor=users["commander"]).status == "closed"


def test_a_sev3_with_an_offered_review_in_draft_still_closes(resolved, users):
    incident = resolved("SEV3")
    reviews.review_start(incident_id=incident.pk, actor=users["commander"])
    assert services.incident_close(incident=incident, actor=users["commander"]).status == "closed"


def test_request_changes_needs_a_reason(resolved, users):
    review = submitted(resolved, users)
    with pytest.raises(ValidationFailed):
        reviews.review_request_changes(review_id=review.pk, actor=users["risk"], reason=" ")


def test_publish_after_approval(resolved, users):
    review = submitted(resolved, users)
    with pytest.raises(Conflict):
        reviews.review_publish(review_id=review.pk, actor=users["commander"])
    sign(review, users["risk"], "senior_reviewer")
    sign(review, users["operator2"], "second_reviewer")
    assert reviews.review_publish(review_id=review.pk, actor=users["commander"]).state == (
        "published"
    )


def test_an_action_item_owner_may_close_it_without_the_permission(resolved, users):
    review = submitted(resolved, users)
    outsider = UserFactory(username="ext", roles=[])
    action = review.action_items.get()
    with pytest.raises(NotPermitted):
        reviews.action_item_set_status(item_id=action.pk, actor=outsider, status="done")


def test_every_review_write_is_audited(resolved, users):
    submitted(resolved, users)
    types = set(AuditEvent.objects.values_list("event_type", flat=True))
    assert {
        "incident_review.created",
        "incident_review.updated",
        "incident_review.submitted",
        "action_item.created",
    } <= types
