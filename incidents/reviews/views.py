"""Browser views of post-incident reviews: the list, the detail page with its
sign-off panel, the editor (one form with formsets; "add a why / an action" re-renders
with one more row and everything typed kept), the printable review, the write paths
(start, submit, request changes, sign, publish, revise, action item status and
creation) and "my action items". Each declares its permission."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from incidents import selectors as incident_selectors
from incidents.models import ActionItem, PostIncidentReview, ReviewState
from incidents.reviews import selectors, services
from incidents.reviews.forms import (
    ActionItemAddForm,
    ActionItemFormSet,
    ActionStatusForm,
    FactorFormSet,
    ReasonForm,
    ReviewForm,
    WhyFormSet,
)
from incidents.reviews.models import ControlObjective
from incidents.severity import SEVERITY_CHOICES
from opsportal.core.web import PortalPermissionMixin, call_service
from opsportal.signoffs.forms import SignForm, sign_from_form
from opsportal.signoffs.services import (
    ROLE_LABELS,
    signoff_options_for,
)

VIEW = "incidents.view_postincidentreview"
EDIT = "incidents.change_postincidentreview"
PAGE_SIZE = 50
FORMSETS: dict[str, Any] = {
    "whys": WhyFormSet,
    "factors": FactorFormSet,
    "items": ActionItemFormSet,
}


def review_url(review: PostIncidentReview, anchor: str = "") -> str:
    url = reverse("incidents:review_detail", args=[review.pk])
    return f"{url}#{anchor}" if anchor else url


def _review(review_id: int) -> PostIncidentReview:
    return selectors.review_get(review_id)


class ReviewListView(PortalPermissionMixin, View):
    permission_required = VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        q = request.GET
        author = q.get("author", "")
        state = q.get("state", "")
        severity = q.get("severity", "")
        filters: dict[str, Any] = {
            "state": state if state in ReviewState.values else "",
            "severity": severity if severity in dict(SEVERITY_CHOICES) else "",
            "overdue": q.get("overdue") == "1",
            "author": int(author) if author.isdigit() and len(author) < 10 else None,
        }
        try:
            page = max(1, min(int(q.get("page", "1")), 10_000))
        except ValueError:
            page = 1
        rows = list(selectors.review_list(**filters)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
        context = {
            "reviews": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page": page,
            "filters": filters,
            "states": ReviewState.choices,
            "severities": SEVERITY_CHOICES,
            "authors": get_user_model().objects.filter(is_active=True).order_by("username"),
            "now": timezone.now(),
        }
        return render(request, "incidents/reviews/review_list.html", context)


def _detail_context(request: HttpRequest, review: PostIncidentReview, **extra: Any) -> dict:
    detail = selectors.review_detail(review)
    options = signoff_options_for(review, request.user)
    return {
        "review": review,
        "incident": review.incident,
        "detail": detail,
        "options": options,
        "role_labels": ROLE_LABELS,
        "sign_form": SignForm(
            roles=options.roles,
            initial={"content_sha256": detail.content_sha256, "role": (options.roles or [""])[0]},
        ),
        "reason_form": ReasonForm(),
        "status_choices": ActionItem.Status.choices,
        "objectives": dict(ControlObjective.choices),
        "is_current": detail.revisions[-1].pk == review.pk,
        "now": timezone.now(),
        **extra,
    }


class ReviewDetailView(PortalPermissionMixin, View):
    permission_required = VIEW

    def get(self, request: HttpRequest, review_id: int) -> HttpResponse:
        review = _review(review_id)
        return render(
            request, "incidents/reviews/review_detail.html", _detail_context(request, review)
        )


class ReviewPrintView(PortalPermissionMixin, View):
    """The review as the runbooks' template, in order, for printing."""

    permission_required = VIEW

    def get(self, request: HttpRequest, review_id: int) -> HttpResponse:
        review = _review(review_id)
        context = _detail_context(request, review, generated_at=timezone.now())
        return render(request, "incidents/reviews/review_print.html", context)


def _bump_total(data: QueryDict, prefix: str) -> QueryDict:
    """The POST data with one more (empty) row in formset `prefix`."""
    copy = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    try:
        total = int(copy.get(key, "0"))
    except ValueError:
        total = 0
    copy[key] = str(min(total + 1, 50))
    if prefix == "items":  # the new row starts with the usual defaults, not the first choice
        copy.setdefault(f"items-{total}-priority", ActionItem.Priority.MEDIUM)
        copy.setdefault(f"items-{total}-kind", ActionItem.Kind.CORRECTIVE)
    return copy


class ReviewEditView(PortalPermissionMixin, View):
    permission_required = EDIT
    template_name = "incidents/reviews/review_edit.html"

    def _timeline(self, review: PostIncidentReview) -> list[tuple[int, str]]:
        return [
            (e.pk, f"{e.occurred_at:%Y-%m-%d %H:%M:%S} · {e.get_kind_display()} · {e.body[:120]}")
            for e in review.incident.timeline.order_by("occurred_at", "id")
        ]

    def get(self, request: HttpRequest, review_id: int) -> HttpResponse:
        review = _review(review_id)
        form = ReviewForm(
            timeline=self._timeline(review),
            initial={
                name: getattr(review, name)
                for name in (
                    "summary",
                    "impact",
                    "timeline_entry_ids",
                    "root_cause",
                    "went_well",
                    "went_poorly",
                    "lessons",
                    "verification_plan",
                )
            },
        )
        items = [
            {
                "id": i.pk,
                "title": i.title,
                "owner": i.owner_id,
                "due_on": i.due_on,
                "kind": i.kind,
                "priority": i.priority,
                "link": i.link,
            }
            for i in review.action_items.order_by("position", "id")
        ]
        formsets = {
            "whys": WhyFormSet(prefix="whys", initial=review.whys or None),
            "factors": FactorFormSet(prefix="factors", initial=review.factors or None),
            "items": ActionItemFormSet(prefix="items", initial=items or None),
        }
        return self._render(review, form, formsets)

    def post(self, request: HttpRequest, review_id: int) -> HttpResponse:
        review = _review(review_id)
        data: QueryDict = request.POST
        adding = next((p for p in FORMSETS if f"add_{p}" in data), None)
        if adding:
            data = _bump_total(data, adding)
        form = ReviewForm(data, timeline=self._timeline(review))
        formsets = {name: cls(data, prefix=name) for name, cls in FORMSETS.items()}
        if adding:
            # Nothing saved: the same page with one more row and everything typed kept.
            return self._render(review, form, formsets, focus=adding)
        valid = form.is_valid() & all([fs.is_valid() for fs in formsets.values()])
        if valid:
            cleaned = form.cleaned_data
            saved = call_service(
                request,
                services.review_update,
                form=form,
                review_id=review.pk,
                actor=request.user,
                summary=cleaned["summary"],
                impact=cleaned["impact"],
                timeline_entry_ids=cleaned["timeline_entry_ids"],
                root_cause=cleaned["root_cause"],
                went_well=cleaned["went_well"],
                went_poorly=cleaned["went_poorly"],
                lessons=cleaned["lessons"],
                verification_plan=cleaned["verification_plan"],
                whys=[f.cleaned_data for f in formsets["whys"].forms if f.cleaned_data],
                factors=[f.cleaned_data for f in formsets["factors"].forms if f.cleaned_data],
                action_items=[
                    services.ActionItemInput(
                        title=f.cleaned_data["title"],
                        owner_id=f.cleaned_data["owner"].pk,
                        due_on=f.cleaned_data["due_on"],
                        kind=f.cleaned_data["kind"],
                        priority=f.cleaned_data["priority"],
                        link=f.cleaned_data.get("link") or "",
                        id=f.cleaned_data.get("id"),
                    )
                    for f in formsets["items"].forms
                    if f.cleaned_data.get("title")
                ],
            )
            if saved is not None:
                messages.success(request, "Review saved.")
                if "save_submit" in data:
                    submitted = call_service(
                        request, services.review_submit, review_id=review.pk, actor=request.user
                    )
                    if submitted is not None:
                        messages.success(request, "Submitted for sign-off.")
                    return HttpResponseRedirect(review_url(review))
                return HttpResponseRedirect(reverse("incidents:review_edit", args=[review.pk]))
        messages.error(request, "Please correct the errors below.")
        return self._render(review, form, formsets, status=400)

    def _render(
        self,
        review: PostIncidentReview,
        form: ReviewForm,
        formsets: dict[str, Any],
        status: int = 200,
        focus: str = "",
    ) -> HttpResponse:
        context = {
            "review": review,
            "incident": review.incident,
            "form": form,
            "whys": formsets["whys"],
            "factors": formsets["factors"],
            "items": formsets["items"],
            "focus": focus,
            "editable": review.state == ReviewState.DRAFT,
        }
        return render(self.request, self.template_name, context, status=status)


class _ReviewAction(PortalPermissionMixin, View):
    http_method_names = ["post"]
    done = ""
    anchor = "workflow"

    def post(self, request: HttpRequest, review_id: int) -> HttpResponse:
        review = _review(review_id)
        result = self.perform(request, review)
        if result is not None:
            messages.success(request, self.done)
            if isinstance(result, PostIncidentReview) and result.pk != review.pk:
                return HttpResponseRedirect(reverse("incidents:review_edit", args=[result.pk]))
        return HttpResponseRedirect(review_url(review, self.anchor))

    def perform(self, request: HttpRequest, review: PostIncidentReview) -> Any:
        raise NotImplementedError


class ReviewSubmitView(_ReviewAction):
    permission_required = "incidents.submit_postincidentreview"
    done = "Submitted for sign-off."

    def perform(self, request: HttpRequest, review: PostIncidentReview) -> Any:
        return call_service(
            request, services.review_submit, review_id=review.pk, actor=request.user
        )


class ReviewRequestChangesView(_ReviewAction):
    permission_required = "incidents.request_changes_postincidentreview"
    done = "Sent back to draft."

    def perform(self, request: HttpRequest, review: PostIncidentReview) -> Any:
        form = ReasonForm(request.POST)
        reason = form.data.get("reason", "") if not form.is_valid() else form.cleaned_data["reason"]
        return call_service(
            request,
            services.review_request_changes,
            review_id=review.pk,
            actor=request.user,
            reason=str(reason)[:5000],
        )


class ReviewPublishView(_ReviewAction):
    permission_required = "incidents.publish_postincidentreview"
    done = "Published."

    def perform(self, request: HttpRequest, review: PostIncidentReview) -> Any:
        return call_service(
            request, services.review_publish, review_id=review.pk, actor=request.user
        )


class ReviewReviseView(_ReviewAction):
    permission_required = "incidents.revise_postincidentreview"
    done = "Correction started: a new revision, which needs its own sign-offs."

    def perform(self, request: HttpRequest, review: PostIncidentReview) -> Any:
        return call_service(
            request, services.review_revise, review_id=review.pk, actor=request.user
        )


class ReviewSignView(PortalPermissionMixin, View):
    permission_required = "incidents.sign_postincidentreview"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, review_id: int) -> HttpResponse:
        review = _review(review_id)
        form = SignForm(request.POST, roles=selectors.REVIEW_SIGNOFF_ROLES)
        signoff = sign_from_form(request, form, review)
        if signoff is not None:
            review.refresh_from_db()
            suffix = " The review is approved." if review.state == "approved" else ""
            messages.success(
                request, f"Signed as {ROLE_LABELS.get(signoff.role, signoff.role)}.{suffix}"
            )
            return HttpResponseRedirect(review_url(review, "signoffs"))
        messages.error(
            request,
            "Not signed: " + " ".join(str(e) for errors in form.errors.values() for e in errors),
        )
        context = _detail_context(request, _review(review_id), sign_form=form)
        return render(request, "incidents/reviews/review_detail.html", context, status=400)


class ReviewStartView(PortalPermissionMixin, View):
    """POST /incidents/<pk>/review/start/: an incident commander starts a review."""

    permission_required = "incidents.start_postincidentreview"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        incident = incident_selectors.get_incident_for(request.user, pk)
        review = call_service(
            request, services.review_start, incident_id=incident.pk, actor=request.user
        )
        if review is not None:
            messages.success(request, "Post-incident review started.")
            return HttpResponseRedirect(reverse("incidents:review_edit", args=[review.pk]))
        return HttpResponseRedirect(reverse("incidents:detail", args=[incident.pk]) + "#review")


class ActionItemAddView(PortalPermissionMixin, View):
    """POST /incidents/<pk>/action-items/: an action item made from the incident."""

    permission_required = "incidents.add_actionitem"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        incident = incident_selectors.get_incident_for(request.user, pk)
        form = ActionItemAddForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if call_service(
                request,
                services.action_item_add,
                incident_id=incident.pk,
                actor=request.user,
                title=data["title"],
                owner_id=data["owner"].pk,
                due_on=data["due_on"],
                kind=data["kind"],
                priority=data["priority"],
                link=data["link"] or "",
            ):
                messages.success(request, "Action item added.")
        else:
            for field, errors in form.errors.items():
                messages.error(request, f"{field}: {' '.join(str(e) for e in errors)}")
        return HttpResponseRedirect(reverse("incidents:detail", args=[incident.pk]) + "#review")


class ActionItemStatusView(PortalPermissionMixin, View):
    permission_required = "incidents.set_status_actionitem"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, action_id: int) -> HttpResponse:
        form = ActionStatusForm(request.POST)
        if form.is_valid():
            item = call_service(
                request,
                services.action_item_set_status,
                item_id=action_id,
                actor=request.user,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
            if item is not None:
                messages.success(request, f"'{item.title}' is {item.get_status_display().lower()}.")
        else:
            messages.error(request, "Choose a status.")
        back = request.POST.get("next", "")
        if not back.startswith("/") or back.startswith("//"):
            back = reverse("incidents:my_action_items")
        return HttpResponseRedirect(back)


class MyActionItemsView(PortalPermissionMixin, View):
    permission_required = "incidents.view_actionitem"

    def get(self, request: HttpRequest) -> HttpResponse:
        items = list(selectors.my_action_items(request.user))
        today = date.today()
        context = {
            "items": items,
            "today": today,
            "status_choices": ActionItem.Status.choices,
        }
        return render(request, "incidents/reviews/my_action_items.html", context)
