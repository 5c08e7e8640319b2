"""Incident events reach the right people (kill switch and approval events:
tests/controls/test_notifications.py, with the controls fixtures)."""

from __future__ import annotations

import pytest

from incidents.services import incident_open
from opsportal.notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db


def recipients(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_sev1_opened_tells_operators_commanders_and_risk_but_not_the_opener(users):
    incident_open(actor=users["operator1"], title="Order router down", severity="SEV1")
    assert recipients("incident.opened") == {"operator2", "commander", "risk"}
    n = Notification.objects.filter(kind="incident.opened").first()
    assert n.title.startswith("[SEV1] INC-") and "Order router down" in n.title
    assert "Acknowledge by:" in n.body and n.url.startswith("/incidents/")


def test_sev2_opened_tells_operators_and_commanders(users):
    incident_open(actor=users["operator1"], title="Slow fills", severity="SEV2")
    assert recipients("incident.opened") == {"operator2", "commander"}


def test_sev3_opened_tells_nobody(users):
    incident_open(actor=users["operator1"], title="Dashboard slow", severity="SEV3")
    assert not Notification.objects.exists()


def test_sev1_is_emailed_on_commit(users, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        incident_open(actor=users["operator1"], title="Order router down", severity="SEV1")
    assert sorted(m.to[0] for m in mailoutbox) == [
        "commander@example.test",
        "operator2@example.test",
        "risk@example.test",
    ]
    assert Delivery.objects.filter(status="sent").count() == 3
