"""Email to a real SMTP server and webhooks to a real receiver on 127.0.0.1: queued on
commit, recorded, retried with backoff while the server is down, sent exactly once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from opsportal.notifications.delivery import backoff_seconds, deliver_one
from opsportal.notifications.models import Delivery, NotificationPreference
from opsportal.notifications.services import notify
from opsportal.notifications.tasks import notifications_deliver_due_task
from tests.notifications.factories import TEST_KIND, URGENT_KIND, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def test_urgent_kind_is_emailed_on_commit(users, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            kind=URGENT_KIND,
            recipients=[users["operator2"]],
            title="SEV1 opened: order router down",
            body="Impact: no orders reach the exchange.",
            url="/incidents/7/",
        )
    smtp_server.wait_for(1)
    envelope = smtp_server.messages[0]
    text = envelope.content.decode()
    assert envelope.rcpt_tos == ["operator2@example.test"]
    assert "Subject: [opsportal] SEV1 opened: order router down" in text
    assert "http://127.0.0.1:8000/incidents/7/" in text
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == (Delivery.Status.SENT, 1)


def test_nothing_is_sent_when_the_change_rolls_back(users, smtp_server):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(kind=URGENT_KIND, recipients=[users["operator2"]], title="never")
        raise RuntimeError("rolled back")
    assert not Delivery.objects.exists()
    assert smtp_server.messages == []


def test_email_is_opt_in_for_other_kinds(users, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=TEST_KIND, recipients=[users["operator2"]], title="FYI")
    assert not Delivery.objects.exists()


def test_a_person_can_turn_email_off(users, smtp_server, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=users["operator2"], kind=URGENT_KIND, email=False)
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=URGENT_KIND, recipients=[users["operator2"]], title="quiet")
    assert not Delivery.objects.exists()


def test_preferences_page_saves_the_choice(users, client_for):
    client = client_for("operator1")
    assert client.get("/notifications/settings").status_code == 200
    client.post("/notifications/settings", {TEST_KIND: "on"})
    prefs = dict(
        NotificationPreference.objects.filter(
            user=users["operator1"], kind__in=[TEST_KIND, URGENT_KIND]
        ).values_list("kind", "email")
    )
    assert prefs == {TEST_KIND: True, URGENT_KIND: False}


def test_smtp_outage_delays_then_delivers_exactly_once(
    users, smtp_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=URGENT_KIND, recipients=[users["operator2"]], title="kill switch triggered")
    row = Delivery.objects.get()
    assert row.status == Delivery.Status.FAILED
    assert row.attempts == 1 and row.last_error
    assert row.next_attempt_at > timezone.now()

    smtp_down.start()
    later = timezone.now() + dt.timedelta(seconds=31)
    assert deliver_one(row.pk, now=later) == Delivery.Status.SENT
    assert deliver_one(row.pk, now=later) == "skipped"
    notifications_deliver_due_task()
    smtp_down.wait_for(1, timeout=1)
    assert len(smtp_down.messages) == 1


def test_retry_waits_for_the_backoff(users, smtp_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=URGENT_KIND, recipients=[users["operator2"]], title="x")
    smtp_down.start()
    row = Delivery.objects.get()
    assert deliver_one(row.pk) == "skipped"  # not due yet
    assert smtp_down.messages == []


def test_webhook_is_signed_and_slack_compatible(
    users, webhook_receiver, django_capture_on_commit_callbacks
):
    webhook_receiver.start()
    WebhookEndpointFactory(url=webhook_receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            kind=TEST_KIND,
            recipients=[users["operator1"]],
            title="Gate HALT on prod",
            url="/environments/prod/",
        )
    assert webhook_receiver.bad_signatures == 0
    [payload] = webhook_receiver.payloads
    assert payload["text"].startswith("*Gate HALT on prod*")
    assert payload["url"] == "http://127.0.0.1:8000/environments/prod/"


def test_webhook_with_the_wrong_secret_is_refused_and_retried(
    users, webhook_receiver, django_capture_on_commit_callbacks
):
    webhook_receiver.start()
    WebhookEndpointFactory(url=webhook_receiver.url, secret="not-the-shared-secret")
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=TEST_KIND, recipients=[], title="x")
    row = Delivery.objects.get()
    assert row.status == Delivery.Status.FAILED
    assert "401" in row.last_error


def test_webhook_receiver_down_then_back_gets_it_exactly_once(
    users, webhook_receiver, django_capture_on_commit_callbacks
):
    WebhookEndpointFactory(url=webhook_receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=TEST_KIND, recipients=[users["operator1"]], title="drill overdue")
    row = Delivery.objects.get()
    assert row.status == Delivery.Status.FAILED

    webhook_receiver.start()
    later = timezone.now() + dt.timedelta(seconds=31)
    deliver_one(row.pk, now=later)
    deliver_one(row.pk, now=later)
    assert len(webhook_receiver.payloads) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Delivery.Status.SENT, 2)


def test_webhook_sends_an_event_once_per_dedupe_key(
    users, webhook_receiver, django_capture_on_commit_callbacks
):
    webhook_receiver.start()
    WebhookEndpointFactory(url=webhook_receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind=TEST_KIND, recipients=[users["operator1"]], title="x", dedupe_key="a")
        notify(kind=TEST_KIND, recipients=[users["operator2"]], title="x", dedupe_key="a")
    assert len(webhook_receiver.payloads) == 1


def test_backoff_grows_and_is_capped():
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_seconds(40) == 15 * 60
