"""The four-eyes rules and pages, through the browser views (Django test client)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from opsportal.accounts.models import User
from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.services import approval_grant
from opsportal.audit.models import AuditEvent
from tests.approvals.factories import ApprovalPolicyFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def approve(client, request, password, **extra):
    data = {
        "approve-password": password,
        "approve-payload_sha256": request.payload_sha256,
        "approve-comment": "",
    }
    data.update(extra)
    return client.post(reverse("approvals:approve", args=[request.pk]), data)


def test_approval_detail_shows_request_payload_hash_preconditions_and_forms(
    make_request, client_for
):
    request = make_request(payload={"venue": "valr", "size": 3}, reason="Quarterly go-live")

    response = client_for("operator2").get(reverse("approvals:detail", args=[request.pk]))

    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Quarterly go-live" in html
    assert "operator1" in html
    assert '"venue": "valr"' in html
    assert request.payload_sha256 in html
    assert re.search(r"Target user is active</th><td><span class=\"badge ok\">PASS", html)
    assert "Your password (to approve)" in html
    assert "Reason for rejecting" in html


def test_approval_detail_of_a_pending_request_shows_when_requested_and_now(
    make_request, client_for
):
    request = make_request()
    User.objects.filter(pk=request.target_id).update(is_active=False)

    html = client_for("operator2").get(reverse("approvals:detail", args=[request.pk])).content
    html = html.decode()

    assert re.search(r"<th scope=\"col\">When requested</th><th scope=\"col\">Now</th></tr>", html)
    assert re.search(
        r"Target user is active</th><td><span class=\"badge ok\">PASS</span></td>"
        r"<td><span class=\"badge danger\">FAIL",
        html,
    )


def test_approval_detail_of_an_executed_request_shows_what_held_then_not_now(
    make_request, client_for, users, password
):
    request = make_request()
    approval_grant(
        request_id=request.pk,
        actor=users["operator2"],
        password=password,
        payload_sha256=request.payload_sha256,
    )
    # After execution the target changes: today's state must not read as a failure.
    User.objects.filter(pk=request.target_id).update(is_active=False)

    html = client_for("risk").get(reverse("approvals:detail", args=[request.pk])).content
    html = html.decode()

    assert re.search(
        r"<th scope=\"col\">When requested</th><th scope=\"col\">When executed</th></tr>",
        html,
    )
    assert ">Now<" not in html
    assert "FAIL" not in html


def test_approval_detail_query_count_is_fixed(
    target, client_for, users, password, django_assert_max_num_queries
):
    from opsportal.approvals.services import approval_request_create

    ApprovalPolicyFactory(approvals_required=3)
    request = approval_request_create(
        action="test_action", target=target, reason="r", payload={}, actor=users["operator1"]
    )
    for name in ("operator2", "risk"):
        approval_grant(
            request_id=request.pk,
            actor=users[name],
            password=password,
            payload_sha256=request.payload_sha256,
        )
    client = client_for("commander")

    with django_assert_max_num_queries(13):
        response = client.get(reverse("approvals:detail", args=[request.pk]))

    assert response.status_code == 200


def test_approval_detail_for_the_requester_offers_cancel_not_approve(make_request, client_for):
    request = make_request()

    html = client_for("operator1").get(reverse("approvals:detail", args=[request.pk])).content
    html = html.decode()

    assert "Reason for cancelling" in html
    assert "Your password (to approve)" not in html


def test_approve_view_by_the_requester_is_refused_with_a_message(
    make_request, client_for, password
):
    request = make_request()

    response = approve(client_for("operator1"), request, password)

    assert response.status_code == 400
    assert "cannot approve or reject your own request" in response.content.decode()
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.PENDING


def test_approve_view_with_a_wrong_password_re_renders_with_the_error(make_request, client_for):
    request = make_request()

    response = approve(client_for("operator2"), request, "not my password")

    assert response.status_code == 400
    assert "Your password was not accepted." in response.content.decode()
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.PENDING


def test_approve_view_by_a_user_outside_the_eligible_groups_is_refused(
    users, target, client_for, password
):
    ApprovalPolicyFactory(eligible_groups=["risk_officer"])
    from opsportal.approvals.services import approval_request_create

    request = approval_request_create(
        action="test_action", target=target, reason="r", payload={}, actor=users["operator1"]
    )

    response = approve(client_for("operator2"), request, password)

    assert response.status_code == 400
    assert "Only members of risk_officer may decide" in response.content.decode()
    assert AuditEvent.objects.filter(event_type="approval.refused").count() == 1


def test_approve_view_by_an_eligible_user_executes_and_redirects(
    make_request, client_for, password
):
    request = make_request()
    client = client_for("operator2")

    response = approve(client, request, password)

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.EXECUTED
    page = client.get(response["Location"]).content.decode()
    assert "Approved. The action has been executed." in page


def test_approve_view_with_a_stale_hash_shows_the_new_payload(
    make_request, client_for, users, password
):
    from opsportal.approvals.services import approval_request_amend

    request = make_request(payload={"size": 1})
    stale = request.payload_sha256
    amended = approval_request_amend(
        request_id=request.pk, actor=users["operator1"], payload={"size": 2}
    )

    response = approve(
        client_for("operator2"), request, password, **{"approve-payload_sha256": stale}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "The payload changed since you looked at it" in html
    assert f'value="{amended.payload_sha256}"' in html


def test_auditor_cannot_post_an_approval(make_request, client_for, password):
    request = make_request()

    response = approve(client_for("auditor"), request, password)

    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.PENDING


def test_reject_view_vetoes(make_request, client_for, password):
    request = make_request()

    response = client_for("risk").post(
        reverse("approvals:reject", args=[request.pk]),
        {"reject-reason": "Not during the auction", "reject-password": password},
    )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.REJECTED


def test_reject_view_without_reason_re_renders(make_request, client_for, password):
    request = make_request()

    response = client_for("risk").post(
        reverse("approvals:reject", args=[request.pk]),
        {"reject-reason": "", "reject-password": password},
    )

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_cancel_view_by_the_requester(make_request, client_for):
    request = make_request()

    response = client_for("operator1").post(
        reverse("approvals:cancel", args=[request.pk]), {"cancel-reason": "wrong size"}
    )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.CANCELLED


def test_cancel_view_by_someone_else_is_refused(make_request, client_for):
    request = make_request()

    response = client_for("operator2").post(
        reverse("approvals:cancel", args=[request.pk]), {"cancel-reason": "mine"}
    )

    assert response.status_code == 400
    request.refresh_from_db()
    assert request.status == ApprovalRequest.Status.PENDING


def test_inbox_lists_what_waits_for_me_only(make_request, client_for, users):
    request = make_request()

    mine = client_for("operator1").get(reverse("approvals:inbox")).content.decode()
    theirs = client_for("operator2").get(reverse("approvals:inbox")).content.decode()

    link = reverse("approvals:detail", args=[request.pk])
    assert "Waiting for your decision (1)" in theirs and link in theirs
    assert "Waiting for your decision (0)" in mine
    assert "Your open requests (1)" in mine


def test_header_shows_the_waiting_count_to_approvers_and_nothing_to_others(
    make_request, client_for
):
    make_request()

    approver = client_for("operator2").get(reverse("approvals:list")).content.decode()
    requester = client_for("operator1").get(reverse("approvals:list")).content.decode()
    auditor = client_for("auditor").get(reverse("approvals:list")).content.decode()

    assert re.search(r'class="approvals-inbox".*?>1</span>', approver)
    assert re.search(r'class="approvals-inbox".*?>0</span>', requester)
    assert "approvals-inbox" not in auditor


def test_request_list_filters_and_paginates_with_fixed_queries(
    users, client_for, policy, django_assert_max_num_queries
):
    from opsportal.approvals.services import approval_cancel, approval_request_create

    made = [
        approval_request_create(
            action="test_action",
            target=UserFactory(username=f"t{i}"),
            reason="r",
            payload={"i": i},
            actor=users["operator1"],
        )
        for i in range(30)
    ]
    for request in made[::3]:
        approval_cancel(request_id=request.pk, actor=users["operator1"], reason="no")
    client = client_for("auditor")

    with django_assert_max_num_queries(9):
        page1 = client.get(reverse("approvals:list"), {"status": "pending"})
    page2 = client.get(reverse("approvals:list"), {"status": "pending", "page": 2})
    everything = client.get(reverse("approvals:list"))
    cancelled = client.get(reverse("approvals:list"), {"status": "cancelled"})

    assert "Page 1 of 1 (20 requests)" in page1.content.decode()
    assert "Page 1 of 1 (20 requests)" in page2.content.decode()  # past the end: the last page
    assert "Page 1 of 2 (30 requests)" in everything.content.decode()
    assert "(10 requests)" in cancelled.content.decode()


def test_request_list_and_detail_show_labels_not_codes(make_request, client_for):
    request = make_request()  # the policy's groups: operator, risk_officer
    client = client_for("operator2")

    listing = client.get(reverse("approvals:list")).content.decode()
    detail = client.get(reverse("approvals:detail", args=[request.pk])).content.decode()

    assert f'{request.pk}/">Test action</a>' in listing
    assert "from Operator, Risk officer; never the requester" in detail


def test_request_list_with_a_bad_filter_is_not_an_error(client_for):
    response = client_for("operator1").get(reverse("approvals:list"), {"status": "bogus"})

    assert response.status_code == 200
    assert "Some filters are not valid" in response.content.decode()


def test_unknown_request_is_404(client_for):
    assert client_for("operator1").get(reverse("approvals:detail", args=[999])).status_code == 404


def test_approval_detail_offers_no_forms_to_ineligible_or_already_decided_users(
    users, target, client_for, password
):
    from opsportal.approvals.services import approval_request_create

    ApprovalPolicyFactory(approvals_required=2, eligible_groups=["risk_officer", "operator"])
    request = approval_request_create(
        action="test_action", target=target, reason="r", payload={}, actor=users["operator1"]
    )
    approval_grant(
        request_id=request.pk,
        actor=users["operator2"],
        password=password,
        payload_sha256=request.payload_sha256,
    )
    url = reverse("approvals:detail", args=[request.pk])

    decided = client_for("operator2").get(url).content.decode()
    auditor = client_for("auditor").get(url).content.decode()
    risk = client_for("risk").get(url).content.decode()

    assert "You have decided on this payload" in decided
    assert "Your password (to approve)" not in decided
    assert "Your password (to approve)" not in auditor
    assert "Your password (to approve)" in risk
    assert "1 of 2 needed" in risk
