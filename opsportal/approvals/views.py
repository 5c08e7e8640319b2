"""Browser views: the "waiting for me" inbox, the list of all requests, and the
request page with its approve, reject and cancel forms. Every decision goes through
the service, which holds the four-eyes rules; a refusal re-renders the page with the
message on the form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views import View
from django.views.generic import TemplateView

from opsportal.approvals import services
from opsportal.approvals.audit_purge import audit_purge_request, audit_purge_status
from opsportal.approvals.filters import ApprovalRequestFilter
from opsportal.approvals.forms import (
    ApproveForm,
    AuditPurgeRequestForm,
    CancelForm,
    RejectForm,
)
from opsportal.approvals.models import ApprovalRequest
from opsportal.approvals.registry import get_action
from opsportal.approvals.selectors import (
    approval_counts,
    approval_precondition_table,
    approval_request_for,
    approval_requests_list,
    approvals_waiting_for,
)
from opsportal.core.errors import NotFound
from opsportal.core.web import PortalPermissionMixin, call_service

PAGE_SIZE = 25


def _get_request(user: Any, pk: Any) -> ApprovalRequest:
    try:
        return approval_request_for(user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _action_label(action: str) -> str:
    try:
        return get_action(action).label
    except KeyError:
        return action


class InboxView(PortalPermissionMixin, TemplateView):
    """Requests waiting for the signed-in user's decision, and their own open ones."""

    permission_required = "approvals.view_approvalrequest"
    template_name = "approvals/inbox.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        assert user.is_authenticated  # LoginRequiredMiddleware
        context["waiting"] = list(approvals_waiting_for(user)[:100])
        context["mine"] = list(
            approval_requests_list()
            .filter(requester=user, status=ApprovalRequest.Status.PENDING)
            .order_by("expires_at")[:100]
        )
        return context


class RequestListView(PortalPermissionMixin, TemplateView):
    permission_required = "approvals.view_approvalrequest"
    template_name = "approvals/request_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Always bound: an empty query is a valid "no filter".
        filterset = ApprovalRequestFilter(self.request.GET, queryset=approval_requests_list())
        queryset = filterset.qs if filterset.is_valid() else approval_requests_list().none()
        page = Paginator(queryset, PAGE_SIZE).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(filter=filterset, page=page, query=query.urlencode())
        return context


class RequestDetailView(PortalPermissionMixin, View):
    permission_required = "approvals.view_approvalrequest"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render_detail(request, _get_request(request.user, pk))


def render_detail(
    request: HttpRequest,
    approval: ApprovalRequest,
    *,
    approve_form: ApproveForm | None = None,
    reject_form: RejectForm | None = None,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    is_requester = approval.requester_id == user.pk
    pending = approval.status == ApprovalRequest.Status.PENDING
    eligible = bool(set(user.groups.values_list("name", flat=True)) & set(approval.eligible_groups))
    decided = any(
        d.approver_id == user.pk and d.payload_revision == approval.payload_revision
        for d in approval.decisions.all()
    )
    # Only what the service would accept is offered; the service still decides.
    can_decide = (
        pending
        and not is_requester
        and eligible
        and not decided
        and user.has_perm("approvals.decide_approvalrequest")
    )
    if approve_form is None:
        approve_form = ApproveForm(initial={"payload_sha256": approval.payload_sha256})
    else:
        # Re-rendering after a refusal: the hidden hash is the one now on the page.
        # The form is bound to request.POST, an immutable QueryDict: change a copy.
        assert isinstance(approve_form.data, QueryDict)
        data = approve_form.data.copy()
        data[approve_form.add_prefix("payload_sha256")] = approval.payload_sha256
        approve_form.data = data
    errors = [
        message
        for form in (approve_form, reject_form, cancel_form)
        if form is not None and form.is_bound
        for field_errors in form.errors.values()
        for message in field_errors
    ]
    context = {
        "approval": approval,
        "errors": errors,
        "action_label": _action_label(approval.action),
        "preconditions": approval_precondition_table(approval),
        "decisions": list(approval.decisions.all()),
        "counts": approval_counts(approval),
        "can_decide": can_decide,
        "not_eligible": pending and not is_requester and not eligible,
        "already_decided": pending and decided,
        "can_cancel": pending and is_requester,
        "approve_form": approve_form,
        "reject_form": reject_form or RejectForm(),
        "cancel_form": cancel_form or CancelForm(),
    }
    return render(request, "approvals/request_detail.html", context, status=status)


class ApproveView(PortalPermissionMixin, View):
    permission_required = "approvals.decide_approvalrequest"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        approval = _get_request(request.user, pk)
        form = ApproveForm(request.POST)
        result = None
        if form.is_valid():
            result = call_service(
                request,
                services.approval_grant,
                form=form,
                request_id=approval.pk,
                actor=request.user,
                password=form.cleaned_data["password"],
                payload_sha256=form.cleaned_data["payload_sha256"],
                comment=form.cleaned_data["comment"],
            )
        if result is None:
            return render_detail(
                request, _get_request(request.user, pk), approve_form=form, status=400
            )
        if result.status == ApprovalRequest.Status.EXECUTED:
            messages.success(request, "Approved. The action has been executed.")
        elif result.status == ApprovalRequest.Status.FAILED:
            messages.error(request, f"Approved, but the action failed: {result.failure_reason}")
        else:
            needed = approval_counts(_get_request(request.user, pk))["needed"]
            messages.success(request, f"Approved. {needed} more approval(s) needed.")
        return redirect("approvals:detail", pk=approval.pk)


class RejectView(PortalPermissionMixin, View):
    permission_required = "approvals.decide_approvalrequest"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        approval = _get_request(request.user, pk)
        form = RejectForm(request.POST)
        result = None
        if form.is_valid():
            result = call_service(
                request,
                services.approval_reject,
                form=form,
                request_id=approval.pk,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                password=form.cleaned_data["password"],
            )
        if result is None:
            return render_detail(
                request, _get_request(request.user, pk), reject_form=form, status=400
            )
        messages.success(request, "Rejected. The request is closed.")
        return redirect("approvals:detail", pk=approval.pk)


class CancelView(PortalPermissionMixin, View):
    permission_required = "approvals.add_approvalrequest"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        approval = _get_request(request.user, pk)
        form = CancelForm(request.POST)
        result = None
        if form.is_valid():
            result = call_service(
                request,
                services.approval_cancel,
                form=form,
                request_id=approval.pk,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        if result is None:
            return render_detail(
                request, _get_request(request.user, pk), cancel_form=form, status=400
            )
        messages.success(request, "Cancelled.")
        return redirect("approvals:detail", pk=approval.pk)


class AuditPurgeRequestView(PortalPermissionMixin, View):
    """The audit trail's retention, what a purge would delete and keep, open purge
    requests, and the form that asks for one (a four-eyes `audit_purge` request: two
    approvers besides the requester decide on the request's page)."""

    permission_required = "audit.purge_auditevent"
    template_name = "approvals/audit_purge.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, AuditPurgeRequestForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = AuditPurgeRequestForm(request.POST)
        created = None
        if form.is_valid():
            day = form.cleaned_data["cutoff"]
            created = call_service(
                request,
                audit_purge_request,
                form=form,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                cutoff=dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) if day else None,
            )
        if created is None:
            return self._page(request, form, status=400)
        messages.success(request, "Purge requested: two approvers besides you must approve it.")
        return redirect("approvals:detail", pk=created.pk)

    def _page(
        self, request: HttpRequest, form: AuditPurgeRequestForm, status: int = 200
    ) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {"form": form, "status": audit_purge_status()},
            status=status,
        )
