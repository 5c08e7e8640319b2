"""/api/v1/: each app contributes its own `api_urls`; any other path under /api/v1/
answers a JSON 404 (`opsportal.core.api.api_not_found`), never the HTML page."""

from django.urls import include, path, re_path

from opsportal.core.api import api_not_found

urlpatterns = [
    path("", include("opsportal.controls.api_urls")),
    path("", include("opsportal.approvals.api_urls")),
    path("", include("incidents.api_urls")),
    path("", include("drills.api_urls")),
    # Last: whatever no route above matched (e.g. a gate slug with a "/" or a newline).
    re_path(r"^", api_not_found, name="api-not-found"),
]
