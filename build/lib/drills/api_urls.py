from django.urls import path

from drills import api

urlpatterns = [
    path("drills/runs/", api.DrillRunListApi.as_view(), name="drills-api-runs"),
    path("drills/runs/<int:pk>/", api.DrillRunDetailApi.as_view(), name="drills-api-run"),
    path(
        "drills/runs/<int:pk>/steps/<int:step_id>/",
        api.DrillStepRecordApi.as_view(),
        name="drills-api-step-record",
    ),
    path("drills/runs/<int:pk>/signoffs/", api.DrillRunSignApi.as_view(), name="drills-api-sign"),
]
