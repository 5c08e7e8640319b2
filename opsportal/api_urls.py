"""/api/v1/: each app contributes its own `api_urls`."""

from django.urls import include, path

urlpatterns = [
    path("", include("opsportal.controls.api_urls")),
    path("", include("opsportal.approvals.api_urls")),
    path("", include("incidents.api_urls")),
    path("", include("drills.api_urls")),
]
