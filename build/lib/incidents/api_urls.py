from django.urls import path

from incidents import api

urlpatterns = [
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
