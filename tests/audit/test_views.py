"""The auditor's workspace: filters, keyset pages, an event's before/after and place
in the chain, object history, the last verification, who may reach exports."""

from __future__ import annotations

import pytest
from django.db import transaction

from opsportal.audit import chain
from opsportal.audit.models import AuditEvent
from opsportal.audit.services import audit_record, audit_verify_run
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def change(users, obj, i: int) -> None:
    with transaction.atomic():
        audit_record(
            actor=users["commander"],
            event_type="user.changed",
            obj=obj,
            before={"title": f"old {i}", "same": 1},
            after={"title": f"new {i}", "same": 1},
        )


def test_the_auditor_filters_the_trail_to_one_object(users, client_for):
    incident, other = IncidentFactory(title="Broker lag"), IncidentFactory(title="Feed gap")
    change(users, incident, 1)
    change(users, other, 2)

    response = client_for("auditor").get(
        "/audit/", {"object_type": "incidents.incident", "object_id": str(incident.pk)}
    )

    assert response.status_code == 200
    assert [e.object_id for e in response.context["events"]] == [str(incident.pk)]


def test_search_by_object_name_and_exact_request_id(users, client_for):
    change(users, IncidentFactory(title="Broker lag"), 1)
    change(users, IncidentFactory(title="Feed gap"), 2)
    client = client_for("auditor")

    by_name = client.get("/audit/", {"q": "broker"}).context["events"]
    by_request = client.get("/audit/", {"request_id": "no-such-request"}).context["events"]

    assert [e.object_repr for e in by_name] and all("Broker" in e.object_repr for e in by_name)
    assert by_request == []


def test_keyset_pages_walk_every_event_once(users, client_for):
    incident = IncidentFactory()
    for i in range(120):
        change(users, incident, i)
    client = client_for("auditor")
    seen, params = [], {"event_type": "user.changed"}
    while True:
        response = client.get("/audit/", params)
        page = response.context["page"]
        seen += [e.pk for e in page.events]
        if not page.older:
            break
        params = {"event_type": "user.changed", "after": page.older}

    assert len(seen) == 120 == len(set(seen))
    assert seen == sorted(seen, reverse=True)


def test_an_event_shows_its_changes_field_by_field_and_its_hash(users, client_for):
    incident = IncidentFactory()
    change(users, incident, 1)
    chain.audit_seal()
    event = AuditEvent.objects.get(event_type="user.changed")

    response = client_for("auditor").get(f"/audit/events/{event.pk}/")

    changes = {c["field"]: c for c in response.context["changes"]}
    assert changes["title"]["changed"] and not changes["same"]["changed"]
    assert (changes["title"]["before"], changes["title"]["after"]) == ("old 1", "new 1")
    assert event.hash.encode() in response.content


def test_object_history_lists_every_event_about_it_in_order(users, client_for):
    incident = IncidentFactory()
    for i in range(3):
        change(users, incident, i)

    response = client_for("auditor").get(
        "/audit/history/", {"object_type": "incidents.incident", "object_id": str(incident.pk)}
    )

    events = response.context["events"]
    assert [e.pk for e in events] == sorted(e.pk for e in events) and len(events) == 3


def test_the_last_verification_is_shown_to_auditors(users, client_for):
    change(users, IncidentFactory(), 1)
    audit_verify_run(actor=None)

    response = client_for("auditor").get("/audit/")

    assert b"chain intact through seq" in response.content


def test_an_operator_reaches_neither_the_trail_nor_exports(client_for):
    client = client_for("operator1")

    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/exports/").status_code == 403
    assert client.post("/audit/exports/", {"start": "2026-01-01T00:00"}).status_code == 403


def test_an_invalid_filter_shows_its_error_and_no_rows(users, client_for):
    change(users, IncidentFactory(), 1)

    response = client_for("auditor").get(
        "/audit/", {"start": "2026-02-01T00:00", "end": "2026-01-01T00:00"}
    )

    assert response.status_code == 200
    assert response.context["events"] == []
    assert b"The end must be after the start." in response.content
