import pytest
from django.db import transaction

from opsportal.audit.models import AuditEvent
from opsportal.audit.services import audit_record, audit_record_standalone
from opsportal.core.request_context import request_context


@pytest.mark.django_db
def test_audit_record_keeps_actor_object_request_and_changes(users):
    actor = users["operator1"]
    with request_context(request_id="req-1", ip="10.0.0.7", source="web"), transaction.atomic():
        event = audit_record(
            actor=actor,
            event_type="user.created",
            obj=actor,
            before={"a": 1},
            after={"a": 2},
        )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor, stored.actor_username) == (actor, "operator1")
    assert (stored.object_type, stored.object_id) == ("accounts.user", str(actor.pk))
    assert (stored.before, stored.after) == ({"a": 1}, {"a": 2})
    assert (stored.request_id, stored.ip, stored.source) == ("req-1", "10.0.0.7", "web")


@pytest.mark.django_db
def test_audit_record_refuses_unregistered_event_types(users):
    with pytest.raises(ValueError, match="unregistered"), transaction.atomic():
        audit_record(actor=users["admin"], event_type="no.such_event")


@pytest.mark.django_db(transaction=True)
def test_audit_record_outside_a_transaction_is_refused(users):
    with pytest.raises(RuntimeError):
        audit_record(actor=users["admin"], event_type="user.created")


@pytest.mark.django_db
def test_audit_events_cannot_be_changed_or_deleted(users):
    event = audit_record_standalone(actor=users["admin"], event_type="auth.login")

    event.event_type = "auth.logout"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(event_type="auth.logout")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
