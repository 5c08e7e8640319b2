from django.urls import path

from opsportal.approvals import views

app_name = "approvals"
urlpatterns = [
    path("", views.InboxView.as_view(), name="inbox"),
    path("all/", views.RequestListView.as_view(), name="list"),
    path("<int:pk>/", views.RequestDetailView.as_view(), name="detail"),
    path("<int:pk>/approve", views.ApproveView.as_view(), name="approve"),
    path("<int:pk>/reject", views.RejectView.as_view(), name="reject"),
    path("<int:pk>/cancel", views.CancelView.as_view(), name="cancel"),
    path("audit-purge/", views.AuditPurgeRequestView.as_view(), name="audit_purge"),
]
