"""Read-only browser views of the procedure library."""

from django.urls import path
from django.views.generic import ListView

from drills.models import ProcedureVersion
from opsportal.web import PortalPermissionMixin


class ProcedureListView(PortalPermissionMixin, ListView):
    permission_required = "drills.view_procedureversion"
    template_name = "drills/procedure_list.html"

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return ProcedureVersion.objects.filter(status="published").select_related("procedure")


urlpatterns = [path("", ProcedureListView.as_view(), name="procedure_list")]
