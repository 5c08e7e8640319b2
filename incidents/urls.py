from django.urls import path

from incidents import views
from incidents.reviews import views as reviews

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
    # Post-incident reviews (incidents/reviews).
    path("<int:pk>/review/start/", reviews.ReviewStartView.as_view(), name="review_start"),
    path("<int:pk>/action-items/", reviews.ActionItemAddView.as_view(), name="action_item_add"),
    path("reviews/", reviews.ReviewListView.as_view(), name="review_list"),
    path("reviews/<int:review_id>/", reviews.ReviewDetailView.as_view(), name="review_detail"),
    path("reviews/<int:review_id>/edit/", reviews.ReviewEditView.as_view(), name="review_edit"),
    path("reviews/<int:review_id>/print/", reviews.ReviewPrintView.as_view(), name="review_print"),
    path(
        "reviews/<int:review_id>/submit/", reviews.ReviewSubmitView.as_view(), name="review_submit"
    ),
    path(
        "reviews/<int:review_id>/request-changes/",
        reviews.ReviewRequestChangesView.as_view(),
        name="review_request_changes",
    ),
    path("reviews/<int:review_id>/sign/", reviews.ReviewSignView.as_view(), name="review_sign"),
    path(
        "reviews/<int:review_id>/publish/",
        reviews.ReviewPublishView.as_view(),
        name="review_publish",
    ),
    path(
        "reviews/<int:review_id>/revise/", reviews.ReviewReviseView.as_view(), name="review_revise"
    ),
    path("action-items/mine/", reviews.MyActionItemsView.as_view(), name="my_action_items"),
    path(
        "action-items/<int:action_id>/status/",
        reviews.ActionItemStatusView.as_view(),
        name="action_item_status",
    ),
]
