import pytest

from opsportal.audit.models import AuditEvent
from opsportal.audit.services import audit_record_standalone


@pytest.fixture
def staff_auditor(users):
    auditor = users["auditor"]
    auditor.is_staff = True
    auditor.save(update_fields=["is_staff"])
    return auditor


def test_auditor_browses_the_audit_trail_in_the_admin(client, staff_auditor, users):
    event = audit_record_standalone(actor=users["operator1"], event_type="auth.login")
    client.force_login(staff_auditor)

    listing = client.get("/admin/audit/auditevent/?q=operator1")
    detail = client.get(f"/admin/audit/auditevent/{event.pk}/change/")

    assert listing.status_code == 200
    assert "operator1" in listing.content.decode()
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content


def test_nobody_adds_changes_or_deletes_audit_events_in_the_admin(client, users):
    event = audit_record_standalone(actor=users["operator1"], event_type="auth.login")
    admin = users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(admin)

    add = client.post("/admin/audit/auditevent/add/", {"event_type": "auth.logout"})
    change = client.post(
        f"/admin/audit/auditevent/{event.pk}/change/", {"event_type": "auth.logout"}
    )
    delete = client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert AuditEvent.objects.get(pk=event.pk).event_type == "auth.login"
