from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from incidents.views import DashboardView
from opsportal.accounts.views import PasswordChangeView
from opsportal.health import health

admin.site.site_header = "opsportal administration"
admin.site.site_title = "opsportal admin"

urlpatterns = [
    path("", DashboardView.as_view(), name="dashboard"),
    path("health", health, name="health"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", PasswordChangeView.as_view(), name="password_change"),
    path("incidents/", include("incidents.urls")),
    path("drills/", include("drills.urls")),
    path("library/", include("opsportal.library.views")),
    path("environments/", include("opsportal.controls.urls")),
    path("approvals/", include("opsportal.approvals.urls")),
    path("api/v1/", include("opsportal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script from a URL (no inline script: CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]
