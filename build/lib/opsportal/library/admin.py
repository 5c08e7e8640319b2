"""Admin for the procedure library and checklists.

Everything here is read-only: a published or retired version is a record that
checklists and drill runs point at, and a checklist is ticked through
`checklist_item_tick` by the app that owns its target. The one write is **Revise**
on the published version: the admin edits the version as a data file (the same
TOML as `opsportal/library/procedures/*.toml`) and `procedure_revise` publishes the result as
the next version, leaving the old one untouched. See docs/procedures.md.
"""

from __future__ import annotations

import tomllib
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from opsportal.core.admin_mixins import ReadOnlyAdminMixin
from opsportal.core.errors import DomainError
from opsportal.core.web import deny
from opsportal.library.models import (
    Checklist,
    ChecklistItem,
    Procedure,
    ProcedureStep,
    ProcedureVersion,
)
from opsportal.library.procedure_files import TOP_KEYS, spec_to_toml
from opsportal.library.services import procedure_revise, procedure_version_spec

REVISE_PERMISSION = "library.add_procedureversion"

# The revise page is the admin's own layout plus one form; it is kept here rather
# than as a template file so the admin for the library lives in one module.
_REVISE_TEMPLATE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}
{% block breadcrumbs %}<div class="breadcrumbs"><a href="{% url 'admin:index' %}">Home</a>
&rsaquo; <a href="{% url 'admin:library_procedureversion_changelist' %}">Procedure versions</a>
&rsaquo; <a href="{% url 'admin:library_procedureversion_change' version.pk %}">{{ version }}</a>
&rsaquo; Revise</div>{% endblock %}
{% block content %}
<p>Edit the procedure as a data file and save: it is published as version
{{ next_version }} and version {{ version.version }} is retired, unchanged, for the
checklists and drill runs that used it. The slug and kind cannot change.</p>
<p>To keep the repository in step, copy the saved text to
<code>opsportal/library/procedures/{{ version.procedure.slug }}.toml</code>; reloading an
unchanged file does not undo this revision.</p>
<form method="post">{% csrf_token %}
{{ form.non_field_errors }}{{ form.document.errors }}
<textarea name="document" rows="40" style="width:100%;font-family:monospace"
 aria-label="Procedure document">{{ form.document.value }}</textarea>
<div class="submit-row"><input type="submit" class="default" value="Publish revision"></div>
</form>
{% endblock %}"""
)


class ReviseForm(forms.Form):
    document = forms.CharField(widget=forms.Textarea, strip=False)


def _changes(document: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The top-level keys whose value in the edited document differs from the base.
    A key removed from the document means its empty value; an unknown key is passed
    on so the service rejects it by name."""
    changes = {key: value for key, value in document.items() if key not in TOP_KEYS}
    for key in TOP_KEYS:
        empty: Any = [] if isinstance(base[key], list) else ""
        value = document.get(key, empty)
        if value != base[key]:
            changes[key] = value
    return changes


class _ReadOnly(ReadOnlyAdminMixin):
    """Nobody adds, changes or deletes library records through admin forms."""


class ProcedureStepInline(_ReadOnly, admin.TabularInline):
    model = ProcedureStep
    fields = ("position", "scenario", "title", "time_target_seconds", "pass_rule")
    readonly_fields = fields
    extra = 0


class ProcedureVersionInline(_ReadOnly, admin.TabularInline):
    model = ProcedureVersion
    fields = ("version", "status", "title", "published_at", "created_by")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    ordering = ("-version",)


@admin.register(Procedure)
class ProcedureAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("slug", "title", "kind", "created_at")
    list_filter = ("kind",)
    search_fields = ("slug", "title")
    readonly_fields = ("slug", "kind", "title", "created_at")
    inlines = [ProcedureVersionInline]


@admin.register(ProcedureVersion)
class ProcedureVersionAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("procedure", "version", "status", "severity", "published_at", "revise_link")
    list_filter = ("status", "procedure__kind", "severity")
    search_fields = ("title", "procedure__slug")
    list_select_related = ("procedure",)
    readonly_fields = (
        "procedure",
        "version",
        "status",
        "title",
        "summary",
        "source",
        "severity",
        "pre_checklist",
        "pass_criteria",
        "signoff_roles",
        "content_sha256",
        "published_at",
        "created_at",
        "created_by",
        "revise_link",
    )
    inlines = [ProcedureStepInline]

    @admin.display(description="Revise")
    def revise_link(self, obj: ProcedureVersion) -> str:
        if obj.status != ProcedureVersion.Status.PUBLISHED:
            return "-"
        url = reverse("admin:library_procedureversion_revise", args=[obj.pk])
        return format_html('<a href="{}">Revise (new version)</a>', url)

    def get_urls(self) -> list[URLPattern]:
        revise = path(
            "<int:object_id>/revise/",
            self.admin_site.admin_view(self.revise_view),
            name="library_procedureversion_revise",
        )
        return [revise, *super().get_urls()]

    def revise_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Edit the published version as a data file; saving calls procedure_revise."""
        if not request.user.has_perm(REVISE_PERMISSION):
            raise deny(request, REVISE_PERMISSION)
        version = get_object_or_404(
            ProcedureVersion.objects.select_related("procedure"), pk=object_id
        )
        change_url = reverse("admin:library_procedureversion_change", args=[version.pk])
        if version.status != ProcedureVersion.Status.PUBLISHED:
            messages.error(request, "Only the published version of a procedure can be revised.")
            return HttpResponseRedirect(change_url)
        base = procedure_version_spec(version)
        form = ReviseForm(request.POST or None, initial={"document": spec_to_toml(base)})
        if request.method == "POST" and form.is_valid():
            try:
                document = tomllib.loads(form.cleaned_data["document"])
                revised = procedure_revise(
                    version_id=version.pk,
                    actor=request.user,
                    changes=_changes(document, base.as_dict()),
                )
            except tomllib.TOMLDecodeError as exc:
                form.add_error("document", f"Not valid TOML: {exc}")
            except DomainError as exc:
                form.add_error("document", exc.message)
            else:
                messages.success(
                    request, f"Published {revised}; version {version.version} retired."
                )
                return HttpResponseRedirect(
                    reverse("admin:library_procedureversion_change", args=[revised.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Revise {version}",
            "opts": self.model._meta,
            "version": version,
            "next_version": version.version + 1,
            "form": form,
        }
        return TemplateResponse(request, _REVISE_TEMPLATE, context)


class ChecklistItemInline(_ReadOnly, admin.TabularInline):
    model = ChecklistItem
    fields = ("position", "step", "done_at", "done_by", "note")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChecklistItem]:
        return super().get_queryset(request).select_related("step", "done_by")


@admin.register(Checklist)
class ChecklistAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = (
        "id",
        "procedure_version",
        "target_type",
        "target_id",
        "created_at",
        "created_by",
    )
    list_filter = ("target_type", "procedure_version__procedure__kind")
    search_fields = ("target_id", "procedure_version__procedure__slug")
    list_select_related = ("procedure_version", "target_type", "created_by")
    readonly_fields = (
        "procedure_version",
        "target_type",
        "target_id",
        "created_at",
        "created_by",
    )
    inlines = [ChecklistItemInline]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("checklist", "position", "step", "done_at", "done_by")
    list_select_related = (
        "checklist__procedure_version",
        "checklist__target_type",
        "step",
        "done_by",
    )
    readonly_fields = ("checklist", "step", "position", "done_at", "done_by", "note")
