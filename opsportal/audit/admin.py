"""The audit trail in the Django admin (read-only, usable at millions of rows), and
`AuditedAdminMixin`: any model changed in the admin is audited with before/after.

The admins that write through a service (users, environments, approval policies,
drill schedules, tokens) are audited by that service; the mixin covers the admins that
write rows directly: role groups, Celery beat's schedules and django-axes' lockout
records, re-registered here with it (this module is autodiscovered after theirs).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.core.paginator import Paginator
from django.db import models, transaction
from django.db.models import Q
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django_celery_beat import admin as beat_admin
from django_celery_beat import models as beat_models

from opsportal.audit import registry
from opsportal.audit.models import AuditEvent
from opsportal.audit.services import audit_record
from opsportal.core.admin_mixins import ReadOnlyAdminMixin

# --- the audit list -------------------------------------------------------------------

# The admin list counts at most this many rows (pages beyond are reached by filtering).
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows (`SELECT COUNT(*) FROM (... LIMIT n)`): a page of
    a million-row table never waits for a full COUNT(*)."""

    @cached_property
    def count(self) -> int:
        rows: Any = self.object_list  # a QuerySet here (the admin's changelist)
        return int(rows.order_by()[:COUNT_CAP].count())


class EventTypeFilter(admin.SimpleListFilter):
    """Choices from the event-type registry, not a DISTINCT scan of the table."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [(e.code, e.code) for e in registry.all_event_types()]

    def queryset(self, request: Any, queryset: Any) -> Any:
        return queryset.filter(event_type=self.value()) if self.value() else queryset


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [(s, s) for s in ("web", "api", "command", "task", "system")]

    def queryset(self, request: Any, queryset: Any) -> Any:
        return queryset.filter(source=self.value()) if self.value() else queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    """Choices from the installed models, not a DISTINCT scan."""

    title = "object type"
    parameter_name = "object_type"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        labels = sorted(m._meta.label_lower for m in apps.get_models())
        return [(label, label) for label in labels]

    def queryset(self, request: Any, queryset: Any) -> Any:
        return queryset.filter(object_type=self.value()) if self.value() else queryset


# The columns an auditor sees, in order; "event" is the link to the event's page.
AUDIT_LIST_COLUMNS = (
    "event",
    "chain_seq",
    "occurred",
    "event_type",
    "actor_username",
    "object_repr",
    "source",
)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: auditors browse and filter; nobody adds, changes or deletes. No
    date_hierarchy (a DISTINCT over every row), filters from registries, exact-match
    search served by indexes, no full-result count and no facet counts (docs/audit.md).

    Most of a page's time is Django rendering cells (~12 µs each), so: 25 rows a page
    (filters and search find an event; `/audit/` pages 50 at a time by keyset), the link
    to each event built once per request (`get_list_display`) rather than per row (the
    admin's own link column reverses the URL and, when a filter is active, resolves it
    again for every row to carry the filters), and the time and seq as plain strings
    rather than the admin's localised formats. docs/BENCHMARKS.md "Audit chain"."""

    list_display = AUDIT_LIST_COLUMNS  # "event" is replaced per request, see below
    list_display_links = None  # the "event" column is the link
    list_filter = (EventTypeFilter, SourceFilter, ObjectTypeFilter)
    search_fields = ("object_id",)  # shows the box; get_search_results does the search
    search_help_text = (
        "Exact: object id, request id, username, event type; or the start of an object's "
        "name (an incident reference)."
    )
    ordering = ("-id",)
    show_full_result_count = False
    # No "Show counts": facet counts run one COUNT per filter choice (~190) over every
    # row; at 1,000,000 events that query ran for over ten minutes.
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    list_per_page = 25
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    @admin.display(description="event", ordering="id")
    def event(self, obj: AuditEvent) -> str:
        """The id; the list shows it as a link (`get_list_display`)."""
        return str(obj.pk)

    @admin.display(description="seq", ordering="seq")
    def chain_seq(self, obj: AuditEvent) -> str:
        """The event's place in the chain, or "unsealed" until the sealer links it."""
        return "unsealed" if obj.seq is None else str(obj.seq)

    @admin.display(description="when (UTC)", ordering="occurred_at")
    def occurred(self, obj: AuditEvent) -> str:
        """To the second, in UTC, as on the audit page (the admin's default format has
        no seconds)."""
        return obj.occurred_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

    def get_list_display(self, request: HttpRequest) -> Any:
        """The columns, with "event" as a link to the event's admin page that keeps the
        list's filters (as the admin's own link does). Cached on the request: the
        sortable columns below must be the same objects."""
        cached = getattr(request, "_audit_list_display", None)
        if cached is not None:
            return cached
        if IS_POPUP_VAR in request.GET:
            return AUDIT_LIST_COLUMNS  # the admin's own link, which popups need
        # One reverse for the page (the admin's change URL is "<changelist><pk>/change/").
        prefix = reverse("admin:audit_auditevent_changelist", current_app=self.admin_site.name)
        preserved = self.get_preserved_filters(request)
        suffix = f"/change/?{preserved}" if preserved else "/change/"

        @admin.display(description="event", ordering="id")
        def event(obj: AuditEvent) -> str:
            return format_html('<a href="{}{}{}">{}</a>', prefix, obj.pk, suffix, obj.pk)

        columns = (event, *AUDIT_LIST_COLUMNS[1:])
        request._audit_list_display = columns  # type: ignore[attr-defined]  # per request
        return columns

    def get_list_display_links(self, request: HttpRequest, list_display: Any) -> Any:
        if IS_POPUP_VAR in request.GET:
            return ("event",)
        return None

    def get_sortable_by(self, request: HttpRequest) -> Any:
        """Sorting only by what an index serves (id, seq, time): sorting a million
        events by type, actor, object or source took 0.5-1.1 s; filter by them instead."""
        return self.get_list_display(request)[:3]

    def get_search_results(
        self, request: HttpRequest, queryset: Any, search_term: str
    ) -> tuple[Any, bool]:
        term = search_term.strip()[:200]
        if not term:
            return queryset, False
        return queryset.filter(
            Q(object_id=term)
            | Q(request_id=term)
            | Q(actor_username=term)
            | Q(event_type=term)
            | Q(object_repr__startswith=term)
        ), False


# --- auditing every admin change ------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, models.QuerySet | list | tuple | set):
        return sorted(str(_plain(v)) for v in value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class AuditedAdminMixin:
    """Records `admin.added` / `admin.changed` (before and after of each changed form
    field) and `admin.deleted` (the row as it was) for a ModelAdmin that saves rows
    itself. The admin's views run in a transaction; bulk deletes open their own."""

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        fields = list(form.changed_data)
        before = {f: _plain(form.initial.get(f)) for f in fields} if change else None
        super().save_model(request, obj, form, change)  # type: ignore[misc]  # mixin
        request._audit_form = (fields, before, change)  # per request: admins are shared

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]  # mixin
        fields, before, changed = getattr(
            request, "_audit_form", (list(form.changed_data), None, change)
        )
        after = {f: _plain(form.cleaned_data.get(f)) for f in fields}
        audit_record(
            actor=request.user,
            event_type="admin.changed" if changed else "admin.added",
            obj=form.instance,
            before=before,
            after=after,
            metadata={"admin": form.instance._meta.label_lower},
        )

    def delete_model(self, request: Any, obj: Any) -> None:
        audit_record(
            actor=request.user,
            event_type="admin.deleted",
            obj=obj,
            before={k: _plain(v) for k, v in model_to_dict(obj).items()},
            metadata={"admin": obj._meta.label_lower},
        )
        super().delete_model(request, obj)  # type: ignore[misc]  # mixin

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        with transaction.atomic():
            for obj in queryset:
                audit_record(
                    actor=request.user,
                    event_type="admin.deleted",
                    obj=obj,
                    before={k: _plain(v) for k, v in model_to_dict(obj).items()},
                    metadata={"admin": obj._meta.label_lower},
                )
            super().delete_queryset(request, queryset)  # type: ignore[misc]  # mixin


def _audited(model: type[models.Model], admin_class: type[admin.ModelAdmin]) -> None:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    name = f"Audited{admin_class.__name__}"
    admin.site.register(model, type(name, (AuditedAdminMixin, admin_class), {}))


_audited(Group, GroupAdmin)
_audited(beat_models.PeriodicTask, beat_admin.PeriodicTaskAdmin)
_audited(beat_models.ClockedSchedule, beat_admin.ClockedScheduleAdmin)
_audited(beat_models.CrontabSchedule, beat_admin.CrontabScheduleAdmin)
_audited(beat_models.SolarSchedule, admin.ModelAdmin)
_audited(beat_models.IntervalSchedule, admin.ModelAdmin)
_audited(AccessAttempt, AccessAttemptAdmin)
_audited(AccessLog, AccessLogAdmin)
_audited(AccessFailureLog, AccessFailureLogAdmin)
