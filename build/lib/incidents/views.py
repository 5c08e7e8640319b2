"""Browser views for incidents. Thin: each write view checks its declared permission
(PortalPermissionMixin: refused writes get 403 and an `access.denied` audit event),
validates the form, calls one service and redirects back to the incident."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from incidents import selectors, services
from incidents.filters import IncidentFilter
from incidents.forms import (
    ChecklistTickForm,
    ImpactForm,
    IncidentCreateForm,
    PlaybookAttachForm,
    RoleAssignForm,
    SeverityForm,
    StatusUpdateForm,
    TimelineEntryForm,
    TransitionForm,
)
from incidents.models import Incident
from incidents.severity import SEVERITIES, triage_suggest
from opsportal.core.web import PortalPermissionMixin, call_service
from opsportal.library.models import ProcedureVersion

VIEW = "incidents.view_incident"
PAGE_SIZE = 25
# The list's paging parameters: not filters, dropped from the links' query string.
# (`page` is the page number the list used before keyset pages: ignored.)
PAGING_PARAMS = ("after", "before", "page")


def playbook_choices() -> list[tuple[str, str]]:
    """(slug, title) of every published incident playbook."""
    return list(
        ProcedureVersion.objects.filter(
            status=ProcedureVersion.Status.PUBLISHED, procedure__kind="incident_playbook"
        )
        .order_by("procedure__slug")
        .values_list("procedure__slug", "title")
    )


def available_transitions(incident: Incident, user: Any) -> list[dict[str, Any]]:
    """The transitions `user` may make now, for buttons: verb, label, confirm."""
    found = []
    # django-fsm adds get_available_user_<field>_transitions to the model at class creation.
    transitions = incident.get_available_user_status_transitions(user)  # type: ignore[attr-defined]
    for transition in transitions:
        custom = transition.custom
        found.append(
            {"verb": custom["verb"], "label": custom["label"], "confirm": custom.get("confirm")}
        )
    order = list(services.PHASES)
    return sorted(found, key=lambda t: order.index(t["verb"]))


class DashboardView(PortalPermissionMixin, TemplateView):
    """`/`: open incidents by severity, SLA breaches, overdue status updates, and
    other apps' panels."""

    permission_required = VIEW
    template_name = "dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["board"] = selectors.dashboard()
        return context


class IncidentListView(PortalPermissionMixin, TemplateView):
    """`/incidents/`: filters and search (IncidentFilter), newest first, in keyset
    pages (`?after=` / `?before=` cursors, selectors.incident_page): a deep page costs
    what the first does."""

    permission_required = VIEW
    template_name = "incidents/incident_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        queryset = selectors.incidents_for(self.request.user)
        params = {k: v for k, v in self.request.GET.items() if k not in PAGING_PARAMS and v}
        filterset = IncidentFilter(params or None, queryset=queryset)
        # An invalid filter value shows its error and no rows, never a 500.
        rows = filterset.qs if filterset.is_bound else queryset
        if filterset.is_bound and not filterset.is_valid():
            rows = queryset.none()
        page = selectors.incident_page(
            rows,
            after=self.request.GET.get("after"),
            before=self.request.GET.get("before"),
            size=PAGE_SIZE,
        )
        context.update(
            filter=filterset,
            page=page,
            incidents=page.incidents,
            query_string=urlencode(params),
        )
        return context


class IncidentCreateView(PortalPermissionMixin, View):
    """The create form with the triage helper: "Suggest severity" walks the decision
    tree on the server and pre-selects the suggestion (a small script does the same
    as the boxes are ticked, when JavaScript runs)."""

    permission_required = "incidents.add_incident"
    template_name = "incidents/incident_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = IncidentCreateForm(playbooks=playbook_choices())
        return self._render(form)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = IncidentCreateForm(request.POST, playbooks=playbook_choices())
        if "triage" in request.POST:
            answers = {name: request.POST.get(name) == "on" for name in form.TRIAGE_FIELDS}
            suggestion = triage_suggest(**answers)
            data = request.POST.copy()
            data["severity"] = suggestion.severity
            if suggestion.halt_trading:
                data["trading_halted"] = "on"
            form = IncidentCreateForm(data, playbooks=playbook_choices())
            form.errors.clear()  # the suggestion step validates nothing yet
            return self._render(form, suggestion=suggestion)
        if not form.is_valid():
            return self._render(form, status=400)
        cleaned = form.cleaned_data
        incident = call_service(
            request,
            services.incident_open,
            form=form,
            actor=request.user,
            title=cleaned["title"],
            severity=cleaned["severity"],
            summary=cleaned["summary"],
            environment=cleaned["environment"],
            trading_halted=cleaned["trading_halted"],
            playbook_slug=cleaned["playbook"] or None,
            pnl_impact=cleaned["pnl_impact"],
            pnl_currency=cleaned["pnl_currency"],
            orders_affected=cleaned["orders_affected"],
            affected_systems=cleaned["affected_systems"],
        )
        if incident is None:
            return self._render(form, status=400)
        messages.success(request, f"{incident.reference} opened.")
        return HttpResponseRedirect(reverse("incidents:detail", args=[incident.pk]))

    def _render(self, form: IncidentCreateForm, status: int = 200, **extra: Any) -> HttpResponse:
        context = {
            "form": form,
            "severities": SEVERITIES.values(),
            "triage_fields": [form[name] for name in form.TRIAGE_FIELDS],
            **extra,
        }
        return render(self.request, self.template_name, context, status=status)


def render_detail(
    request: HttpRequest, incident: Incident, *, status: int = 200, **forms: Any
) -> HttpResponse:
    """The detail page; `forms` replaces the blank form of that name (with errors)."""
    playbooks = playbook_choices()
    detail = selectors.incident_detail(incident)
    context = {
        "incident": incident,
        "detail": detail,
        "resolution_notice_due": incident.status in ("resolved", "closed")
        and not any(u.kind == "resolution" for u in detail.status_updates),
        "transitions": available_transitions(incident, request.user),
        "review": incident.review_requirement(),
        "severity_form": SeverityForm(initial={"severity": incident.severity}),
        "role_form": RoleAssignForm(),
        "status_form": StatusUpdateForm(),
        "note_form": TimelineEntryForm(initial={"kind": "note"}),
        "record_form": TimelineEntryForm(initial={"kind": "command"}),
        "playbook_form": PlaybookAttachForm(playbooks=playbooks),
        "has_playbooks": bool(playbooks),
        "impact_form": ImpactForm(
            initial={f: getattr(incident, f) for f in ImpactForm.base_fields},
            prefix="impact",
        ),
        # The header's kill button preselects this environment and links the kill
        # to this incident while it is open (controls_tags.controls_header).
        "page_environment_id": incident.environment_id,
        "page_incident_id": incident.pk if incident.is_open else None,
        **forms,
    }
    return render(request, "incidents/incident_detail.html", context, status=status)


class IncidentDetailView(PortalPermissionMixin, View):
    permission_required = VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render_detail(request, selectors.get_incident_for(request.user, pk))


def detail_url(incident: Incident, anchor: str = "") -> str:
    """The incident page, scrolled to `anchor` (an element id on it) when given."""
    url = reverse("incidents:detail", args=[incident.pk])
    return f"{url}#{anchor}" if anchor else url


class IncidentActionView(PortalPermissionMixin, View):
    """Base for the POST-only write paths of the detail page. Subclasses set
    `permission_required` and `form_class`, and implement `perform`.

    After the write the user lands back where they were: `anchor` is the id of the
    page section the form sits in (the templates post to the same anchor, so a
    re-rendered form with errors keeps the place too); `result_anchor` may point at
    the row the write made (a timeline entry, a ticked step)."""

    http_method_names = ["post"]
    form_class: type = TransitionForm
    form_name = ""  # the detail page's context name of this form, to show its errors
    success_message = "Saved."
    anchor = ""

    def result_anchor(self, result: Any) -> str:
        return self.anchor

    def post(self, request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
        incident = selectors.get_incident_for(request.user, pk)
        form = self.get_form(incident)
        if form.is_valid():
            result = self.perform(incident, form, **kwargs)
            if result is not None:
                messages.success(request, self.success_message)
                return HttpResponseRedirect(detail_url(incident, self.result_anchor(result)))
            if not form.errors:
                # The service refused (message already queued): show the page as it is.
                return HttpResponseRedirect(detail_url(incident, self.anchor))
        incident = selectors.get_incident_for(request.user, pk)
        extra = {self.form_name: form} if self.form_name else {}
        if self.form_name:
            messages.error(request, "Please correct the errors below.")
        else:
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                messages.error(
                    request, f"{label}: {' '.join(errors)}" if label else " ".join(errors)
                )
        return render_detail(request, incident, status=400, **extra)

    def get_form(self, incident: Incident) -> Any:
        return self.form_class(self.request.POST)

    def perform(self, incident: Incident, form: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


class IncidentTransitionView(IncidentActionView):
    """POST /incidents/<pk>/transition/<verb>/; the permission follows the verb."""

    anchor = "actions"

    def get_permission_required(self) -> tuple[str, ...]:
        phase = services.PHASES.get(self.kwargs.get("verb", ""))
        if phase is None:
            raise Http404("Unknown incident action.")
        return (phase.permission,)

    def perform(self, incident: Incident, form: Any, **kwargs: Any) -> Any:
        verb = kwargs["verb"]
        self.success_message = f"{incident.reference} {services.PHASES[verb].done}."
        return call_service(
            self.request,
            services.incident_transition,
            verb=verb,
            actor=self.request.user,
            incident=incident,
            note=form.cleaned_data["note"],
        )


class IncidentSeverityView(IncidentActionView):
    permission_required = "incidents.change_severity_incident"
    form_class = SeverityForm
    form_name = "severity_form"
    success_message = "Severity changed."
    anchor = "severity"

    def perform(self, incident: Incident, form: Any, **kwargs: Any) -> Any:
        return call_service(
            self.request,
            services.incident_severity_change,
            form=form,
            actor=self.request.user,
            incident=incident,
            severity=form.cleaned_data["severity"],
            reason=form.cleaned_data["reason"],
        )


class IncidentRoleAssignView(IncidentActionView):
    permission_required = "incidents.assign_role_incident"
    form_class = RoleAssignForm
    form_name = "role_form"
    success_message = "Role assigned."
    anchor = "roles"

    def perform(self, incident: Incident, form: Any, **kwargs: Any) -> Any:
        return call_service(
            self.request,
            services.incident_role_assign,
            form=form,
            actor=self.request.user,
            incident=incident,
            role=form.cleaned_data["role"],
            user=form.cleaned_data["user"],
        )


class IncidentRoleEndView(IncidentActionView):
    permission_required = "incidents.assign_role_incident"
    success_message = "Role ended."
    anchor = "roles"

    def perform(self, incident: Incident, form: Any, **kwargs: Any) -> Any:
        if not incident.assignments.filter(pk=kwargs["assignment_id"]).exists():
            raise Http404("No such role assignment on this incident.")
        return call_service(
            self.request,
            services.incident_role_end,
            actor=self.request.user,
            assignment_id=kwargs["assignment_id"],
        )


class IncidentStatusUpdateView(IncidentActionView):
    permission_required = "incidents.post_status_update_incident"
    form_class = StatusUpdateForm
    form_name = "status_form"
    success_message = "Status update posted."
    anchor = "updates"

    def perform(self, incident: Incident, form: Any, **kwargs: Any) -> Any:
        return call_service(
            self.request,
            services.incident_status_update_post,
            form=form,
            actor=self.request.user,
            incident=incident,
            kind=form.cleaned_data["kind"],
            fields=form.template_fields(),
        )


class IncidentNoteView(IncidentActionView):
    permission_required = "incidents.add_note_incident"
    form_class = TimelineEntryForm
    form_name = "note_form"
    success_message = "Note added."
    anchor = "timeline-h"

    def result_anchor(self, result: Any) -> str:
        return f"entry-{result.pk}"

    def perform(self, incident: Incident, form: Any, **kwargs: Any) -> Any:
        return call_service(
            self.request,
            services.timeline_entry_add,
            form=form,
            actor=self.request.user,
            incident=incident,
            kind="note",
            body=form.cleaned_data["body"],
        )


class IncidentRecordView(IncidentActionView):
    """Commands run and evidence links."""

    permission_required = "incidents.add_record_incident"
    form_class = TimelineEntryForm
    form_name = "record_form"
    success_message = "Added to the timeline."
    anchor = "timeline-h"

    def result_anchor(self, result: Any) -> str:
        return f"entry-{result.pk}"

    def perform(self, incident: Incident, form: Any, **kwargs: Any) -> Any:
        kind = form.cleaned_data["kind"]
        if kind not in ("command", "evidence"):
            form.add_error("kind", "Choose a command or an evidence link.")
            return None
        url = form.cleaned_data["url"]
        return call_service(
            self.request,
            services.timeline_entry_add,
            form=form,
            actor=self.request.user,
            incident=incident,
            kind=kind,
            body=form.cleaned_data["body"],
            metadata={"url": url} if kind == "evidence" else None,
        )


class IncidentPlaybookAttachView(IncidentActionView):
    permission_required = "incidents.attach_playbook_incident"
    form_class = PlaybookAttachForm
    form_name = "playbook_form"
    success_message = "Playbook attached."
    anchor = "checklists"

    def get_form(self, incident: Incident) -> Any:
        return PlaybookAttachForm(self.request.POST, playbooks=playbook_choices())

    def perform(self, incident: Incident, form: Any, **kwargs: Any) -> Any:
        return call_service(
            self.request,
            services.incident_attach_playbook,
            form=form,
            actor=self.request.user,
            incident=incident,
            procedure_slug=form.cleaned_data["procedure"],
        )


class IncidentChecklistTickView(IncidentActionView):
    permission_required = "incidents.tick_checklist_incident"
    form_class = ChecklistTickForm
    success_message = "Step ticked."
    anchor = "checklists"

    def result_anchor(self, result: Any) -> str:
        return f"item-{result.pk}"

    def perform(self, incident: Incident, form: Any, **kwargs: Any) -> Any:
        return call_service(
            self.request,
            services.incident_checklist_item_tick,
            actor=self.request.user,
            incident_id=incident.pk,
            item_id=kwargs["item_id"],
            note=form.cleaned_data["note"],
        )


class IncidentImpactView(IncidentActionView):
    permission_required = "incidents.change_incident"
    form_name = "impact_form"
    success_message = "Impact updated."
    anchor = "impact"

    def get_form(self, incident: Incident) -> Any:
        return ImpactForm(self.request.POST, prefix="impact")

    def perform(self, incident: Incident, form: Any, **kwargs: Any) -> Any:
        return call_service(
            self.request,
            services.incident_impact_update,
            form=form,
            actor=self.request.user,
            incident=incident,
            **form.cleaned_data,
        )
