"""The deadline job (Celery beat entry "incident-reviews-overdue"): a review past its
due time and an action item past its due date are flagged once, with one timeline
entry each, however often the job runs. The clock is moved with time-machine; the
rows are real (PostgreSQL in the test settings)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from incidents.models import PostIncidentReview, TimelineEntry
from incidents.reviews import services as reviews
from incidents.tasks import reviews_overdue_task
from opsportal.audit.models import AuditEvent
from opsportal.notifications.models import Notification
from tests.incidents.reviews.conftest import item, sign, write

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def overdue_entries(incident):
    return TimelineEntry.objects.filter(incident=incident, metadata__event="overdue")


def test_the_job_is_declared_in_the_one_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["incident-reviews-overdue"]
    assert entry["task"] == reviews_overdue_task.name


def test_a_sev1_review_is_flagged_once_after_48_hours(resolved, users):
    with time_machine.travel(START, tick=False):
        incident = resolved("SEV1")
    review = PostIncidentReview.objects.get(incident=incident)
    assert review.due_at == START + timedelta(hours=48)

    with time_machine.travel(START + timedelta(hours=47, minutes=59), tick=False):
        assert reviews_overdue_task.apply().get() == {"reviews": 0, "action_items": 0}
    assert not overdue_entries(incident).exists()

    with time_machine.travel(START + timedelta(hours=48, minutes=5), tick=False):
        first = reviews_overdue_task.apply().get()
        second = reviews_overdue_task.apply().get()
    assert first == {"reviews": 1, "action_items": 0}
    assert second == {"reviews": 0, "action_items": 0}
    entries = list(overdue_entries(incident))
    assert len(entries) == 1
    assert "commander" in entries[0].metadata["recipients"]
    review.refresh_from_db()
    assert review.overdue_flagged_at == START + timedelta(hours=48, minutes=5)
    assert AuditEvent.objects.filter(event_type="incident_review.overdue").count() == 1
    told = Notification.objects.filter(kind="incident_review.overdue")
    assert sorted(n.recipient.username for n in told) == ["commander"]  # author and commander
    assert told[0].url == f"/incidents/reviews/{review.pk}/"


def test_an_approved_review_is_never_flagged(resolved, users):
    with time_machine.travel(START, tick=False):
        incident = resolved("SEV1")
        review = PostIncidentReview.objects.get(incident=incident)
        write(review, users["commander"])
        reviews.review_submit(review_id=review.pk, actor=users["commander"])
        sign(review, users["risk"], "senior_reviewer")
        sign(review, users["operator2"], "second_reviewer")
    with time_machine.travel(START + timedelta(days=3), tick=False):
        assert reviews_overdue_task.apply().get()["reviews"] == 0


def test_an_action_item_is_flagged_once_the_day_after_it_was_due(resolved, users):
    with time_machine.travel(START, tick=False):
        incident = resolved("SEV1")
        review = PostIncidentReview.objects.get(incident=incident)
        write(review, users["commander"], action_items=[item(users["operator1"], days=1)])
    due = START.date() + timedelta(days=1)
    with time_machine.travel(START + timedelta(days=1, hours=12), tick=False):  # the due day
        assert reviews_overdue_task.apply().get()["action_items"] == 0
    with time_machine.travel(START + timedelta(days=2, hours=1), tick=False):
        assert reviews_overdue_task.apply().get()["action_items"] == 1
        assert reviews_overdue_task.apply().get()["action_items"] == 0
    entries = TimelineEntry.objects.filter(incident=incident, metadata__event="action_item_overdue")
    assert len(entries) == 1
    assert entries[0].metadata["recipients"] == ["operator1"]
    told = Notification.objects.filter(kind="action_item.overdue")
    assert [n.recipient.username for n in told] == ["operator1"]
    assert f"Due {due:%Y-%m-%d}" in entries[0].body


def test_a_done_action_item_is_not_flagged(resolved, users):
    with time_machine.travel(START, tick=False):
        incident = resolved("SEV1")
        review = PostIncidentReview.objects.get(incident=incident)
        write(review, users["commander"], action_items=[item(users["operator1"], days=1)])
        reviews.action_item_set_status(
            item_id=review.action_items.get().pk, actor=users["operator1"], status="done"
        )
    with time_machine.travel(START + timedelta(days=5), tick=False):
        assert reviews_overdue_task.apply().get()["action_items"] == 0


def test_a_created_review_tells_its_author_and_commander_its_due_time_once(resolved, users):
    with time_machine.travel(START, tick=False):
        incident = resolved("SEV2")
    review = PostIncidentReview.objects.get(incident=incident)
    reviews.review_ensure_for_resolved(incident_id=incident.pk)  # run twice: no second

    told = Notification.objects.filter(kind="incident_review.due")
    assert [n.recipient.username for n in told] == ["commander"]  # author and commander
    assert told[0].title == (
        f"Post-incident review of {incident.reference} due 2026-03-09 09:00:00 UTC"
    )
    assert told[0].url == f"/incidents/reviews/{review.pk}/"


def test_a_review_started_by_its_commander_does_not_tell_them(resolved, users):
    incident = resolved("SEV3")
    reviews.review_start(incident_id=incident.pk, actor=users["commander"])
    assert not Notification.objects.filter(kind="incident_review.due").exists()


def test_an_action_item_due_within_24_hours_tells_its_owner_once(resolved, users):
    with time_machine.travel(START, tick=False):
        incident = resolved("SEV1")
        review = PostIncidentReview.objects.get(incident=incident)
        write(review, users["commander"], action_items=[item(users["operator1"], days=3)])
    due = START.date() + timedelta(days=3)

    def told():
        return list(Notification.objects.filter(kind="action_item.due"))

    with time_machine.travel(START + timedelta(days=1, hours=1), tick=False):
        reviews_overdue_task.apply().get()
    assert told() == []  # its due date starts more than 24 hours from now
    with time_machine.travel(START + timedelta(days=2, hours=1), tick=False):
        reviews_overdue_task.apply().get()
        reviews_overdue_task.apply().get()  # safe to run twice
    with time_machine.travel(START + timedelta(days=3, hours=1), tick=False):  # the due day
        reviews_overdue_task.apply().get()
    assert [(n.recipient.username, n.title) for n in told()] == [
        ("operator1", f"Action item due {due:%Y-%m-%d}: Add a pre-trade notional check")
    ]
    assert told()[0].url == f"/incidents/{incident.pk}/#review"
