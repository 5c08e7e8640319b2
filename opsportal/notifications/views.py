"""The signed-in user's notifications (mounted at /notifications/).

`list` shows them newest first (unread first with `?unread=1`), 50 a page;
`read` (POST) marks the given ids or all of them read; `open` (POST) marks one read
and goes to what it is about (only a path inside the portal).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from opsportal.core.web import PortalPermissionMixin
from opsportal.notifications.models import Notification
from opsportal.notifications.registry import notification_kinds
from opsportal.notifications.selectors import email_choices, notifications_for, unread_count
from opsportal.notifications.services import (
    notification_preferences_set,
    notifications_mark_read,
)

PAGE_SIZE = 50


class ListFilterForm(forms.Form):
    unread = forms.BooleanField(required=False, label="Unread only")
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)


class UnreadCountView(PortalPermissionMixin, View):
    """`{"unread": n}` for the header's count (static/js/notifications_poll.js asks
    every NOTIFICATIONS_POLL_SECONDS). One query; never cached."""

    permission_required = "notifications.view_notification"

    def get(self, request: HttpRequest) -> HttpResponse:
        response = JsonResponse({"unread": unread_count(request.user) or 0})
        response["Cache-Control"] = "no-store"
        return response


class NotificationListView(PortalPermissionMixin, TemplateView):
    permission_required = "notifications.view_notification"
    template_name = "notifications/list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = ListFilterForm(self.request.GET or None)
        rows = notifications_for(self.request.user)
        page_number = 1
        if form.is_valid():
            if form.cleaned_data["unread"]:
                rows = rows.filter(read_at__isnull=True)
            page_number = form.cleaned_data["page"] or 1
        page = Paginator(rows, PAGE_SIZE).get_page(page_number)
        context.update(
            form=form,
            page=page,
            unread_only=form.is_valid() and form.cleaned_data["unread"],
            can_mark=self.request.user.has_perm("notifications.change_notification"),
        )
        return context


class MarkReadView(PortalPermissionMixin, View):
    permission_required = "notifications.change_notification"

    def post(self, request: HttpRequest) -> HttpResponse:
        raw = request.POST.getlist("id")
        ids: list[int] | None = None
        if request.POST.get("all") != "1":
            ids = [int(v) for v in raw if v.isdigit() and len(v) < 12]
        notifications_mark_read(actor=request.user, notification_ids=ids)
        return redirect("notifications:list")


class OpenView(PortalPermissionMixin, View):
    permission_required = "notifications.change_notification"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        notification = Notification.objects.filter(pk=pk, recipient_id=request.user.pk).first()
        if notification is None:
            raise Http404("No such notification.")
        notifications_mark_read(actor=request.user, notification_ids=[pk])
        target = notification.url
        if target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(target)
        return redirect("notifications:list")


class PreferencesForm(forms.Form):
    """One "by email" checkbox per registered kind (in-app is always on)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in notification_kinds():
            self.fields[kind.code] = forms.BooleanField(required=False, label=kind.label)


class PreferencesView(PortalPermissionMixin, View):
    permission_required = "notifications.change_notificationpreference"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = PreferencesForm(initial=email_choices(request.user))
        return render(request, "notifications/preferences.html", {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PreferencesForm(request.POST)
        if form.is_valid():
            notification_preferences_set(actor=request.user, email=form.cleaned_data)
            messages.success(request, "Your notification settings are saved.")
            return redirect("notifications:preferences")
        return render(request, "notifications/preferences.html", {"form": form})


app_name = "notifications"
urlpatterns = [
    path("", NotificationListView.as_view(), name="list"),
    path("read", MarkReadView.as_view(), name="read"),
    path("settings", PreferencesView.as_view(), name="preferences"),
    path("<int:pk>/open", OpenView.as_view(), name="open"),
    path("unread.json", UnreadCountView.as_view(), name="unread"),
]
