"""Helpers and permission names shared by the drills views."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.urls import reverse

from drills import selectors
from drills.models import DrillRun
from opsportal.core.errors import NotFound

VIEW = "drills.view_drillrun"
RUN = "drills.run_drillrun"
SIGN = "drills.sign_drillrun"
PAGE_SIZE = 25


def run_or_404(request: HttpRequest, pk: int) -> DrillRun:
    try:
        return selectors.get_drill_run_for(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def detail_url(run: DrillRun, anchor: str = "") -> str:
    url = reverse("drills:run_detail", args=[run.pk])
    return f"{url}#{anchor}" if anchor else url
