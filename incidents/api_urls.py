from django.urls import path

from incidents import api
from incidents.alerts import views as alert_views
from incidents.reviews import api as reviews_api

urlpatterns = [
    # Monitoring systems, authenticated by their integration token inside the view.
    path("alerts/alertmanager", alert_views.alertmanager, name="alerts-api-alertmanager"),
    path("alerts/grafana", alert_views.grafana, name="alerts-api-grafana"),
    path("incidents/", api.IncidentListApi.as_view(), name="incidents-api-list"),
    path("incidents/<int:pk>/", api.IncidentDetailApi.as_view(), name="incidents-api-detail"),
    path(
        "incidents/<int:pk>/transitions/<slug:verb>",
        api.IncidentTransitionApi.as_view(),
        name="incidents-api-transition",
    ),
    path(
        "incidents/<int:pk>/timeline",
        api.IncidentTimelineApi.as_view(),
        name="incidents-api-timeline",
    ),
    # Post-incident reviews (incidents/reviews/api.py).
    path(
        "incidents/<int:pk>/review",
        reviews_api.ReviewStartApi.as_view(),
        name="reviews-api-start",
    ),
    path("reviews/", reviews_api.ReviewListApi.as_view(), name="reviews-api-list"),
    path(
        "reviews/<int:review_id>", reviews_api.ReviewDetailApi.as_view(), name="reviews-api-detail"
    ),
    path(
        "reviews/<int:review_id>/submit",
        reviews_api.ReviewSubmitApi.as_view(),
        name="reviews-api-submit",
    ),
    path(
        "reviews/<int:review_id>/request-changes",
        reviews_api.ReviewRequestChangesApi.as_view(),
        name="reviews-api-request-changes",
    ),
    path(
        "reviews/<int:review_id>/sign", reviews_api.ReviewSignApi.as_view(), name="reviews-api-sign"
    ),
    path("action-items/", reviews_api.ActionItemListApi.as_view(), name="action-items-api-list"),
    path(
        "action-items/<int:action_id>/status",
        reviews_api.ActionItemStatusApi.as_view(),
        name="action-items-api-status",
    ),
]
