"""The read-only browser view of the procedure library: /library/."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opsportal.library.models import ProcedureVersion
from opsportal.library.procedure_files import parse_procedure
from opsportal.library.services import procedure_publish, procedure_revise
from tests.factories import UserFactory

LIST = reverse("library:procedure_list")


def detail(slug: str) -> str:
    return reverse("library:procedure_detail", args=[slug])


@pytest.fixture
def library(db):
    call_command("load_procedures")


@pytest.mark.parametrize("username", ["operator1", "commander", "risk", "auditor", "admin"])
def test_procedure_list_shows_the_library_to_every_role_that_may_view_it(
    library, client_for, username
):
    response = client_for(username).get(LIST)

    assert response.status_code == 200
    assert "Kill-switch drill" in response.text
    assert "P0-1 Kill switch triggered: P&amp;L breach" in response.text


@pytest.mark.parametrize("username", ["operator1", "auditor"])
def test_procedure_detail_is_readable_by_viewing_roles(library, client_for, username):
    response = client_for(username).get(detail("kill-switch-drill"))

    assert response.status_code == 200


def test_library_views_refuse_a_user_without_view_permission(library):
    client = Client()
    client.force_login(UserFactory(username="nobody", roles=[]))

    assert client.get(LIST).status_code == 403
    assert client.get(detail("kill-switch-drill")).status_code == 403


def test_library_views_need_login(library):
    response = Client().get(LIST)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_procedure_list_groups_by_kind(library, client_for):
    response = client_for("operator1").get(LIST)

    assert [g["label"] for g in response.context["groups"]] == [
        "Checklist",
        "Drill",
        "Incident playbook",
        "Rollback",
        "Mode transition",
    ]
    assert response.context["total"] == ProcedureVersion.objects.count()


def test_procedure_list_filters_by_kind(library, client_for):
    response = client_for("operator1").get(LIST, {"kind": "drill"})

    assert (
        response.context["total"]
        == ProcedureVersion.objects.filter(procedure__kind="drill").count()
    )
    assert "Kill-switch verification" in response.text
    assert "P1-3 Order rejection spike" not in response.text


def test_procedure_list_searches_titles(library, client_for):
    response = client_for("operator1").get(LIST, {"q": "rollback"})

    slugs = [v.procedure.slug for g in response.context["groups"] for v in g["versions"]]
    assert slugs == ["rollback-drill", "rollback-to-dry-run"]


def test_procedure_list_with_no_match_says_so(library, client_for):
    response = client_for("operator1").get(LIST, {"q": "no such procedure"})

    assert response.context["total"] == 0
    assert "No procedures match." in response.text


def test_procedure_detail_shows_steps_targets_rules_and_signoff(library, client_for):
    response = client_for("operator1").get(detail("kill-switch-drill"))
    text = response.text

    assert [s["name"] for s in response.context["scenarios"]] == [
        "Manual trigger",
        "Recovery",
        "Threshold trigger",
        "Mid-session block",
    ]
    assert "1. Trigger the kill switch and confirm HALT" in text
    assert "≤ 10 s" in text
    assert "Passes only if the gate answers HALT within 10 s of the trigger." in text
    assert "Drill announced to the team at least 24 hours ahead" in text
    assert "Pass criteria" in text
    assert "Risk officer — a member of the risk officer group" in text
    assert "ops-drills-and-rollback-evidence.md" in text


def test_procedure_detail_shows_playbook_severity_and_recovery_criteria(library, client_for):
    response = client_for("operator1").get(detail("p0-1-kill-switch-pnl-breach"))

    assert '<span class="badge sev-SEV1">SEV1</span>' in response.text
    assert "Completion and recovery criteria" in response.text
    assert "≤ 10 min" in response.text
    assert "Sign-off required" not in response.text


def test_procedure_detail_shows_an_older_version_on_request(library, client_for, users):
    v1 = ProcedureVersion.objects.get(procedure__slug="rollback-to-dry-run")
    procedure_revise(version_id=v1.pk, actor=users["admin"], changes={"title": "Rollback, revised"})
    client = client_for("operator1")

    current = client.get(detail("rollback-to-dry-run"))
    older = client.get(detail("rollback-to-dry-run"), {"version": 1})

    assert current.context["version"].version == 2
    assert "Rollback, revised" in current.text
    assert "You are reading version" not in current.text
    assert older.context["version"] == v1
    assert "You are reading version 1 (retired)" in older.text
    assert [v.version for v in older.context["history"]] == [2, 1]
    assert older.context["step_count"] == 8


@pytest.mark.parametrize("version", ["99", "x", "-1"])
def test_procedure_detail_unknown_version_is_404(library, client_for, version):
    response = client_for("operator1").get(detail("kill-switch-drill"), {"version": version})

    assert response.status_code == 404


def test_procedure_detail_unknown_slug_is_404(library, client_for):
    assert client_for("operator1").get(detail("no-such-procedure")).status_code == 404


def publish_many(count: int, steps: int) -> None:
    for n in range(count):
        data = {
            "slug": f"bulk-{n}",
            "kind": "checklist",
            "title": f"Bulk checklist {n}",
            "steps": [{"title": f"Item {i}", "instruction": "Tick it"} for i in range(steps)],
        }
        procedure_publish(spec=parse_procedure(data, origin="test"))


def library_queries(captured) -> list[str]:  # type: ignore[no-untyped-def]
    """The queries of the library view itself (the layout adds other apps' header
    queries, which their own tests count)."""
    return [q["sql"] for q in captured.captured_queries if '"drills_' in q["sql"]]


def test_procedure_list_runs_a_fixed_number_of_queries(
    library, client_for, django_assert_max_num_queries
):
    client = client_for("operator1")
    client.get(LIST)  # warm the caches a second page view finds warm
    with CaptureQueriesContext(connection) as small:
        client.get(LIST)
    publish_many(40, steps=3)

    with django_assert_max_num_queries(len(small)) as captured:
        response = client.get(LIST)

    assert response.context["total"] == ProcedureVersion.objects.count()
    assert len(library_queries(captured)) == 1


def test_procedure_detail_runs_a_fixed_number_of_queries(
    library, client_for, users, django_assert_max_num_queries
):
    client = client_for("operator1")
    publish_many(1, steps=2)
    client.get(detail("bulk-0"))
    with CaptureQueriesContext(connection) as small:
        client.get(detail("bulk-0"))
    version = ProcedureVersion.objects.get(procedure__slug="bulk-0")
    steps = [{"title": f"Item {i}", "instruction": "Tick it"} for i in range(60)]
    for n in range(10):
        version = procedure_revise(
            version_id=version.pk, actor=users["admin"], changes={"title": f"v{n}", "steps": steps}
        )

    with django_assert_max_num_queries(len(small)) as captured:
        response = client.get(detail("bulk-0"))

    assert response.context["step_count"] == 60
    assert len(response.context["history"]) == 11
    assert len(library_queries(captured)) == 3
