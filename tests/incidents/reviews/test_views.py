"""Review pages: the editor keeps what was typed (adding a row, errors), the incident
page shows the review, closing refuses with a link, the auditor reads and cannot
write, signing from the page."""

import pytest
from django.urls import reverse

from incidents.models import PostIncidentReview
from incidents.reviews import services as reviews
from tests.conftest import PASSWORD
from tests.incidents.reviews.conftest import item, write

pytestmark = pytest.mark.django_db


def editor_post(review, **overrides):
    data = {
        "summary": "Loop of orders",
        "impact": "Trading halted 12 minutes",
        "root_cause": "Retry on reject",
        "went_well": "",
        "went_poorly": "",
        "lessons": "",
        "verification_plan": "",
        "whys-TOTAL_FORMS": "1",
        "whys-INITIAL_FORMS": "0",
        "whys-0-question": "Why did orders loop?",
        "whys-0-answer": "The handler retried on reject.",
        "factors-TOTAL_FORMS": "1",
        "factors-INITIAL_FORMS": "0",
        "factors-0-description": "No rate limit",
        "factors-0-objective": "risk",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-title": "",
        "items-0-kind": "corrective",
        "items-0-priority": "medium",
    }
    data.update(overrides)
    return data


@pytest.fixture
def review(resolved):
    return PostIncidentReview.objects.get(incident=resolved("SEV1"))


def test_adding_a_why_keeps_what_was_typed_and_saves_nothing(client_for, review):
    url = reverse("incidents:review_edit", args=[review.pk])
    response = client_for("commander").post(url, editor_post(review, add_whys="1"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="whys-1-question"' in html
    assert "Why did orders loop?" in html and "Loop of orders" in html
    review.refresh_from_db()
    assert review.summary == ""


def test_saving_the_editor_stores_whys_factors_and_action_items(client_for, users, review):
    url = reverse("incidents:review_edit", args=[review.pk])
    data = editor_post(
        review,
        **{
            "items-0-title": "Add an order-rate limit",
            "items-0-owner": str(users["operator1"].pk),
            "items-0-due_on": "2030-01-31",
            "items-0-link": "https://tickets.example/OPS-1",
        },
    )
    response = client_for("commander").post(url, data)
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.whys == [
        {"question": "Why did orders loop?", "answer": "The handler retried on reject."}
    ]
    assert review.factors == [{"description": "No rate limit", "objective": "risk"}]
    assert review.action_items.get().title == "Add an order-rate limit"


def test_an_action_without_owner_rerenders_with_everything_kept(client_for, review):
    url = reverse("incidents:review_edit", args=[review.pk])
    data = editor_post(review, **{"items-0-title": "Orphan action"})
    response = client_for("commander").post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "An action needs an owner and a due date." in html
    assert "Orphan action" in html and "Why did orders loop?" in html


def test_a_why_without_answer_is_refused_on_the_page(client_for, review):
    url = reverse("incidents:review_edit", args=[review.pk])
    response = client_for("commander").post(url, editor_post(review, **{"whys-0-answer": ""}))
    assert response.status_code == 400
    assert "Why 1 needs both a question and an answer." in response.content.decode()


def test_the_incident_page_shows_the_review_state_and_due_time(client_for, review):
    response = client_for("operator1").get(reverse("incidents:detail", args=[review.incident_id]))
    html = response.content.decode()
    assert reverse("incidents:review_detail", args=[review.pk]) in html
    assert f"due {review.due_at:%Y-%m-%d %H:%M} UTC" in html


def test_closing_without_approval_tells_what_is_missing(client_for, review):
    url = reverse("incidents:transition", args=[review.incident_id, "close"])
    response = client_for("commander").post(url, {"note": ""}, follow=True)
    html = response.content.decode()
    assert "can close only after its post-incident review is approved" in html
    assert reverse("incidents:review_detail", args=[review.pk]) in html


def test_the_auditor_reads_every_review_page_and_changes_nothing(client_for, users, review):
    write(review, users["commander"], action_items=[item(users["operator1"])])
    auditor = client_for("auditor")
    for name in ("review_detail", "review_print"):
        assert auditor.get(reverse(f"incidents:{name}", args=[review.pk])).status_code == 200
    assert auditor.get(reverse("incidents:review_list")).status_code == 200
    assert auditor.get(reverse("incidents:my_action_items")).status_code == 200
    for name in ("review_edit", "review_submit", "review_sign", "review_publish"):
        response = auditor.post(reverse(f"incidents:{name}", args=[review.pk]), {})
        assert response.status_code == 403, name
    action = review.action_items.get()
    response = auditor.post(
        reverse("incidents:action_item_status", args=[action.pk]), {"status": "done"}
    )
    assert response.status_code == 403


def test_the_sign_panel_offers_only_what_the_user_may_sign(client_for, users, review):
    write(review, users["commander"])
    reviews.review_submit(review_id=review.pk, actor=users["commander"])
    url = reverse("incidents:review_detail", args=[review.pk])
    assert (
        "The review&#x27;s author cannot sign it"
        in client_for("commander").get(url).content.decode()
    )
    risk_page = client_for("risk").get(url).content.decode()
    assert 'value="senior_reviewer"' in risk_page


def test_signing_from_the_page_with_a_wrong_password_keeps_the_review_in_review(
    client_for, users, review
):
    write(review, users["commander"])
    reviews.review_submit(review_id=review.pk, actor=users["commander"])
    page = client_for("risk").get(reverse("incidents:review_detail", args=[review.pk]))
    sha = page.context["detail"].content_sha256
    response = client_for("risk").post(
        reverse("incidents:review_sign", args=[review.pk]),
        {"role": "senior_reviewer", "password": "wrong", "content_sha256": sha},
    )
    assert response.status_code == 400
    assert "Password incorrect." in response.content.decode()
    response = client_for("risk").post(
        reverse("incidents:review_sign", args=[review.pk]),
        {"role": "senior_reviewer", "password": PASSWORD, "content_sha256": sha},
    )
    assert response.status_code == 302


def test_reviews_list_filters_by_state(client_for, users, resolved):
    first = PostIncidentReview.objects.get(incident=resolved("SEV1", title="A"))
    second = PostIncidentReview.objects.get(incident=resolved("SEV2", title="B"))
    write(second, users["commander"])
    reviews.review_submit(review_id=second.pk, actor=users["commander"])
    response = client_for("operator1").get(reverse("incidents:review_list") + "?state=in_review")
    assert [r.pk for r in response.context["reviews"]] == [second.pk]
    response = client_for("operator1").get(reverse("incidents:review_list") + "?severity=SEV1")
    assert [r.pk for r in response.context["reviews"]] == [first.pk]


def test_my_action_items_lists_mine_and_marks_done(client_for, users, review):
    write(review, users["commander"], action_items=[item(users["operator1"])])
    action = review.action_items.get()
    client = client_for("operator1")
    assert action.title in client.get(reverse("incidents:my_action_items")).content.decode()
    client.post(reverse("incidents:action_item_status", args=[action.pk]), {"status": "done"})
    action.refresh_from_db()
    assert action.status == "done"


def test_the_dashboard_lists_overdue_reviews(client_for, review):
    PostIncidentReview.objects.filter(pk=review.pk).update(due_at=review.created_at)
    html = client_for("operator1").get(reverse("dashboard")).content.decode()
    assert f"Review of {review.incident.reference}" in html
