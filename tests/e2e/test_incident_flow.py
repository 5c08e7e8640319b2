"""An incident worked end to end in a real browser (issue 2, "How it is checked")."""

import io
import re

import pytest

from incidents.models import Incident
from opsportal.audit.models import AuditEvent
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC")


def test_operator_and_commander_work_an_incident_and_the_auditor_only_reads(new_page, login, users):
    # operator1 opens a SEV2 incident with the triage helper.
    page = new_page()
    login(page, "operator1")
    page.get_by_role("link", name="Open an incident").first.click()
    page.get_by_label("Is a service completely down?").check()
    page.get_by_role("button", name="Suggest severity").click()
    assert "Suggested: SEV2" in page.locator("#triage-result").inner_text()
    assert page.get_by_label("Severity", exact=True).input_value() == "SEV2"
    page.get_by_label("Title").fill("Broker session dropped")
    page.get_by_label("Affected systems").fill("order router")
    page.get_by_role("button", name="Open incident").click()
    page.wait_for_url(re.compile(r"/incidents/\d+/$"))
    incident = Incident.objects.get()
    assert incident.severity == "SEV2"
    assert page.get_by_role("heading", name=re.compile(incident.reference)).is_visible()

    # ...acknowledges it and posts the initial alert.
    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_text(f"{incident.reference} acknowledged.").wait_for()
    page.get_by_label("Template").select_option("initial")
    page.get_by_label("What is affected").fill("No new orders reach the broker")
    page.get_by_role("button", name="Post update").click()
    page.get_by_text("Status update posted.").wait_for()
    assert "INCIDENT OPENED" in page.locator("pre.update").first.inner_text()
    assert page.get_by_role("button", name="Start mitigating").count() == 0

    # The commander takes the incident-commander role and drives it to resolved.
    chris = users["commander"].display_name
    olivia = users["operator1"].display_name
    boss = new_page()
    login(boss, "commander")
    boss.goto(f"/incidents/{incident.pk}/")
    boss.get_by_role("button", name="Take command").click()
    boss.get_by_text("Role assigned.").wait_for()
    assert boss.get_by_role("button", name="Take command").count() == 0
    boss.get_by_label("Role", exact=True).select_option("sme")
    boss.get_by_label("Person").select_option(label=f"{olivia} (operator1)")
    boss.get_by_role("button", name="Assign role").click()
    boss.get_by_text("Role assigned.").wait_for()
    boss.get_by_role("button", name="Start mitigating").click()
    boss.get_by_text(f"{incident.reference} is being mitigated.").wait_for()
    boss.get_by_role("button", name="Resolve").click()
    boss.get_by_text(f"{incident.reference} resolved.").wait_for()
    incident.refresh_from_db()
    assert incident.status == "resolved"

    # The timeline shows every step with names and times.
    entries = boss.locator("#timeline li").all_inner_texts()
    expected = [
        (olivia, "Opened as SEV2 (P1)"),
        (olivia, "Detected → Acknowledged"),
        (olivia, "INCIDENT OPENED"),
        (chris, f"{chris} is now incident commander"),
        (chris, f"{olivia} is now subject-matter expert"),
        (chris, "Acknowledged → Mitigating"),
        (chris, "Mitigating → Resolved"),
        # A SEV2 needs a post-incident review: resolving starts it (issue 10).
        ("system", "Post-incident review started (required, due"),
    ]
    assert len(entries) == len(expected)
    for text, (who, what) in zip(entries, expected, strict=True):
        assert who in text and what in text and TIME.search(text), text

    # The auditor reads it and finds no way to change it.
    auditor = new_page()
    login(auditor, "auditor")
    auditor.goto(f"/incidents/{incident.pk}/")
    assert auditor.locator("#timeline li").count() == len(expected)
    # The one form is "Incident report" (auditors request reports: issue 12).
    assert auditor.locator("main form").count() == 1
    assert auditor.locator("main form").get_attribute("action") == "/reports/request/"
    token = next(c["value"] for c in auditor.context.cookies() if c["name"] == "csrftoken")
    response = auditor.request.post(
        f"/incidents/{incident.pk}/transition/reopen/",
        headers={"X-CSRFToken": token, "Referer": auditor.url},
        form={"note": "sneaky"},
    )
    assert response.status == 403
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert AuditEvent.objects.filter(event_type="access.denied", actor=users["auditor"]).exists()

    # How it reads on a phone.
    phone = new_page(viewport={"width": 390, "height": 844})
    login(phone, "commander")
    phone.goto(f"/incidents/{incident.pk}/")
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "incident-detail-phone.png"), full_page=True)
    phone.screenshot(path=str(ARTIFACTS / "incident-detail-phone-top.png"))
    phone.locator("section", has_text="Timeline").last.screenshot(
        path=str(ARTIFACTS / "incident-detail-phone-timeline.png")
    )
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"


def test_dashboard_and_create_form_read_on_a_phone(new_page, login, users):
    from incidents import demo

    demo.seed(users=users, stdout=io.StringIO())
    page = new_page(viewport={"width": 390, "height": 844})
    login(page, "commander")
    ARTIFACTS.mkdir(exist_ok=True)

    assert page.get_by_role("heading", name=re.compile("SLA breaches")).is_visible()
    breaches = page.get_by_role("region", name=re.compile("SLA breaches"))
    assert "Kill switch triggered" in breaches.inner_text()
    overdue = page.get_by_role("region", name=re.compile("Status updates overdue"))
    assert "Market data latency" in overdue.inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.goto("/incidents/new/")
    page.get_by_label("Is trading losing money, or is money at risk?").check()
    assert page.get_by_label("Severity", exact=True).input_value() == "SEV1"
    assert page.get_by_label("Trading halted (kill switch)").is_checked()
    page.get_by_role("button", name="Open incident").click()
    assert page.get_by_text("This field is required.").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "incident-create-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
