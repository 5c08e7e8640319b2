from django.urls import path

from opsportal.drift import api

urlpatterns = [
    path("drift/sources/", api.SourceListApi.as_view(), name="drift-api-sources"),
    path("drift/sources/<int:pk>/", api.SourceDetailApi.as_view(), name="drift-api-source"),
    path("drift/sources/<int:pk>/checks", api.SourceChecksApi.as_view(), name="drift-api-checks"),
    path("drift/sources/<int:pk>/check", api.SourceCheckNowApi.as_view(), name="drift-api-check"),
    path("drift/findings/", api.FindingListApi.as_view(), name="drift-api-findings"),
]
