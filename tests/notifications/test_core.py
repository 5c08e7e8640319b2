"""In-app notifications: notify(), dedupe, the list page, marking read, the header."""

from __future__ import annotations

import pytest
from django.db import transaction

from opsportal.audit.models import AuditEvent
from opsportal.notifications.models import Notification
from opsportal.notifications.services import notify
from tests.notifications.factories import TEST_KIND, NotificationFactory

pytestmark = pytest.mark.django_db


def test_notify_creates_one_notification_per_recipient(users):
    new = notify(
        kind=TEST_KIND,
        recipients=[users["operator1"], users["operator2"], users["operator1"]],
        title="SEV1 opened",
        url="/incidents/1/",
    )
    assert new == 2
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "operator1",
        "operator2",
    ]


def test_notify_with_a_dedupe_key_notifies_each_recipient_once(users):
    first = notify(kind=TEST_KIND, recipients=[users["operator1"]], title="a", dedupe_key="k1")
    again = notify(
        kind=TEST_KIND,
        recipients=[users["operator1"], users["operator2"]],
        title="a",
        dedupe_key="k1",
    )
    assert (first, again) == (1, 1)
    assert Notification.objects.filter(dedupe_key="k1").count() == 2


def test_notify_is_part_of_the_callers_transaction(users):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(kind=TEST_KIND, recipients=[users["operator1"]], title="rolled back")
        raise RuntimeError("the change failed")
    assert not Notification.objects.exists()


def test_notify_refuses_an_unregistered_kind(users):
    with pytest.raises(ValueError, match="unregistered notification kind"):
        notify(kind="no.such.kind", recipients=[users["operator1"]], title="x")


def test_notify_skips_inactive_users(users):
    users["operator2"].is_active = False
    users["operator2"].save()
    assert notify(kind=TEST_KIND, recipients=[users["operator2"]], title="x") == 0


def test_notify_is_audited(users):
    notify(kind=TEST_KIND, recipients=[users["operator1"]], title="x")
    assert AuditEvent.objects.filter(event_type="notification.created").count() == 1


def test_list_shows_only_own_notifications(users, client_for):
    NotificationFactory(recipient=users["operator1"], title="mine")
    NotificationFactory(recipient=users["operator2"], title="theirs")
    page = client_for("operator1").get("/notifications/").content.decode()
    assert "mine" in page
    assert "theirs" not in page


def test_header_shows_the_unread_count(users, client_for):
    NotificationFactory(recipient=users["operator1"])
    NotificationFactory(recipient=users["operator1"])
    page = client_for("operator1").get("/").content.decode()
    assert 'aria-label="2 unread"' in page


def test_mark_one_read_lowers_the_count(users, client_for):
    mine = NotificationFactory(recipient=users["operator1"])
    NotificationFactory(recipient=users["operator1"])
    client = client_for("operator1")
    client.post("/notifications/read", {"id": [mine.pk]})
    assert 'aria-label="1 unread"' in client.get("/notifications/").content.decode()


def test_mark_all_read_leaves_others_unread(users, client_for):
    NotificationFactory(recipient=users["operator1"])
    theirs = NotificationFactory(recipient=users["operator2"])
    client_for("operator1").post("/notifications/read", {"all": "1"})
    assert not Notification.objects.filter(recipient=users["operator1"], read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_someone_elses_notification_changes_nothing(users, client_for):
    theirs = NotificationFactory(recipient=users["operator2"])
    client_for("operator1").post("/notifications/read", {"id": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_open_marks_read_and_goes_to_the_record(users, client_for):
    mine = NotificationFactory(recipient=users["operator1"], url="/incidents/")
    response = client_for("operator1").post(f"/notifications/{mine.pk}/open")
    assert response.status_code == 302 and response["Location"] == "/incidents/"
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_open_never_redirects_off_site(users, client_for):
    mine = NotificationFactory(recipient=users["operator1"], url="//evil.example/")
    response = client_for("operator1").post(f"/notifications/{mine.pk}/open")
    assert response["Location"] == "/notifications/"


def test_open_someone_elses_is_404(users, client_for):
    theirs = NotificationFactory(recipient=users["operator2"])
    assert client_for("operator1").post(f"/notifications/{theirs.pk}/open").status_code == 404


def test_auditor_reads_but_cannot_mark_read(users, client_for):
    NotificationFactory(recipient=users["auditor"])
    client = client_for("auditor")
    assert client.get("/notifications/").status_code == 200
    assert client.post("/notifications/read", {"all": "1"}).status_code == 403
