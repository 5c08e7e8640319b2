"""The approval pages in a real Chromium (browser fixtures from tests/conftest.py)."""

from __future__ import annotations

import pytest

from opsportal.accounts.models import User
from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.services import approval_grant
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e


def test_approver_finds_the_request_in_the_header_and_approves_with_password(
    new_page,
    login,
    make_request,
    password,
):
    request = make_request(payload={"venue": "valr"}, reason="Quarterly go-live")
    requester = new_page()
    login(requester, "operator1")
    requester.goto(f"/approvals/{request.pk}/")
    assert requester.get_by_role("button", name="Approve").count() == 0
    assert requester.get_by_text("You cannot approve your own request").is_visible()

    approver = new_page()
    login(approver, "operator2")
    approver.get_by_role("link", name="Approvals 1").click()
    approver.get_by_role("link", name=f"#{request.pk}").click()
    assert approver.get_by_text("Quarterly go-live").is_visible()
    approver.get_by_label("Your password (to approve)").fill("wrong password")
    approver.get_by_role("button", name="Approve").click()
    assert approver.get_by_role("alert").get_by_text("Your password was not accepted.").is_visible()

    approver.get_by_label("Your password (to approve)").fill(password)
    approver.get_by_role("button", name="Approve").click()

    assert approver.get_by_text("Approved. The action has been executed.").is_visible()
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.EXECUTED
    assert approver.get_by_role("link", name="Approvals 0").is_visible()


def test_risk_officer_rejects_on_a_phone_after_confirming(
    new_page,
    login,
    make_request,
    password,
):
    request = make_request()
    page = new_page(viewport={"width": 390, "height": 844})
    login(page, "risk")
    page.goto(f"/approvals/{request.pk}/")

    page.get_by_text("Reject…").click()
    page.get_by_label("Reason for rejecting").fill("Not during the auction")
    page.get_by_label("Your password (to reject)").fill(password)
    page.get_by_role("button", name="Confirm rejection").click()

    assert page.get_by_text("Rejected. The request is closed.").is_visible()
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.REJECTED
    assert page.get_by_role("button", name="Approve").count() == 0


@pytest.mark.parametrize("width", [1280, 375])
def test_executed_request_page_shows_what_held_then_and_fits_the_screen(
    new_page, login, make_request, users, password, width
):
    request = make_request(payload={"venue": "valr"}, reason="Quarterly go-live")
    approval_grant(
        request_id=request.pk,
        actor=users["operator2"],
        password=password,
        payload_sha256=request.payload_sha256,
    )
    User.objects.filter(pk=request.target_id).update(is_active=False)  # fails if re-checked
    page = new_page(viewport={"width": width, "height": 900})
    login(page, "risk")

    page.goto(f"/approvals/{request.pk}/")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"approval-executed-{width}.png"), full_page=True)
    table = page.locator(".preconditions table").text_content()
    assert "When executed" in table and "FAIL" not in table and "Now" not in table
    assert page.evaluate("document.documentElement.scrollWidth") <= width
