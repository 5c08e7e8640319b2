from django.urls import path

from incidents import views

app_name = "incidents"
urlpatterns = [
    path("", views.IncidentListView.as_view(), name="list"),
    path("new/", views.IncidentCreateView.as_view(), name="create"),
    path("<int:pk>/", views.IncidentDetailView.as_view(), name="detail"),
    path(
        "<int:pk>/transition/<slug:verb>/",
        views.IncidentTransitionView.as_view(),
        name="transition",
    ),
    path("<int:pk>/severity/", views.IncidentSeverityView.as_view(), name="severity"),
    path("<int:pk>/impact/", views.IncidentImpactView.as_view(), name="impact"),
    path("<int:pk>/roles/", views.IncidentRoleAssignView.as_view(), name="role_assign"),
    path(
        "<int:pk>/roles/<int:assignment_id>/end/",
        views.IncidentRoleEndView.as_view(),
        name="role_end",
    ),
    path("<int:pk>/updates/", views.IncidentStatusUpdateView.as_view(), name="status_update"),
    path("<int:pk>/notes/", views.IncidentNoteView.as_view(), name="note_add"),
    path("<int:pk>/records/", views.IncidentRecordView.as_view(), name="record_add"),
    path("<int:pk>/playbooks/", views.IncidentPlaybookAttachView.as_view(), name="playbook_attach"),
    path(
        "<int:pk>/checklist-items/<int:item_id>/tick/",
        views.IncidentChecklistTickView.as_view(),
        name="checklist_tick",
    ),
]
