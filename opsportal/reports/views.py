"""Reports pages: the list with its filters and the request form, one report's page
(progress while it runs, then its files with their SHA-256), and the files.

The HTML report is served as the self-contained document it is (inline CSS, charts
as data: images), under its own Content-Security-Policy: no scripts, no requests,
sandboxed. Every file served is audited as report.downloaded.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path, reverse
from django.views import View

from opsportal.core.errors import DomainError, NotFound
from opsportal.core.web import PortalPermissionMixin
from opsportal.reports import selectors, services, storage
from opsportal.reports.forms import FIELD_FOR_PARAMETER, ReportFilterForm, ReportRequestForm
from opsportal.reports.models import Report

VIEW = "reports.view_report"
REQUEST = "reports.export_report"
PAGE_SIZE = 25
# The request form shares the list page with the filters (both have a `kind`).
REQUEST_FORM_IDS = "request_%s"
# The stored HTML report: it needs its inline style and data: images, nothing else.
REPORT_HTML_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
)


def _report_or_404(pk: int) -> Report:
    try:
        return selectors.get_report(pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def render_list(
    request: HttpRequest, *, form: ReportRequestForm | None = None, status: int = 200
) -> HttpResponse:
    filters = ReportFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    qs = selectors.reports(
        kind=data.get("kind") or "",
        state=data.get("state") or "",
        requested_by=data.get("requested_by"),
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/report_list.html",
        {
            "filter_form": filters,
            "request_form": form or ReportRequestForm(auto_id=REQUEST_FORM_IDS),
            "page_obj": page,
            "reports": page.object_list,
            "query_string": query.urlencode(),
            "can_request": request.user.has_perm(REQUEST),
        },
        status=status,
    )


class ReportListView(PortalPermissionMixin, View):
    permission_required = VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        return render_list(request)


class ReportRequestView(PortalPermissionMixin, View):
    """POST a request (the form on the list page, or a "report" button elsewhere)."""

    http_method_names = ["post"]
    permission_required = REQUEST

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ReportRequestForm(request.POST, auto_id=REQUEST_FORM_IDS)
        if not form.is_valid():
            return render_list(request, form=form, status=400)
        try:
            report = services.report_request(
                kind=form.cleaned_data["kind"], parameters=form.parameters(), actor=request.user
            )
        except DomainError as exc:
            field = FIELD_FOR_PARAMETER.get(exc.field or "", exc.field)
            form.add_error(field if field in form.fields else None, exc.message)
            return render_list(request, form=form, status=400)
        messages.success(request, f"Report #{report.pk} requested.")
        return HttpResponseRedirect(reverse("reports:detail", args=[report.pk]))


class ReportDetailView(PortalPermissionMixin, View):
    permission_required = VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = _report_or_404(pk)
        return render(
            request,
            "reports/report_detail.html",
            {"report": report, "files": {f.format: f for f in report.files.all()}},
        )


class ReportFileView(PortalPermissionMixin, View):
    """A report's HTML (shown in the browser) or PDF (downloaded)."""

    permission_required = VIEW
    fmt = "html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        report = _report_or_404(pk)
        try:
            file = services.report_file_download(report=report, fmt=self.fmt, actor=request.user)
            handle = storage.absolute(file.path).open("rb")
        except (DomainError, OSError, ValueError) as exc:
            raise Http404(f"Report #{pk} has no {self.fmt.upper()} file.") from exc
        name = f"opsportal-report-{report.pk}.{self.fmt}"
        response = FileResponse(
            handle,
            as_attachment=self.fmt == "pdf",
            filename=name,
            content_type=file.content_type,
        )
        response["X-Content-SHA256"] = file.sha256
        if self.fmt == "html":
            response["Content-Security-Policy"] = REPORT_HTML_CSP
        return response


app_name = "reports"
urlpatterns = [
    path("", ReportListView.as_view(), name="list"),
    path("request/", ReportRequestView.as_view(), name="request"),
    path("<int:pk>/", ReportDetailView.as_view(), name="detail"),
    path("<int:pk>/report.html", ReportFileView.as_view(fmt="html"), name="file_html"),
    path("<int:pk>/report.pdf", ReportFileView.as_view(fmt="pdf"), name="file_pdf"),
]
