"""Read-only browser views of the procedure library (mounted at /library/).

`procedure_list` lists the published version of every procedure, filtered by kind
and searched by title; `procedure_detail` shows one procedure's current version (or
`?version=N`) with its steps, targets, pass rules, pre-checklist, pass criteria and
sign-off requirements, and lists every version. Both need
`library.view_procedureversion` and run a fixed number of queries.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django import forms
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from django.views.generic import TemplateView

from opsportal.core.web import PortalPermissionMixin
from opsportal.library.models import Procedure, ProcedureVersion

VIEW = "library.view_procedureversion"

# How the sign-off vocabulary of the data files reads to people.
SIGNOFF_ROLE_LABELS = {
    "drill_lead": "Drill lead — the run's drill lead",
    "observer": "Observer — the run's observer",
    "risk_officer": "Risk officer — a member of the risk officer group",
}


def format_seconds(value: int | None) -> str:
    """'10 s', '5 min', '1 h', '1 min 30 s' for a step's time target; '' for none."""
    if value is None:
        return ""
    hours, rest = divmod(value, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((hours, "h"), (minutes, "min"), (secs, "s")) if n]
    return " ".join(parts)


class LibraryFilterForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "All kinds"), *Procedure.Kind.choices], required=False, label="Kind"
    )
    q = forms.CharField(required=False, label="Search title", max_length=100)


class ProcedureListView(PortalPermissionMixin, TemplateView):
    """Published procedures grouped by kind (two queries, whatever the number)."""

    permission_required = VIEW
    template_name = "library/procedure_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = LibraryFilterForm(self.request.GET or None)
        versions = (
            ProcedureVersion.objects.filter(status=ProcedureVersion.Status.PUBLISHED)
            .select_related("procedure")
            .annotate(step_count=Count("steps"))
            .order_by("procedure__kind", "procedure__slug")
        )
        if form.is_valid():
            if form.cleaned_data["kind"]:
                versions = versions.filter(procedure__kind=form.cleaned_data["kind"])
            if form.cleaned_data["q"]:
                text = form.cleaned_data["q"]
                versions = versions.filter(
                    Q(title__icontains=text) | Q(procedure__slug__icontains=text)
                )
        kind_labels = dict(Procedure.Kind.choices)
        rows = list(versions)
        context.update(
            form=form,
            total=len(rows),
            groups=[
                {"kind": kind, "label": kind_labels.get(kind, kind), "versions": list(items)}
                for kind, items in groupby(rows, key=lambda v: v.procedure.kind)
            ],
        )
        return context


class ProcedureDetailView(PortalPermissionMixin, TemplateView):
    """One procedure: the published version (or `?version=N`) and its history."""

    permission_required = VIEW
    template_name = "library/procedure_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        procedure = get_object_or_404(Procedure, slug=kwargs["slug"])
        history = list(procedure.versions.select_related("created_by").order_by("-version"))
        if not history:
            raise Http404("This procedure has no versions.")
        wanted = self.request.GET.get("version")
        if wanted:
            if not wanted.isdigit():
                raise Http404("No such version.")
            chosen = next((v for v in history if v.version == int(wanted)), None)
            if chosen is None:
                raise Http404("No such version.")
        else:
            published = [v for v in history if v.status == ProcedureVersion.Status.PUBLISHED]
            chosen = published[0] if published else history[0]
        current = next((v for v in history if v.status == ProcedureVersion.Status.PUBLISHED), None)
        steps = list(chosen.steps.all())
        for step in steps:
            # A display attribute for the template, set on the instance it renders.
            step.target_display = format_seconds(step.time_target_seconds)  # type: ignore[attr-defined]
        scenarios = [
            {"name": name, "steps": list(items)}
            for name, items in groupby(steps, lambda s: s.scenario)
        ]
        context.update(
            procedure=procedure,
            version=chosen,
            current=current,
            history=history,
            scenarios=scenarios,
            step_count=len(steps),
            has_scenarios=any(s.scenario for s in steps),
            signoff_roles=[SIGNOFF_ROLE_LABELS.get(r, r) for r in chosen.signoff_roles],
        )
        return context


app_name = "library"
urlpatterns = [
    path("", ProcedureListView.as_view(), name="procedure_list"),
    path("<slug:slug>/", ProcedureDetailView.as_view(), name="procedure_detail"),
]
