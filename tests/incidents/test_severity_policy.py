"""Versioned severity policies: an incident keeps the version it was opened under."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management.sql import emit_post_migrate_signal

from incidents.models import SeverityPolicy
from incidents.policies import (
    severity_policy_add_sev3_review_due,
    severity_policy_load_alternative_in_transaction,
    severity_policy_publish,
)
from incidents.services import incident_open, incident_severity_change
from incidents.severity import DEFAULT_POLICY_LABEL, SEVERITIES, severities_to_json
from opsportal.audit.models import AuditEvent
from opsportal.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(users, client):
    users["admin"].is_staff = True
    users["admin"].save()
    client.force_login(users["admin"])
    return client


def open_sev1(users, title="Order router down"):
    return incident_open(actor=users["operator1"], title=title, severity="SEV1")


def test_first_incident_uses_the_shipped_default(users):
    incident = open_sev1(users)
    assert incident.severity_policy.version == 1
    assert incident.ack_due_at - incident.detected_at == dt.timedelta(minutes=5)
    assert incident.sev.review_due_seconds == SEVERITIES["SEV1"].review_due_seconds


def test_a_new_version_does_not_move_an_open_incidents_deadlines(users):
    before = open_sev1(users, "opened under v1")
    severity_policy_load_alternative_in_transaction(actor=users["admin"])

    before.refresh_from_db()
    after = open_sev1(users, "opened under v2")

    assert before.ack_due_at - before.detected_at == dt.timedelta(minutes=5)
    assert before.sev.response_seconds == 5 * 60
    assert after.severity_policy.version == 2
    assert after.ack_due_at - after.detected_at == dt.timedelta(minutes=15)


def test_severity_change_uses_the_incidents_own_version(users):
    incident = incident_open(actor=users["operator1"], title="x", severity="SEV3")
    severity_policy_load_alternative_in_transaction(actor=users["admin"])
    changed = incident_severity_change(
        incident_id=incident.pk, severity="SEV1", reason="worse", actor=users["commander"]
    )
    assert changed.ack_due_at - changed.detected_at == dt.timedelta(minutes=5)


def test_publishing_is_audited_with_before_and_after(users):
    open_sev1(users)
    levels = severities_to_json(SEVERITIES)
    levels["SEV2"]["response_seconds"] = 600
    severity_policy_publish(label="Tighter SEV2", levels=levels, actor=users["admin"])
    event = AuditEvent.objects.filter(event_type="severity_policy.published").order_by("pk").last()
    assert event.before["version"] == 1 and event.after["version"] == 2
    assert event.after["levels"]["SEV2"]["response_seconds"] == 600
    assert SeverityPolicy.objects.get(is_current=True).version == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda lv: lv["SEV1"].update(response_seconds=0), "SEV1.response_seconds"),
        (lambda lv: lv.pop("SEV4"), "levels"),
        (
            lambda lv: lv["SEV1"]["escalation"].append({"after_seconds": 60, "roles": ["x"]}),
            "SEV1.escalation[3].after_seconds",
        ),
        (
            lambda lv: lv["SEV2"]["escalation"][0].update(roles=["ceo"]),
            "SEV2.escalation[1].roles",
        ),
    ],
)
def test_invalid_levels_are_refused_naming_the_field(users, change, field):
    levels = severities_to_json(SEVERITIES)
    change(levels)
    with pytest.raises(ValidationFailed) as err:
        severity_policy_publish(label="broken", levels=levels, actor=users["admin"])
    assert err.value.message.startswith(field)
    assert not SeverityPolicy.objects.exists()


def test_admin_publishes_a_version_from_the_add_form(admin_client):
    levels = severities_to_json(SEVERITIES)
    levels["SEV3"]["response_seconds"] = 7200
    response = admin_client.post(
        "/admin/incidents/severitypolicy/add/",
        {"label": "SEV3 in 2 h", "note": "", "levels": json.dumps(levels)},
    )
    assert response.status_code == 302
    current = SeverityPolicy.objects.get(is_current=True)
    assert current.label == "SEV3 in 2 h" and current.levels["SEV3"]["response_seconds"] == 7200


def test_admin_add_form_shows_the_field_of_bad_levels(admin_client):
    levels = severities_to_json(SEVERITIES)
    levels["SEV1"]["review_due_seconds"] = None
    response = admin_client.post(
        "/admin/incidents/severitypolicy/add/",
        {"label": "x", "note": "", "levels": json.dumps(levels)},
    )
    assert response.status_code == 200
    assert "SEV1.review_due_seconds" in response.content.decode()
    assert not SeverityPolicy.objects.exists()


def _old_default_levels() -> dict:
    """The shipped default before SEV3 reviews had a deadline (databases made then)."""
    levels = severities_to_json(SEVERITIES)
    levels["SEV3"]["review_due_seconds"] = None
    return levels


def test_an_existing_database_gets_the_sev3_review_deadline_as_a_new_version(users):
    SeverityPolicy.objects.create(
        version=1, label=DEFAULT_POLICY_LABEL, levels=_old_default_levels(), is_current=True
    )
    running = incident_open(actor=users["operator1"], title="Dashboard slow", severity="SEV3")

    emit_post_migrate_signal(0, False, "default")  # what `migrate` does at its end
    emit_post_migrate_signal(0, False, "default")  # and the next migrate: once only

    current = SeverityPolicy.objects.get(is_current=True)
    assert SeverityPolicy.objects.count() == 2 and current.version == 2
    assert current.levels["SEV3"]["review_due_seconds"] == 14 * 24 * 3600
    assert current.levels["SEV3"]["review_required"] is False
    assert AuditEvent.objects.filter(event_type="severity_policy.published").count() == 1
    running.refresh_from_db()
    assert running.sev.review_due_seconds is None  # a running incident keeps its version
    new = incident_open(actor=users["operator1"], title="Slow again", severity="SEV3")
    assert new.sev.review_due_seconds == 14 * 24 * 3600


def test_an_admins_own_policy_is_left_alone(users):
    SeverityPolicy.objects.create(
        version=1, label="Desk policy", levels=_old_default_levels(), is_current=True
    )
    assert severity_policy_add_sev3_review_due() is None
    assert SeverityPolicy.objects.count() == 1
