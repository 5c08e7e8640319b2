"""Reading reports: the filtered list and one report with its files."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from opsportal.core.errors import NotFound
from opsportal.reports.models import Report


def reports(*, kind: str = "", state: str = "", requested_by: Any = None) -> QuerySet[Report]:
    qs = Report.objects.select_related("requested_by").prefetch_related("files")
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if requested_by is not None:
        qs = qs.filter(requested_by=requested_by)
    return qs.order_by("-requested_at", "-id")


def get_report(pk: int) -> Report:
    report = (
        Report.objects.select_related("requested_by")
        .prefetch_related("files")
        .filter(pk=pk)
        .first()
    )
    if report is None:
        raise NotFound("No such report.")
    return report
