import pytest
from django.contrib.admin.templatetags.admin_list import result_headers, results
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_celery_beat.models import IntervalSchedule

from opsportal.audit import chain
from opsportal.audit.models import AuditEvent
from opsportal.audit.services import audit_record_standalone
from tests.controls.factories import EnvironmentFactory


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


def test_the_admin_list_shows_each_events_link_seq_time_type_actor_object_and_source(
    client, staff_auditor, users
):
    sealed = audit_record_standalone(
        actor=users["admin"], event_type="user.changed", obj=users["operator1"]
    )
    chain.audit_seal()
    unsealed = audit_record_standalone(actor=users["admin"], event_type="user.changed")
    client.force_login(staff_auditor)

    changelist = client.get("/admin/audit/auditevent/?event_type=user.changed").context["cl"]

    sealed.refresh_from_db()
    change = reverse("admin:audit_auditevent_change", args=[unsealed.pk])
    assert [h["text"] for h in result_headers(changelist)] == [
        "event", "seq", "when (UTC)", "event type", "actor username", "object repr", "source",
    ]  # fmt: skip
    assert [list(row) for row in results(changelist)] == [
        [
            f'<td class="field-event"><a href="{change}?_changelist_filters=event_type%3D'
            f'user.changed">{unsealed.pk}</a></td>',
            '<td class="field-chain_seq">unsealed</td>',
            f'<td class="field-occurred">{unsealed.occurred_at:%Y-%m-%d %H:%M:%S}</td>',
            '<td class="field-event_type">user.changed</td>',
            '<td class="field-actor_username">admin</td>',
            '<td class="field-object_repr">-</td>',
            '<td class="field-source">system</td>',
        ],
        [
            f'<td class="field-event"><a href="'
            f"{reverse('admin:audit_auditevent_change', args=[sealed.pk])}"
            f'?_changelist_filters=event_type%3Duser.changed">{sealed.pk}</a></td>',
            f'<td class="field-chain_seq">{sealed.seq}</td>',
            f'<td class="field-occurred">{sealed.occurred_at:%Y-%m-%d %H:%M:%S}</td>',
            '<td class="field-event_type">user.changed</td>',
            '<td class="field-actor_username">admin</td>',
            f'<td class="field-object_repr">{sealed.object_repr}</td>',
            '<td class="field-source">system</td>',
        ],
    ]


def test_an_event_opened_from_the_filtered_admin_list_leads_back_to_that_list(
    client, staff_auditor, users
):
    event = audit_record_standalone(actor=users["operator1"], event_type="auth.step_up_failed")
    client.force_login(staff_auditor)
    listing = client.get("/admin/audit/auditevent/?q=operator1")
    link = listing.context["cl"].list_display[0](event)
    href = link.split('href="')[1].split('"')[0]

    detail = client.get(href)

    assert detail.status_code == 200
    assert b'href="/admin/audit/auditevent/?q=operator1"' in detail.content


def test_the_admin_list_runs_as_many_queries_for_60_events_as_for_3(
    client, staff_auditor, users, django_assert_max_num_queries
):
    url = "/admin/audit/auditevent/?event_type=auth.step_up_failed"
    for _ in range(3):
        audit_record_standalone(actor=users["operator1"], event_type="auth.step_up_failed")
    client.force_login(staff_auditor)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(57):
        audit_record_standalone(actor=users["operator2"], event_type="auth.step_up_failed")

    with django_assert_max_num_queries(len(few)):
        response = client.get(url)

    assert len(response.context["cl"].result_list) == 25


@pytest.fixture
def superadmin(users):
    admin = users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    return admin


def test_the_admin_list_counts_no_more_than_its_cap_and_filters_from_the_registry(
    client, staff_auditor, users
):
    for _ in range(3):
        audit_record_standalone(actor=users["operator1"], event_type="auth.step_up_failed")
    client.force_login(staff_auditor)

    response = client.get("/admin/audit/auditevent/?event_type=auth.step_up_failed")

    changelist = response.context["cl"]
    assert response.status_code == 200
    assert changelist.result_count == 3
    assert changelist.show_full_result_count is False
    filters = {f.title: f for f in changelist.filter_specs}
    assert ("auth.login", "auth.login") in list(filters["event type"].lookup_choices)


def test_the_admin_list_sorts_only_by_event_seq_and_time(client, staff_auditor, users):
    audit_record_standalone(actor=users["operator1"], event_type="auth.step_up_failed")
    client.force_login(staff_auditor)

    changelist = client.get("/admin/audit/auditevent/").context["cl"]

    sortable = [h["text"] for h in result_headers(changelist) if h["sortable"]]
    assert sortable == ["event", "seq", "when (UTC)"]


def test_the_admin_list_never_counts_events_per_filter_choice(client, staff_auditor, users):
    audit_record_standalone(actor=users["operator1"], event_type="auth.step_up_failed")
    client.force_login(staff_auditor)

    response = client.get("/admin/audit/auditevent/?_facets=True")

    filters = {f.title: f for f in response.context["cl"].filter_specs}
    choices = [c["display"] for c in filters["event type"].choices(response.context["cl"])]
    assert "auth.step_up_failed" in choices
    assert b"Show counts" not in response.content


def test_admin_search_is_an_exact_match_on_ids(client, staff_auditor, users):
    audit_record_standalone(actor=users["operator1"], event_type="auth.step_up_failed")
    audit_record_standalone(actor=users["operator2"], event_type="auth.step_up_failed")
    client.force_login(staff_auditor)

    url = "/admin/audit/auditevent/?event_type=auth.step_up_failed&q="
    exact = client.get(url + "operator1").context["cl"].result_list
    partial = client.get(url + "operator").context["cl"].result_list

    assert [e.actor_username for e in exact] == ["operator1"]
    assert list(partial) == []


def test_a_role_group_changed_in_the_admin_is_audited_with_before_and_after(client, superadmin):
    group = Group.objects.create(name="desk-a")
    client.force_login(superadmin)

    response = client.post(
        f"/admin/auth/group/{group.pk}/change/", {"name": "desk-b", "permissions": []}
    )

    assert response.status_code == 302
    event = AuditEvent.objects.get(event_type="admin.changed")
    assert (event.before, event.after) == ({"name": "desk-a"}, {"name": "desk-b"})
    assert event.object_type == "auth.group" and event.actor_username == "admin"


def test_a_schedule_deleted_in_the_admin_is_audited(client, superadmin):
    schedule = IntervalSchedule.objects.create(every=5, period="minutes")
    client.force_login(superadmin)

    response = client.post(
        f"/admin/django_celery_beat/intervalschedule/{schedule.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    event = AuditEvent.objects.get(event_type="admin.deleted")
    assert event.before["every"] == 5


def test_an_environment_changed_in_the_admin_is_audited_with_before_and_after(client, superadmin):
    env = EnvironmentFactory(slug="paper", name="Paper")
    client.force_login(superadmin)

    response = client.post(
        f"/admin/controls/environment/{env.pk}/change/",
        {
            "slug": "paper",
            "name": "Paper desk",
            "venue": env.venue,
            "description": env.description,
            "recovery_cooldown_seconds": env.recovery_cooldown_seconds or "",
        },
    )

    assert response.status_code == 302
    event = AuditEvent.objects.get(event_type="environment.changed")
    assert (event.before["name"], event.after["name"]) == ("Paper", "Paper desk")
