import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from drills.models import DrillRun
from drills.services.recording import drill_action_item_add
from drills.services.schedules import drill_schedule_create
from opsportal.audit.models import AuditEvent
from opsportal.signoffs.models import Signoff
from opsportal.signoffs.services import signable_sha256
from tests.controls.factories import EnvironmentFactory
from tests.drills.factories import completed_run, plan, start
from tests.factories import PASSWORD


def detail(run):
    return reverse("drills:run_detail", args=[run.pk])


def test_drills_home_lists_schedules_and_runs_in_fixed_queries(
    version, paper, users, client_for, django_assert_max_num_queries
):
    drill_schedule_create(
        procedure=version.procedure,
        environment=paper,
        frequency="monthly",
        first_due_on=dt.date(2020, 1, 1),
        actor=users["admin"],
    )
    runs = [plan(version=version, environment=paper, lead=users["operator1"]) for _ in range(3)]
    client = client_for("auditor")

    with django_assert_max_num_queries(15):
        response = client.get(reverse("drills:list"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Overdue" in body
    assert [f'href="{detail(run)}"' in body for run in runs] == [True, True, True]


def test_drills_home_filters_runs(version, paper, users, client_for):
    run = plan(version=version, environment=paper, lead=users["operator1"])
    other = completed_run(version=version, environment=paper, lead=users["operator2"])

    response = client_for("operator1").get(reverse("drills:list"), {"state": "planned"})

    body = response.content.decode()
    assert f'href="{detail(run)}"' in body
    assert f'href="{detail(other)}"' not in body


def test_drills_home_bad_filter_is_not_a_500(users, client_for):
    response = client_for("operator1").get(reverse("drills:list"), {"state": "nonsense"})

    assert response.status_code == 200


def test_calendar_shows_upcoming_by_month(version, paper, users, client_for):
    drill_schedule_create(
        procedure=version.procedure,
        environment=paper,
        frequency="quarterly",
        first_due_on=dt.date.today() + dt.timedelta(days=40),
        actor=users["admin"],
    )

    response = client_for("operator1").get(reverse("drills:calendar"))

    assert response.status_code == 200
    assert response.content.decode().count("Kill-switch drill on paper") == 4


def test_plan_view_creates_a_run(version, paper, users, client_for):
    client = client_for("operator1")

    response = client.post(
        reverse("drills:run_plan"),
        {
            "procedure": version.procedure.pk,
            "environment": paper.pk,
            "lead": users["operator1"].pk,
            "observer": users["operator2"].pk,
            "participants": [users["commander"].pk],
            "planned_at": "2030-01-01T10:00",
        },
    )

    run = DrillRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(run)
    assert (run.lead, run.observer) == (users["operator1"], users["operator2"])


def test_plan_view_bad_input_rerenders_with_messages(version, paper, users, client_for):
    response = client_for("operator1").post(
        reverse("drills:run_plan"),
        {
            "procedure": version.procedure.pk,
            "environment": paper.pk,
            "lead": users["operator1"].pk,
            "observer": users["operator1"].pk,
            "planned_at": "2030-01-01T10:00",
        },
    )

    assert response.status_code == 400
    assert "must be someone other than the drill lead" in response.content.decode()
    assert not DrillRun.objects.exists()


def test_plan_view_requires_the_run_permission(users, client_for):
    response = client_for("auditor").post(reverse("drills:run_plan"), {})

    assert response.status_code == 403
    assert AuditEvent.objects.filter(event_type="access.denied").exists()


def count_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_run_detail_in_fixed_queries(
    version, paper, users, client_for, django_assert_max_num_queries
):
    small = completed_run(version=version, environment=paper, lead=users["operator1"])
    big = completed_run(
        version=version,
        environment=paper,
        lead=users["operator1"],
        observer=users["operator2"],
        participants=(users["commander"],),
    )
    for n in range(4):
        drill_action_item_add(
            run_id=big.pk,
            actor=users["operator1"],
            title=f"issue {n}",
            owner=users["operator2"],
            due_on=dt.date(2030, 1, 1),
        )
    client = client_for("operator1")
    client.get(detail(small))  # warm the session and content-type caches

    with django_assert_max_num_queries(40):
        response = client.get(detail(big))

    assert "Timings against targets" in response.content.decode()
    assert count_queries(client, detail(small)) == count_queries(client, detail(big))


def test_start_view_refuses_while_checklist_open(version, paper, users, client_for):
    run = plan(version=version, environment=paper, lead=users["operator1"])

    response = client_for("operator1").post(reverse("drills:run_start", args=[run.pk]))

    assert response.status_code == 400
    assert "Complete the pre-drill checklist first" in response.content.decode()
    run.refresh_from_db()
    assert run.state == "planned"


def test_tick_and_start_through_the_views(version, paper, users, client_for):
    run = plan(version=version, environment=paper, lead=users["operator1"])
    client = client_for("operator1")

    for item in run.prechecks.all():
        client.post(reverse("drills:run_precheck_tick", args=[run.pk, item.pk]), {"note": "ok"})
    response = client.post(reverse("drills:run_start", args=[run.pk]))

    assert response.status_code == 302
    run.refresh_from_db()
    assert run.state == "in_progress"


def test_step_record_view_over_target_pass_becomes_fail(version, paper, users, client_for):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    result = run.step_results.get(position=1)
    prefix = f"step{result.pk}"

    response = client_for("operator1").post(
        reverse("drills:run_step_record", args=[run.pk, result.pk]),
        {f"{prefix}-outcome": "pass", f"{prefix}-measured_seconds": "12.5"},
        follow=True,
    )

    assert "exceeds the 10 s target" in response.content.decode()
    result.refresh_from_db()
    assert result.outcome == "fail"


def test_step_record_view_skip_without_reason_shows_the_error(version, paper, users, client_for):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    result = run.step_results.get(position=2)
    prefix = f"step{result.pk}"

    response = client_for("operator1").post(
        reverse("drills:run_step_record", args=[run.pk, result.pk]),
        {f"{prefix}-outcome": "skipped"},
    )

    assert response.status_code == 400
    assert "Say why the step was skipped." in response.content.decode()


def test_abort_view_needs_confirmation(version, paper, users, client_for):
    run = plan(version=version, environment=paper, lead=users["operator1"])
    client = client_for("operator1")

    refused = client.post(reverse("drills:run_abort", args=[run.pk]), {"reason": "venue down"})
    run.refresh_from_db()
    assert (refused.status_code, run.state) == (400, "planned")

    client.post(
        reverse("drills:run_abort", args=[run.pk]), {"reason": "venue down", "confirm": "on"}
    )
    run.refresh_from_db()
    assert (run.state, run.abort_reason) == ("aborted", "venue down")


def test_sign_view_shows_content_and_hash(version, paper, users, client_for):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])

    response = client_for("operator1").get(reverse("drills:run_sign", args=[run.pk]))

    body = response.content.decode()
    assert signable_sha256(run) in body
    assert "kill-switch-drill" in body
    assert 'value="drill_lead" selected' in body


def test_sign_view_offers_a_risk_officer_only_the_roles_they_may_sign(
    version, paper, users, client_for
):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])

    body = client_for("risk").get(reverse("drills:run_sign", args=[run.pk])).content.decode()

    select = re.search(r'<select name="role".*?</select>', body, re.S).group(0)
    assert re.findall(r'<option value="(\w+)"', select) == ["risk_officer"]


def test_sign_view_after_signing_says_why_there_is_nothing_left_instead_of_a_form(
    version, paper, users, client_for
):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])
    op1 = client_for("operator1")
    sign_post(op1, run, "drill_lead")

    body = op1.get(reverse("drills:run_sign", args=[run.pk])).content.decode()

    assert "Sign as" not in body
    assert (
        "You have signed as Drill lead; the remaining sign-off (Risk officer) needs a "
        "different person." in body
    )


def sign_post(client, run, role, password=PASSWORD, sha=None):
    return client.post(
        reverse("drills:run_sign", args=[run.pk]),
        {
            "role": role,
            "password": password,
            "comment": "ok",
            "content_sha256": sha or signable_sha256(run),
        },
    )


def test_sign_view_full_flow_and_same_user_refused(version, paper, users, client_for):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])
    op1 = client_for("operator1")

    assert sign_post(op1, run, "drill_lead").status_code == 302
    again = sign_post(op1, run, "risk_officer")
    assert again.status_code == 400
    assert Signoff.objects.count() == 1

    run.refresh_from_db()
    assert sign_post(client_for("risk"), run, "risk_officer").status_code == 302
    run.refresh_from_db()
    assert run.state == "signed_off"


def test_sign_view_wrong_password_and_stale_hash(version, paper, users, client_for):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])
    op1 = client_for("operator1")

    wrong = sign_post(op1, run, "drill_lead", password="nope")
    stale = sign_post(op1, run, "drill_lead", sha="f" * 64)

    assert wrong.status_code == 400 and "Password incorrect." in wrong.content.decode()
    assert stale.status_code == 400 and "record changed" in stale.content.decode()
    assert not Signoff.objects.exists()


def test_sign_view_requires_the_sign_permission(version, paper, users, client_for):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])

    assert (
        client_for("auditor").post(reverse("drills:run_sign", args=[run.pk]), {}).status_code == 403
    )


def test_editing_a_step_through_the_view_shows_the_signoff_differs(
    version, paper, users, client_for
):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])
    op1 = client_for("operator1")
    sign_post(op1, run, "drill_lead")
    result = run.step_results.get(position=2)
    prefix = f"step{result.pk}"

    op1.post(
        reverse("drills:run_step_record", args=[run.pk, result.pk]),
        {f"{prefix}-outcome": "fail", f"{prefix}-observations": "order leaked"},
    )

    page = op1.get(reverse("drills:run_detail", args=[run.pk])).content.decode()
    assert "No longer valid" in page


def test_printable_record(version, paper, users, client_for):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])
    sign_post(client_for("operator1"), run, "drill_lead")

    response = client_for("auditor").get(reverse("drills:run_record", args=[run.pk]))

    body = response.content.decode()
    # The print layout is in portal.css (the CSP allows no <style> element).
    print_css = Path(finders.find("css/portal.css")).read_text()
    assert "Drill execution record" in body and 'class="record"' in body
    assert "@page { size: A4" in print_css
    assert "drill_lead" in body and "operator1" in body


def test_unknown_run_is_404(users, client_for):
    assert client_for("operator1").get(reverse("drills:run_detail", args=[999])).status_code == 404


@pytest.mark.parametrize("username", ["operator1", "auditor"])
def test_dashboard_panel_shows_overdue_drills(version, paper, users, client_for, username):
    drill_schedule_create(
        procedure=version.procedure,
        environment=paper,
        frequency="monthly",
        first_due_on=dt.date(2020, 1, 1),
        actor=users["admin"],
    )

    body = client_for(username).get("/").content.decode()

    assert "Drills due" in body and "Overdue" in body


def test_sign_view_same_user_cannot_fill_two_roles(version, paper, users):
    from django.test import Client

    from tests.factories import UserFactory

    lead = UserFactory(username="lead-risk", roles=["operator", "risk_officer"])
    run = completed_run(version=version, environment=paper, lead=lead)
    client = Client()
    client.force_login(lead)
    sign_post(client, run, "drill_lead")
    run.refresh_from_db()

    response = sign_post(client, run, "risk_officer")

    assert response.status_code == 400
    assert "a second sign-off needs a different person" in response.content.decode()
    assert AuditEvent.objects.filter(
        event_type="signoff.refused", metadata__code="same_signer"
    ).exists()


def test_sign_view_wrong_person_for_the_role(version, paper, users, client_for):
    run = completed_run(version=version, environment=paper, lead=users["operator1"])

    response = sign_post(client_for("operator2"), run, "drill_lead")

    assert response.status_code == 400
    assert "Only the run&#x27;s drill lead can sign as drill lead." in response.content.decode()


def test_trigger_view_times_the_kill_switch(version, paper, users, client_for):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    result = run.step_results.get(position=1)

    response = client_for("operator1").post(
        reverse("drills:run_step_trigger", args=[run.pk, result.pk]), follow=True
    )

    body = response.content.decode()
    assert "gate answered HALT after" in body
    result.refresh_from_db()
    assert result.outcome == "pass" and result.automated
    assert f'data-testid="step-measured-1">{result.measured_ms / 1000:.3f} s' in body


def test_trigger_view_on_live_without_confirmation_is_refused(version, users, client_for):
    live = EnvironmentFactory(slug="valr-live", mode="LIVE")
    run = start(plan(version=version, environment=live, lead=users["operator1"]), confirm_live=True)
    result = run.step_results.get(position=1)

    response = client_for("operator1").post(
        reverse("drills:run_step_trigger", args=[run.pk, result.pk])
    )

    assert response.status_code == 400
    assert "is LIVE: confirm explicitly" in response.content.decode()
    live.refresh_from_db()
    assert live.kill_switch == "ACTIVE"


def test_trigger_view_needs_the_kill_switch_permission(version, paper, users, client_for):
    from tests.factories import UserFactory

    lead = UserFactory(username="lead-risk", roles=["risk_officer"])
    run = start(plan(version=version, environment=paper, lead=lead))
    client = client_for("operator1")
    client.force_login(lead)

    response = client.post(
        reverse("drills:run_step_trigger", args=[run.pk, run.step_results.first().pk])
    )

    assert response.status_code == 403


def test_issue_added_and_closed_through_the_views(version, paper, users, client_for):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    client = client_for("operator1")

    missing = client.post(reverse("drills:run_action_add", args=[run.pk]), {"title": "x"})
    client.post(
        reverse("drills:run_action_add", args=[run.pk]),
        {
            "title": "Pager alert came late",
            "owner": users["operator2"].pk,
            "due_on": "2030-01-31",
        },
    )
    item = run.action_items.get()
    client.post(reverse("drills:run_action_status", args=[run.pk, item.pk]), {"status": "done"})

    assert missing.status_code == 400
    item.refresh_from_db()
    assert (item.title, item.status) == ("Pager alert came late", "done")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("drills:run_complete", {}, "Record every step first (3 step(s) not recorded)."),
        ("drills:run_abort", {}, "Tick the box to confirm aborting."),
        ("drills:run_action_add", {"owner": "999", "due_on": "tomorrow"}, "Enter a valid date."),
        ("drills:run_sign", {}, "This field is required."),
        (
            "drills:run_sign",
            {"role": "drill_lead", "password": "x", "content_sha256": "1"},
            "Password incorrect.",
        ),
    ],
)
def test_bad_posts_are_a_400_with_the_reason_and_change_nothing(
    version, paper, users, client_for, name, data, message
):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))

    response = client_for("operator1").post(reverse(name, args=[run.pk]), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    run.refresh_from_db()
    assert (run.state, run.action_items.count(), Signoff.objects.count()) == ("in_progress", 0, 0)


def test_start_view_on_a_started_run_changes_nothing(version, paper, users, client_for):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    started_at = run.started_at

    response = client_for("operator1").post(
        reverse("drills:run_start", args=[run.pk]), {"confirm_live": "maybe"}
    )

    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.state, run.started_at) == ("in_progress", started_at)


def test_bad_step_post_and_foreign_ids(version, paper, users, client_for):
    run = start(plan(version=version, environment=paper, lead=users["operator1"]))
    other = plan(version=version, environment=paper, lead=users["operator1"])
    client = client_for("operator1")
    step = run.step_results.get(position=2)
    prefix = f"step{step.pk}"

    bad_number = client.post(
        reverse("drills:run_step_record", args=[run.pk, step.pk]),
        {f"{prefix}-outcome": "pass", f"{prefix}-measured_seconds": "abc"},
    )
    not_automatable = client.post(reverse("drills:run_step_trigger", args=[run.pk, step.pk]))
    foreign_item = client.post(
        reverse("drills:run_precheck_tick", args=[run.pk, other.prechecks.first().pk])
    )
    foreign_step = client.post(
        reverse("drills:run_step_record", args=[run.pk, other.step_results.first().pk]),
        {"outcome": "fail"},
    )

    assert bad_number.status_code == 400
    assert not_automatable.status_code == 400
    assert "no automated trigger timing" in not_automatable.content.decode()
    assert (foreign_item.status_code, foreign_step.status_code) == (404, 404)


def test_list_with_bad_page_and_unknown_procedure(users, client_for):
    response = client_for("operator1").get(
        reverse("drills:list"), {"page": "abc", "procedure": "nope"}
    )

    assert response.status_code == 200
