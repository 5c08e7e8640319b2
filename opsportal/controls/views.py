from django.views.generic import ListView

from opsportal.controls.models import Environment
from opsportal.web import PortalPermissionMixin


class EnvironmentListView(PortalPermissionMixin, ListView):
    permission_required = "controls.view_environment"
    model = Environment
    template_name = "controls/environment_list.html"
