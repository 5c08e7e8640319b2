from django.views.generic import TemplateView

from opsportal.web import PortalPermissionMixin


class DashboardView(PortalPermissionMixin, TemplateView):
    permission_required = "accounts.view_user"
    template_name = "dashboard.html"
