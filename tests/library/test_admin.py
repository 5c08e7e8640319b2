"""The procedure library in the admin: read-only records, revisions via procedure_revise."""

import pytest
from django.test import Client
from django.urls import reverse

from opsportal.audit.models import AuditEvent
from opsportal.library.models import ChecklistItem, ProcedureVersion
from opsportal.library.procedure_files import parse_procedure
from opsportal.library.services import checklist_instantiate_in_transaction, procedure_publish
from tests.factories import UserFactory

SPEC = {
    "slug": "admin-drill",
    "kind": "drill",
    "title": "Admin drill",
    "pass_criteria": "All steps pass.",
    "signoff_roles": ["drill_lead", "observer"],
    "steps": [
        {
            "title": "Press Kill",
            "instruction": "Press Kill, reason drill",
            "time_target_seconds": 10,
        },
        {"title": "Recover", "instruction": "Recover with approval"},
    ],
}


@pytest.fixture
def version(db):
    return procedure_publish(spec=parse_procedure(SPEC, origin="test"))[0]


def staff_client(username: str, roles: list[str]) -> Client:
    client = Client()
    client.force_login(UserFactory(username=username, roles=roles, is_staff=True))
    return client


@pytest.fixture
def admin_client_(db):
    return staff_client("libadmin", ["admin"])


def revise_url(version: ProcedureVersion) -> str:
    return reverse("admin:library_procedureversion_revise", args=[version.pk])


def test_admin_lists_and_shows_library_records_read_only(version, admin_client_):
    checklist = checklist_instantiate_in_transaction(
        procedure_slug="admin-drill", target=version, actor=None
    )
    pages = [
        reverse("admin:library_procedure_changelist"),
        reverse("admin:library_procedure_change", args=[version.procedure_id]),
        reverse("admin:library_procedureversion_changelist"),
        reverse("admin:library_procedureversion_change", args=[version.pk]),
        reverse("admin:library_checklist_changelist"),
        reverse("admin:library_checklist_change", args=[checklist.pk]),
    ]

    responses = [admin_client_.get(url) for url in pages]

    assert [r.status_code for r in responses] == [200] * len(pages)
    assert "Press Kill" in responses[3].text
    assert 'name="_save"' not in responses[3].text
    assert admin_client_.get(reverse("admin:library_procedureversion_add")).status_code == 403


def test_a_published_version_cannot_be_changed_in_place_even_by_a_superuser(version):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:library_procedureversion_change", args=[version.pk])

    response = client.post(url, {"title": "Edited in place"})

    version.refresh_from_db()
    assert response.status_code == 403
    assert version.title == "Admin drill"


def test_admin_revise_page_shows_the_version_as_a_data_file(version, admin_client_):
    response = admin_client_.get(revise_url(version))

    assert response.status_code == 200
    assert "slug = &quot;admin-drill&quot;" in response.text
    assert "time_target_seconds = 10" in response.text


def test_admin_revise_publishes_the_edited_document_as_the_next_version(version, admin_client_):
    document = admin_client_.get(revise_url(version)).context["form"]["document"].value()
    edited = document.replace('title = "Recover"', 'title = "Recover and confirm ALLOW"')

    response = admin_client_.post(revise_url(version), {"document": edited})

    version.refresh_from_db()
    revised = ProcedureVersion.objects.get(procedure__slug="admin-drill", version=2)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:library_procedureversion_change", args=[revised.pk]
    )
    assert [s.title for s in revised.steps.all()] == ["Press Kill", "Recover and confirm ALLOW"]
    assert [s.title for s in version.steps.all()] == ["Press Kill", "Recover"]
    assert version.status == "retired"
    assert revised.created_by.username == "libadmin"
    assert AuditEvent.objects.filter(event_type="procedure.revised").count() == 1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('slug = "admin-drill"', 'slug = "renamed"', "&#x27;slug&#x27; cannot be revised"),
        ("time_target_seconds = 10", "time_target_seconds = 0", "steps[1].time_target_seconds"),
        ('title = "Admin drill"', 'title = "Admin drill', "Not valid TOML"),
        ('title = "Admin drill"', 'title = "Admin drill"', "The revision changes nothing."),
    ],
)
def test_admin_revise_shows_errors_and_publishes_nothing(version, admin_client_, old, new, message):
    document = admin_client_.get(revise_url(version)).context["form"]["document"].value()

    response = admin_client_.post(revise_url(version), {"document": document.replace(old, new)})

    assert response.status_code == 200
    assert message in response.text
    assert ProcedureVersion.objects.filter(procedure__slug="admin-drill").count() == 1


def test_admin_revise_of_a_retired_version_is_refused(version, admin_client_):
    document = admin_client_.get(revise_url(version)).context["form"]["document"].value()
    admin_client_.post(revise_url(version), {"document": document.replace("Recover", "Again")})

    response = admin_client_.get(revise_url(version))

    assert response.status_code == 302
    assert ProcedureVersion.objects.filter(procedure__slug="admin-drill").count() == 2


def test_admin_revise_needs_the_add_version_permission(version):
    client = staff_client("staffauditor", ["auditor"])

    response = client.post(revise_url(version), {"document": "title = 'x'"})

    assert response.status_code == 403
    assert ProcedureVersion.objects.filter(procedure__slug="admin-drill").count() == 1
    assert AuditEvent.objects.filter(event_type="access.denied").count() == 1


def test_checklist_items_are_read_only_even_for_a_superuser(version):
    checklist = checklist_instantiate_in_transaction(
        procedure_slug="admin-drill", target=version, actor=None
    )
    item = checklist.items.first()
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:library_checklistitem_change", args=[item.pk])

    listing = client.get(reverse("admin:library_checklistitem_changelist"))
    response = client.post(url, {"note": "ticked in the admin"})

    item.refresh_from_db()
    assert listing.status_code == 200
    assert response.status_code == 403
    assert (item.note, item.done_at) == ("", None)
    assert ChecklistItem.objects.count() == 2
