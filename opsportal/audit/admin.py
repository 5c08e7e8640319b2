"""The audit trail in the Django admin (read-only, usable at millions of rows), and
`AuditedAdminMixin`: any model changed in the admin is audited with before/after.

The admins that write through a service (users, environments, approval policies,
drill schedules, tokens) are audited by that service; the mixin covers the admins that
write rows directly: role groups, Celery beat's schedules and django-axes' lockout
records, re-registered here with it (this module is autodiscovered after theirs).
"""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.core.paginator import Paginator
from django.db import models, transaction
from django.db.models import Q
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.utils.functional import cached_property
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


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: auditors browse and filter; nobody adds, changes or deletes. No
    date_hierarchy (a DISTINCT over every row), filters from registries, exact-match
    search served by indexes, no full-result count (docs/audit.md)."""

    list_display = (
        "id",
        "seq",
        "occurred_at",
        "event_type",
        "actor_username",
        "object_repr",
        "source",
    )
    list_filter = (EventTypeFilter, SourceFilter, ObjectTypeFilter)
    search_fields = ("object_id",)  # shows the box; get_search_results does the search
    search_help_text = (
        "Exact: object id, request id, username, event type; or the start of an object's "
        "name (an incident reference)."
    )
    ordering = ("-id",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

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
