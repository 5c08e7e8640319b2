"""The auditor's workspace: the trail with filters (keyset pages, no COUNT), an
event's before → after and place in the chain, an object's history, exports."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views import View

from opsportal.audit import selectors, services
from opsportal.audit.forms import AuditFilterForm, ExportRequestForm
from opsportal.audit.models import AuditEvent, AuditExport
from opsportal.core.errors import DomainError
from opsportal.core.web import PortalPermissionMixin, call_service

VIEW = "audit.view_auditevent"
EXPORT = "audit.export_auditevent"
PAGE_SIZE = 50
PAGING_PARAMS = ("after", "before")


class AuditListView(PortalPermissionMixin, View):
    """`/audit/`: the trail, newest first, filtered; `?after=`/`?before=` id cursors."""

    permission_required = VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        params = {k: v for k, v in request.GET.items() if k not in PAGING_PARAMS and v}
        form = AuditFilterForm(params or None)
        page = None
        if form.is_bound and not form.is_valid():
            events: list[AuditEvent] = []
        else:
            filters = form.cleaned_data if form.is_bound else {}
            page = selectors.event_page(
                selectors.filtered_events(filters),
                after=request.GET.get("after"),
                before=request.GET.get("before"),
                size=PAGE_SIZE,
            )
            events = page.events
        context = {
            "form": form,
            "page": page,
            "events": events,
            "query_string": urlencode(params),
            "verification": selectors.last_verification(),
        }
        return render(request, "audit/event_list.html", context)


class AuditEventDetailView(PortalPermissionMixin, View):
    permission_required = VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        event = AuditEvent.objects.filter(pk=pk).first()
        if event is None:
            raise Http404("No such audit event.")
        neighbours = {}
        if event.seq is not None:
            neighbours = {
                "previous": AuditEvent.objects.filter(seq=event.seq - 1).only("id").first(),
                "next": AuditEvent.objects.filter(seq=event.seq + 1).only("id").first(),
            }
        context = {
            "event": event,
            "changes": selectors.field_changes(event),
            "neighbours": neighbours,
        }
        return render(request, "audit/event_detail.html", context)


class ObjectHistoryView(PortalPermissionMixin, View):
    """`/audit/history/?object_type=incidents.incident&object_id=5`: every event about
    one object, in order."""

    permission_required = VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        object_type = request.GET.get("object_type", "")[:100]
        object_id = request.GET.get("object_id", "")[:64]
        events = selectors.object_history(object_type, object_id) if object_type else []
        context = {"object_type": object_type, "object_id": object_id, "events": events}
        return render(request, "audit/object_history.html", context)


class ExportListView(PortalPermissionMixin, View):
    """`/audit/exports/`: request an export (POST) and download ready ones."""

    permission_required = EXPORT

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(request, ExportRequestForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ExportRequestForm(request.POST)
        if form.is_valid():
            export = call_service(
                request,
                services.audit_export_request,
                form=form,
                actor=request.user,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
            )
            if export is not None:
                messages.success(request, f"Export {export.pk} requested; it is built shortly.")
                return HttpResponseRedirect(reverse("audit:exports"))
        return self.render(request, form, status=400)

    def render(
        self, request: HttpRequest, form: ExportRequestForm, status: int = 200
    ) -> HttpResponse:
        exports = AuditExport.objects.select_related("requested_by").order_by("-id")[:50]
        return render(
            request, "audit/export_list.html", {"form": form, "exports": exports}, status=status
        )


class ExportDownloadView(PortalPermissionMixin, View):
    permission_required = EXPORT

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        try:
            export = services.audit_export_download(actor=request.user, export_id=pk)
        except DomainError as exc:
            raise Http404(exc.message) from exc
        try:
            handle = open(export.path, "rb")  # noqa: SIM115 - FileResponse closes it
        except OSError as exc:
            raise Http404("The export file is gone.") from exc
        name = export.path.rsplit("/", 1)[-1]
        return FileResponse(handle, as_attachment=True, filename=name)


app_name = "audit"
urlpatterns = [
    path("", AuditListView.as_view(), name="list"),
    path("events/<int:pk>/", AuditEventDetailView.as_view(), name="event"),
    path("history/", ObjectHistoryView.as_view(), name="history"),
    path("exports/", ExportListView.as_view(), name="exports"),
    path("exports/<int:pk>/download/", ExportDownloadView.as_view(), name="export_download"),
]
