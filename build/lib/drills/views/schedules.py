"""The drills home (schedules with their due dates, then the runs, filtered and paged)
and the 12-month drill calendar."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.views.generic import TemplateView

from drills import selectors
from drills.forms import RunFilterForm
from drills.views._common import PAGE_SIZE, VIEW
from opsportal.core.web import PortalPermissionMixin


class DrillListView(PortalPermissionMixin, TemplateView):
    """Drills home: schedules with due/overdue, then runs with filters and pages."""

    permission_required = VIEW
    template_name = "drills/drill_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = RunFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
        runs = selectors.drill_runs(filters=filters)
        if form.is_bound and not form.is_valid():
            runs = runs.none()
        page = Paginator(runs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        params = {k: v for k, v in self.request.GET.items() if k != "page" and v}
        context.update(
            schedules=selectors.schedule_statuses(),
            filter_form=form,
            page_obj=page,
            runs=page.object_list,
            query_string=urlencode(params),
        )
        return context


class DrillCalendarView(PortalPermissionMixin, TemplateView):
    permission_required = "drills.view_drillschedule"
    template_name = "drills/drill_calendar.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        overdue, by_month = selectors.drill_calendar(months=12)
        context.update(overdue=overdue, months=by_month)
        return context
