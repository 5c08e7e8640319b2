from django.urls import path

from incidents import api
from incidents.alerts import views as alert_views

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
]
