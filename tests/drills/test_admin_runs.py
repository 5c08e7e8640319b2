import datetime as dt

from django.test import Client

from drills.models import DrillRun, DrillSchedule
from drills.services.schedules import drill_schedule_create
from opsportal.audit.models import AuditEvent
from tests.drills.factories import completed_run
from tests.factories import UserFactory


def staff_admin():
    user = UserFactory(username="staff-admin", roles=["admin"], is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def test_admin_adds_a_schedule_through_the_service(version, paper, users):
    client = staff_admin()

    response = client.post(
        "/admin/drills/drillschedule/add/",
        {
            "procedure": version.procedure.pk,
            "environment": paper.pk,
            "frequency": "quarterly",
            "first_due_on": "2030-01-01",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    schedule = DrillSchedule.objects.get()
    assert (schedule.frequency, schedule.created_by.username) == ("quarterly", "staff-admin")
    assert AuditEvent.objects.filter(event_type="drill_schedule.created").count() == 1


def test_admin_changes_a_schedule_through_the_service(version, paper, users):
    schedule = drill_schedule_create(
        procedure=version.procedure,
        environment=paper,
        frequency="monthly",
        first_due_on=dt.date(2030, 1, 1),
        actor=users["admin"],
    )

    staff_admin().post(
        f"/admin/drills/drillschedule/{schedule.pk}/change/",
        {
            "frequency": "semi_annual",
            "first_due_on": "2030-02-01",
        },
    )

    schedule.refresh_from_db()
    assert (schedule.frequency, schedule.is_active) == ("semi_annual", False)
    assert AuditEvent.objects.filter(event_type="drill_schedule.updated").count() == 1


def test_admin_mark_due_action(version, paper, users):
    schedule = drill_schedule_create(
        procedure=version.procedure,
        environment=paper,
        frequency="manual",
        first_due_on=dt.date(2030, 1, 1),
        actor=users["admin"],
    )

    staff_admin().post(
        "/admin/drills/drillschedule/",
        {
            "action": "mark_due_today",
            "_selected_action": [schedule.pk],
        },
    )

    schedule.refresh_from_db()
    assert schedule.manual_due_on == dt.date.today()
    assert "staff-admin" in schedule.manual_due_reason


def test_admin_runs_are_read_only(version, paper, users):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])
    client = staff_admin()

    page = client.get(f"/admin/drills/drillrun/{run.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert (
        client.post(f"/admin/drills/drillrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert DrillRun.objects.filter(pk=run.pk).exists()
