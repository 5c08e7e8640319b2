"""Browser views for drill schedules and runs."""

from django.urls import path
from django.views.generic import TemplateView

from opsportal.web import PortalPermissionMixin


class DrillListView(PortalPermissionMixin, TemplateView):
    permission_required = "drills.view_procedureversion"
    template_name = "drills/drill_list.html"


urlpatterns = [path("", DrillListView.as_view(), name="list")]
